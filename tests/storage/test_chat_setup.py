"""Chat setup in the writer's group commits: many chats' sessions, openings and assignments
together, each caller answered after its group commits, a bad write failing alone."""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import Engine

from chatserver.storage import repository as repo
from chatserver.storage.errors import UnknownConversation
from chatserver.storage.records import NewMessage
from chatserver.storage.writer import MessageWriter

from .helpers import NOW, new_conversation


def new_operator(engine: Engine) -> int:
    return repo.create_operator(engine, email="op@example.com", name="Op", password_hash="h", now=NOW).id


async def test_a_crowd_of_new_chats_is_stored_as_one_at_a_time_would_be(
    engine: Engine, writer: MessageWriter
) -> None:
    op_id = new_operator(engine)
    visitors = [f"crowd-{i}" for i in range(60)]
    await asyncio.gather(
        *(
            writer.bulk(repo.add_visitors, visitor_id=v, locale="de", customer_id=None, now=NOW)
            for v in visitors
        )
    )
    opened = await asyncio.gather(
        *(
            writer.bulk(repo.open_conversations, visitor_id=v, customer_id=None, locale="de", now=NOW + 1)
            for v in visitors
        )
    )
    firsts = await asyncio.gather(
        *(
            writer.submit(NewMessage(c.id, "visitor", v, "1", "hello", NOW + 2))
            for (c, _), v in zip(opened, visitors, strict=True)
        )
    )
    await asyncio.gather(
        *(
            writer.bulk(
                repo.assign_conversations, conversation_id=c.id, operator_id=op_id, now=NOW + 3, sticky=False
            )
            for c, _ in opened
        )
    )
    assert len({c.id for c, _ in opened}) == 60
    assert all(previous is None for _, previous in opened)  # nobody served them before
    assert all(m.seq == 1 for m in firsts)
    for (conv, _), visitor_id in zip(opened, visitors, strict=True):
        stored = repo.get_conversation(engine, conversation_id=conv.id)
        assert stored is not None and stored.visitor_id == visitor_id and stored.locale == "de"
        assert (stored.state, stored.operator_id, stored.assigned_at) == ("assigned", op_id, NOW + 3)
        events = repo.list_conversation_events(engine, conversation_id=conv.id)
        assert [(e.kind, e.state, e.operator_id) for e in events] == [
            ("opened", "waiting", None),
            ("assigned", "assigned", op_id),
        ]
        assert repo.get_visitor(engine, visitor_id=visitor_id) is not None


async def test_a_returning_visitor_is_opened_with_the_operator_who_served_them(
    engine: Engine, writer: MessageWriter
) -> None:
    op_id = new_operator(engine)
    earlier = new_conversation(engine, visitor_id="back-again")
    repo.set_conversation_state(
        engine,
        conversation_id=earlier.id,
        state="assigned",
        operator_id=op_id,
        now=NOW,
        event_kind="assigned",
    )
    repo.set_conversation_state(
        engine, conversation_id=earlier.id, state="closed", operator_id=None, now=NOW + 1, event_kind="closed"
    )
    repo.create_visitor(engine, visitor_id="first-time", locale=None, now=NOW)
    new, fresh = await asyncio.gather(
        writer.bulk(
            repo.open_conversations, visitor_id="back-again", customer_id=None, locale=None, now=NOW + 5
        ),
        writer.bulk(
            repo.open_conversations, visitor_id="first-time", customer_id=None, locale=None, now=NOW + 5
        ),
    )
    assert new[1] == op_id
    assert fresh[1] is None
    assert (
        repo.last_operator_for_customer_or_visitor(engine, visitor_id="back-again", customer_id=None) == op_id
    )


async def test_a_bad_write_in_a_group_fails_alone(engine: Engine, writer: MessageWriter) -> None:
    op_id = new_operator(engine)
    good = [new_conversation(engine, visitor_id=f"good-{i}") for i in range(3)]
    outcomes = await asyncio.gather(
        *(
            writer.bulk(
                repo.assign_conversations, conversation_id=cid, operator_id=op_id, now=NOW, sticky=True
            )
            for cid in [good[0].id, 999_999, good[1].id, good[2].id]
        ),
        return_exceptions=True,
    )
    assert isinstance(outcomes[1], UnknownConversation)
    assert [outcomes[0], outcomes[2], outcomes[3]] == [None, None, None]
    for conv in good:
        stored = repo.get_conversation(engine, conversation_id=conv.id)
        assert stored is not None and stored.operator_id == op_id


async def test_grouped_calls_share_the_group_with_messages_in_queue_order(
    engine: Engine, writer: MessageWriter
) -> None:
    repo.create_visitor(engine, visitor_id="mixed", locale=None, now=NOW)
    opening = writer.grouped(
        repo.open_conversation_in, visitor_id="mixed", customer_id=None, locale=None, now=NOW
    )
    conv, previous = await opening
    stored = await asyncio.gather(
        *(writer.submit(NewMessage(conv.id, "visitor", "mixed", str(i), "hi", NOW)) for i in range(5))
    )
    assert previous is None
    assert [m.seq for m in stored] == [1, 2, 3, 4, 5]
