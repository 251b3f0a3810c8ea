"""Ideas heard, over a real server: recorded from the operators' replies and ``idea`` frames,
counted with their near-duplicates, and told to every asker first when planned or done."""

from __future__ import annotations

from typing import Any

from chatserver.storage import repository as repo

from .conftest import Client, Server

IDEAS = "/api/admin/ideas"
WISHLIST = "you guys should add a wishlist to the app"


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _feature_request(anna: Client, visitor: Client, text: str) -> tuple[int, int, dict[str, Any]]:
    ack = await visitor.say(text)
    cid = (await anna.expect("assigned"))["conversation_id"]
    await anna.expect("message", conversation_id=cid, seq=ack["seq"])
    return cid, ack["seq"], ack


async def test_an_idea_is_heard_counted_and_its_askers_are_told_first(server: Server) -> None:
    _admin_id, admin = await server.add_operator("Ada", role="admin")
    _oid, token = await server.add_operator("Anna")
    anna = await server.operator(token)

    # An English visitor asks for a wishlist; Anna sends the suggested feature-request reply.
    first, first_data = await server.visitor(locale="en")
    cid1, seq1, _ = await _feature_request(anna, first, WISHLIST)
    suggestions = await anna.expect("suggestions", conversation_id=cid1, seq=seq1)
    assert suggestions["situation"] == "pointless_suggestion"
    offered = suggestions["items"][0]["text"]
    reply = offered.replace("[[feature.name]]", "a wishlist")
    assert "[[" not in reply, offered
    await anna.say(reply, conversation_id=cid1)
    recorded = await anna.expect("idea_recorded", conversation_id=cid1, seq=seq1)
    assert recorded["new"] is True and recorded["idea"]["count"] == 1
    idea_id = recorded["idea"]["id"]

    # A Polish visitor asks for it in other words; Anna says what it is with an ``idea`` frame.
    second, _ = await server.visitor(locale="pl")
    cid2, seq2, _ = await _feature_request(anna, second, "Czy moglibyście dodać wishlistę? Byłoby super!")
    await anna.send({"type": "idea", "conversation_id": cid2, "seq": seq2, "text": "Add a WISHLIST, please"})
    again = await anna.expect("idea_recorded", conversation_id=cid2, seq=seq2)
    assert again["new"] is False and again["idea"] == {**recorded["idea"], "count": 2}
    # The same message counts once.
    await anna.send({"type": "idea", "conversation_id": cid2, "seq": seq2})
    assert (await anna.expect("idea_recorded", conversation_id=cid2, seq=seq2))["idea"]["count"] == 2

    # What the frame refuses: a seq that is not a visitor message, no seq, a chat not yours.
    await anna.send({"type": "idea", "conversation_id": cid2, "seq": seq2 + 40})
    assert (await anna.expect("error"))["code"] == "invalid_field"
    await anna.send({"type": "idea", "conversation_id": cid2})
    assert (await anna.expect("error"))["code"] == "missing_field"
    await anna.send({"type": "idea", "conversation_id": cid2, "seq": seq2, "text": "x" * 301})
    assert (await anna.expect("error"))["code"] == "invalid_field"
    _bob, bob_token = await server.add_operator("Bob")
    bob = await server.operator(bob_token, status=None)
    await bob.send({"type": "idea", "conversation_id": cid2, "seq": seq2})
    assert (await bob.expect("error"))["code"] == "not_your_conversation"

    # The admin's list.
    listed = await server.http.get(IDEAS, headers=_auth(admin))
    assert listed.status_code == 200, listed.text
    [idea] = listed.json()["items"]
    assert (idea["id"], idea["status"], idea["count"], idea["visitors"]) == (idea_id, "new", 2, 2)
    assert idea["summary"] == WISHLIST and idea["languages"] == ["en", "pl"]
    assert [e["text"] for e in idea["examples"]] == [
        WISHLIST,
        "Czy moglibyście dodać wishlistę? Byłoby super!",
    ]
    assert (await server.http.get(IDEAS, params={"status": "done"}, headers=_auth(admin))).json() == {
        "items": []
    }
    assert (await server.http.get(IDEAS, params={"status": "maybe"}, headers=_auth(admin))).status_code == 422
    assert (await server.http.get(IDEAS, headers=_auth(token))).status_code == 403

    # The first chat ends; then the idea is planned.
    await anna.send({"type": "close", "conversation_id": cid1})
    await first.expect("closed", conversation_id=cid1)
    await first.close()
    await server.settle()
    changed = await server.http.patch(f"{IDEAS}/{idea_id}", json={"status": "planned"}, headers=_auth(admin))
    assert changed.status_code == 200, changed.text
    assert (changed.json()["status"], changed.json()["told"]) == ("planned", 2)

    # The Polish visitor, still chatting, is told now, in Polish.
    news = await second.expect("message", conversation_id=cid2, sender="system")
    assert "pracujemy" in news["text"] and WISHLIST in news["text"]
    # The English visitor sees it on their next visit: the news, that chat's replay, then closed.
    back = await server.connect(
        "/ws/visitor", (await server.visitor_session(visitor_id=first_data["visitor_id"]))["token"]
    )
    await back.expect("idea_news", conversation_id=cid1)
    told = await back.expect("message", conversation_id=cid1, sender="system")
    assert "working on it" in told["text"]
    await back.expect("closed", conversation_id=cid1)
    await server.settle()
    assert await server.state.writer.read(repo.unseen_idea_news, visitor_id=first_data["visitor_id"]) == []

    # Told once per status; done is news again; other statuses tell nobody.
    again_planned = await server.http.patch(
        f"{IDEAS}/{idea_id}", json={"status": "planned"}, headers=_auth(admin)
    )
    assert again_planned.json()["told"] == 0
    done = await server.http.patch(f"{IDEAS}/{idea_id}", json={"status": "done"}, headers=_auth(admin))
    assert done.json()["told"] == 2
    assert "dostępny" in (await second.expect("message", conversation_id=cid2, sender="system"))["text"]
    declined = await server.http.patch(
        f"{IDEAS}/{idea_id}", json={"status": "declined"}, headers=_auth(admin)
    )
    assert (declined.json()["status"], declined.json()["told"]) == ("declined", 0)

    # What the PATCH refuses.
    bad = await server.http.patch(f"{IDEAS}/{idea_id}", json={"status": "someday"}, headers=_auth(admin))
    assert bad.status_code == 422
    missing = await server.http.patch(f"{IDEAS}/9999", json={"status": "done"}, headers=_auth(admin))
    assert missing.status_code == 404
    assert (await server.http.patch(f"{IDEAS}/{idea_id}", json={"status": "done"})).status_code == 401
