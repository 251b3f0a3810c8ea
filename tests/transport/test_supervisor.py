"""Supervisors watch live chats silently, whisper to the operator and take chats over, over a real server."""

from __future__ import annotations

from typing import Any

from chatserver.core.conversation import State
from chatserver.storage import repository as repo

from .conftest import Client, Server

SECRET = "Offer her the 10% goodwill voucher"
REASON = "I can approve the refund myself"
BENEFIT = "The refund is made today, in this chat"


async def chat_with(
    server: Server, operator: Client, text: str = "My parcel is late"
) -> tuple[Client, Any, int]:
    visitor, data = await server.visitor()
    await visitor.say(text)
    cid = (await operator.expect("assigned"))["conversation_id"]
    await operator.expect("message", conversation_id=cid, sender="visitor")
    await visitor.expect("assigned", conversation_id=cid)
    return visitor, data, cid


async def quiet(*clients: Client, wait: float = 0.3) -> list[dict[str, Any]]:
    """Every frame the clients receive within ``wait`` seconds, unread ones included."""
    frames: list[dict[str, Any]] = []
    for client in clients:
        frames.extend(client._unread)
        client._unread.clear()
        while True:
            try:
                frames.append(await client.next(timeout=wait))
            except TimeoutError:
                break
    return frames


def nothing_secret(frames: list[dict[str, Any]]) -> None:
    for frame in frames:
        assert frame.get("type") != "whisper", frame
        assert SECRET not in str(frame), frame


async def test_a_supervisor_watches_silently_and_whispers_reach_only_the_operator(server: Server) -> None:
    a_id, a_token = await server.add_operator("Anna", teams=("support",))
    s_id, s_token = await server.add_operator("Sara", role="supervisor", teams=("support",))
    anna = await server.operator(a_token)
    sara = await server.operator(s_token, status=None)
    visitor, data, cid = await chat_with(server, anna)
    await anna.say("Let me look", conversation_id=cid)
    await visitor.expect("message", sender="operator")
    before = server.state.hub.engine.presence.operator(a_id)

    await sara.send({"type": "watch", "conversation_id": cid})
    watching = await sara.expect("watch", conversation_id=cid)
    assert watching["operator_id"] == a_id and watching["visitor_id"] == data["visitor_id"]
    replayed = [await sara.expect("message", conversation_id=cid) for _ in range(2)]
    assert [m["sender"] for m in replayed] == ["visitor", "operator"]

    # Live messages follow; the visitor and the operator see nothing of the watcher.
    await visitor.say("Any news?")
    assert (await sara.expect("message", conversation_id=cid))["text"] == "Any news?"
    await anna.expect("message", conversation_id=cid, text="Any news?")
    await server.settle()
    conv = server.state.hub.engine.conversations[cid]
    assert conv.operator_id == a_id and conv.state is State.ASSIGNED
    assert server.state.hub.engine.presence.operator(s_id).chat_ids == ()
    assert server.state.hub.engine.presence.operator(a_id) == before
    nothing_about_sara = await quiet(visitor, anna)
    assert all("watch" not in str(frame.get("type")) for frame in nothing_about_sara)

    # The whisper: to Anna and Sara, never to the visitor.
    await sara.send({"type": "whisper", "conversation_id": cid, "text": SECRET, "client_id": "w1"})
    heard = await anna.expect("whisper", conversation_id=cid)
    assert heard["text"] == SECRET and heard["from"]["id"] == s_id and heard["operator_id"] == a_id
    echo = await sara.expect("whisper", conversation_id=cid, client_id="w1")
    assert echo["whisper_id"] == heard["whisper_id"]
    await anna.say("I can offer you a voucher", conversation_id=cid)
    await visitor.expect("message", sender="operator", text="I can offer you a voucher")
    nothing_secret(await quiet(visitor))

    stored = await server.state.writer.read(repo.whispers_for, conversation_id=cid)
    assert [(w.text, w.supervisor_id, w.operator_id) for w in stored] == [(SECRET, s_id, a_id)]
    messages = await server.state.writer.read(
        repo.messages_after, conversation_id=cid, after_seq=0, limit=100
    )
    assert SECRET not in [m.text for m in messages]

    # The visitor comes back (resume and a fresh socket): still no whisper.
    await visitor.close()
    again = await server.connect("/ws/visitor", data["token"])
    await again.expect("assigned", conversation_id=cid)
    nothing_secret(await quiet(again, wait=0.5))
    resumed = await server.connect(
        "/ws/visitor", data["token"], resume={"conversation_id": cid, "last_seq": 0}
    )
    nothing_secret(await quiet(resumed, wait=0.5))

    # Nor in any transcript over REST, while open or once closed.
    headers = {"Authorization": f"Bearer {a_token}"}
    for _ in range(2):
        for path in (
            f"/api/visitors/{data['visitor_id']}/conversations",
            f"/api/visitors/{data['visitor_id']}/conversations/{cid}/messages",
        ):
            response = await server.http.get(path, headers=headers)
            assert response.status_code == 200, response.text
            assert SECRET not in response.text
        await anna.send({"type": "close", "conversation_id": cid})
        await server.settle()

    # The chat is over; unwatching it is still confirmed.
    await sara.send({"type": "unwatch", "conversation_id": cid})
    await sara.expect("unwatch", conversation_id=cid)


async def test_unwatch_stops_the_live_messages(server: Server) -> None:
    _a_id, a_token = await server.add_operator("Anna", teams=("support",))
    _s_id, s_token = await server.add_operator("Sara", role="admin")
    anna = await server.operator(a_token)
    sara = await server.operator(s_token, status=None)
    visitor, _data, cid = await chat_with(server, anna)
    await sara.send({"type": "watch", "conversation_id": cid})
    await sara.expect("message", conversation_id=cid, sender="visitor")
    await sara.send({"type": "unwatch", "conversation_id": cid})
    await sara.expect("unwatch", conversation_id=cid)
    await visitor.say("Still there?")
    await anna.expect("message", text="Still there?")
    assert [frame for frame in await quiet(sara) if frame.get("type") == "message"] == []


async def test_a_plain_operator_cannot_watch_whisper_or_take_over(server: Server) -> None:
    a_id, a_token = await server.add_operator("Anna", teams=("support",))
    _b_id, b_token = await server.add_operator("Boris", teams=("support",))
    anna = await server.operator(a_token)
    boris = await server.operator(b_token)
    visitor, _data, cid = await chat_with(server, anna)
    for frame in (
        {"type": "watch", "conversation_id": cid},
        {"type": "unwatch", "conversation_id": cid},
        {"type": "whisper", "conversation_id": cid, "text": SECRET},
        {"type": "take_over", "conversation_id": cid, "reason": REASON, "benefit": BENEFIT},
    ):
        await boris.send(frame)
        assert (await boris.expect("error"))["code"] == "not_a_supervisor"
    await boris.send({"type": "watch", "conversation_id": cid})
    await boris.expect("error", code="not_a_supervisor")
    await visitor.say("Hello?")
    await anna.expect("message", text="Hello?")
    assert [f for f in await quiet(boris) if f.get("type") in ("message", "whisper")] == []
    nothing_secret(await quiet(visitor, anna))
    assert await server.state.writer.read(repo.whispers_for, conversation_id=cid) == []
    assert server.state.hub.engine.conversations[cid].operator_id == a_id


async def test_supervisor_errors_unknown_chat_and_empty_whisper(server: Server) -> None:
    _s_id, s_token = await server.add_operator("Sara", role="supervisor")
    sara = await server.operator(s_token, status=None)
    await sara.send({"type": "watch", "conversation_id": 999999})
    assert (await sara.expect("error"))["code"] == "unknown_conversation"
    await sara.send({"type": "whisper", "conversation_id": 999999, "text": "hi"})
    assert (await sara.expect("error"))["code"] == "unknown_conversation"
    await sara.send({"type": "watch"})
    assert (await sara.expect("error"))["code"] == "missing_field"


async def test_take_over_is_a_transfer_with_reason_and_benefit_accepted_at_once(server: Server) -> None:
    a_id, a_token = await server.add_operator("Anna", teams=("support",))
    s_id, s_token = await server.add_operator("Sara", role="supervisor", teams=("support",))
    anna = await server.operator(a_token)
    sara = await server.operator(s_token)
    visitor, _data, cid = await chat_with(server, anna)
    await sara.send({"type": "take_over", "conversation_id": cid, "reason": REASON})
    assert (await sara.expect("error"))["code"] == "transfer_reason_required"
    await server.settle()
    assert server.state.hub.engine.conversations[cid].operator_id == a_id

    await sara.send({"type": "take_over", "conversation_id": cid, "reason": REASON, "benefit": BENEFIT})
    announced = await visitor.expect("transfer", conversation_id=cid)
    assert REASON in announced["text"] and BENEFIT in announced["text"]
    await sara.expect("assigned", conversation_id=cid)
    await visitor.expect("assigned", conversation_id=cid)
    await server.settle()
    conv = server.state.hub.engine.conversations[cid]
    assert conv.operator_id == s_id and conv.state is State.ASSIGNED
    await sara.say("Hello, I am taking over", conversation_id=cid)
    await visitor.expect("message", sender="operator", text="Hello, I am taking over")
    events = await server.state.writer.read(repo.list_conversation_events, conversation_id=cid)
    requested = [e for e in events if e.kind == "transfer_requested"]
    assert requested and REASON in requested[-1].data and BENEFIT in requested[-1].data
