"""The assistant over a real operator socket: suggestions after the message, search, unfilled slots."""

from __future__ import annotations

import re

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


async def test_usage_counts_replies_sent_as_offered_edited_or_ignored(server: Server) -> None:
    _oid, token = await server.add_operator("Anna")
    _admin, admin_token = await server.add_operator("Root", role="admin")
    anna = await server.operator(token)
    visitor, _ = await server.visitor(locale="en")
    ack = await visitor.say("My new kettle arrived with a cracked lid, it is broken")
    cid = (await anna.expect("assigned"))["conversation_id"]
    first = await anna.expect("suggestions", conversation_id=cid, seq=ack["seq"])
    assert len(first["items"]) >= 2, first["items"]
    as_is, edited = first["items"][0], first["items"][1]
    # Filling the required blanks still counts as sending the reply as offered.
    await anna.say(re.sub(r"\[\[[^\]]+\]\]", "ORD-7", as_is["text"]), conversation_id=cid)
    changed = re.sub(r"\[\[[^\]]+\]\]", "ORD-7", edited["text"]) + " I will also add a small gift."
    await anna.say(changed, conversation_id=cid)
    ack2 = await visitor.say("The lid of the kettle I ordered is cracked and it leaks")
    second = await anna.expect("suggestions", conversation_id=cid, seq=ack2["seq"])
    assert second["items"]
    response = await server.http.get(
        "/api/admin/libraries/default/usage", headers={"authorization": f"Bearer {admin_token}"}
    )
    usage = response.json()["usage"]["en"]
    assert usage[as_is["response_id"]].get("sent_as_is") == 1
    assert usage[edited["response_id"]].get("sent_edited") == 1
    unused = [item["response_id"] for item in first["items"] if item not in (as_is, edited)]
    for response_id in unused:
        assert usage[response_id].get("ignored", 0) >= 1
    assert all(usage[item["response_id"]].get("suggested", 0) >= 1 for item in first["items"])
