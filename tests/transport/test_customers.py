"""The customer beside the chat over a real server: identity, the order feed, the context, access, edits."""

from __future__ import annotations

from typing import Any

import httpx

from chatserver.storage import repository as repo
from chatserver.transport.auth import identity_signature

from .conftest import Client, Server, ServerFactory

SECRET = "shop-identity-secret"
FEED_KEY = "feed-key-123"


def identity(external_id: str, *, signed_as: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "signature": identity_signature(SECRET, signed_as or external_id),
        **extra,
    }


def feed(key: str = FEED_KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def shop_server(start_server: ServerFactory, **overrides: Any) -> Server:
    return await start_server(identity_secret=SECRET, order_feed_key=FEED_KEY, **overrides)


async def linked_customer(server: Server, visitor_id: str) -> int | None:
    visitor = await server.state.writer.read(repo.get_visitor, visitor_id=visitor_id)
    assert visitor is not None
    return visitor.customer_id


async def chat(server: Server, visitor: Client, operator: Client, text: str) -> int:
    """The visitor writes; the operator is assigned; the conversation id."""
    await visitor.say(text)
    assigned = await operator.expect("assigned")
    return int(assigned["conversation_id"])


async def close(operator: Client, visitor: Client, cid: int) -> None:
    await operator.send({"type": "close", "conversation_id": cid})
    await visitor.expect("closed", conversation_id=cid)
    await operator.expect("closed", conversation_id=cid)


# --- identity --------------------------------------------------------------------------------


async def test_a_correctly_signed_identity_links_the_visitor_to_the_customer(
    start_server: ServerFactory,
) -> None:
    server = await shop_server(start_server)
    session = await server.visitor_session(
        identity=identity("cust-1", name="Eve Nowak", email="eve@example.com")
    )
    customer_id = await linked_customer(server, session["visitor_id"])
    assert customer_id is not None
    customer = await server.state.writer.read(repo.get_customer, customer_id=customer_id)
    assert customer is not None and (customer.external_id, customer.name) == ("cust-1", "Eve Nowak")
    _oid, token = await server.add_operator("Anna")
    anna = await server.operator(token)
    visitor = await server.connect("/ws/visitor", session["token"])
    await visitor.say("Hello")
    assigned = await anna.expect("assigned")
    assert assigned["customer"]["id"] == customer_id
    assert (assigned["customer"]["external_id"], assigned["customer"]["name"]) == ("cust-1", "Eve Nowak")
    assert assigned["customer"]["first_contact"] is True


async def test_a_missing_wrong_or_foreign_signature_links_nothing_and_says_nothing(
    start_server: ServerFactory,
) -> None:
    server = await shop_server(start_server)
    await server.visitor_session(identity=identity("cust-1"))  # cust-1 exists now; cust-404 does not
    anonymous = await server.http.post("/api/visitor/sessions", json={})
    bad_identities = []
    for external_id in ("cust-1", "cust-404"):
        bad_identities += [
            {"external_id": external_id},  # no signature
            {"external_id": external_id, "signature": ""},
            {"external_id": external_id, "signature": "00" * 32},  # wrong
            {"external_id": external_id, "signature": identity_signature("another-secret", external_id)},
            identity(external_id, signed_as="cust-2"),  # valid, but for another id
            {"external_id": external_id, "signature": 12345},
        ]
    returning = await server.visitor_session()
    for bad in bad_identities:
        for body in ({"identity": bad}, {"identity": bad, "visitor_id": returning["visitor_id"]}):
            response = await server.http.post("/api/visitor/sessions", json=body)
            assert response.status_code == anonymous.status_code == 201
            assert sorted(response.json()) == sorted(anonymous.json()) == ["token", "visitor_id"]
            assert response.headers["content-type"] == anonymous.headers["content-type"]
            assert await linked_customer(server, response.json()["visitor_id"]) is None
    # Without a secret configured, even a signature made with ours is ignored.
    plain = await start_server()
    session = await plain.visitor_session(identity=identity("cust-1"))
    assert await linked_customer(plain, session["visitor_id"]) is None


async def test_signing_in_hands_the_customer_the_visitors_anonymous_history(
    start_server: ServerFactory,
) -> None:
    server = await shop_server(start_server)
    anna_id, token = await server.add_operator("Anna")
    _admin_id, admin = await server.add_operator("Root", role="admin")
    anna = await server.operator(token)
    visitor, session = await server.visitor()
    cid = await chat(server, visitor, anna, "Do you ship to Norway?")
    await close(anna, visitor, cid)
    signed_in = await server.visitor_session(visitor_id=session["visitor_id"], identity=identity("cust-7"))
    assert signed_in["visitor_id"] == session["visitor_id"]
    customer_id = await linked_customer(server, session["visitor_id"])
    assert customer_id is not None
    conversation = await server.state.writer.read(repo.get_conversation, conversation_id=cid)
    assert conversation is not None and conversation.customer_id == customer_id
    for who in (admin, token):  # Anna held that chat, so she sees the customer it now belongs to
        response = await server.http.get(f"/api/customers/{customer_id}", headers=auth(who))
        assert response.status_code == 200, response.text
        listed = response.json()["conversations"]
        assert [c["id"] for c in listed] == [cid]
        assert listed[0]["handled_by"] == [{"id": anna_id, "name": "Anna"}]
        assert listed[0]["opening"] == "Do you ship to Norway?"


# --- the order feed --------------------------------------------------------------------------


ORDER = {
    "external_customer_id": "cust-1",
    "status": "paid",
    "total": 249.9,
    "currency": "pln",
    "placed_at": "2025-03-01T10:00:00Z",
    "items": [{"name": "Blender X2", "qty": 1, "price": 249.9}],
}


async def test_the_order_feed_needs_its_key(start_server: ServerFactory) -> None:
    server = await shop_server(start_server)
    for headers in ({}, feed("wrong"), {"Authorization": FEED_KEY}, {"Authorization": f"Basic {FEED_KEY}"}):
        response = await server.http.put("/api/feed/orders/o-1", json=ORDER, headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
        response = await server.http.post("/api/feed/events", json={}, headers=headers)
        assert response.status_code == 401
    _oid, operator_token = await server.add_operator("Anna")
    assert (
        await server.http.put("/api/feed/orders/o-1", json=ORDER, headers=auth(operator_token))
    ).status_code == 401
    keyless = await start_server()  # no CHAT_ORDER_FEED_KEY: the feed is closed
    response = await keyless.http.put("/api/feed/orders/o-1", json=ORDER, headers=feed())
    assert response.status_code == 401
    assert await server.state.writer.read(repo.get_customer_profile, customer_id=1) is None


async def test_a_repeated_push_updates_and_never_duplicates(start_server: ServerFactory) -> None:
    server = await shop_server(start_server)
    first = await server.http.put("/api/feed/orders/o-1", json=ORDER, headers=feed())
    assert first.status_code == 201, first.text
    assert first.json()["result"] == "created"
    again = await server.http.put("/api/feed/orders/o-1", json=ORDER, headers=feed())
    assert (again.status_code, again.json()["result"]) == (200, "updated")
    shipped = await server.http.put(
        "/api/feed/orders/o-1", json={**ORDER, "status": "Shipped"}, headers=feed()
    )
    assert (shipped.status_code, shipped.json()["status"]) == (200, "shipped")
    customer_id = first.json()["customer_id"]
    assert again.json()["customer_id"] == customer_id
    rows = await server.state.writer.read(repo.context_rows, customer_id=customer_id)
    assert rows is not None and [(o["order_id"], o["status"]) for o in rows.orders] == [("o-1", "shipped")]
    assert rows.orders[0]["currency"] == "PLN" and rows.orders[0]["placed_at"] == 1740823200.0
    profile = await server.state.writer.read(repo.get_customer_profile, customer_id=customer_id)
    assert profile is not None and (profile.order_count, profile.order_total) == (1, 249.9)
    complaint = {
        "external_customer_id": "cust-1",
        "kind": "complaint",
        "id": 77,
        "status": "open",
        "text": "Leaks",
    }
    made = await server.http.post("/api/feed/events", json=complaint, headers=feed())
    assert (made.status_code, made.json()["result"], made.json()["open"]) == (201, "created", True)
    done = await server.http.post(
        "/api/feed/events", json={**complaint, "status": "resolved"}, headers=feed()
    )
    assert (done.status_code, done.json()["result"], done.json()["open"]) == (200, "updated", False)
    rows = await server.state.writer.read(repo.context_rows, customer_id=customer_id)
    assert rows is not None and rows.open_cases == []
    for bad in (
        {**ORDER, "total": -1},
        {**ORDER, "total": "12"},
        {**ORDER, "placed_at": "yesterday"},
        {"status": "x"},
    ):
        response = await server.http.put("/api/feed/orders/o-2", json=bad, headers=feed())
        assert response.status_code == 422, bad
    response = await server.http.post(
        "/api/feed/events", json={**complaint, "kind": "Bad Kind"}, headers=feed()
    )
    assert response.status_code == 422


# --- the context -----------------------------------------------------------------------------


async def test_the_assigned_frame_carries_the_customer_beside_the_chat(start_server: ServerFactory) -> None:
    server = await shop_server(start_server, segment_refresh_s=0.0)
    _admin_id, admin = await server.add_operator("Root", role="admin")
    order = await server.http.put("/api/feed/orders/o-1", json=ORDER, headers=feed())
    customer_id = order.json()["customer_id"]
    await server.http.put(
        "/api/feed/orders/o-2",
        json={**ORDER, "total": 10, "status": "delivered", "placed_at": 1741000000},
        headers=feed(),
    )
    complaint = {"external_customer_id": "cust-1", "kind": "return", "id": "r-1", "status": "requested"}
    await server.http.post("/api/feed/events", json={**complaint, "order_id": "o-1"}, headers=feed())
    assert (await server.http.get(f"/api/customers/{customer_id}", headers=auth(admin))).json()[
        "segment"
    ] == "A"
    _oid, token = await server.add_operator("Anna")
    anna = await server.operator(token)
    visitor, _ = await server.visitor(identity=identity("cust-1", name="Eve"))
    await visitor.send({"type": "page", "url": "https://shop.example/p/blender-x2", "title": "Blender X2"})
    await visitor.say("The jug of my blender is cracked")
    assigned = await anna.expect("assigned")
    customer = assigned["customer"]
    assert (customer["id"], customer["name"], customer["external_id"], customer["segment"]) == (
        customer_id,
        "Eve",
        "cust-1",
        "A",
    )
    assert [(o["order_id"], o["status"]) for o in customer["orders"]] == [
        ("o-2", "delivered"),
        ("o-1", "paid"),
    ]
    assert customer["orders"][1]["items"] == [{"name": "Blender X2", "qty": 1, "price": 249.9}]
    assert [(c["kind"], c["id"], c["order_id"]) for c in customer["open_complaints"]] == [
        ("return", "r-1", "o-1")
    ]
    assert customer["page"]["url"] == "https://shop.example/p/blender-x2"
    assert customer["page"]["title"] == "Blender X2"
    assert customer["stats"] == {"orders": 2, "order_value": 259.9, "returns_and_complaints": 1}
    assert customer["conversations"] == [] and customer["first_contact"] is True
    # The messages still follow the assigned frame.
    assert (await anna.expect("message", conversation_id=assigned["conversation_id"]))["seq"] == 1


async def test_a_returning_visitor_brings_the_earlier_conversations(start_server: ServerFactory) -> None:
    server = await shop_server(start_server)
    anna_id, token = await server.add_operator("Anna")
    anna = await server.operator(token)
    for signed in (False, True):
        visitor, _ = await server.visitor(**({"identity": identity("cust-5")} if signed else {}))
        first = await chat(server, visitor, anna, "My parcel arrived damaged, the screen is cracked")
        await close(anna, visitor, first)
        second = await chat(server, visitor, anna, "Hello again")
        assigned = [f for f in anna.seen if f["type"] == "assigned" and f["conversation_id"] == second][-1]
        customer = assigned["customer"]
        assert customer["anonymous"] is not signed
        if not signed:
            assert customer["id"] is None and customer["visitor_id"]
        assert customer["first_contact"] is False
        [past] = customer["conversations"]
        assert (past["id"], past["state"], past["outcome"]) == (first, "closed", "served")
        assert past["handled_by"] == [{"id": anna_id, "name": "Anna"}]
        assert past["opening"] == "My parcel arrived damaged, the screen is cracked"
        assert past["situation"] == "defect"
        await close(anna, visitor, second)


async def test_another_operators_customer_gets_the_same_404_as_no_customer(
    start_server: ServerFactory,
) -> None:
    server = await shop_server(start_server)
    _anna_id, anna_token = await server.add_operator("Anna")
    _bob_id, bob_token = await server.add_operator("Bob")
    _sup_id, sup_token = await server.add_operator("Sue", role="supervisor")
    _adm_id, adm_token = await server.add_operator("Root", role="admin")
    anna = await server.operator(anna_token)
    visitor, session = await server.visitor(identity=identity("cust-1"))
    cid = await chat(server, visitor, anna, "Hi")
    customer_id = await linked_customer(server, session["visitor_id"])
    assert customer_id is not None
    base = f"/api/customers/{customer_id}"
    missing = f"/api/customers/{customer_id + 1000}"

    async def get(path: str, token: str) -> httpx.Response:
        return await server.http.get(path, headers=auth(token))

    for token in (anna_token, sup_token, adm_token):
        assert (await get(base, token)).status_code == 200
        assert (await get(f"{base}/conversations/{cid}/messages", token)).status_code == 200
        assert (await get(f"/api/visitors/{session['visitor_id']}", token)).status_code == 200
    pairs = [
        (base, missing),
        (f"{base}/conversations/{cid}/messages", f"{missing}/conversations/{cid}/messages"),
        (f"{base}/conversations", f"{missing}/conversations"),
        (f"/api/visitors/{session['visitor_id']}", "/api/visitors/nobody"),
        (f"/api/visitors/{session['visitor_id']}/conversations", "/api/visitors/nobody/conversations"),
    ]
    for theirs, absent in pairs:
        hidden, nothing = await get(theirs, bob_token), await get(absent, bob_token)
        assert hidden.status_code == nothing.status_code == 404
        assert hidden.content == nothing.content
        assert hidden.headers["content-length"] == nothing.headers["content-length"]
        assert (await get(absent, adm_token)).content == nothing.content
    assert (await get(f"{base}/conversations/{cid + 1000}/messages", anna_token)).status_code == 404
    for odd in ("not-a-number", "99999999999999999999999", "%C2%B2", "-1"):
        assert (await get(f"/api/customers/{odd}", bob_token)).content == (
            await get(missing, bob_token)
        ).content
    huge = 10**30
    assert (await get(f"{base}/conversations/{huge}/messages", adm_token)).status_code == 404
    rate = f"/api/visitor/conversations/{huge}/rating"
    assert (
        await server.http.post(rate, json={"score": 5}, headers=auth(session["token"]))
    ).status_code == 404
    edit = {"notes": "sneaky"}
    hidden = await server.http.patch(base, json=edit, headers=auth(bob_token))
    nothing = await server.http.patch(missing, json=edit, headers=auth(bob_token))
    assert hidden.status_code == nothing.status_code == 404 and hidden.content == nothing.content
    assert (await server.http.get(base)).status_code == 401
    assert (await server.http.get(base, headers=auth(session["token"]))).status_code == 401  # a visitor token


async def test_a_transcript_pages_through_a_past_conversation(start_server: ServerFactory) -> None:
    server = await shop_server(start_server)
    anna_id, token = await server.add_operator("Anna")
    anna = await server.operator(token)
    visitor, session = await server.visitor(identity=identity("cust-1"))
    cid = await chat(server, visitor, anna, "one")
    for word in ("two", "three", "four"):
        await visitor.say(word)
    await anna.say("five", conversation_id=cid)
    await close(anna, visitor, cid)
    customer_id = await linked_customer(server, session["visitor_id"])
    path = f"/api/customers/{customer_id}/conversations/{cid}/messages"
    seen: list[str] = []
    after: int | None = 0
    while after is not None:
        page = (
            await server.http.get(path, params={"after_seq": after, "limit": 2}, headers=auth(token))
        ).json()
        seen += [m["text"] for m in page["messages"]]
        after = page["next_after_seq"]
    assert seen == ["one", "two", "three", "four", "five"]
    page = (await server.http.get(path, headers=auth(token))).json()
    assert page["conversation"]["id"] == cid and page["conversation"]["state"] == "closed"
    assert page["conversation"]["handled_by"] == [{"id": anna_id, "name": "Anna"}]
    assert page["messages"][-1]["sender"] == "operator" and page["messages"][-1]["author"]["name"] == "Anna"
    for bad in ({"limit": 0}, {"limit": 501}, {"after_seq": -1}, {"after_seq": "x"}):
        response = await server.http.get(path, params=bad, headers=auth(token))
        assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_field"


async def test_tags_type_and_notes_are_seen_by_the_next_operator(start_server: ServerFactory) -> None:
    server = await shop_server(start_server)
    anna_id, anna_token = await server.add_operator("Anna")
    _bob_id, bob_token = await server.add_operator("Bob")
    anna = await server.operator(anna_token)
    visitor, session = await server.visitor(identity=identity("cust-1"))
    cid = await chat(server, visitor, anna, "You never answer my emails!")
    customer_id = await linked_customer(server, session["visitor_id"])
    path = f"/api/customers/{customer_id}"
    edit = {
        "tags": ["VIP", "blender", "vip", " late delivery "],
        "type": "accuser",
        "notes": "Call back after 5 pm",
    }
    response = await server.http.patch(path, json=edit, headers=auth(anna_token))
    assert response.status_code == 200, response.text
    edited = response.json()
    assert edited["tags"] == ["VIP", "blender", "late delivery"]
    assert edited["type"]["id"] == "accuser" and "boundaries" in edited["type"]["hint"]
    assert (edited["notes"], edited["version"], edited["updated_by"]) == (
        "Call back after 5 pm",
        1,
        {"id": anna_id, "name": "Anna"},
    )
    stale = await server.http.patch(path, json={"notes": "x", "version": 0}, headers=auth(anna_token))
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "edit_conflict"
    for bad, code in (
        ({"type": "grumpy"}, "unknown_customer_type"),
        ({"tags": "vip"}, "invalid_field"),
        ({"tags": ["x" * 41]}, "invalid_field"),
        ({"notes": 5}, "invalid_field"),
        ({"segment": "A"}, "invalid_field"),
        ({}, "missing_field"),
    ):
        response = await server.http.patch(path, json=bad, headers=auth(anna_token))
        assert (response.status_code, response.json()["error"]["code"]) == (422, code), bad
    await close(anna, visitor, cid)
    await anna.send({"type": "status", "status": "away"})
    await anna.expect("status")
    bob = await server.operator(bob_token)
    await visitor.say("It's me again")
    customer = (await bob.expect("assigned"))["customer"]
    assert customer["tags"] == ["VIP", "blender", "late delivery"]
    assert customer["type"]["id"] == "accuser" and customer["type"]["family"] == "difficult"
    assert customer["notes"] == "Call back after 5 pm"
    assert customer["updated_by"] == {"id": anna_id, "name": "Anna"}
    seen_by_bob = (await server.http.get(path, headers=auth(bob_token))).json()
    assert (seen_by_bob["notes"], seen_by_bob["version"]) == ("Call back after 5 pm", 1)
    cleared = await server.http.patch(
        path, json={"type": None, "tags": [], "version": 1}, headers=auth(bob_token)
    )
    assert cleared.status_code == 200
    assert (cleared.json()["type"], cleared.json()["tags"], cleared.json()["notes"]) == (
        None,
        [],
        "Call back after 5 pm",
    )


async def test_the_page_frame_reaches_the_operator_and_the_context(start_server: ServerFactory) -> None:
    server = await shop_server(start_server)
    _anna_id, token = await server.add_operator("Anna")
    anna = await server.operator(token)
    visitor, session = await server.visitor()
    cid = await chat(server, visitor, anna, "Is this in stock?")
    await visitor.send({"type": "page", "url": "https://shop.example/cart", "title": "Your cart"})
    live = await anna.expect("page", conversation_id=cid)
    assert (live["url"], live["title"]) == ("https://shop.example/cart", "Your cart")
    await visitor.send({"type": "page", "url": "javascript:alert(1)"})
    assert (await visitor.expect("error"))["code"] == "invalid_field"
    await visitor.send({"type": "page"})
    assert (await visitor.expect("error"))["code"] == "missing_field"
    context = (await server.http.get(f"/api/visitors/{session['visitor_id']}", headers=auth(token))).json()
    assert context["anonymous"] is True and context["page"]["url"] == "https://shop.example/cart"


async def test_a_visitor_rates_their_conversation(start_server: ServerFactory) -> None:
    server = await shop_server(start_server)
    _anna_id, token = await server.add_operator("Anna")
    anna = await server.operator(token)
    visitor, session = await server.visitor(identity=identity("cust-1"))
    cid = await chat(server, visitor, anna, "Thanks for the help")
    await close(anna, visitor, cid)
    path = f"/api/visitor/conversations/{cid}/rating"
    rated = await server.http.post(
        path, json={"score": 5, "comment": "Quick!"}, headers=auth(session["token"])
    )
    assert rated.status_code == 200 and rated.json() == {
        "conversation_id": cid,
        "score": 5,
        "nps": None,
        "comment": "Quick!",
    }
    stranger = await server.visitor_session()
    assert (
        await server.http.post(path, json={"score": 1}, headers=auth(stranger["token"]))
    ).status_code == 404
    assert (
        await server.http.post(path, json={"score": 6}, headers=auth(session["token"]))
    ).status_code == 422
    assert (await server.http.post(path, json={"score": 1}, headers=auth(token))).status_code == 401
    customer_id = await linked_customer(server, session["visitor_id"])
    context = (await server.http.get(f"/api/customers/{customer_id}", headers=auth(token))).json()
    assert context["ratings"] == {"count": 1, "average": 5.0}
    assert context["conversations"][0]["rating"] == {"score": 5, "comment": "Quick!"}


async def test_the_widget_sends_stars_and_nps_over_its_socket(start_server: ServerFactory) -> None:
    server = await shop_server(start_server)
    _anna_id, token = await server.add_operator("Anna")
    anna = await server.operator(token)
    visitor, session = await server.visitor(identity=identity("cust-2"))
    cid = await chat(server, visitor, anna, "All sorted, thank you")
    await close(anna, visitor, cid)
    await visitor.send({"type": "rating", "conversation_id": cid, "rating": 4, "nps": 11, "client_id": "r1"})
    refused = await visitor.expect("error", client_id="r1")
    assert refused["code"] == "invalid_field" and "nps" in refused["message"]
    await visitor.send(
        {
            "type": "rating",
            "conversation_id": cid,
            "rating": 4,
            "nps": 9,
            "comment": "Kind",
            "client_id": "r2",
        }
    )
    saved = await visitor.expect("rating_saved", client_id="r2")
    assert (saved["score"], saved["nps"], saved["comment"]) == (4, 9, "Kind")
    await visitor.send({"type": "rating", "conversation_id": cid + 1000, "rating": 4, "client_id": "r3"})
    assert (await visitor.expect("error", client_id="r3"))["code"] == "unknown_conversation"
    customer_id = await linked_customer(server, session["visitor_id"])
    context = (await server.http.get(f"/api/customers/{customer_id}", headers=auth(token))).json()
    assert context["ratings"] == {"count": 1, "average": 4.0}


async def test_the_typologies_are_served_with_their_hints(server: Server) -> None:
    _oid, token = await server.add_operator("Anna")
    catalogue = (await server.http.get("/api/customer-types", headers=auth(token))).json()
    assert [f["id"] for f in catalogue["families"]] == ["haman_gut", "difficult"]
    assert len([t for t in catalogue["types"] if t["family"] == "haman_gut"]) == 10
    assert {t["id"] for t in catalogue["types"] if t["family"] == "difficult"} == {
        "placater",
        "accuser",
        "computer",
        "spaced_out",
    }
    assert all(t["hint"] and t["signs"] for t in catalogue["types"])
    assert (await server.http.get("/api/customer-types")).status_code == 401
