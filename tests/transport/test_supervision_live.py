"""What a supervisor's console needs beyond the frames: all live chats, a watched chat's end."""

from __future__ import annotations

from .conftest import Server
from .test_supervisor import chat_with, quiet

IDEA = "You should really add a wishlist feature to the shop, I would use it every day"


async def test_a_watcher_is_told_when_the_chat_closes_and_nobody_else_hears_twice(server: Server) -> None:
    _a_id, a_token = await server.add_operator("Anna", teams=("support",))
    _s_id, s_token = await server.add_operator("Sara", role="supervisor")
    anna = await server.operator(a_token)
    sara = await server.operator(s_token, status=None)
    visitor, _data, cid = await chat_with(server, anna)
    await sara.send({"type": "watch", "conversation_id": cid})
    await sara.expect("watch", conversation_id=cid)
    await sara.expect("message", conversation_id=cid, sender="visitor")

    await anna.send({"type": "close", "conversation_id": cid})
    await sara.expect("closed", conversation_id=cid)
    await visitor.expect("closed", conversation_id=cid)
    await anna.expect("closed", conversation_id=cid)
    await server.settle()
    later = await quiet(sara, visitor, anna)
    assert [f for f in later if f.get("type") == "closed"] == []
    assert server.state.hub.watchers.watching(cid) == 0


async def test_unwatched_and_gone_sockets_are_not_told(server: Server) -> None:
    _a_id, a_token = await server.add_operator("Anna", teams=("support",))
    _s_id, s_token = await server.add_operator("Sara", role="admin")
    anna = await server.operator(a_token)
    sara = await server.operator(s_token, status=None)
    gone = await server.operator(s_token, status=None)
    _visitor, _data, cid = await chat_with(server, anna)
    for socket in (sara, gone):
        await socket.send({"type": "watch", "conversation_id": cid})
        await socket.expect("watch", conversation_id=cid)
    assert server.state.hub.watchers.watching(cid) == 2
    await sara.send({"type": "unwatch", "conversation_id": cid})
    await sara.expect("unwatch", conversation_id=cid)
    await gone.close()
    await anna.send({"type": "close", "conversation_id": cid})
    await anna.expect("closed", conversation_id=cid)
    await server.settle()
    assert [f for f in await quiet(sara) if f.get("type") == "closed"] == []
    assert server.state.hub.watchers.watching(cid) == 0


async def test_live_chats_list_every_open_chat_with_operator_wait_and_situation(server: Server) -> None:
    a_id, a_token = await server.add_operator("Anna", teams=("support",), capacity=1)
    _s_id, s_token = await server.add_operator("Sara", role="supervisor")
    anna = await server.operator(a_token)
    visitor, _data, held = await chat_with(server, anna, IDEA)
    suggested = await anna.expect("suggestions", conversation_id=held)
    assert suggested["situation"] == "pointless_suggestion"
    waiting, _ = await server.visitor()
    await waiting.say("Hello, is anyone there?")
    line = (await waiting.expect("queue"))["conversation_id"]

    response = await server.http.get("/api/supervision/chats", headers={"Authorization": f"Bearer {s_token}"})
    assert response.status_code == 200, response.text
    chats = {c["conversation_id"]: c for c in response.json()["chats"]}
    assert set(chats) == {held, line}
    assert chats[held]["state"] == "assigned"
    assert chats[held]["operator"] == {"id": a_id, "name": "Anna", "title": "Customer care"}
    assert chats[held]["waiting"] == "answer" and chats[held]["waiting_s"] >= 0
    assert chats[held]["situation"] == "pointless_suggestion"
    assert chats[line]["state"] == "waiting" and chats[line]["operator"] is None
    assert chats[line]["waiting"] == "line"

    # Once Anna answers, the visitor waits for nothing.
    await anna.say("Thank you, that is a lovely idea", conversation_id=held)
    await visitor.expect("message", sender="operator")
    await server.settle()
    response = await server.http.get("/api/supervision/chats", headers={"Authorization": f"Bearer {s_token}"})
    chats = {c["conversation_id"]: c for c in response.json()["chats"]}
    assert chats[held]["waiting"] is None and chats[held]["waiting_s"] is None

    # A plain operator may not see them; nobody signed in neither.
    refused = await server.http.get("/api/supervision/chats", headers={"Authorization": f"Bearer {a_token}"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert (await server.http.get("/api/supervision/chats")).status_code == 401
