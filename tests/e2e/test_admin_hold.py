"""The hold-message editor of the admin pages, in headless Debian Chromium."""

from __future__ import annotations

from playwright.async_api import expect

from tests.transport.conftest import Server

from . import test_console
from .conftest import DESKTOP, PHONE
from .test_admin import admin_tab
from .test_console import TabFactory

# The console tests' fixtures, bound here so pytest finds them for these tests too.
desk = test_console.desk
tabs = test_console.tabs


async def test_hold_messages_are_edited_checked_and_reset(desk: Server, tabs: TabFactory) -> None:
    admin = await admin_tab(tabs, desk)
    await admin.find('a[href="#hold"]').click()
    first = admin.find("#hold-queue-en-0")
    await expect(first).to_be_visible()
    shipped = await first.input_value()
    assert "{position}" in shipped

    await first.fill("Thanks for your patience: you are number {position}, about {wait} to go.")
    sample = admin.find('.hold-line[data-kind="queue"][data-line="1"] .hold-sample')
    await expect(sample).to_have_text("Thanks for your patience: you are number 3, about about 4 min to go.")
    await admin.find("#hold-save").click()
    await expect(admin.find(".toast.ok")).to_contain_text("saved")
    stored = (await desk.state.hub.etiquette.hold_library())["queue"]["en"][0]
    assert stored == "Thanks for your patience: you are number {position}, about {wait} to go."

    # A placeholder the kind cannot use is refused; the line is pointed at.
    await admin.find('.lang-tab:has-text("Polish")').click()
    line = admin.find("#hold-queue_offline-pl-0")
    await line.fill("Nikogo nie ma, czas oczekiwania: {wait}.")
    await admin.find("#hold-save").click()
    await expect(admin.find("#hold-error")).to_contain_text("unknown placeholder {wait}")
    await expect(line).to_have_class("invalid")
    await expect(line).to_be_focused()

    await admin.find("#hold-reset").click()
    await admin.find("dialog .btn.danger").click()
    await expect(admin.find(".toast.ok").last).to_contain_text("reset")
    await admin.find('.lang-tab:has-text("English")').click()
    await expect(admin.find("#hold-queue-en-0")).to_have_value(shipped)
    assert admin.errors == [] and admin.dialogs == []


async def test_hold_screenshots(desk: Server, tabs: TabFactory) -> None:
    for viewport, label in ((DESKTOP, "desktop"), (PHONE, "phone")):
        admin = await admin_tab(tabs, desk, viewport)
        await admin.find('a[href="#hold"]').click()
        await expect(admin.find(".hold-kind").first).to_be_visible()
        await admin.shot(f"admin-{label}-hold-messages")
        assert admin.errors == []
