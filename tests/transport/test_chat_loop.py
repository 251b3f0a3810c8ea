"""One chat end to end over a real server: routing, delivery guarantees, resume, queue, grace."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import text

from chatserver.storage.db import create_db_engine

from .conftest import Server, ServerFactory


def count_messages(server: Server, where: str = "1=1") -> int:
    # A separate engine and connection, not the server's own.
    engine = create_db_engine(server.state.settings.database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(f"SELECT count(*) FROM message WHERE {where}")).scalar_one())
    finally:
        engine.dispose()


async def test_visitor_message_reaches_operator_and_reply_comes_back(server: Server) -> None:
    _oid, token = await server.add_operator("Anna")
    operator = await server.operator(token)
    visitor, _ = await server.visitor()
    ack = await visitor.say("Hello, my parcel did not arrive")
    assert ack["seq"] == 1
    assigned = await operator.expect("assigned")
    cid = assigned["conversation_id"]
    incoming = await operator.expect("message", conversation_id=cid)
    assert incoming["text"] == "Hello, my parcel did not arrive" and incoming["sender"] == "visitor"
    told = await visitor.expect("assigned", conversation_id=cid)
    assert told["operator"] == {"name": "Anna", "title": "Customer care"}
    reply = await operator.say("Let me check that for you", conversation_id=cid)
    got = await visitor.expect("message", sender="operator")
    assert got["text"] == "Let me check that for you"
    assert got["seq"] == reply["seq"] == 2
    assert got["author"] == {"name": "Anna", "title": "Customer care"}


async def test_ack_comes_only_after_the_message_is_committed(server: Server) -> None:
    visitor, _ = await server.visitor()
    client_id = uuid.uuid4().hex
    ack = await visitor.say("is it stored?", client_id=client_id)
    # Read through a separate connection the moment the ack arrives.
    assert count_messages(server, f"client_id = '{client_id}' AND seq = {ack['seq']}") == 1


async def test_repeated_client_id_is_stored_once_and_acked_the_same(server: Server) -> None:
    _oid, token = await server.add_operator("Anna")
    operator = await server.operator(token)
    visitor, _ = await server.visitor()
    first = await visitor.say("only once please", client_id="c-1")
    cid = (await operator.expect("assigned"))["conversation_id"]
    again = await visitor.say("only once please", client_id="c-1")
    assert (again["message_id"], again["seq"]) == (first["message_id"], first["seq"])
    await visitor.say("next one", client_id="c-2")
    received: list[str] = []
    while len(received) < 2:
        received.append((await operator.expect("message", conversation_id=cid))["text"])
    assert received == ["only once please", "next one"]
    assert count_messages(server, "client_id = 'c-1'") == 1


async def test_a_burst_of_messages_is_acked_and_delivered_in_order_with_a_repeat_in_it(
    server: Server,
) -> None:
    """Sent without waiting for acks: more than a socket may have in flight, and beyond the point
    where the server stops reading; every one is stored once, acked in order, delivered in order."""
    _oid, token = await server.add_operator("Anna")
    operator = await server.operator(token)
    visitor, _ = await server.visitor()
    await visitor.say("first", client_id="m-0")
    cid = (await operator.expect("assigned"))["conversation_id"]
    client_ids = [f"m-{n}" for n in range(1, 201)]
    client_ids.insert(100, "m-50")  # a repeat in the middle of the burst
    for client_id in client_ids:
        await visitor.send({"type": "message", "client_id": client_id, "text": f"text {client_id}"})
    acks = [await visitor.expect("ack") for _ in client_ids]
    assert [a["client_id"] for a in acks] == client_ids
    assert (acks[100]["seq"], acks[100]["message_id"]) == (acks[49]["seq"], acks[49]["message_id"])
    fresh = [a["seq"] for n, a in enumerate(acks) if n != 100]
    assert fresh == list(range(2, 202))
    seen = [(await operator.expect("message", conversation_id=cid))["seq"] for _ in range(201)]
    assert seen == list(range(1, 202))
    assert count_messages(server, f"conversation_id = {cid}") == 201


async def test_nothing_is_kept_per_visitor_once_their_conversation_is_open(server: Server) -> None:
    visitor, _ = await server.visitor()
    for n in range(5):  # sent at once, while the first one is still opening the conversation
        await visitor.send({"type": "message", "client_id": f"o-{n}", "text": "hello"})
    acks = [await visitor.expect("ack") for _ in range(5)]
    assert [a["client_id"] for a in acks] == [f"o-{n}" for n in range(5)]
    seqs = [a["seq"] for a in acks]
    assert seqs == sorted(set(seqs))  # queued behind the opening, in order (seq 2 is "nobody online")
    assert server.state.hub._visitor_locks == {}


async def test_resume_replays_exactly_the_missed_messages_in_order(server: Server) -> None:
    _oid, token = await server.add_operator("Anna")
    operator = await server.operator(token)
    visitor, session = await server.visitor()
    await visitor.say("one")
    cid = (await operator.expect("assigned"))["conversation_id"]
    await visitor.say("two")
    await visitor.expect("message", seq=2)
    await visitor.close()
    for word in ("three", "four", "five"):
        await operator.say(word, conversation_id=cid)
    back = await server.connect(
        "/ws/visitor", session["token"], resume={"conversation_id": cid, "last_seq": 2}
    )
    replayed = [await back.expect("message") for _ in range(3)]
    assert [(m["seq"], m["text"]) for m in replayed] == [(3, "three"), (4, "four"), (5, "five")]
    await back.expect("assigned", conversation_id=cid)
    await operator.say("six", conversation_id=cid)
    live = await back.expect("message")
    assert (live["seq"], live["text"]) == (6, "six")
    assert back.unread("message") == []


async def test_capacity_and_least_busy_routing_across_two_operators(server: Server) -> None:
    a_id, a_token = await server.add_operator("Anna", capacity=2)
    b_id, b_token = await server.add_operator("Boris", capacity=2)
    anna = await server.operator(a_token)
    boris = await server.operator(b_token)
    visitors = []
    for n in range(5):
        visitor, _ = await server.visitor()
        await visitor.say(f"question {n}")
        visitors.append(visitor)
    await server.settle()
    chats = {oid: server.state.hub.engine.operator_chats(oid) for oid in (a_id, b_id)}
    assert sorted(len(c) for c in chats.values()) == [2, 2]  # spread evenly, capacity respected
    fifth = await visitors[4].expect("queue")
    assert fifth["position"] == 1 and fifth["estimated_wait_s"] is not None
    await anna.expect("assigned")
    await boris.expect("assigned")


async def test_returning_visitor_goes_back_to_the_previous_operator(server: Server) -> None:
    a_id, a_token = await server.add_operator("Anna")
    b_id, b_token = await server.add_operator("Boris")
    visitor, session = await server.visitor()
    anna = await server.operator(a_token)
    await visitor.say("first visit")
    cid = (await anna.expect("assigned"))["conversation_id"]
    await anna.send({"type": "close", "conversation_id": cid})
    await visitor.expect("closed", conversation_id=cid)
    await server.operator(b_token)
    other, _ = await server.visitor()
    await other.say("someone else")  # equal load, Anna idle longer: Anna takes it
    await anna.expect("assigned")
    assert len(server.state.hub.engine.operator_chats(a_id)) == 1
    assert server.state.hub.engine.operator_chats(b_id) == []
    # Least-busy alone would now pick Boris; the returning visitor still gets Anna.
    await visitor.say("I'm back")
    await server.settle()
    new_cid = server.state.hub.open_conversation_of(session["visitor_id"])
    assert new_cid is not None and new_cid != cid
    assert new_cid in server.state.hub.engine.operator_chats(a_id)
    await anna.expect("assigned", conversation_id=new_cid)


async def test_queue_positions_and_estimates_update_as_operators_free_up(server: Server) -> None:
    _oid, token = await server.add_operator("Anna", capacity=1)
    anna = await server.operator(token)
    first, _ = await server.visitor()
    await first.say("I'm first")
    cid1 = (await anna.expect("assigned"))["conversation_id"]
    second, _ = await server.visitor()
    await second.say("I'm second")
    third, _ = await server.visitor()
    await third.say("I'm third")
    q2 = await second.expect("queue", position=1)
    q3 = await third.expect("queue", position=2)
    assert 0 < q2["estimated_wait_s"] < q3["estimated_wait_s"]
    await anna.send({"type": "close", "conversation_id": cid1})
    await first.expect("closed", conversation_id=cid1)
    await second.expect("assigned")
    moved = await third.expect("queue", position=1)
    assert moved["estimated_wait_s"] < q3["estimated_wait_s"]


async def test_no_operator_online_is_said_honestly_and_the_message_waits(server: Server) -> None:
    visitor, _ = await server.visitor(locale="pl-PL")
    await visitor.say("Dzień dobry, mam pytanie")
    queued = await visitor.expect("queue")
    assert queued["estimated_wait_s"] is None and queued["operators_online"] == 0
    notice = await visitor.expect("message", sender="system")
    assert "nikt" in notice["text"]
    _oid, token = await server.add_operator("Anna")
    anna = await server.operator(token)
    cid = (await anna.expect("assigned"))["conversation_id"]
    kept = await anna.expect("message", conversation_id=cid, sender="visitor")
    assert kept["text"] == "Dzień dobry, mam pytanie"


async def test_operator_reconnecting_within_grace_keeps_the_chat(start_server: ServerFactory) -> None:
    server = await start_server(operator_grace_s=5.0)
    _oid, token = await server.add_operator("Anna")
    anna = await server.operator(token)
    visitor, _ = await server.visitor()
    await visitor.say("hello?")
    cid = (await anna.expect("assigned"))["conversation_id"]
    await anna.close()
    await server.settle()
    back = await server.operator(token, status=None)
    again = await back.expect("assigned", conversation_id=cid)
    assert again["conversation_id"] == cid
    history = await back.expect("message", conversation_id=cid)
    assert history["text"] == "hello?"
    await back.say("still here", conversation_id=cid)
    await visitor.expect("message", sender="operator")
    assert visitor.unread("queue") == []


async def test_grace_expiry_puts_chats_back_at_the_front_and_tells_the_visitor(
    start_server: ServerFactory,
) -> None:
    server = await start_server(operator_grace_s=0.3)
    _a, a_token = await server.add_operator("Anna", capacity=1)
    anna = await server.operator(a_token)
    lost, _ = await server.visitor()
    await lost.say("help me")
    cid = (await anna.expect("assigned"))["conversation_id"]
    waiting, _ = await server.visitor()
    await waiting.say("me too")
    await waiting.expect("queue", position=1)
    await anna.close()
    notice = await lost.expect("message", sender="system", timeout=3)
    assert "first in line" in notice["text"]
    front = await lost.expect("queue", conversation_id=cid)
    assert front["position"] == 1
    behind = await waiting.expect("queue", position=2)
    assert behind["conversation_id"] != cid
    _b, b_token = await server.add_operator("Boris", capacity=1)
    boris = await server.operator(b_token)
    assert (await boris.expect("assigned"))["conversation_id"] == cid
    await boris.expect("message", conversation_id=cid, text="help me")


async def test_bad_token_and_missing_hello_close_with_4401(start_server: ServerFactory) -> None:
    server = await start_server(hello_timeout_s=0.3)
    bad = await server.connect("/ws/visitor", None)
    await bad.send({"type": "hello", "token": "not-a-token"})
    await bad.ws.wait_closed()
    assert bad.ws.close_code == 4401
    _oid, op_token = await server.add_operator("Anna")
    wrong_kind = await server.connect("/ws/visitor", None)
    await wrong_kind.send({"type": "hello", "token": op_token})
    await wrong_kind.ws.wait_closed()
    assert wrong_kind.ws.close_code == 4401
    silent = await server.connect("/ws/operator", None)
    await silent.ws.wait_closed()
    assert silent.ws.close_code == 4401


async def test_foreign_origin_is_refused(start_server: ServerFactory) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    server = await start_server(allowed_origins=("https://shop.example",))
    for path in ("/ws/visitor", "/ws/operator"):
        try:
            await connect(server.ws_url + path, origin="https://evil.example", open_timeout=5)  # type: ignore[arg-type]
        except InvalidStatus as refused:
            assert refused.response.status_code == 403
        else:
            raise AssertionError(f"{path} accepted a foreign origin")
    allowed = await connect(server.ws_url + "/ws/visitor", origin="https://shop.example")  # type: ignore[arg-type]
    await allowed.close()


async def test_bad_frames_get_errors_while_other_chats_carry_on(server: Server) -> None:
    _oid, token = await server.add_operator("Anna", capacity=5)
    anna = await server.operator(token)
    calm, _ = await server.visitor()
    await calm.say("a normal chat")
    calm_cid = (await anna.expect("assigned"))["conversation_id"]
    rowdy, _ = await server.visitor()
    await rowdy.send("{not json")
    assert (await rowdy.expect("error"))["code"] == "invalid_json"
    await rowdy.send({"type": "dance"})
    assert (await rowdy.expect("error"))["code"] == "unknown_type"
    await rowdy.send({"type": "message", "client_id": "x1"})
    missing = await rowdy.expect("error")
    assert missing["code"] == "missing_field" and missing["client_id"] == "x1"
    await anna.send({"type": "message", "conversation_id": 999999, "client_id": "o1", "text": "hi"})
    assert (await anna.expect("error"))["code"] == "not_your_conversation"
    await anna.send({"type": "transfer", "conversation_id": calm_cid, "to": {"team": "billing"}})
    assert (await anna.expect("error"))["code"] == "transfer_reason_required"
    await rowdy.say("still usable after errors")
    await rowdy.send({"type": "message", "client_id": "big", "text": "x" * 20000})
    await rowdy.ws.wait_closed()
    assert rowdy.ws.close_code == 1009
    await calm.say("and this chat never noticed")
    got = await anna.expect("message", conversation_id=calm_cid, text="and this chat never noticed")
    assert got["sender"] == "visitor"


async def test_deactivated_operator_is_disconnected_and_chats_requeued(server: Server) -> None:
    oid, token = await server.add_operator("Anna")
    _admin, admin_token = await server.add_operator("Root", role="admin")
    anna = await server.operator(token)
    visitor, _ = await server.visitor()
    await visitor.say("hello")
    cid = (await anna.expect("assigned"))["conversation_id"]
    refused = await server.http.post(
        f"/api/admin/operators/{oid}/deactivate", headers={"authorization": f"Bearer {token}"}
    )
    assert refused.status_code == 403
    done = await server.http.post(
        f"/api/admin/operators/{oid}/deactivate", headers={"authorization": f"Bearer {admin_token}"}
    )
    assert done.status_code == 200
    await asyncio.wait_for(anna.ws.wait_closed(), 5)
    assert anna.ws.close_code == 4401
    assert (await visitor.expect("queue", conversation_id=cid))["position"] == 1
    login = await server.http.post("/api/operators/login", json={"email": "nobody@x", "password": "pw"})
    assert login.status_code == 401 and login.json()["error"]["code"] == "invalid_credentials"
