"""Reads asked for together share a transaction, and each caller still gets only its own answer."""

from __future__ import annotations

import asyncio

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine

from chatserver.storage import repository as repo
from chatserver.storage.db import read_transaction
from chatserver.storage.writer import MessageWriter

from .helpers import NOW


def _count_transactions(engine: Engine) -> list[int]:
    begun = [0]

    @event.listens_for(engine, "begin")
    def _begun(conn: Connection) -> None:
        begun[0] += 1

    return begun


def _broken_read(engine: Engine) -> int:
    """A statement the database refuses; on PostgreSQL it spoils the transaction it ran in."""
    with read_transaction(engine) as conn:
        return int(conn.execute(text("SELECT * FROM no_such_table")).scalar_one())


async def test_a_crowd_of_reads_gets_each_answer_in_a_few_transactions(
    engine: Engine, writer: MessageWriter
) -> None:
    for n in range(100):
        repo.create_visitor(engine, visitor_id=f"v{n}", locale="de" if n % 2 else "fr", now=NOW)
    begun = _count_transactions(engine)
    found = await asyncio.gather(*(writer.read(repo.get_visitor, visitor_id=f"v{n}") for n in range(100)))
    assert [(v.id, v.locale) for v in found if v is not None] == [
        (f"v{n}", "de" if n % 2 else "fr") for n in range(100)
    ]
    assert begun[0] <= 4  # 100 reads, at most 64 to a batch: two batches, not 100 transactions


async def test_a_failing_read_fails_only_its_caller(engine: Engine, writer: MessageWriter) -> None:
    repo.create_visitor(engine, visitor_id="before", locale="en", now=NOW)
    repo.create_visitor(engine, visitor_id="after", locale="en", now=NOW)
    before, broken, after = await asyncio.gather(
        writer.read(repo.get_visitor, visitor_id="before"),
        writer.read(_broken_read),
        writer.read(repo.get_visitor, visitor_id="after"),
        return_exceptions=True,
    )
    assert isinstance(broken, Exception) and "no_such_table" in str(broken)
    assert getattr(before, "id", None) == "before" and getattr(after, "id", None) == "after"


async def test_a_read_sees_what_was_committed_before_it_was_asked(
    engine: Engine, writer: MessageWriter
) -> None:
    assert await writer.read(repo.get_visitor, visitor_id="late") is None
    await writer.run(repo.create_visitor, visitor_id="late", locale="en", now=NOW)
    seen = await writer.read(repo.get_visitor, visitor_id="late")
    assert seen is not None and seen.id == "late"


async def test_a_cancelled_reader_leaves_the_others_their_answers(
    engine: Engine, writer: MessageWriter
) -> None:
    repo.create_visitor(engine, visitor_id="kept", locale="en", now=NOW)
    impatient = asyncio.ensure_future(writer.read(repo.get_visitor, visitor_id="kept"))
    patient = asyncio.ensure_future(writer.read(repo.get_visitor, visitor_id="kept"))
    await asyncio.sleep(0)
    impatient.cancel()
    kept = await patient
    assert kept is not None and kept.id == "kept"


def _count_statements(engine: Engine) -> list[str]:
    seen: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _ran(conn: Connection, cursor: object, statement: str, *args: object) -> None:
        seen.append(statement)

    return seen


async def test_keyed_reads_of_a_crowd_take_one_statement_per_batch(
    engine: Engine, writer: MessageWriter
) -> None:
    for n in range(0, 100, 2):  # the odd ones do not exist
        repo.create_visitor(engine, visitor_id=f"v{n}", locale="en", now=NOW)
    ran = _count_statements(engine)
    found = await asyncio.gather(
        *(writer.read_keyed(repo.visitors_by_id, f"v{n}", None) for n in range(100)),
        writer.read_keyed(repo.visitors_by_id, "v0", None),  # the same key twice
    )
    assert [v.id if v else None for v in found] == [f"v{n}" if n % 2 == 0 else None for n in range(100)] + [
        "v0"
    ]
    assert len([s for s in ran if "FROM visitor" in s]) <= 2


async def test_blocks_unseen_answers_and_idea_news_answer_each_visitor_as_the_single_reads_do(
    engine: Engine, writer: MessageWriter
) -> None:
    customer = repo.get_or_create_customer_by_external_id(
        engine, external_id="c-1", name=None, email=None, locale="en", now=NOW
    )
    for name in ("plain", "blocked", "other-device", "lifted"):
        repo.create_visitor(engine, visitor_id=name, locale="en", now=NOW)
    repo.block_visitor(
        engine, visitor_id="blocked", customer_id=customer.id, conversation_id=None, operator_id=None, now=NOW
    )
    lifted = repo.block_visitor(
        engine, visitor_id="lifted", customer_id=None, conversation_id=None, operator_id=None, now=NOW
    )
    admin = repo.create_operator(engine, email="a@example.com", name="A", password_hash="x", now=NOW)
    assert repo.lift_block(engine, block_id=lifted["id"], operator_id=admin.id, now=NOW + 1) is not None
    pairs = [
        ("plain", None),
        ("blocked", None),
        ("other-device", customer.id),
        ("lifted", None),
        (None, None),
    ]
    keyed = await asyncio.gather(*(writer.read_keyed(repo.active_blocks, pair, None) for pair in pairs))
    single = [repo.active_block(engine, visitor_id=v, customer_id=c) for v, c in pairs]
    assert [b["id"] if b else None for b in keyed] == [b["id"] if b else None for b in single]
    assert [b is not None for b in keyed] == [False, True, True, False, False]
    names = ["plain", "blocked", "nobody"]
    answers = await asyncio.gather(*(writer.read_keyed(repo.unseen_answers, n, None) for n in names))
    none_yet: list[int] = []
    news = await asyncio.gather(
        *(writer.read_keyed(repo.unseen_idea_news_by_visitor, n, none_yet) for n in names)
    )
    assert answers == [repo.unseen_answer(engine, visitor_id=n) for n in names] == [None, None, None]
    assert news == [repo.unseen_idea_news(engine, visitor_id=n) for n in names] == [[], [], []]


async def test_a_failing_keyed_read_fails_its_own_callers_only(engine: Engine, writer: MessageWriter) -> None:
    repo.create_visitor(engine, visitor_id="ok", locale="en", now=NOW)

    def broken_many(engine: Engine, *, keys: list[str]) -> dict[str, int]:
        return {k: _broken_read(engine) for k in keys}

    first, second, fine = await asyncio.gather(
        writer.read_keyed(broken_many, "a", 0),
        writer.read_keyed(broken_many, "b", 0),
        writer.read_keyed(repo.visitors_by_id, "ok", None),
        return_exceptions=True,
    )
    assert isinstance(first, Exception) and isinstance(second, Exception)
    assert getattr(fine, "id", None) == "ok"
