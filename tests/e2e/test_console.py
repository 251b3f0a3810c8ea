"""The operator console (/console) in headless Debian Chromium, against a real server.

Visitors are websocket clients (as in the transport tests); the operator uses the console page.
Helpers here are shared with the admin page tests.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Locator, Page, ViewportSize, expect

from chatserver.settings import Settings
from chatserver.storage import repository as repo
from chatserver.transport.auth import hash_password, identity_signature
from tests.transport.conftest import Client, Server, run_server

from .conftest import DESKTOP, PHONE, SCREENSHOTS

PASSWORD = "pw-secret-1"
SECRET = "shop-identity-secret"
FEED_KEY = "shop-feed-key"
XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Server]:
    """A server that knows signed-in customers and takes the shop's order feed."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/chat.db",
        identity_secret=SECRET,
        order_feed_key=FEED_KEY,
        company_name="Northwind",
    )
    async with run_server(settings) as server:
        yield server


async def make_operator(
    server: Server, name: str, *, role: str = "operator", teams: tuple[str, ...] = (), capacity: int = 3
) -> tuple[int, str]:
    """An account with a known email and password: (id, email)."""
    email = f"{name.split()[0].lower()}-{uuid.uuid4().hex[:6]}@desk.example"
    operator = await server.state.writer.run(
        repo.create_operator,
        email=email,
        name=name,
        title="Customer care",
        role=role,
        capacity=capacity,
        teams=teams,
        password_hash=hash_password(PASSWORD),
        now=time.time(),
    )
    return operator.id, email


async def signed_in_visitor(server: Server, external_id: str, name: str, **session: Any) -> Client:
    identity = {
        "external_id": external_id,
        "name": name,
        "email": f"{external_id}@shop.example",
        "signature": identity_signature(SECRET, external_id),
    }
    client, _ = await server.visitor(identity=identity, **session)
    return client


async def feed_order(server: Server, external_id: str, order_id: str, status: str, total: float) -> None:
    response = await server.http.put(
        f"/api/feed/orders/{order_id}",
        headers={"Authorization": f"Bearer {FEED_KEY}"},
        json={
            "external_customer_id": external_id,
            "status": status,
            "total": total,
            "currency": "EUR",
            "placed_at": time.time() - 3 * 86400,
            "items": [{"name": "Blender X2", "qty": 1, "price": total}],
        },
    )
    assert response.status_code in (200, 201), response.text


class Tab:
    """One browser tab (console or admin), recording dialogs and page errors."""

    def __init__(self, context: BrowserContext, page: Page, server: Server) -> None:
        self.context, self.page, self.server = context, page, server
        self.dialogs: list[str] = []
        self.errors: list[str] = []

        async def on_dialog(dialog: Any) -> None:
            self.dialogs.append(dialog.message)
            await dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def find(self, selector: str, **options: Any) -> Locator:
        return self.page.locator(selector, **options)

    async def sign_in(self, path: str, email: str) -> None:
        await self.page.goto(self.server.base_url + path)
        await self.find("#login-email").fill(email)
        await self.find("#login-password").fill(PASSWORD)
        await self.find("#login-password").press("Enter")

    async def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        await self.page.wait_for_timeout(300)
        await self.page.screenshot(path=str(path))
        return path


TabFactory = Callable[..., Awaitable[Tab]]


@pytest.fixture
async def tabs(browser: Browser, desk: Server) -> AsyncIterator[TabFactory]:
    contexts: list[BrowserContext] = []

    async def open_tab(viewport: ViewportSize | None = None) -> Tab:
        context = await browser.new_context(viewport=viewport or DESKTOP, locale="en-GB")
        contexts.append(context)
        return Tab(context, await context.new_page(), desk)

    try:
        yield open_tab
    finally:
        for context in contexts:
            await context.close()


async def console_online(
    tabs: TabFactory,
    server: Server,
    name: str = "Anna Nowak",
    viewport: ViewportSize | None = None,
    **account: Any,
) -> Tab:
    """An operator signed in to the console, online."""
    _oid, email = await make_operator(server, name, **account)
    tab = await tabs(viewport)
    await tab.sign_in("/console", email)
    await expect(tab.find(".status-switch")).to_be_visible()
    await tab.find('.status-opt[data-status="online"]').click()
    await expect(tab.find('.status-opt[data-status="online"]')).to_have_attribute("aria-checked", "true")
    return tab


async def put_reply_with_a_blank(tab: Tab) -> None:
    """A suggested reply that has a blank to fill, or else the out-of-stock one from the library."""
    card = tab.find("#suggestions .reply-btn:has(mark.slot)")
    if await card.count():
        await card.first.click()
        return
    if await tab.find(".tabs").is_visible():
        await tab.find('.tab[data-tab="chat"]').click()
    await tab.find("#composer").fill("")
    await tab.find("#composer").focus()
    await tab.page.keyboard.type("/stock1")
    await expect(tab.find("#lib-popup .pop-item").first).to_be_visible()
    await tab.page.keyboard.press("Enter")
    await expect(tab.find(".slot-chip").first).to_be_visible()


def bubbles(tab: Tab, sender: str) -> Locator:
    return tab.find(f"#log li.msg.{sender} .bubble")


# --- tests ----------------------------------------------------------------------------------


async def test_operator_signs_in_goes_online_sees_the_chat_and_replies(
    desk: Server, tabs: TabFactory
) -> None:
    _oid, email = await make_operator(desk, "Anna Nowak")
    tab = await tabs()
    await tab.page.goto(desk.base_url + "/console")
    await tab.find("#login-email").fill(email)
    await tab.find("#login-password").fill("wrong password")
    await tab.find("#login-password").press("Enter")
    await expect(tab.find("#login-error")).to_have_text("The email or password is wrong.")
    await tab.find("#login-password").fill(PASSWORD)
    await tab.find("#login-password").press("Enter")
    await expect(tab.find('.status-opt[data-status="offline"]')).to_have_attribute("aria-checked", "true")
    await expect(tab.find("#go-online")).to_be_visible()
    await tab.find("#go-online").click()
    await expect(tab.find('.status-opt[data-status="online"]')).to_have_attribute("aria-checked", "true")

    visitor, _ = await desk.visitor(locale="en-GB")
    await visitor.say("Hello, where is my parcel?")
    await expect(tab.find("#chat-list .chat-item")).to_have_count(1)
    await expect(bubbles(tab, "visitor")).to_have_text(["Hello, where is my parcel?"])
    await expect(tab.find("#chat-title")).to_contain_text("Visitor #")

    # The visitor types: the console shows it.
    await visitor.send({"type": "typing", "on": True})
    await expect(tab.find(".typing")).to_be_visible()

    composer = tab.find("#composer")
    await composer.fill("Let me check that for you.")
    await composer.press("Enter")
    reply = await visitor.expect("message", sender="operator")
    assert reply["text"] == "Let me check that for you." and reply["author"]["name"] == "Anna Nowak"
    await expect(tab.find("#log li.msg.operator .meta")).to_contain_text("delivered")
    await expect(composer).to_have_value("")

    # Shift+Enter is a new line, Enter sends both lines as one message.
    await composer.type("Line one")
    await composer.press("Shift+Enter")
    await composer.type("line two")
    await composer.press("Enter")
    assert (await visitor.expect("message", sender="operator"))["text"] == "Line one\nline two"

    # A title badge counts what the operator has not read while looking elsewhere.
    await tab.page.evaluate("Object.defineProperty(document, 'hidden', {value: true, configurable: true})")
    await visitor.say("Thanks!")
    await expect(tab.page).to_have_title("(1) Chatdesk · Console")
    assert tab.errors == [] and tab.dialogs == []


async def test_suggestion_click_fill_the_slot_and_send(desk: Server, tabs: TabFactory) -> None:
    tab = await console_online(tabs, desk)
    visitor, _ = await desk.visitor(locale="en-GB")
    await visitor.say("Is the Blender X2 back in stock soon? The shop says it is sold out.")
    await expect(tab.find("#situation")).to_have_text("Out of stock")
    cards = tab.find("#suggestions .reply-btn")
    await expect(cards.first).to_be_visible()
    with_slot = tab.find("#suggestions .reply-btn:has(mark.slot)").first
    await expect(with_slot).to_be_visible()
    slots = [name for name in await with_slot.locator("mark.slot").all_text_contents()]
    slot_name = slots[0]

    await with_slot.click()
    composer = tab.find("#composer")
    await expect(composer).to_have_value(re.compile(re.escape(f"[[{slot_name}]]")))
    await expect(tab.find(".slot-chip")).to_have_text(slots)
    # The blanks are highlighted in the composer, the first one selected, ready to type over.
    await expect(tab.find(".composer-box .backdrop mark.slot")).to_have_count(len(slots))
    selected = await composer.evaluate("t => t.value.slice(t.selectionStart, t.selectionEnd)")
    assert selected == f"[[{slot_name}]]"

    # Sending it as is: the server refuses, the console says why and keeps the text.
    await composer.press("End")
    await composer.press("Enter")
    await expect(tab.find("#send-error")).to_be_visible()
    await expect(tab.find("#send-error")).to_contain_text("fill the highlighted blanks")
    await expect(tab.find("#send-error")).to_contain_text(slot_name)
    await expect(tab.find(".composer-box .backdrop mark.slot.bad")).to_have_count(len(slots))
    await expect(composer).to_have_value(re.compile(re.escape(f"[[{slot_name}]]")))
    await expect(tab.find("#log li.msg.operator")).to_have_count(0)

    # Tab selects each blank in turn; typing fills it; then it goes.
    await composer.focus()
    await composer.press("Control+Home")
    for index in range(len(slots)):
        await composer.press("Tab")
        await tab.page.keyboard.type(f"value {index}")
    await expect(tab.find("#send-error")).to_be_hidden()
    await expect(tab.find(".slot-chip")).to_have_count(0)
    await composer.press("Enter")
    sent = await visitor.expect("message", sender="operator")
    assert "value 0" in sent["text"] and "[[" not in sent["text"]
    await expect(tab.find("#log li.msg.operator")).to_have_count(1)
    assert tab.errors == [] and tab.dialogs == []


async def test_slash_opens_the_library_and_inserts_a_reply(desk: Server, tabs: TabFactory) -> None:
    tab = await console_online(tabs, desk)
    visitor, _ = await desk.visitor(locale="en-GB")
    await visitor.say("Hi")
    await expect(bubbles(tab, "visitor")).to_have_text(["Hi"])
    composer = tab.find("#composer")
    await composer.focus()
    await tab.page.keyboard.type("/defect")
    popup = tab.find("#lib-popup")
    await expect(popup).to_be_visible()
    await expect(popup.locator(".pop-item").first).to_contain_text("/defect1")
    await tab.page.keyboard.press("ArrowDown")
    await expect(popup.locator(".pop-item.on")).to_contain_text("/defect2")
    await tab.page.keyboard.press("Enter")
    await expect(popup).to_be_hidden()
    value = await composer.input_value()
    assert value and not value.startswith("/") and "sorry" in value.lower()
    # Escape closes the list without inserting anything.
    await composer.fill("")
    await tab.page.keyboard.type("/stock")
    await expect(popup).to_be_visible()
    await tab.page.keyboard.press("Escape")
    await expect(popup).to_be_hidden()
    await expect(composer).to_have_value("/stock")
    assert tab.errors == []


async def test_html_from_the_visitor_is_shown_as_text(desk: Server, tabs: TabFactory) -> None:
    tab = await console_online(tabs, desk)
    visitor = await signed_in_visitor(desk, "cust-x", "<b onmouseover=alert(2)>Eve</b>")
    await visitor.say(XSS)
    await expect(bubbles(tab, "visitor")).to_have_text([XSS])
    await expect(tab.find("#chat-title")).to_have_text("<b onmouseover=alert(2)>Eve</b>")
    await expect(tab.find("#chat-list .preview")).to_have_text(XSS)
    await visitor.send(
        {"type": "page", "url": "https://shop.example/p?q=<script>alert(3)</script>", "title": XSS}
    )
    await expect(tab.find(".page-link")).to_have_text(XSS)
    await tab.page.wait_for_timeout(500)
    assert await tab.page.evaluate("document.querySelectorAll('img, script:not([src]), b').length") == 0
    assert tab.dialogs == [] and tab.errors == []


async def test_the_customer_beside_the_chat_and_editing_the_profile(desk: Server, tabs: TabFactory) -> None:
    await feed_order(desk, "cust-881", "ORD-42", "shipped", 249.9)
    tab = await console_online(tabs, desk)
    visitor = await signed_in_visitor(desk, "cust-881", "Anna Kowalska", locale="en-GB")
    await visitor.say("The jug of my blender arrived cracked.")
    await expect(tab.find("#chat-title")).to_have_text("Anna Kowalska")
    customer = tab.find("#pane-customer")
    await expect(customer.locator(".cust-name")).to_have_text("Anna Kowalska")
    await expect(customer.locator(".order")).to_contain_text("ORD-42")
    await expect(customer.locator(".order .badge")).to_have_text("shipped")
    await expect(customer.locator(".segment")).to_have_text("Segment A")
    await expect(tab.find(".chat-head .segment")).to_have_text("Segment A")

    await tab.find("#cust-type").select_option("accuser")
    await expect(tab.find("#type-hint")).to_contain_text("Don't be provoked")
    await tab.find("#tag-input").fill("blender")
    await tab.find("#tag-input").press("Enter")
    await tab.find("#cust-notes").fill("Prefers a call back after 5 pm")
    await tab.find("#cust-save").click()
    await expect(customer.locator(".save-status")).to_have_text("Saved")
    _, token = await desk.add_operator("Sam", role="supervisor")
    stored = (await desk.http.get("/api/customers/1", headers={"Authorization": f"Bearer {token}"})).json()
    assert stored["notes"] == "Prefers a call back after 5 pm" and stored["tags"] == ["blender"]
    assert stored["type"]["id"] == "accuser"
    await expect(tab.find(".chat-head")).to_contain_text("Accuser")
    assert tab.errors == []


async def test_waiting_line_and_closing_a_chat(desk: Server, tabs: TabFactory) -> None:
    tab = await console_online(tabs, desk, capacity=1)
    first, _ = await desk.visitor(locale="en-GB")
    await first.say("First!")
    await expect(bubbles(tab, "visitor")).to_have_text(["First!"])
    second, _ = await desk.visitor(locale="pl-PL")
    await second.say("Dzień dobry")
    queue = tab.find("#queue-list .queue-item")
    await expect(queue).to_have_count(1, timeout=12_000)
    await expect(queue).to_contain_text("#1")
    await expect(queue).to_contain_text("pl")
    await expect(tab.find(".queue-pill")).to_contain_text("1 waiting")

    await tab.find("#close-btn").click()
    await tab.find("dialog .btn.danger").click()
    await first.expect("closed")
    await expect(tab.find("#chat-list .chat-item")).to_have_count(2)
    await expect(bubbles(tab, "visitor")).to_have_text(["Dzień dobry"])
    await expect(tab.find("#queue-list .queue-item")).to_have_count(0, timeout=12_000)
    # The closed chat stays in the list, marked, until dismissed.
    closed = tab.find("#chat-list .chat-item.ended")
    await expect(closed).to_contain_text("Closed")
    await closed.locator(".dismiss").click()
    await expect(tab.find("#chat-list .chat-item")).to_have_count(1)
    assert tab.errors == []


async def test_keyboard_moves_between_chats_and_panes(desk: Server, tabs: TabFactory) -> None:
    tab = await console_online(tabs, desk)
    for text in ("Question one", "Question two"):
        visitor, _ = await desk.visitor(locale="en-GB")
        await visitor.say(text)
    await expect(tab.find("#chat-list .chat-item")).to_have_count(2)
    title = await tab.find("#chat-title").text_content()
    await tab.page.keyboard.press("Alt+ArrowDown")
    await expect(tab.find("#chat-title")).not_to_have_text(title or "")
    await tab.page.keyboard.press("Alt+2")
    assert await tab.page.evaluate("document.activeElement.id") == "composer"
    await tab.page.keyboard.press("Alt+3")
    assert await tab.page.evaluate("document.activeElement.className") in ("reply-btn", "")
    await tab.page.keyboard.press("Alt+2")
    await tab.page.keyboard.press("Alt+t")
    await expect(tab.find("dialog #transfer-reason")).to_be_focused()
    await tab.page.keyboard.press("Escape")
    await expect(tab.find("dialog")).to_have_count(0)
    assert tab.errors == []


async def test_screenshots_desktop_and_phone(desk: Server, tabs: TabFactory) -> None:
    await feed_order(desk, "cust-881", "ORD-42", "shipped", 249.9)
    await feed_order(desk, "cust-881", "ORD-17", "delivered", 89.0)
    await make_operator(desk, "Piotr Zieliński", teams=("billing",))
    for viewport, label in ((DESKTOP, "desktop"), (PHONE, "phone")):
        _oid, email = await make_operator(desk, f"Anna {label}")
        tab = await tabs(viewport)
        await tab.page.goto(desk.base_url + "/console")
        await tab.shot(f"console-{label}-sign-in")
        await tab.sign_in("/console", email)
        await expect(tab.find(".go-online:visible")).to_have_count(1)
        await tab.shot(f"console-{label}-offline")
        await tab.find('.status-opt[data-status="online"]').click()
        await expect(tab.find('.status-opt[data-status="online"]')).to_have_attribute("aria-checked", "true")
        visitor = await signed_in_visitor(desk, "cust-881", "Anna Kowalska", locale="en-GB")
        await visitor.send(
            {"type": "page", "url": "https://shop.example/p/blender-x2", "title": "Blender X2"}
        )
        await visitor.say("Hello! The jug of my blender arrived cracked, what can I do?")
        if label == "phone":
            await tab.find('.tab[data-tab="list"]').click()
            await expect(tab.find("#chat-list .chat-item")).to_have_count(1)
            await tab.shot("console-phone-chats")
            await tab.find("#chat-list .chat-item-btn").click()
        await expect(tab.find("#suggestions .reply-btn").first).to_be_attached()
        await tab.find("#composer").fill("I'm so sorry about that! Let me look at your order.")
        await tab.find("#composer").press("Enter")
        await visitor.expect("message", sender="operator")
        await visitor.say("It's order ORD-42. " + XSS)
        await expect(tab.find("#suggestions .reply-btn").first).to_be_attached()
        await visitor.send({"type": "typing", "on": True})
        await tab.shot(f"console-{label}-chat")
        if label == "phone":
            await tab.find('.tab[data-tab="replies"]').click()
            await tab.shot("console-phone-replies")
            await put_reply_with_a_blank(tab)
            await tab.find('.tab[data-tab="chat"]').click()
            await expect(tab.find('.tab[data-tab="chat"]')).to_have_attribute("aria-selected", "true")
            await tab.shot("console-phone-slot")
            await tab.find('.tab[data-tab="customer"]').click()
            await tab.shot("console-phone-customer")
        else:
            await put_reply_with_a_blank(tab)
            await tab.find("#composer").press("Enter")
            await expect(tab.find("#send-error")).to_be_visible()
            await tab.shot("console-desktop-unfilled-slot")
            await tab.find("#composer").fill("/")
            await tab.page.keyboard.type("stock")
            await expect(tab.find("#lib-popup .pop-item").first).to_be_visible()
            await tab.shot("console-desktop-library")
            await tab.page.keyboard.press("Escape")
            await tab.find("#transfer-btn").click()
            await expect(tab.find("#transfer-to optgroup")).to_have_count(2)
            await tab.find("#transfer-to").select_option(label="billing — 0 online, 0 free")
            await tab.find("#transfer-reason").fill("Billing can change the invoice address")
            await tab.find("#transfer-benefit").fill("It is fixed today, in this chat")
            await tab.shot("console-desktop-transfer")
            await tab.page.keyboard.press("Escape")
        assert tab.errors == [] and tab.dialogs == []
        # Offline, so the customer's next chat goes to the next operator, not back to this one.
        await tab.find('.status-opt[data-status="offline"]').click()
        await expect(tab.find('.status-opt[data-status="offline"]')).to_have_attribute("aria-checked", "true")
        await visitor.close()


async def test_past_conversations_open_their_transcript(desk: Server, tabs: TabFactory) -> None:
    tab = await console_online(tabs, desk)
    first = await signed_in_visitor(desk, "cust-7", "Jan Novák", locale="en-GB")
    await first.say("The jug of my blender arrived cracked.")
    await expect(bubbles(tab, "visitor")).to_have_count(1)
    await tab.find("#composer").fill("So sorry! A new one goes out today.")
    await tab.find("#composer").press("Enter")
    await tab.find("#close-btn").click()
    await tab.find("dialog .btn.danger").click()
    await first.expect("closed")
    await tab.find("#chat-list .chat-item.ended .dismiss").click()

    again = await signed_in_visitor(desk, "cust-7", "Jan Novák", locale="en-GB")
    await again.say("Hello again, the new jug arrived, thanks.")
    await expect(bubbles(tab, "visitor")).to_have_text(["Hello again, the new jug arrived, thanks."])
    history = tab.find("#history .history-item")
    await expect(history).to_have_count(1)
    await expect(history).to_contain_text("The jug of my blender arrived cracked.")
    await expect(history).to_contain_text("Served")
    await expect(tab.find("#pane-customer")).to_contain_text("Past conversations (2)")
    await history.click()
    transcript = tab.find("dialog .transcript li.msg .bubble")
    await expect(transcript).to_have_text(
        ["The jug of my blender arrived cracked.", "So sorry! A new one goes out today."]
    )
    await tab.page.keyboard.press("Escape")
    await expect(tab.find("dialog")).to_have_count(0)
    assert tab.errors == []


CATCH_SOCKETS = """
window.__sockets = [];
const Native = window.WebSocket;
window.WebSocket = class extends Native {
  constructor(...args) { super(...args); window.__sockets.push(this); }
};
"""


async def test_a_dropped_socket_reconnects_without_losing_or_doubling_messages(
    desk: Server, tabs: TabFactory
) -> None:
    _oid, email = await make_operator(desk, "Anna Nowak")
    tab = await tabs()
    await tab.page.add_init_script(CATCH_SOCKETS)
    await tab.sign_in("/console", email)
    await tab.find('.status-opt[data-status="online"]').click()
    visitor, _ = await desk.visitor(locale="en-GB")
    await visitor.say("First question")
    await expect(bubbles(tab, "visitor")).to_have_text(["First question"])

    await tab.page.evaluate("window.__sockets[window.__sockets.length - 1].close()")
    await expect(tab.find(".conn")).to_contain_text("Connection lost")
    await visitor.say("Are you still there?")  # arrives while the console is away
    await expect(tab.find(".conn")).to_be_hidden(timeout=15_000)
    await expect(tab.find('.status-opt[data-status="online"]')).to_have_attribute("aria-checked", "true")
    await expect(bubbles(tab, "visitor")).to_have_text(["First question", "Are you still there?"])
    await tab.find("#composer").fill("Yes, sorry, I'm here.")
    await tab.find("#composer").press("Enter")
    assert (await visitor.expect("message", sender="operator"))["text"] == "Yes, sorry, I'm here."
    await tab.page.wait_for_timeout(5500)  # past the reconnect check: the chat is still ours
    await expect(tab.find("#chat-list .chat-item.ended")).to_have_count(0)
    assert await tab.page.evaluate("window.__sockets.length") == 2
    assert tab.errors == []


async def test_anything_else_asks_the_visitor_who_decides_when_it_is_done(
    desk: Server, tabs: TabFactory
) -> None:
    tab = await console_online(tabs, desk)
    visitor, _ = await desk.visitor(locale="en-GB")
    await visitor.say("Hello, where is my parcel?")
    await expect(bubbles(tab, "visitor")).to_have_text(["Hello, where is my parcel?"])
    await tab.find("#wrap-up-btn").click()
    asked = await visitor.expect("wrap_up")
    assert "anything else" in asked["question"].lower()
    await expect(tab.find("#wrap-up-btn")).to_be_disabled()
    await visitor.send(
        {"type": "wrap_up_answer", "conversation_id": asked["conversation_id"], "answer": "more"}
    )
    await expect(tab.find("#wrap-up-btn")).to_be_enabled()
    await tab.find("#wrap-up-btn").click()
    asked = await visitor.expect("wrap_up")
    await visitor.send(
        {"type": "wrap_up_answer", "conversation_id": asked["conversation_id"], "answer": "done"}
    )
    await visitor.expect("closed", conversation_id=asked["conversation_id"])
    await expect(tab.find("#close-btn")).to_be_disabled()
    assert tab.errors == []
