"""The abusive visitor's protocol in headless Chromium: the widget through warning, cool-down and
block (and a new tab, and a new device of the same customer, refused), the admin page unblocking,
and the console offering the boundary when the recognizer hears insults."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, expect

from chatserver.settings import Settings
from chatserver.storage import repository as repo
from tests.transport.conftest import Client, Server, run_server

from . import test_console
from .conftest import Visitor
from .test_admin import admin_tab
from .test_console import SECRET, TabFactory, console_online, make_operator

tabs = test_console.tabs  # bound here so pytest finds it, on this module's ``desk``

INSULT = "You are all idiots, useless morons"


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Server]:
    """The demo shop (with a signed-in customer page) and a short cool-down."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/chat.db", demo=True, identity_secret=SECRET, cool_down_s=3
    )
    async with run_server(settings) as server:
        yield server


async def customer_tab(tabs: TabFactory, server: Server, context: BrowserContext | None = None) -> Visitor:
    """The signed-in customer's shop page: in a new browser, or a new tab of ``context``."""
    if context is None:
        context = (await tabs()).context
    page = await context.new_page()
    visitor = Visitor(context, page, server)
    await page.goto(server.base_url + "/demo/customer")
    await expect(visitor.bubble).to_be_visible()
    await visitor.open()
    return visitor


async def operator_ws(server: Server) -> Client:
    _oid, token = await server.add_operator("Anna")
    return await server.operator(token)


async def test_warning_cool_down_block_in_the_widget_then_an_admin_unblocks(
    desk: Server, tabs: TabFactory
) -> None:
    operator = await operator_ws(desk)
    visitor = await customer_tab(tabs, desk)
    await visitor.say(INSULT)
    cid = (await operator.expect("assigned"))["conversation_id"]
    await operator.expect("message", conversation_id=cid, sender="visitor")

    # The warning: the library's boundary reply in the log, and a notice above it.
    await operator.send({"type": "boundary", "conversation_id": cid, "step": "warn"})
    warning = desk.state.library.current.get("en", "hater.boundary").text
    await visitor.wait_for_texts([INSULT, warning])
    notice = visitor.find(".bnd")
    await expect(notice).to_have_attribute("data-step", "warn")
    await expect(notice).to_contain_text("Please keep it respectful")

    # The cool-down: the composer is off and says when the visitor may write again; then it is on.
    await operator.send({"type": "boundary", "conversation_id": cid, "step": "cool_down"})
    await expect(visitor.composer).to_be_disabled()
    await expect(notice).to_have_attribute("data-step", "cool")
    await expect(notice).to_contain_text(re.compile(r"You can write again at \d\d:\d\d"))
    await expect(visitor.composer).to_have_attribute(
        "placeholder", re.compile(r"You can write again at \d\d:\d\d")
    )
    await expect(notice).to_contain_text(re.compile(r"0:0\d left"))
    await visitor.shot("widget-cool-down")
    await expect(visitor.composer).to_be_enabled(timeout=15_000)
    await visitor.say("Sorry, I was angry")
    await operator.expect("message", conversation_id=cid, sender="visitor", text="Sorry, I was angry")

    # The block: a final notice, no composer, no reconnecting.
    await operator.send(
        {"type": "boundary", "conversation_id": cid, "step": "block", "reason": "Insults after the break"}
    )
    await expect(notice).to_have_attribute("data-step", "end")
    await expect(notice).to_contain_text("cannot be reopened")
    await expect(visitor.composer).to_be_disabled()
    await expect(visitor.find(".conn")).to_be_hidden()
    await expect(visitor.find(".stars")).to_have_count(0)  # a blocked visitor is not asked to rate
    await visitor.shot("widget-blocked")

    # A new tab, and a new device of the same signed-in customer: the same notice, no new chat.
    again = await customer_tab(tabs, desk, visitor.context)
    await expect(again.find(".bnd")).to_contain_text("cannot be reopened")
    await expect(again.composer).to_be_disabled()
    other_device = await customer_tab(tabs, desk)
    await expect(other_device.find(".bnd")).to_contain_text("cannot be reopened")
    await expect(other_device.composer).to_be_disabled()
    assert await desk.state.writer.read(repo.list_open_conversations) == []

    # The admin page lists the block and the trail; Unblock lets a new tab chat again.
    admin = await admin_tab(tabs, desk)
    await admin.find('a.nav-link[data-view="safety"]').click()
    row = admin.find("#blocks .safety-row")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("Insults after the break")
    await expect(admin.find("#audit tbody tr")).to_have_count(3)
    await expect(admin.find("#audit tbody tr").first).to_contain_text("Blocked")
    await admin.shot("admin-desktop-safety")
    await row.locator("button", has_text="Unblock").click()
    await admin.find(".modal .modal-foot button", has_text="Unblock").click()
    await expect(admin.find("#no-blocks")).to_be_visible()
    await expect(admin.find("#audit tbody tr").first).to_contain_text("Unblocked")

    fresh = await customer_tab(tabs, desk, visitor.context)
    await expect(fresh.find(".bnd")).to_be_hidden()
    await expect(fresh.composer).to_be_enabled()
    await fresh.say("I would like to apologise")
    assigned = await operator.expect("assigned")
    assert assigned["conversation_id"] != cid
    await operator.expect("message", sender="visitor", text="I would like to apologise")
    for page in (visitor, again, other_device, fresh):
        assert page.errors == []
    assert admin.errors == []


async def test_the_console_offers_the_boundary_when_the_recognizer_hears_insults(
    desk: Server, tabs: TabFactory
) -> None:
    _sid, sue_email = await make_operator(desk, "Sue Pervisor", role="supervisor")
    sue = await tabs()
    await sue.sign_in("/console", sue_email)
    await expect(sue.find(".status-switch")).to_be_visible()
    console = await console_online(tabs, desk)
    visitor, session = await desk.visitor(locale="en-GB")
    await visitor.say(INSULT)
    await expect(console.find("#situation")).to_have_text("Angry visitor")
    offer = console.find("#hater-boundary")
    await expect(offer).to_be_visible()
    await offer.click()
    warned = await visitor.expect("message", sender="operator")
    assert warned["text"] == desk.state.library.current.get("en", "hater.boundary").text
    await visitor.expect("boundary", step="warn")
    await expect(console.find("#hater-offer")).to_have_count(0)
    await expect(console.find("#boundary-btn")).to_have_text("Cool down")

    await console.find("#boundary-btn").click()
    await visitor.expect("boundary", step="cool_down")
    # The supervisor's console is told who gave the cool-down, and why.
    await expect(sue.find(".toast", has_text="gave a cool-down")).to_contain_text("Anna Nowak")
    audit = await desk.state.writer.read(repo.list_abuse_audit, visitor_id=session["visitor_id"])
    assert [(a["step"], a["signal"], a["reason"]) for a in audit] == [
        ("warn", "hater", INSULT),
        ("cool_down", "hater", INSULT),
    ]
    assert console.errors == [] and sue.errors == []
