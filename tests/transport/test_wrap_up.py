"""Ending a chat the playbook's way over a real server: "anything else?", and the visitor decides."""

from __future__ import annotations

from typing import Any

from chatserver.core import texts
from chatserver.storage import repository as repo

from .conftest import Client, Server

QUESTION_EN = "Is there anything else I can help you with?"


async def assigned_chat(server: Server, **session: Any) -> tuple[Client, Client, int, int]:
    operator_id, token = await server.add_operator("Anna")
    operator = await server.operator(token)
    visitor, _ = await server.visitor(**session)
    await visitor.say("My parcel arrived broken")
    cid = (await operator.expect("assigned"))["conversation_id"]
    await visitor.expect("assigned", conversation_id=cid)
    await operator.say("A new one is on its way.", conversation_id=cid)
    await visitor.expect("message", sender="operator")
    return operator, visitor, cid, operator_id


async def event_kinds(server: Server, cid: int) -> list[str]:
    events = await server.state.writer.read(repo.list_conversation_events, conversation_id=cid)
    return [e.kind for e in events]


async def test_that_is_all_closes_the_chat_and_asks_for_the_rating(server: Server) -> None:
    operator, visitor, cid, _oid = await assigned_chat(server)
    await operator.send({"type": "wrap_up", "conversation_id": cid})
    asked = await visitor.expect("message", sender="operator")
    assert asked["text"] == QUESTION_EN and asked["author"]["name"] == "Anna"
    frame = await visitor.expect("wrap_up", conversation_id=cid)
    assert frame["question"] == QUESTION_EN
    await operator.expect("wrap_up", conversation_id=cid)

    await visitor.send({"type": "wrap_up_answer", "conversation_id": cid, "answer": "done"})
    assert (await operator.expect("wrap_up_answer", conversation_id=cid))["answer"] == "done"
    await visitor.expect("closed", conversation_id=cid)
    await operator.expect("closed", conversation_id=cid)
    await server.settle()
    stored = await server.state.writer.read(repo.get_conversation, conversation_id=cid)
    assert stored is not None and stored.state == "closed"
    assert (await event_kinds(server, cid))[-3:-1] == ["wrap_up", "wrap_up_done"]
    # The rating form the widget shows now is the one that exists.
    await visitor.send({"type": "rating", "conversation_id": cid, "rating": 5, "nps": 10, "client_id": "r1"})
    saved = await visitor.expect("rating_saved", client_id="r1")
    assert (saved["score"], saved["nps"]) == (5, 10)


async def test_one_more_thing_goes_back_to_chatting(server: Server) -> None:
    operator, visitor, cid, _oid = await assigned_chat(server, locale="pl")
    await operator.send({"type": "wrap_up", "conversation_id": cid})
    frame = await visitor.expect("wrap_up", conversation_id=cid)
    assert frame["question"] == texts.text("wrap_up_question", "pl")
    await visitor.send({"type": "wrap_up_answer", "conversation_id": cid, "answer": "more"})
    assert (await operator.expect("wrap_up_answer", conversation_id=cid))["answer"] == "more"
    await visitor.expect("wrap_up_answer", conversation_id=cid, answer="more")
    await visitor.say("Could you also change my address?")
    await operator.expect("message", sender="visitor", text="Could you also change my address?")
    # Answered already: a second answer is refused until the operator asks again.
    await visitor.send({"type": "wrap_up_answer", "conversation_id": cid, "answer": "done"})
    assert (await visitor.expect("error"))["code"] == "not_wrapping_up"
    await server.settle()
    assert server.state.hub.engine.conversation(cid) is not None


async def test_the_visitor_cannot_end_a_chat_nobody_wrapped_up(server: Server) -> None:
    _operator, visitor, cid, _oid = await assigned_chat(server)
    await visitor.send({"type": "wrap_up_answer", "conversation_id": cid, "answer": "done"})
    assert (await visitor.expect("error"))["code"] == "not_wrapping_up"
    await visitor.send({"type": "wrap_up_answer", "conversation_id": cid, "answer": "maybe"})
    assert (await visitor.expect("error"))["code"] == "invalid_field"
    await visitor.send({"type": "wrap_up_answer", "conversation_id": cid + 99, "answer": "done"})
    assert (await visitor.expect("error"))["code"] == "no_open_conversation"


async def test_only_the_operator_holding_the_chat_wraps_it_up(server: Server) -> None:
    _operator, _visitor, cid, _oid = await assigned_chat(server)
    _other_id, other_token = await server.add_operator("Tomas")
    other = await server.operator(other_token)
    await other.send({"type": "wrap_up", "conversation_id": cid})
    assert (await other.expect("error"))["code"] == "not_your_conversation"


async def test_the_operator_can_still_close_at_once(server: Server) -> None:
    operator, visitor, cid, _oid = await assigned_chat(server)
    await operator.send({"type": "wrap_up", "conversation_id": cid})
    await visitor.expect("wrap_up", conversation_id=cid)
    await operator.send({"type": "close", "conversation_id": cid})
    await visitor.expect("closed", conversation_id=cid)
