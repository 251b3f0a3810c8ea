"""MessageWriter: acks only after commit, batches many senders, keeps writes in order."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy.engine import Engine

from chatserver.storage import repository as repo
from chatserver.storage.db import create_db_engine
from chatserver.storage.errors import UnknownConversation
from chatserver.storage.records import NewMessage
from chatserver.storage.writer import MessageWriter

from .helpers import NOW, new_conversation, system_says, visitor_says


async def test_store_returns_only_once_another_connection_sees_the_row(
    db_url: str, engine: Engine, writer: MessageWriter
) -> None:
    conv = new_conversation(engine)
    outsider = create_db_engine(db_url)  # like a second server or a crash-restarted one
    try:
        for i in range(20):
            stored = await writer.store(visitor_says(conv, f"c{i}"))
            seen = repo.messages_after(outsider, conversation_id=conv.id, after_seq=stored.seq - 1)
            assert [m.message_id for m in seen] == [stored.message_id]
    finally:
        outsider.dispose()


async def test_many_concurrent_senders_get_gap_free_seqs(engine: Engine, writer: MessageWriter) -> None:
    conversations = [new_conversation(engine) for _ in range(5)]

    async def sender(n: int) -> list[int]:
        conv = conversations[n % 5]
        seqs = []
        for i in range(10):
            stored = await writer.store(NewMessage(conv.id, "visitor", f"s{n}", f"{i}", "hi", NOW))
            seqs.append(stored.seq)
        return seqs

    results = await asyncio.gather(*(sender(n) for n in range(100)))
    assert all(seqs == sorted(seqs) for seqs in results)  # each sender's order is kept
    for conv in conversations:
        replay = repo.messages_after(engine, conversation_id=conv.id, after_seq=0)
        assert [m.seq for m in replay] == list(range(1, 201))


async def test_a_repeated_client_id_gets_the_same_answer(engine: Engine, writer: MessageWriter) -> None:
    conv = new_conversation(engine)
    first, again = await asyncio.gather(
        writer.store(visitor_says(conv, "dup")), writer.store(visitor_says(conv, "dup"))
    )
    later = await writer.store(visitor_says(conv, "dup"))
    assert (first.message_id, first.seq) == (again.message_id, again.seq) == (later.message_id, 1)
    assert [first.duplicate, again.duplicate, later.duplicate] == [False, True, True]


async def test_run_is_ordered_with_message_batches(engine: Engine, writer: MessageWriter) -> None:
    repo.create_visitor(engine, visitor_id="v1", locale="en", now=NOW)
    opening = writer.run(repo.open_conversation, visitor_id="v1", customer_id=None, locale="en", now=NOW)
    conv = await opening
    first = writer.store(visitor_says(conv, "first"))
    closing = writer.run(
        repo.set_conversation_state,
        conversation_id=conv.id,
        state="closed",
        operator_id=None,
        now=NOW + 1,
        event_kind="closed",
    )
    stored, closed = await asyncio.gather(first, closing)
    assert stored.seq == 1 and closed.state == "closed" and closed.last_seq == 1


async def test_a_bad_message_fails_alone(
    engine: Engine, writer: MessageWriter, caplog: pytest.LogCaptureFixture
) -> None:
    conv = new_conversation(engine)
    caplog.set_level(logging.WARNING)
    outcomes = await asyncio.gather(
        writer.store(visitor_says(conv, "a")),
        writer.store(system_says(conv.id + 12345, "nowhere")),
        writer.store(visitor_says(conv, "b")),
        return_exceptions=True,
    )
    assert isinstance(outcomes[1], UnknownConversation)
    good = [o for o in outcomes if not isinstance(o, BaseException)]
    assert sorted(m.seq for m in good) == [1, 2]
    assert "retrying one by one" in caplog.text  # the three went in as one batch


async def test_a_failing_call_fails_only_its_caller(engine: Engine, writer: MessageWriter) -> None:
    with pytest.raises(UnknownConversation):
        await writer.run(
            repo.set_conversation_state,
            conversation_id=424242,
            state="closed",
            operator_id=None,
            now=NOW,
            event_kind="closed",
        )
    conv = new_conversation(engine)
    assert (await writer.store(visitor_says(conv, "still works"))).seq == 1


async def test_read_runs_beside_the_writer(engine: Engine, writer: MessageWriter) -> None:
    conv = new_conversation(engine)
    await writer.store(visitor_says(conv, "a"))
    found = await writer.read(repo.messages_after, conversation_id=conv.id, after_seq=0)
    assert [m.client_id for m in found] == ["a"]


async def test_stop_drains_what_is_queued(engine: Engine) -> None:
    conv = new_conversation(engine)
    writer = MessageWriter(engine, max_batch=8)
    await writer.start()
    pending = [asyncio.ensure_future(writer.store(visitor_says(conv, f"m{i}"))) for i in range(50)]
    await asyncio.sleep(0)  # let every store() enqueue
    await writer.stop()
    assert all(p.done() and not p.exception() for p in pending)
    assert repo.get_conversation(engine, conversation_id=conv.id).last_seq == 50  # type: ignore[union-attr]
    with pytest.raises(RuntimeError):
        await writer.store(visitor_says(conv, "too late"))


async def test_a_cancelled_caller_does_not_break_the_writer(engine: Engine, writer: MessageWriter) -> None:
    conv = new_conversation(engine)
    impatient = asyncio.ensure_future(writer.store(visitor_says(conv, "a")))
    await asyncio.sleep(0)
    impatient.cancel()
    stored = await writer.store(visitor_says(conv, "b"))
    # The cancelled message was queued, so it is stored; resending it is answered as a duplicate.
    again = await writer.store(visitor_says(conv, "a"))
    assert again.duplicate and {again.seq, stored.seq} == {1, 2}


async def test_idle_waits_for_the_commit_in_flight(engine: Engine, writer: MessageWriter) -> None:
    assert writer.idle().done()  # nothing written, nothing waiting
    conv = new_conversation(engine)
    stored = writer.submit(visitor_says(conv, "a"))
    idle = writer.idle()
    assert not idle.done()
    await idle
    assert stored.done() and stored.result().seq == 1  # idle came only after the commit


async def test_idle_is_told_when_the_writer_stops(engine: Engine) -> None:
    writer = MessageWriter(engine)
    await writer.start()
    conv = new_conversation(engine)
    writer.submit(visitor_says(conv, "a"))
    idle = writer.idle()
    await writer.stop()
    assert idle.done()
