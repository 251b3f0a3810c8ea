"""A supervisor beside the operator, and ideas heard, end to end in headless Debian Chromium.

Real pages on every side: the demo shop with the widget (the visitor), the console (the operator
and the supervisor) and the admin page, against one real server. A raw websocket client joins the
visitor's own session too, so that what the server sends a visitor is checked frame by frame.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, ViewportSize, WebSocket, expect

from tests.transport.conftest import Client, Server

from .conftest import DESKTOP, Visitor
from .test_console import Tab, bubbles, console_online, make_operator

SECRET = "Offer her the 10% goodwill voucher"
MARKER = "A new blender is on its way to you today."
REASON = "I can approve a refund myself"
BENEFIT = "The refund is made today, in this chat"
IDEA = "You should add a wishlist feature to the shop, I would use it every day"
SUMMARY = "A wishlist for the shop"

Tabs = Callable[..., Awaitable[Tab]]
Shopper = Callable[[], Awaitable[tuple[Visitor, list[str]]]]


@pytest.fixture
async def pages(browser: Browser, shop: Server) -> AsyncIterator[tuple[Tabs, Shopper]]:
    """Console and admin tabs, and shop pages whose widget's every received frame is recorded."""
    contexts: list[BrowserContext] = []

    async def tab(viewport: ViewportSize | None = None) -> Tab:
        context = await browser.new_context(viewport=viewport or DESKTOP, locale="en-GB")
        contexts.append(context)
        return Tab(context, await context.new_page(), shop)

    async def shopper() -> tuple[Visitor, list[str]]:
        context = await browser.new_context(viewport=DESKTOP, locale="en-GB")
        contexts.append(context)
        page = await context.new_page()
        visitor = Visitor(context, page, shop)
        received: list[str] = []

        def on_socket(ws: WebSocket) -> None:
            ws.on("framereceived", lambda payload: received.append(str(payload)))

        page.on("websocket", on_socket)
        await visitor.goto()
        return visitor, received

    try:
        yield tab, shopper
    finally:
        for context in contexts:
            await context.close()


async def signed_in(tabs: Tabs, server: Server, name: str, role: str) -> Tab:
    """An account signed in to the console (staying offline)."""
    _oid, email = await make_operator(server, name, role=role)
    tab = await tabs()
    await tab.sign_in("/console", email)
    await expect(tab.find(".status-switch")).to_be_visible()
    return tab


async def same_visitor(server: Server, visitor: Visitor) -> Client:
    """A raw websocket client in the widget's own visitor session (every frame a visitor is sent)."""
    vid = await visitor.page.evaluate("JSON.parse(localStorage.getItem('cw1:vid'))")
    client, data = await server.visitor(visitor_id=vid)
    assert data["visitor_id"] == vid
    return client


async def frames_until(client: Client, text: str) -> list[dict[str, Any]]:
    """Every frame the client receives until the message with this text (the marker) arrives."""
    seen: list[dict[str, Any]] = list(client._unread)
    client._unread.clear()
    while not any(f.get("type") == "message" and f.get("text") == text for f in seen):
        seen.append(await client.next())
    return seen


async def test_a_supervisor_watches_whispers_unseen_by_the_visitor_and_takes_over(
    shop: Server, pages: tuple[Tabs, Shopper]
) -> None:
    tabs, shopper = pages
    anna = await console_online(tabs, shop, "Anna Nowak")
    sara = await signed_in(tabs, shop, "Sara Lind", "supervisor")
    await expect(sara.find("#live-section")).to_be_visible()
    await expect(anna.find("#live-section")).to_have_count(0)  # plain operators have no such list

    visitor, widget_frames = await shopper()
    await visitor.open()
    await visitor.say("Hello, my blender arrived broken")
    await expect(bubbles(anna, "visitor")).to_have_text(["Hello, my blender arrived broken"])
    raw = await same_visitor(shop, visitor)

    # Every live chat is listed with its operator; Sara opens this one and watches it live.
    item = sara.find("#live-list .live-item")
    await expect(item).to_have_count(1)
    await expect(item).to_contain_text("with Anna Nowak")
    await item.locator("button").click()
    watch = sara.find("#watch-view")
    await expect(watch).to_be_visible()
    await expect(sara.find("#watch-operator")).to_have_text("with Anna Nowak")
    await expect(sara.find("#watch-log li.msg.visitor .bubble")).to_have_text(
        ["Hello, my blender arrived broken"]
    )
    await anna.find("#composer").fill("I'm so sorry, let me check that for you.")
    await anna.find("#composer").press("Enter")
    await expect(sara.find("#watch-log li.msg.operator .bubble")).to_have_text(
        ["I'm so sorry, let me check that for you."]
    )
    await visitor.say("Thank you, it was a gift")
    await expect(sara.find("#watch-log li.msg.visitor .bubble")).to_have_text(
        ["Hello, my blender arrived broken", "Thank you, it was a gift"]
    )
    await expect(bubbles(anna, "visitor")).to_have_count(2)

    # The whisper: in Anna's console, marked as one; in Sara's view too.
    await sara.find("#whisper-input").fill(SECRET)
    await sara.find("#whisper-input").press("Enter")
    heard = anna.find("#log li.msg.whisper")
    await expect(heard.locator(".bubble")).to_have_text([SECRET])
    await expect(heard.locator(".whisper-label")).to_contain_text("Whisper from Sara Lind")
    await expect(sara.find("#watch-log li.msg.whisper .bubble")).to_have_text([SECRET])
    await anna.shot("console-whisper-heard")

    # Never to the visitor: not one frame of their session, not on the page.
    await anna.find("#composer").fill(MARKER)
    await anna.find("#composer").press("Enter")
    for frame in await frames_until(raw, MARKER):
        assert frame.get("type") != "whisper" and SECRET not in json.dumps(frame), frame
    await expect(visitor.find("li.m.o .b").last).to_have_text(MARKER)
    assert SECRET not in await visitor.host.evaluate("h => h.shadowRoot.textContent")
    assert any(MARKER in payload for payload in widget_frames)
    assert not [payload for payload in widget_frames if SECRET in payload or '"whisper"' in payload]
    await expect(sara.find("#watch-log li.msg.operator .bubble").last).to_have_text(MARKER)

    # Take over: reason and benefit required; the visitor is told as in any transfer.
    await sara.find('.status-opt[data-status="online"]').click()
    await expect(sara.find('.status-opt[data-status="online"]')).to_have_attribute("aria-checked", "true")
    await sara.find("#take-over-btn").click()
    dialog = sara.find("dialog")
    await dialog.locator("#takeover-submit").click()
    await expect(dialog.locator("#takeover-reason-error")).to_contain_text("Say why")
    await dialog.locator("#takeover-reason").fill(REASON)
    await dialog.locator("#takeover-benefit").fill(BENEFIT)
    await dialog.locator("#takeover-submit").click()
    await expect(sara.find("dialog")).to_have_count(0)
    notice = visitor.find("li.m.s .b").filter(has_text=re.compile(re.escape(REASON), re.I))
    await expect(notice).to_have_count(1)
    await expect(notice).to_contain_text(re.compile(re.escape(BENEFIT), re.I))
    await expect(visitor.find("#cw-title")).to_have_text("Sara Lind")
    await expect(visitor.find("li.m.s .b").last).to_contain_text("Sara Lind has joined")

    # Sara holds the chat now: her own chat view, the whole conversation, and she can answer.
    await expect(watch).to_be_hidden()
    await expect(sara.find("#chat-list .chat-item")).to_have_count(1)
    await expect(bubbles(sara, "visitor")).to_have_text(
        ["Hello, my blender arrived broken", "Thank you, it was a gift"]
    )
    await expect(sara.find(".offer")).to_have_count(0)
    await expect(anna.find("#chat-list .chat-item.ended")).to_contain_text("Transferred")
    await sara.find("#composer").fill("Sara here, I have approved your refund.")
    await sara.find("#composer").press("Enter")
    await expect(visitor.find("li.m.o .b").last).to_have_text("Sara here, I have approved your refund.")
    assert anna.errors == [] and sara.errors == [] and visitor.errors == []
    await sara.shot("console-supervisor-took-over")


async def test_the_watch_view_says_when_the_chat_ends(shop: Server, pages: tuple[Tabs, Shopper]) -> None:
    tabs, _shopper = pages
    anna = await console_online(tabs, shop, "Anna Nowak")
    sara = await signed_in(tabs, shop, "Sara Lind", "admin")
    visitor, _ = await shop.visitor(locale="en-GB")
    await visitor.say("Where is my parcel?")
    await expect(bubbles(anna, "visitor")).to_have_text(["Where is my parcel?"])
    item = sara.find("#live-list .live-item")
    await expect(item).to_contain_text("waiting for an answer")
    await item.locator("button").click()
    await expect(sara.find("#watch-log li.msg.visitor .bubble")).to_have_text(["Where is my parcel?"])
    await sara.shot("console-supervisor-watching")

    await anna.find("#close-btn").click()
    await anna.find("dialog .btn.danger").click()
    await visitor.expect("closed")
    await expect(sara.find("#watch-ended")).to_have_text("This chat has ended.")
    await expect(sara.find("#whisper-input")).to_be_disabled()
    await expect(sara.find("#take-over-btn")).to_be_disabled()
    await expect(sara.find("#live-list .live-item")).to_have_count(0)
    await sara.find("#unwatch-btn").click()
    await expect(sara.find("#watch-view")).to_be_hidden()
    assert anna.errors == [] and sara.errors == []


async def test_an_idea_recorded_in_the_console_is_counted_for_the_admin_and_the_asker_hears_first(
    shop: Server, pages: tuple[Tabs, Shopper]
) -> None:
    tabs, shopper = pages
    anna = await console_online(tabs, shop, "Anna Nowak")
    visitor, _frames = await shopper()
    await visitor.open()
    await visitor.say(IDEA)
    await expect(anna.find("#situation")).to_have_text("Feature request")

    # Offered because the suggester says "feature request"; the text comes from the visitor.
    await anna.find("#idea-btn").click()
    text = anna.find("dialog #idea-text")
    await expect(text).to_have_value(IDEA)
    await text.fill(SUMMARY)
    await anna.find("dialog #idea-submit").click()
    await expect(anna.find("dialog")).to_have_count(0)
    await expect(anna.find("#idea-recorded")).to_contain_text(f"“{SUMMARY}” · 1 asked")

    # The admin sees it counted, and marks it planned.
    _oid, email = await make_operator(shop, "Ada Admin", role="admin")
    admin = await tabs()
    await admin.sign_in("/admin#ideas", email)
    card = admin.find(".ideas-list .idea")
    await expect(card).to_have_count(1)
    await expect(card.locator("h2")).to_have_text(SUMMARY)
    await expect(card).to_contain_text("1 asked")
    await expect(card).to_contain_text(IDEA)
    await card.locator("select").select_option("planned")
    await expect(admin.find(".ideas-list .idea[data-status=planned]")).to_have_count(1)

    # The visitor is told first, in the same chat.
    news = visitor.find("li.m.s .b").last
    await expect(news).to_contain_text(SUMMARY)
    assert (await visitor.texts())[0] == IDEA
    assert anna.errors == [] and admin.errors == [] and visitor.errors == []
