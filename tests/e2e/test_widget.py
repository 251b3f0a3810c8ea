"""The embeddable widget on the demo shop page, in headless Chromium, against a real server."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from playwright.async_api import WebSocketRoute, expect
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from chatserver.storage.db import create_db_engine
from tests.transport.conftest import Client, Server

from .conftest import DESKTOP, PHONE, VisitFactory, operator_online

XSS = "<img src=x onerror=alert(1)>"


def query(server: Server, sql: str) -> list[Any]:
    engine = create_db_engine(server.state.settings.database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql)).all())
    finally:
        engine.dispose()


async def assigned_cid(operator: Client) -> int:
    cid: int = (await operator.expect("assigned"))["conversation_id"]
    return cid


async def test_visitor_writes_operator_answers_with_name_and_title(shop: Server, visit: VisitFactory) -> None:
    operator = await operator_online(shop, "Anna")
    visitor = await visit()
    await visitor.open()
    await visitor.say("Hello, where is my parcel?")
    cid = await assigned_cid(operator)
    incoming = await operator.expect("message", conversation_id=cid)
    assert incoming["text"] == "Hello, where is my parcel?" and incoming["sender"] == "visitor"
    await operator.say("Let me check that for you.", conversation_id=cid)
    await visitor.wait_for_texts(["Hello, where is my parcel?", "Let me check that for you."])
    await expect(visitor.find("#cw-title")).to_have_text("Anna")
    await expect(visitor.find("#cw-sub")).to_have_text("Customer care")
    await expect(visitor.find("li.m.o .who")).to_have_text("Anna · Customer care")
    # The page the visitor is on was reported when the widget connected.
    pages = query(shop, "SELECT url, title FROM visitor_page")
    assert pages == [(shop.base_url + "/demo", "Northwind Outfitters — demo shop")]
    assert visitor.errors == []


async def test_waiting_visitor_sees_honest_offline_note_then_the_operator(
    shop: Server, visit: VisitFactory
) -> None:
    visitor = await visit()
    await visitor.open()
    await visitor.say("Is anyone there?")
    status = visitor.find(".st")
    await expect(status).to_be_visible()
    await expect(status).to_contain_text(
        "Nobody is online right now — your message is saved and we'll reply here."
    )
    await expect(visitor.find("#cw-title")).to_have_text("Waiting for a consultant")
    await expect(visitor.find("#cw-sub")).to_have_text("Nobody online right now")
    # The server's own note, in the visitor's language, is in the conversation too.
    await expect(visitor.find("li.m.s .b")).to_contain_text("Nobody from our team is online right now")
    assert "min" not in (await visitor.find("#cw-sub").text_content() or "")  # no invented estimate

    operator = await operator_online(shop, "Anna")
    await assigned_cid(operator)
    await expect(visitor.find("#cw-title")).to_have_text("Anna")
    await expect(visitor.find("#cw-sub")).to_have_text("Customer care")
    await expect(status).to_be_hidden()


async def test_queue_position_and_estimate_update_live(shop: Server, visit: VisitFactory) -> None:
    operator = await operator_online(shop, "Anna", capacity=1)
    first, _ = await shop.visitor()
    await first.say("first in, takes the only slot")
    first_cid = await assigned_cid(operator)
    second, _ = await shop.visitor()
    await second.say("second, waits at position 1")
    await second.expect("queue", position=1)

    visitor = await visit()
    await visitor.open()
    await visitor.say("third: where do I stand?")
    sub = visitor.find("#cw-sub")
    await expect(sub).to_have_text(re.compile(r"^Position 2 in line · about \d+(–\d+)? min$"))
    await expect(visitor.find(".st")).to_contain_text("Expected wait: about")

    await operator.send({"type": "close", "conversation_id": first_cid})
    # The first chat lasted a moment: the server has learned that chats here are short.
    await expect(sub).to_have_text(
        re.compile(r"^You're next in line · (about \d+(–\d+)? min|less than a minute)$")
    )


async def test_reload_loses_and_duplicates_nothing(shop: Server, visit: VisitFactory) -> None:
    operator = await operator_online(shop, "Anna")
    visitor = await visit()
    await visitor.open()
    await visitor.say("one")
    cid = await assigned_cid(operator)
    await visitor.say("two")
    await operator.say("three (operator)", conversation_id=cid)
    await visitor.say("four")
    await operator.say("five (operator)", conversation_id=cid)
    expected = ["one", "two", "three (operator)", "four", "five (operator)"]
    before = await visitor.wait_for_texts(expected)
    visitor_id = await visitor.page.evaluate("localStorage.getItem('cw1:vid')")

    # A message typed right before the reload, and an answer that arrives while the page reloads.
    await visitor.say("six, sent just before reload")
    # It has reached the server (its ack may still be on the way): only then is its place
    # before "seven" certain; a message the page had not sent yet rightly goes after it.
    await operator.expect("message", conversation_id=cid, text="six, sent just before reload")
    await asyncio.gather(
        visitor.page.reload(), operator.say("seven, while you were reloading", conversation_id=cid)
    )
    expected += ["six, sent just before reload", "seven, while you were reloading"]
    after = await visitor.wait_for_texts(expected)
    await visitor.page.wait_for_timeout(1000)  # nothing more trickles in
    assert [entry[1] for entry in await visitor.log()] == expected
    assert [entry[2] for entry in after] == list(range(1, 8))
    assert after[: len(before)] == before
    assert await visitor.find("li.m").count() == len(expected) + 1  # + the greeting
    assert await visitor.page.evaluate("localStorage.getItem('cw1:vid')") == visitor_id
    stored = query(shop, f"SELECT seq, text FROM message WHERE conversation_id = {cid} ORDER BY seq")
    assert [row[1] for row in stored] == expected  # stored once each, in this order
    await expect(visitor.find(".panel")).to_be_visible()  # the open panel stays open


async def test_link_drop_reconnects_resumes_and_resends(shop: Server, visit: VisitFactory) -> None:
    operator = await operator_online(shop, "Anna")
    visitor = await visit()
    up = True
    links: list[tuple[WebSocketRoute, WebSocketRoute]] = []

    async def route(ws: WebSocketRoute) -> None:
        if not up:
            await ws.close(code=4000, reason="network down")
            return
        links.append((ws, ws.connect_to_server()))

    await visitor.page.route_web_socket(re.compile(r"/ws/visitor$"), route)
    await visitor.open()
    await visitor.say("before the drop")
    cid = await assigned_cid(operator)
    await visitor.wait_for_texts(["before the drop"])

    up = False
    for page_side, server_side in links:
        await page_side.close(code=4000, reason="network down")
        await server_side.close()
    await expect(visitor.find(".conn")).to_have_text("Connection lost. Reconnecting…")
    await operator.say("missed 1", conversation_id=cid)
    await operator.say("missed 2", conversation_id=cid)
    await visitor.say("written while offline")
    await expect(visitor.find("li.m.v").last.locator(".meta")).to_have_text("Sending…")

    up = True
    expected = ["before the drop", "missed 1", "missed 2", "written while offline"]
    await visitor.wait_for_texts(expected, timeout_s=20)
    await expect(visitor.find(".conn")).to_be_hidden()
    got = await operator.expect("message", conversation_id=cid, text="written while offline")
    assert got["seq"] == 4
    stored = query(shop, f"SELECT text FROM message WHERE conversation_id = {cid} ORDER BY seq")
    assert [row[0] for row in stored] == expected


async def test_html_from_either_side_is_shown_as_text(shop: Server, visit: VisitFactory) -> None:
    operator = await operator_online(shop, "Anna")
    visitor = await visit()
    await visitor.open()
    await visitor.say(XSS)
    cid = await assigned_cid(operator)
    await operator.say(XSS, conversation_id=cid)
    await operator.send({"type": "typing", "conversation_id": cid, "on": True})
    log = await visitor.wait_for_texts([XSS, XSS])
    assert [entry[0] for entry in log] == ["v", "o"]
    await visitor.page.wait_for_timeout(500)
    counts = await visitor.host.evaluate(
        "h => [h.shadowRoot.querySelectorAll('img').length, document.querySelectorAll('img').length]"
    )
    assert counts == [0, 0]
    assert visitor.dialogs == []
    assert visitor.errors == []


async def test_polish_browser_gets_polish_widget(shop: Server, visit: VisitFactory) -> None:
    visitor = await visit(locale="pl-PL")
    await expect(visitor.bubble).to_have_attribute("aria-label", "Otwórz czat")
    await visitor.open()
    await expect(visitor.find("#cw-title")).to_have_text("Napisz do nas")
    await expect(visitor.composer).to_have_attribute("placeholder", "Napisz wiadomość…")
    await visitor.say("Dzień dobry, czy ktoś jest?")
    await expect(visitor.find("#cw-title")).to_have_text("Czekamy na konsultanta")
    await expect(visitor.find(".st")).to_contain_text("W tej chwili nikt nie jest dostępny")
    await expect(visitor.find(".lm")).to_have_text("Zostaw wiadomość zamiast czekać")
    # The session carried the locale, so the server's own note is Polish too.
    await expect(visitor.find("li.m.s .b")).to_contain_text("W tej chwili nikt z naszego zespołu")


async def test_keyboard_enter_opens_focus_goes_to_composer_escape_closes(
    shop: Server, visit: VisitFactory
) -> None:
    visitor = await visit()
    await visitor.bubble.focus()
    await visitor.page.keyboard.press("Enter")
    await expect(visitor.find(".panel")).to_be_visible()
    assert await visitor.active_id() == "cw-input"
    await expect(visitor.bubble).to_have_attribute("aria-expanded", "true")
    await visitor.page.keyboard.type("typed without a mouse")
    await visitor.page.keyboard.press("Enter")
    await expect(visitor.find("li.m.v .b")).to_have_text("typed without a mouse")
    assert await visitor.active_id() == "cw-input"  # focus stays in the composer after sending
    await visitor.page.keyboard.press("Escape")
    await expect(visitor.find(".panel")).to_be_hidden()
    assert await visitor.host.evaluate("h => h.shadowRoot.activeElement.classList.contains('bubble')")
    await expect(visitor.bubble).to_have_attribute("aria-expanded", "false")
    # Labelled controls and a live message log for screen readers.
    await expect(visitor.find("ol.log")).to_have_attribute("aria-live", "polite")
    await expect(visitor.composer).to_have_attribute("aria-label", "Message")


async def test_closed_chat_asks_for_rating_and_nps(shop: Server, visit: VisitFactory) -> None:
    operator = await operator_online(shop, "Anna")
    visitor = await visit()
    await visitor.open()
    await visitor.say("thanks, that was all")
    cid = await assigned_cid(operator)
    await operator.send({"type": "close", "conversation_id": cid})
    card = visitor.find("li.card")
    await expect(card).to_contain_text("How would you rate this chat?")
    await expect(visitor.find("#cw-sub")).to_have_text("Chat ended")
    await card.get_by_label("4 out of 5").check()
    await card.locator(".nps label").nth(9).click()
    await card.locator("textarea").fill("Quick and kind")
    await card.get_by_role("button", name="Send feedback").click()
    await expect(card).to_have_text("Thank you for your feedback!")
    # Whether the server takes the rating frame or the widget falls back to REST, it is stored.
    for _ in range(50):
        rows = query(shop, f"SELECT score, comment FROM conversation_rating WHERE conversation_id = {cid}")
        if rows:
            break
        await asyncio.sleep(0.1)
    assert rows == [(4, "Quick and kind")]
    # The next message opens a new conversation under the old one.
    await visitor.say("one more question")
    new_cid = await assigned_cid(operator)
    assert new_cid != cid
    await visitor.wait_for_texts(["thanks, that was all", "one more question"])
    await expect(visitor.find("li.end")).to_have_count(1)


async def test_host_page_css_cannot_reach_the_widget(shop: Server, visit: VisitFactory) -> None:
    await operator_online(shop, "Anna")
    visitor = await visit()
    await visitor.page.add_style_tag(
        content="* { color: rgb(255, 0, 0) !important; font-size: 40px !important; "
        "text-transform: uppercase !important; } li, ol, section { display: none !important; } "
        "button { padding: 60px !important; width: 300px !important; }"
    )
    await visitor.open()
    await visitor.say("still readable")
    await visitor.wait_for_texts(["still readable"])
    style = await visitor.host.evaluate(
        """h => { const r = h.shadowRoot, b = r.querySelector('.bubble');
                   const m = getComputedStyle(r.querySelector('li.m.v .b'));
                   return [b.offsetWidth, b.offsetHeight, m.fontSize, m.textTransform, m.color]; }"""
    )
    assert style == [60, 60, "14px", "none", "rgb(255, 255, 255)"]


async def test_screenshots_closed_waiting_chatting_desktop_and_phone(
    shop: Server, visit: VisitFactory
) -> None:
    busy = await operator_online(shop, "Piotr", capacity=1)
    blocker, _ = await shop.visitor()
    await blocker.say("I hold the only free slot")
    await assigned_cid(busy)
    views = {"desktop": await visit(viewport=DESKTOP), "phone": await visit(viewport=PHONE)}
    for name, visitor in views.items():
        await visitor.shot(f"{name}-closed")
        await visitor.open()
        await visitor.say(f"Hi! Does the Ridge 2 tent fit two people with packs? ({name})")
        await expect(visitor.find("#cw-sub")).to_contain_text("in line")
        await expect(visitor.find("li.m.v .meta")).not_to_have_text("Sending…")
    for name, visitor in views.items():
        await visitor.shot(f"{name}-waiting")
    box = await views["phone"].find(".panel").bounding_box()
    assert box == {"x": 0, "y": 0, "width": PHONE["width"], "height": PHONE["height"]}  # full screen

    anna = await operator_online(shop, "Anna Nowak")
    for _ in views:
        cid = await assigned_cid(anna)
        question = (await anna.expect("message", conversation_id=cid))["text"]
        await anna.say(
            "Yes, two people and their packs fit; the porch takes the boots. It packs down to 45 cm.",
            conversation_id=cid,
        )
        await anna.send({"type": "typing", "conversation_id": cid, "on": True})
        name = "desktop" if "(desktop)" in question else "phone"
        visitor = views[name]
        await expect(visitor.find("#cw-title")).to_have_text("Anna Nowak")
        await expect(visitor.find("li.m.o")).to_have_count(1)
        await expect(visitor.find(".typing")).to_contain_text("Anna Nowak is typing…")
        await visitor.shot(f"{name}-chatting")


async def test_transfer_hold_and_unknown_frames(shop: Server, visit: VisitFactory) -> None:
    """Transfer frames and ones we have never heard of, injected into the widget's real socket
    with the shapes the server sends: announced, shown, or ignored without an error."""
    operator = await operator_online(shop, "Anna")
    visitor = await visit()
    pages: list[WebSocketRoute] = []

    async def route(ws: WebSocketRoute) -> None:
        ws.connect_to_server()
        pages.append(ws)

    def inject(frame: dict[str, Any]) -> None:
        pages[-1].send(json.dumps(frame))

    await visitor.page.route_web_socket(re.compile(r"/ws/visitor$"), route)
    await visitor.open()
    await visitor.say("I need my invoice address changed")
    cid = await assigned_cid(operator)
    await expect(visitor.find("#cw-title")).to_have_text("Anna")
    sub, status = visitor.find("#cw-sub"), visitor.find(".st")
    inject({"type": "brand_new_frame", "conversation_id": cid, "text": XSS})
    inject(
        {"type": "transfer", "conversation_id": cid, "text": "Handing over", "estimated_wait_s": 120,
         "low_s": 60, "high_s": 180, "status": "offering", "to": {"team": "billing"},
         "reason": "Billing can change it", "benefit": "Fixed today"}
    )  # fmt: skip
    await expect(sub).to_have_text("Connecting you to a colleague · about 1–3 min")
    await expect(visitor.find("#cw-title")).to_have_text("Anna")  # Anna stays until they join
    await expect(status).to_contain_text("Connecting you to a colleague. Expected wait: about 1–3 min.")
    inject(
        {"type": "transfer_update", "conversation_id": cid, "status": "next_operator", "text": "…",
         "estimated_wait_s": 240, "low_s": None, "high_s": None}
    )  # fmt: skip
    await expect(sub).to_have_text("Connecting you to a colleague · about 4 min")
    inject({"type": "hold", "conversation_id": cid, "kind": "transfer", "position": None,
            "text": "Billing has your chat; thanks for waiting.", "estimated_wait_s": 240})  # fmt: skip
    await expect(visitor.find(".st .hold")).to_have_text("Billing has your chat; thanks for waiting.")
    inject(
        {"type": "assigned", "conversation_id": cid, "operator": {"name": "Tomáš Dvořák", "title": "Billing"}}
    )
    await expect(visitor.find("#cw-title")).to_have_text("Tomáš Dvořák")
    await expect(sub).to_have_text("Billing")
    await expect(status).to_be_hidden()
    # A transfer to a named person says who.
    inject({"type": "transfer", "conversation_id": cid, "text": "…", "estimated_wait_s": None,
            "to": {"name": "Eva Malá", "title": "Accounts"}})  # fmt: skip
    await expect(sub).to_have_text("Connecting you to Eva Malá")
    await expect(status).to_contain_text("Nobody is online right now")
    inject({"type": "transfer_update", "conversation_id": cid, "status": "returned", "text": "…",
            "operator": {"name": "Tomáš Dvořák", "title": "Billing"}})  # fmt: skip
    inject(
        {"type": "assigned", "conversation_id": cid, "operator": {"name": "Tomáš Dvořák", "title": "Billing"}}
    )
    await expect(sub).to_have_text("Billing")
    assert await visitor.texts() == ["I need my invoice address changed"]
    assert visitor.errors == [] and visitor.dialogs == []


async def test_leave_a_message_when_nobody_is_online(shop: Server, visit: VisitFactory) -> None:
    visitor = await visit()
    await visitor.open()
    await visitor.say("Please call me back about order 1182")
    leave = visitor.find(".lm")
    await expect(leave).to_have_text("Leave a message instead of waiting")
    await leave.click()
    await expect(visitor.find("#cw-leave-email")).to_be_focused()
    await visitor.find("#cw-leave-send").click()  # the email is optional
    await expect(visitor.find(".st")).to_contain_text("Message left. We'll reply here")
    await expect(visitor.find("#cw-sub")).to_have_text("Message left — we'll reply here")
    await expect(leave).to_be_hidden()
    await visitor.page.reload()
    await expect(visitor.find("#cw-sub")).to_have_text("Message left — we'll reply here")
    operator = await operator_online(shop, "Anna")
    cid = await assigned_cid(operator)
    await operator.say("Hello! Calling you in five minutes.", conversation_id=cid)
    await expect(visitor.find("#cw-title")).to_have_text("Anna")
    await expect(visitor.find("li.m.o .b")).to_have_text("Hello! Calling you in five minutes.")


async def test_unread_badge_while_the_panel_is_closed(shop: Server, visit: VisitFactory) -> None:
    operator = await operator_online(shop, "Anna")
    visitor = await visit()
    await visitor.open()
    await visitor.say("hello")
    cid = await assigned_cid(operator)
    await visitor.page.keyboard.press("Escape")
    await operator.say("Are you still there?", conversation_id=cid)
    await operator.say("I found your order.", conversation_id=cid)
    badge = visitor.find(".badge")
    await expect(badge).to_have_text("2")
    await expect(visitor.bubble).to_have_attribute("aria-label", "Open chat — New messages: 2")
    await visitor.shot("desktop-closed-unread")
    await visitor.bubble.click()
    await expect(badge).to_be_hidden()


async def test_works_under_a_strict_content_security_policy(shop: Server, visit: VisitFactory) -> None:
    """A shop whose CSP allows only the chat server (no inline styles or scripts) still gets a
    styled, working widget."""
    policy = (
        f"default-src 'none'; script-src {shop.base_url}; connect-src {shop.base_url} {shop.ws_url}; "
        "style-src 'none'; img-src 'none'"
    )
    html = (
        "<!doctype html><title>Strict shop</title><p>A shop with a strict policy</p>"
        f'<script src="{shop.base_url}/widget.js" data-site-key="strict" async></script>'
    )

    async def strict_shop(request: Request) -> Response:
        return HTMLResponse(html, headers={"Content-Security-Policy": policy})

    shop.app.router.routes.append(Route("/strict-shop", strict_shop))  # a page of the test's own
    await operator_online(shop, "Anna")
    visitor = await visit()
    violations: list[str] = []
    visitor.page.on("console", lambda m: violations.append(m.text) if "Security Policy" in m.text else None)
    await visitor.page.goto(shop.base_url + "/strict-shop")
    await visitor.open()
    await visitor.say("styled and working?")
    await visitor.wait_for_texts(["styled and working?"])
    style = await visitor.host.evaluate(
        "h => { const b = h.shadowRoot.querySelector('.bubble');"
        " return [b.offsetWidth, getComputedStyle(b).backgroundColor]; }"
    )
    assert style == [60, "rgb(53, 87, 212)"]
    assert violations == []
