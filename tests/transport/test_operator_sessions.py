"""One operator on two consoles at once (a second browser, a phone): one status, shown on both."""

from __future__ import annotations

import asyncio

from .conftest import Server


async def test_a_status_set_on_one_console_reaches_the_other(server: Server) -> None:
    _oid, token = await server.add_operator("Anna")
    laptop = await server.operator(token)
    phone = await server.operator(token, status=None)
    await phone.send({"type": "status", "status": "away"})
    assert (await phone.expect("status"))["status"] == "away"
    assert (await laptop.expect("status"))["status"] == "away"
    await laptop.send({"type": "status", "status": "online"})
    assert (await laptop.expect("status"))["status"] == "online"
    assert (await phone.expect("status"))["status"] == "online"


async def test_a_second_console_is_welcomed_with_the_status_the_first_holds(server: Server) -> None:
    oid, token = await server.add_operator("Anna")
    first = await server.connect("/ws/operator", None)
    await first.send({"type": "hello", "token": token})
    assert (await first.expect("welcome"))["status"] == "offline"  # nobody connected before it
    await first.send({"type": "status", "status": "online"})
    await first.expect("status")
    second = await server.connect("/ws/operator", None)
    await second.send({"type": "hello", "token": token})
    assert (await second.expect("welcome"))["status"] == "online"
    await server.settle()
    assert server.state.hub.engine.presence.operator(oid).online
    assert first.unread("status") == []  # signing in elsewhere changed nothing here


async def test_closing_one_console_keeps_the_operator_online_on_the_other(server: Server) -> None:
    oid, token = await server.add_operator("Anna")
    laptop = await server.operator(token)
    phone = await server.operator(token, status=None)
    visitor, _ = await server.visitor()
    await visitor.say("first question")
    cid = (await laptop.expect("assigned"))["conversation_id"]
    assert (await phone.expect("assigned"))["conversation_id"] == cid  # both consoles see the chat
    await laptop.close()
    for _ in range(100):
        if len(server.state.hub.directory.outboxes(oid)) == 1:
            break
        await asyncio.sleep(0.02)
    await server.settle()
    presence = server.state.hub.engine.presence.operator(oid)
    assert presence.connected and presence.online and presence.chat_ids == (cid,)
    # New chats still come to the console left open, and the chat held goes on.
    other, _ = await server.visitor()
    await other.say("second question")
    second = (await phone.expect("assigned"))["conversation_id"]
    assert second != cid
    await phone.say("still here", conversation_id=cid)
    assert (await visitor.expect("message", sender="operator"))["text"] == "still here"
    assert phone.unread("released") == []
