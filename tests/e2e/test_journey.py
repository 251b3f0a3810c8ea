"""One visitor's journey across both real pages, one server and one browser.

The demo shop (``/demo``) with the widget on the visitor's side, the console (``/console``) on
Anna's side, and Boris, a billing colleague, as a websocket operator: the visitor writes while
nobody is online, Anna comes online and takes the chat, a second visitor queues behind it, Anna
answers with a suggested reply, HTML from the visitor stays text on both pages, Anna transfers
the chat to billing, Boris accepts, and a reload of the shop page neither loses nor duplicates a
message.
"""

from __future__ import annotations

import re

from playwright.async_api import Browser, BrowserContext, ViewportSize, expect

from tests.transport.conftest import Server

from .conftest import DESKTOP, VisitFactory
from .test_console import Tab, bubbles, console_online, put_reply_with_a_blank

XSS = "<img src=x onerror=alert(1)>"
FIRST = "Is the Blender X2 back in stock soon? The shop says it is sold out."
REASON = "Billing can change the invoice address"
BENEFIT = "It is fixed today, in this chat"
COUNT_IMGS = "h => [h.shadowRoot.querySelectorAll('img').length, document.querySelectorAll('img').length]"


async def test_visitor_journey_queue_suggestion_html_transfer_reload(
    shop: Server, browser: Browser, visit: VisitFactory
) -> None:
    contexts: list[BrowserContext] = []

    async def tabs(viewport: ViewportSize | None = None) -> Tab:
        context = await browser.new_context(viewport=viewport or DESKTOP, locale="en-GB")
        contexts.append(context)
        return Tab(context, await context.new_page(), shop)

    try:
        # 1. Nobody is online: the widget says so honestly, with no invented estimate.
        visitor = await visit()
        await visitor.open()
        await visitor.say(FIRST)
        await expect(visitor.find(".st")).to_contain_text("Nobody is online right now")
        await expect(visitor.find("#cw-sub")).to_have_text("Nobody online right now")

        # Anna (one slot, team support) signs in to the console, goes online and gets the chat.
        anna = await console_online(tabs, shop, "Anna", teams=("support",), capacity=1)
        await expect(visitor.find("#cw-title")).to_have_text("Anna")
        await expect(bubbles(anna, "visitor")).to_have_text([FIRST])

        # A second visitor on the shop waits behind it: first in line, with an estimate.
        second = await visit()
        await second.open()
        await second.say("Hello, is anyone free?")
        await expect(second.find("#cw-sub")).to_have_text(
            re.compile(r"^You're next in line · about \d+(–\d+)? min$")
        )
        await expect(second.find(".st")).to_contain_text("Expected wait: about")

        # 2. Anna answers with a suggested reply, its blanks filled; the widget shows it as hers.
        await put_reply_with_a_blank(anna)
        composer = anna.find("#composer")
        await expect(anna.find(".slot-chip").first).to_be_visible()
        blanks = await anna.find(".slot-chip").count()
        await composer.focus()
        await composer.press("Control+Home")
        for index in range(blanks):
            await composer.press("Tab")
            await anna.page.keyboard.type(f"value {index}")
        await expect(anna.find(".slot-chip")).to_have_count(0)
        reply = await composer.input_value()
        assert reply and "[[" not in reply and "value 0" in reply
        await composer.press("Enter")
        await expect(bubbles(anna, "operator")).to_have_count(1)
        await expect(visitor.find("li.m.o .b")).to_have_text([reply.strip()])
        await expect(visitor.find("li.m.o .who")).to_have_text(["Anna · Customer care"])

        # 3. HTML from the visitor is text in the console and in the widget.
        await visitor.say(XSS)
        await expect(bubbles(anna, "visitor")).to_have_text([FIRST, XSS])
        await expect(visitor.find("li.m.v .b").last).to_have_text(XSS)
        assert await anna.page.evaluate("document.querySelectorAll('#log img').length") == 0
        assert await visitor.host.evaluate(COUNT_IMGS) == [0, 0]

        # 4. Boris (billing) is online over the websocket; Anna transfers the chat to billing.
        _boris_id, token = await shop.add_operator("Boris", teams=("billing",))
        boris = await shop.operator(token)
        await anna.find("#transfer-btn").click()
        dialog = anna.find("dialog")
        await expect(dialog.locator('#transfer-to option[value="team:billing"]')).to_be_attached()
        await dialog.locator("#transfer-to").select_option("team:billing")
        await dialog.locator("#transfer-reason").fill(REASON)
        await dialog.locator("#transfer-benefit").fill(BENEFIT)
        await dialog.locator("#transfer-submit").click()
        await expect(anna.find("dialog")).to_have_count(0)
        await expect(visitor.find("li.m.s .b").last).to_contain_text(re.compile(re.escape(REASON), re.I))

        offer = await boris.expect("transfer_offer")
        await boris.send({"type": "transfer_accept", "conversation_id": offer["conversation_id"]})
        await boris.expect("assigned", conversation_id=offer["conversation_id"])
        await expect(visitor.find("#cw-title")).to_have_text("Boris")
        await expect(visitor.find("#cw-sub")).to_have_text("Customer care")
        await expect(anna.find("#chat-list .chat-item.ended")).to_contain_text("Transferred")

        # 5. A reload shows the same messages, once each.
        before = await visitor.log()
        await visitor.page.reload()
        await expect(visitor.bubble).to_be_visible()
        if not await visitor.find(".panel").is_visible():
            await visitor.open()
        after = await visitor.wait_for_texts([entry[1] for entry in before])
        await expect(visitor.find("#cw-title")).to_have_text("Boris")
        assert len(after) == len(before)
        assert await visitor.find("li.m:not(.greet)").count() == len(before)

        # No dialog and no script error on either page, at any point.
        assert visitor.dialogs == [] and anna.dialogs == [] and second.dialogs == []
        assert visitor.errors == [] and anna.errors == [] and second.errors == []
        assert await visitor.host.evaluate(COUNT_IMGS) == [0, 0]
    finally:
        for context in contexts:
            await context.close()
