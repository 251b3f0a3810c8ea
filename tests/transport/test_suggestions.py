"""The assistant over a real operator socket: suggestions after the message, search, unfilled slots."""

from __future__ import annotations

from .conftest import Server


async def test_suggestions_follow_the_visitor_message_they_are_about(server: Server) -> None:
    _oid, token = await server.add_operator("Anna")
    anna = await server.operator(token)
    visitor, _ = await server.visitor(locale="en-GB")
    await visitor.say("Hi, I'm looking at your website")
    cid = (await anna.expect("assigned"))["conversation_id"]
    ack = await visitor.say("The blender I got yesterday arrived with a cracked jug and it leaks everywhere")
    order: list[str] = []
    while "suggestions" not in order or len([t for t in order if t == "message"]) < 2:
        frame = await anna.next()
        if frame.get("conversation_id") == cid and frame["type"] in ("message", "suggestions"):
            if frame["type"] == "suggestions" and frame["seq"] != ack["seq"]:
                continue
            order.append(frame["type"])
    assert order.index("message", order.index("message") + 1) < order.index("suggestions")
    suggestions = [f for f in anna.seen if f["type"] == "suggestions" and f["seq"] == ack["seq"]][0]
    assert suggestions["situation"] == "defect"
    assert len(suggestions["items"]) == 3
    assert all(item["situation"] == "defect" and item["text"] for item in suggestions["items"])


async def test_a_reply_still_holding_a_placeholder_is_refused(server: Server) -> None:
    _oid, token = await server.add_operator("Anna")
    anna = await server.operator(token)
    visitor, _ = await server.visitor()
    await visitor.say("When will the red sneakers be back in size 42?")
    cid = (await anna.expect("assigned"))["conversation_id"]
    await anna.send(
        {
            "type": "message",
            "conversation_id": cid,
            "client_id": "s1",
            "text": "Good news: they will be back [[restock.date]]. Shall I reserve a pair?",
        }
    )
    refused = await anna.expect("error", client_id="s1")
    assert refused["code"] == "unfilled_slot" and "restock.date" in refused["message"]
    await anna.say("Good news: they will be back on 12 May. Shall I reserve a pair?", conversation_id=cid)
    got = await visitor.expect("message", sender="operator")
    assert "12 May" in got["text"] and "[[" not in got["text"]


async def test_operator_searches_the_library_by_shortcut_and_words(server: Server) -> None:
    _oid, token = await server.add_operator("Anna")
    anna = await server.operator(token)
    visitor, _ = await server.visitor(locale="pl")
    await visitor.say("Dzień dobry")
    cid = (await anna.expect("assigned"))["conversation_id"]
    await anna.send({"type": "library_search", "query": "/defect", "conversation_id": cid})
    found = await anna.expect("library_results")
    assert found["items"] and all(item["shortcut"].startswith("/defect") for item in found["items"])
    assert all(item["language"] == "pl" for item in found["items"])
    await anna.send({"type": "library_search", "query": "numer zamowienia", "language": "pl"})
    words = await anna.expect("library_results")
    assert words["items"], "accent-free words find Polish replies"
