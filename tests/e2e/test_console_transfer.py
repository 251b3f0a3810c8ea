"""Transfers, offers and silence nudges in the console, in headless Debian Chromium."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from chatserver.settings import Settings
from tests.transport.conftest import Server, run_server

from . import test_console
from .conftest import DESKTOP
from .test_console import Tab, TabFactory, bubbles, console_online, make_operator

# The console tests' fixtures, bound here so pytest finds them for these tests too.
desk = test_console.desk
tabs = test_console.tabs


async def test_transfer_to_a_team_is_offered_accepted_and_leaves_the_first_console(
    desk: Server, tabs: TabFactory
) -> None:
    anna = await console_online(tabs, desk, "Anna Nowak")
    visitor, _ = await desk.visitor(locale="en-GB")
    await visitor.say("I need a different address on my invoice.")
    await expect(bubbles(anna, "visitor")).to_have_text(["I need a different address on my invoice."])
    boris = await console_online(tabs, desk, "Boris Billing", teams=("billing",))

    await anna.find("#transfer-btn").click()
    dialog = anna.find("dialog")
    await expect(dialog.locator("#transfer-to optgroup[label=Teams] option")).to_have_count(1)
    await dialog.locator("#transfer-to").select_option(index=1)
    await expect(dialog.locator("#transfer-wait")).to_contain_text("1 online in billing, 3 free now")
    # Reason and benefit are required before anything is sent.
    await dialog.locator("#transfer-submit").click()
    await expect(dialog.locator("#transfer-reason-error")).to_contain_text("Say why")
    await expect(dialog.locator("#transfer-benefit-error")).to_contain_text("what the visitor gains")
    await dialog.locator("#transfer-reason").fill("Billing can change the invoice address")
    await dialog.locator("#transfer-benefit").fill("It is fixed today, in this chat")
    await dialog.locator("#transfer-submit").click()
    await expect(anna.find("dialog")).to_have_count(0)
    banner = anna.find("#transfer-banner")
    await expect(banner).to_contain_text("Boris Billing")
    await expect(banner).to_contain_text("The visitor read")
    announced = await visitor.expect("transfer")
    assert "Billing can change the invoice address".lower() in announced["text"].lower()

    offer = boris.find(".offer")
    await expect(offer).to_contain_text("Anna Nowak asks you to take over")
    await expect(offer).to_contain_text("Billing can change the invoice address")
    await expect(offer).to_contain_text("It is fixed today, in this chat")
    await offer.locator("button", has_text="Read chat").click()
    await expect(boris.find("dialog .transcript")).to_contain_text(
        "I need a different address on my invoice."
    )
    await boris.page.keyboard.press("Escape")
    await offer.locator("button", has_text="Accept").click()
    await expect(boris.find(".offer")).to_have_count(0)
    await expect(bubbles(boris, "visitor")).to_have_text(["I need a different address on my invoice."])
    await expect(boris.find("#log li.msg.system").first).to_contain_text("Why")
    await visitor.expect("assigned", operator={"name": "Boris Billing", "title": "Customer care"})

    await expect(anna.find("#chat-list .chat-item.ended")).to_contain_text("Transferred")
    await expect(anna.find("#composer")).to_be_disabled()
    await boris.find("#composer").fill("Hello, Boris from billing here. Which address should it be?")
    await boris.find("#composer").press("Enter")
    assert (await visitor.expect("message", sender="operator"))["author"]["name"] == "Boris Billing"
    assert anna.errors == [] and boris.errors == []


async def test_nobody_free_offers_alternatives_and_a_queued_transfer_can_be_cancelled(
    desk: Server, tabs: TabFactory
) -> None:
    await make_operator(desk, "Boris Billing", teams=("billing",))  # exists, but is not online
    anna = await console_online(tabs, desk, "Anna Nowak")
    visitor, _ = await desk.visitor(locale="en-GB")
    await visitor.say("Can someone from billing help me?")
    await expect(bubbles(anna, "visitor")).to_have_count(1)
    await anna.find("#transfer-btn").click()
    dialog = anna.find("dialog")
    await dialog.locator("#transfer-to").select_option(label="billing — 0 online, 0 free")
    await expect(dialog.locator("#transfer-wait")).to_contain_text("Nobody in billing is online")
    await dialog.locator("#transfer-reason").fill("Billing can change the invoice address")
    await dialog.locator("#transfer-benefit").fill("It is fixed today, in this chat")
    await dialog.locator("#transfer-submit").click()
    await expect(dialog.locator("#transfer-error")).to_contain_text("nobody in team billing is online")
    queue_anyway = dialog.locator(".btn.alt", has_text="Queue for billing anyway")
    await expect(queue_anyway).to_be_visible()
    await queue_anyway.click()
    await expect(anna.find("dialog")).to_have_count(0)
    banner = anna.find("#transfer-banner")
    await expect(banner).to_contain_text("Waiting for a free colleague in billing")
    await banner.locator("button", has_text="Cancel transfer").click()
    await expect(banner).to_contain_text("Transfer cancelled")
    await expect(anna.find("#transfer-btn")).to_be_enabled()
    update = await visitor.expect("transfer_update", status="cancelled")
    assert update["operator"]["name"] == "Anna Nowak"
    assert anna.errors == []


@pytest.fixture
async def quiet_desk(tmp_path: Path) -> AsyncIterator[Server]:
    """A server whose silence rule fires after one second."""
    async with run_server(Settings(database_url=f"sqlite:///{tmp_path}/quiet.db", silence_s=1.0)) as server:
        yield server


async def test_silence_nudges_then_a_holding_line(quiet_desk: Server, browser: Browser) -> None:
    context = await browser.new_context(viewport=DESKTOP)
    try:
        _oid, email = await make_operator(quiet_desk, "Anna Nowak")
        tab = Tab(context, await context.new_page(), quiet_desk)
        await tab.sign_in("/console", email)
        await tab.find('.status-opt[data-status="online"]').click()
        visitor, _ = await quiet_desk.visitor(locale="en-GB")
        await visitor.say("Hello? Anyone?")
        nudge = tab.find("#nudge")
        await expect(nudge).to_contain_text("The visitor is waiting for your reply")
        await expect(tab.find("#chat-list .badge.bad")).to_be_visible()
        await expect(nudge).to_contain_text("A holding line was sent for you")
        holding = await visitor.expect("message", sender="operator")
        await expect(tab.find("#log li.msg.operator .bubble")).to_have_text([holding["text"]])
        await tab.find("#composer").fill("Sorry for the wait, I'm here now.")
        await tab.find("#composer").press("Enter")
        await expect(nudge).to_have_count(0)
        await expect(tab.find("#chat-list .badge.bad")).to_have_count(0)
        assert tab.errors == []
    finally:
        await context.close()
