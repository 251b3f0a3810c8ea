"""Transfers, honest waits, hold messages, leaving a message and no silence, over a real server."""

from __future__ import annotations

import time
from typing import Any

from chatserver.core.conversation import State
from chatserver.storage import repository as repo

from .conftest import Client, Server, ServerFactory

REASON = "Billing can change the invoice address"
BENEFIT = "It is fixed today, in this chat"


async def chat_with(
    server: Server, operator: Client, text: str = "My invoice has the wrong address", **session: Any
):
    visitor, data = await server.visitor(**session)
    await visitor.say(text)
    cid = (await operator.expect("assigned"))["conversation_id"]
    await operator.expect("message", conversation_id=cid, sender="visitor")
    await visitor.expect("assigned", conversation_id=cid)
    return visitor, data, cid


def transfer_frame(cid: int, **fields: Any) -> dict[str, Any]:
    frame = {
        "type": "transfer",
        "conversation_id": cid,
        "to": {"team": "billing"},
        "reason": REASON,
        "benefit": BENEFIT,
    }
    frame.update(fields)
    return {k: v for k, v in frame.items() if v is not None}


async def promises(server: Server, cid: int) -> list[Any]:
    await server.settle()
    await server.state.hub.etiquette.flush()
    return await server.state.writer.read(repo.list_promises, conversation_id=cid)


async def test_transfer_without_reason_or_benefit_is_refused_and_changes_nothing(server: Server) -> None:
    a_id, a_token = await server.add_operator("Anna", teams=("support",))
    _b_id, b_token = await server.add_operator("Boris", teams=("billing",))
    anna = await server.operator(a_token)
    boris = await server.operator(b_token)
    visitor, _data, cid = await chat_with(server, anna)
    for missing in ({"benefit": None}, {"reason": None}, {"reason": "  "}, {"benefit": ""}):
        await anna.send(transfer_frame(cid, **missing))
        error = await anna.expect("error")
        assert error["code"] == "transfer_reason_required"
    await anna.say("Let me check", conversation_id=cid)  # the chat carries on, and the frames above are done
    await visitor.expect("message", sender="operator")
    await server.settle()
    conv = server.state.hub.engine.conversations[cid]
    assert conv.state is State.ASSIGNED and conv.operator_id == a_id and conv.transfer is None
    assert visitor.unread("transfer") == [] and boris.unread("transfer_offer") == []
    stored = await server.state.writer.read(repo.get_conversation, conversation_id=cid)
    assert stored is not None and stored.state == "assigned" and stored.operator_id == a_id
    events = await server.state.writer.read(repo.list_conversation_events, conversation_id=cid)
    assert not [e for e in events if e.kind.startswith("transfer")]


async def test_transfer_announces_the_wait_briefs_the_receiver_who_takes_the_chat(server: Server) -> None:
    a_id, a_token = await server.add_operator("Anna", teams=("support",))
    b_id, b_token = await server.add_operator("Boris", teams=("billing",))
    anna = await server.operator(a_token)
    boris = await server.operator(b_token)
    visitor, data, cid = await chat_with(server, anna)
    await anna.send(transfer_frame(cid))

    announced = await visitor.expect("transfer", conversation_id=cid)
    assert REASON in announced["text"] and BENEFIT in announced["text"]
    assert "Expected wait" in announced["text"] and "our billing team" in announced["text"]
    assert isinstance(announced["estimated_wait_s"], int)
    assert announced["low_s"] <= announced["estimated_wait_s"] <= announced["high_s"]
    assert announced["to"] == {"team": "billing"} and announced["status"] == "offering"
    stored = await visitor.expect("message", sender="system")
    assert stored["text"] == announced["text"]  # the announcement is part of the conversation

    offer = await boris.expect("transfer_offer", conversation_id=cid)
    assert (offer["reason"], offer["benefit"]) == (REASON, BENEFIT)
    assert offer["from"]["id"] == a_id and offer["visitor"]["id"] == data["visitor_id"]
    assert [m["text"] for m in offer["transcript"]][:2] == [
        "My invoice has the wrong address",
        announced["text"],
    ]
    assert "customer" in offer and offer["expires_in_s"] > 0
    status = await anna.expect("transfer_status", conversation_id=cid, status="offering")
    assert status["text"] == announced["text"]

    # Until the receiver takes it, the chat is still Anna's.
    assert server.state.hub.engine.conversations[cid].operator_id == a_id
    await anna.say("Boris from billing will be with you shortly", conversation_id=cid)
    await boris.send({"type": "transfer_accept", "conversation_id": cid})

    took = await boris.expect("assigned", conversation_id=cid)
    assert took["visitor"]["id"] == data["visitor_id"]
    history = [await boris.expect("message", conversation_id=cid) for _ in range(4)]
    assert history[0]["text"] == "My invoice has the wrong address"
    joined = await visitor.expect(
        "assigned", conversation_id=cid, operator={"name": "Boris", "title": "Customer care"}
    )
    assert joined["operator"]["name"] == "Boris"
    await anna.expect("released", conversation_id=cid)
    await anna.expect("transfer_status", conversation_id=cid, status="accepted")
    await boris.say("Hello, I have your invoice open", conversation_id=cid)
    got = await visitor.expect("message", sender="operator", text="Hello, I have your invoice open")
    assert got["author"]["name"] == "Boris"

    await server.settle()
    conv = await server.state.writer.read(repo.get_conversation, conversation_id=cid)
    assert conv is not None and (conv.state, conv.operator_id, conv.team) == ("assigned", b_id, "billing")
    assert [p.outcome for p in await promises(server, cid)] == ["kept"]


async def test_an_offer_not_taken_goes_to_the_next_colleague_then_back_to_the_original(
    start_server: ServerFactory,
) -> None:
    server = await start_server(transfer_offer_s=0.3)
    a_id, a_token = await server.add_operator("Anna", teams=("support",))
    _b, b_token = await server.add_operator("Boris", teams=("billing",))
    _c, c_token = await server.add_operator("Cyril", teams=("billing",))
    anna = await server.operator(a_token)
    boris = await server.operator(b_token)  # online first: idle longest, so asked first
    cyril = await server.operator(c_token)
    visitor, _data, cid = await chat_with(server, anna)
    await anna.send(transfer_frame(cid))
    await visitor.expect("transfer", conversation_id=cid)

    await boris.expect("transfer_offer", conversation_id=cid)
    await boris.expect("transfer_offer_withdrawn", conversation_id=cid, reason="expired", timeout=3)
    moved = await visitor.expect("transfer_update", conversation_id=cid, status="next_operator", timeout=3)
    assert "another colleague" in moved["text"] and moved["estimated_wait_s"] is not None
    next_offer = await cyril.expect("transfer_offer", conversation_id=cid)
    assert next_offer["attempt"] == 2 and next_offer["reason"] == REASON
    await anna.expect("transfer_status", conversation_id=cid, status="next_operator")

    back = await visitor.expect("transfer_update", conversation_id=cid, status="returned", timeout=3)
    assert back["operator"]["name"] == "Anna" and "Anna stays with you" in back["text"]
    await visitor.expect("assigned", conversation_id=cid, operator={"name": "Anna", "title": "Customer care"})
    await cyril.expect("transfer_offer_withdrawn", conversation_id=cid, reason="expired")
    await anna.expect("transfer_status", conversation_id=cid, status="returned")
    texts = [m["text"] for m in visitor.seen if m.get("type") == "message" and m.get("sender") == "system"]
    assert any("another colleague" in t for t in texts) and any("stays with you" in t for t in texts)
    await server.settle()
    conv = server.state.hub.engine.conversations[cid]
    assert conv.state is State.ASSIGNED and conv.operator_id == a_id
    # A late accept changes nothing.
    await cyril.send({"type": "transfer_accept", "conversation_id": cid})
    assert (await cyril.expect("error"))["code"] == "no_transfer_offer"
    assert [p.outcome for p in await promises(server, cid)] == ["revised", "returned"]


async def test_busy_or_offline_target_is_refused_with_alternatives_unless_queued(server: Server) -> None:
    a_id, a_token = await server.add_operator("Anna", capacity=3, teams=("support",))
    b_id, b_token = await server.add_operator("Boris", capacity=1, teams=("billing",))
    await server.add_operator("Sven", teams=("sales",))  # a team with nobody online
    _c_id, c_token = await server.add_operator("Carla", teams=("returns",))
    boris = await server.operator(b_token)
    busy_visitor, _ = await server.visitor()
    await busy_visitor.say("a billing question")  # Boris is the only one online: he takes it
    busy_cid = (await boris.expect("assigned"))["conversation_id"]
    anna = await server.operator(a_token)
    await server.operator(c_token)
    visitor, _data, cid = await chat_with(server, anna)

    await anna.send(transfer_frame(cid, to={"team": "sales"}))
    offline = await anna.expect("error", conversation_id=cid)
    assert offline["code"] == "transfer_target_offline"
    await anna.send(transfer_frame(cid))
    busy = await anna.expect("error", conversation_id=cid)
    assert busy["code"] == "transfer_target_busy"
    others = [alt for alt in busy["alternatives"] if not alt["queue"]]
    assert others[0]["to"] == {"team": "returns"}
    assert others[0]["free_slots"] >= 1 and others[0]["estimated_wait_s"] is not None
    queue = [alt for alt in busy["alternatives"] if alt["queue"]][0]
    assert queue["to"] == {"team": "billing"} and queue["estimated_wait_s"] > 0
    await server.settle()
    assert server.state.hub.engine.conversations[cid].state is State.ASSIGNED
    assert visitor.unread("transfer") == []

    await anna.send(transfer_frame(cid, queue=True))
    queued = await visitor.expect("transfer", conversation_id=cid, status="queued")
    assert queued["estimated_wait_s"] == queue["estimated_wait_s"]
    assert "Expected wait: about" in queued["text"]
    await anna.expect("transfer_status", conversation_id=cid, status="queued")
    await boris.send({"type": "close", "conversation_id": busy_cid})  # a billing slot frees up
    offer = await boris.expect("transfer_offer", conversation_id=cid)
    assert offer["reason"] == REASON
    update = await visitor.expect("queue", conversation_id=cid, position=1)
    assert update["kind"] == "transfer" and update["estimated_wait_s"] is not None
    await boris.send({"type": "transfer_accept", "conversation_id": cid})
    await visitor.expect(
        "assigned", conversation_id=cid, operator={"name": "Boris", "title": "Customer care"}
    )
    await server.settle()
    assert server.state.hub.engine.conversations[cid].operator_id == b_id


async def test_edited_announcement_must_keep_the_reason_the_benefit_and_the_wait(server: Server) -> None:
    _a, a_token = await server.add_operator("Anna", teams=("support",))
    _b, b_token = await server.add_operator("Boris", teams=("billing",))
    anna = await server.operator(a_token)
    boris = await server.operator(b_token)
    visitor, _data, cid = await chat_with(server, anna, locale="pl")

    await anna.send(transfer_frame(cid, text="Przekazuję do działu płatności, bo {reason}. Chwileczkę!"))
    refused = await anna.expect("error", conversation_id=cid)
    assert refused["code"] == "transfer_text_incomplete" and refused["missing"] == ["benefit", "wait"]
    await anna.send(transfer_frame(cid, text="{reason}: {benefit}. [Feature X] {wait}"))
    assert (await anna.expect("error"))["code"] == "unfilled_slot"
    await server.settle()
    assert server.state.hub.engine.conversations[cid].state is State.ASSIGNED

    own = "Przekazuję do działu płatności: billing can change the invoice address. {benefit}! Czas: {wait}."
    await anna.send(transfer_frame(cid, text=own))
    announced = await visitor.expect("transfer", conversation_id=cid)
    assert announced["text"].startswith("Przekazuję do działu płatności: billing can change")
    assert BENEFIT + "!" in announced["text"] and "{wait}" not in announced["text"]
    assert "mniej niż minuta" in announced["text"] or "min" in announced["text"]
    await boris.expect("transfer_offer", conversation_id=cid)


async def test_hold_messages_come_at_the_interval_with_position_and_estimate(
    start_server: ServerFactory,
) -> None:
    server = await start_server(hold_interval_s=0.3)
    _a, a_token = await server.add_operator("Anna", capacity=1)
    anna = await server.operator(a_token)
    first, _ = await server.visitor()
    await first.say("I'm first")
    await anna.expect("assigned")
    waiting, _ = await server.visitor(locale="pl-PL")
    await waiting.say("Czy ktoś tu jest?")
    queued = await waiting.expect("queue", position=1)
    holds = []
    for _ in range(3):
        holds.append(await waiting.expect("hold", timeout=3))
        holds[-1]["at"] = time.monotonic()
    for h in holds:
        assert (h["conversation_id"], h["kind"], h["position"]) == (queued["conversation_id"], "queue", 1)
        assert h["estimated_wait_s"] == queued["estimated_wait_s"] and h["high_s"] == queued["high_s"]
        assert "1" in h["text"] and "min" in h["text"]
    assert "kolejce" in holds[0]["text"]  # Polish, from the hold library
    assert holds[0]["text"] != holds[1]["text"]  # the lines rotate
    assert all(0.15 <= b["at"] - a["at"] <= 1.0 for a, b in zip(holds, holds[1:], strict=False))
    stored = [m for m in waiting.unread("message") if m["sender"] == "system"]
    assert stored == []  # wait-fillers are not stored in the transcript


async def test_the_visitor_hears_before_a_promise_is_broken(start_server: ServerFactory) -> None:
    # One operator, chats of about a second: the first promise is a few seconds; nothing frees up.
    server = await start_server(default_handle_s=1.0, promise_notice_s=1.0, hold_interval_s=0)
    _a, a_token = await server.add_operator("Anna", capacity=1)
    anna = await server.operator(a_token)
    busy, _ = await server.visitor()
    await busy.say("I take the only slot")
    await anna.expect("assigned")
    visitor, _ = await server.visitor()
    await visitor.say("and I wait")
    promised = await visitor.expect("queue", position=1)
    told_at = time.time()
    deadline = told_at + promised["high_s"]
    late = await visitor.expect("queue", late=True, timeout=10)
    assert time.time() < deadline  # the update came before the promise ran out
    assert late["estimated_wait_s"] is not None and late["high_s"] > 0
    notice = await visitor.expect("message", sender="system")
    assert "longer than we estimated" in notice["text"]
    cid = late["conversation_id"]
    made = await promises(server, cid)
    assert made[0].outcome == "revised_late" and made[0].settled_at is not None
    assert made[0].settled_at <= made[0].deadline
    assert made[1].outcome is None and made[1].deadline > made[0].deadline


async def test_silence_nudges_the_operator_then_one_holding_line_per_gap(start_server: ServerFactory) -> None:
    server = await start_server(silence_s=0.3)
    a_id, a_token = await server.add_operator("Anna")
    anna = await server.operator(a_token)
    visitor, _data, cid = await chat_with(server, anna, text="Hello, is anyone there?")
    nudge = await anna.expect("nudge", conversation_id=cid, stage="nudge", timeout=3)
    assert nudge["waited_s"] >= 0
    await visitor.say("Hello??")  # the same gap: no second nudge for it
    line = await visitor.expect("message", sender="operator", timeout=3)
    assert line["author"]["name"] == "Anna" and "patience" in line["text"]
    await anna.expect("nudge", conversation_id=cid, stage="holding_line")
    await server.settle()
    conv = server.state.hub.engine.conversations[cid]
    assert conv.gap_stage == 2 and f"silence:{cid}" not in server.state.hub._timers  # nothing more this gap
    assert len([m for m in anna.seen if m.get("type") == "nudge"]) == 2

    await anna.say("Sorry for the wait, I'm here", conversation_id=cid)
    await visitor.expect("message", sender="operator", text="Sorry for the wait, I'm here")
    await visitor.say("Great, thanks")  # a new gap: a new nudge
    await anna.expect("nudge", conversation_id=cid, stage="nudge", timeout=3)
    await anna.say("You're welcome", conversation_id=cid)
    await server.settle()
    assert server.state.hub.engine.conversations[cid].gap_since is None


async def test_leaving_a_message_is_answered_in_the_same_conversation_on_the_next_visit(
    server: Server,
) -> None:
    visitor, data = await server.visitor(locale="en")
    await visitor.say("Do you ship to Norway?")
    queued = await visitor.expect("queue")
    cid = queued["conversation_id"]
    await visitor.send({"type": "leave_message"})
    await visitor.expect("message_left", conversation_id=cid)
    await visitor.expect("message", sender="system", seq=2)  # nobody is online
    saved = await visitor.expect("message", sender="system", seq=3)
    assert "message is saved" in saved["text"] and "come back" in saved["text"]
    await visitor.send({"type": "leave_message"})  # saying it twice changes nothing
    await visitor.expect("message_left", conversation_id=cid)
    await visitor.close()
    await server.settle()
    assert cid not in server.state.hub.engine.queue and cid in server.state.hub.engine.parked

    _a, a_token = await server.add_operator("Anna")
    anna = await server.operator(a_token)
    await anna.expect("assigned", conversation_id=cid)
    await anna.expect("message_left", conversation_id=cid)
    await anna.expect("message", conversation_id=cid, text="Do you ship to Norway?")
    await anna.say("Yes, we ship to Norway in 3 to 5 working days.", conversation_id=cid)
    await anna.send({"type": "close", "conversation_id": cid})
    await anna.expect("closed", conversation_id=cid)
    await server.settle()

    back = await server.connect(
        "/ws/visitor", (await server.visitor_session(visitor_id=data["visitor_id"]))["token"]
    )
    await back.expect("message_answered", conversation_id=cid)
    replay = [await back.expect("message", conversation_id=cid) for _ in range(4)]
    assert [m["seq"] for m in replay] == [1, 2, 3, 4]
    assert replay[0]["text"] == "Do you ship to Norway?"
    assert replay[3]["sender"] == "operator"
    assert replay[3]["text"] == "Yes, we ship to Norway in 3 to 5 working days."
    await back.expect("closed", conversation_id=cid)
    await server.settle()
    assert await server.state.writer.read(repo.unseen_answer, visitor_id=data["visitor_id"]) is None
    assert await promises(server, cid) == []  # nobody was online: no estimate, so nothing was promised


async def test_leave_message_needs_a_waiting_conversation(server: Server) -> None:
    _a, a_token = await server.add_operator("Anna")
    anna = await server.operator(a_token)
    nothing, _ = await server.visitor()
    await nothing.send({"type": "leave_message"})
    assert (await nothing.expect("error"))["code"] == "no_open_conversation"
    visitor, _data, cid = await chat_with(server, anna)
    await visitor.send({"type": "leave_message"})
    refused = await visitor.expect("error")
    assert refused["code"] == "not_waiting" and refused["conversation_id"] == cid


async def test_admins_edit_the_hold_library(start_server: ServerFactory) -> None:
    server = await start_server(hold_interval_s=0.2)
    _admin, admin_token = await server.add_operator("Root", role="admin")
    _op, op_token = await server.add_operator("Anna", capacity=1)
    headers = {"authorization": f"Bearer {admin_token}"}
    got = await server.http.get("/api/admin/hold-messages", headers=headers)
    assert got.status_code == 200
    library = got.json()["library"]
    assert set(library) == {"queue", "queue_offline", "transfer"} and library["queue"]["pl"]
    forbidden = await server.http.get(
        "/api/admin/hold-messages", headers={"authorization": f"Bearer {op_token}"}
    )
    assert forbidden.status_code == 403

    library["queue"]["en"] = ["You are number {position}; about {wait}. {coupon}"]
    bad = await server.http.put("/api/admin/hold-messages", headers=headers, json=library)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_hold_library"
    assert "{coupon}" in bad.json()["error"]["message"]
    library["queue"]["en"] = ["Hang on: you are number {position}, about {wait}."]
    ok = await server.http.put("/api/admin/hold-messages", headers=headers, json=library)
    assert ok.status_code == 200

    anna = await server.operator(op_token)
    first, _ = await server.visitor()
    await first.say("first")
    await anna.expect("assigned")
    waiting, _ = await server.visitor(locale="en")
    await waiting.say("second")
    line = await waiting.expect("hold", timeout=3)
    assert line["text"].startswith("Hang on: you are number 1, about")
    reset = await server.http.delete("/api/admin/hold-messages", headers=headers)
    assert reset.status_code == 200 and not reset.json()["library"]["queue"]["en"][0].startswith("Hang on")
