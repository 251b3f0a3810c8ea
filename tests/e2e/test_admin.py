"""The admin pages (/admin) in headless Debian Chromium: the reply library, operators and teams."""

from __future__ import annotations

import json
import re
from pathlib import Path

from playwright.async_api import ViewportSize, expect

from tests.transport.conftest import Server

from . import test_console
from .conftest import DESKTOP, PHONE
from .test_console import PASSWORD, Tab, TabFactory, console_online, make_operator

# The console tests' fixtures, bound here so pytest finds them for these tests too.
desk = test_console.desk
tabs = test_console.tabs


async def admin_tab(tabs: TabFactory, server: Server, viewport: ViewportSize | None = None) -> Tab:
    _oid, email = await make_operator(server, "Ada Admin", role="admin")
    tab = await tabs(viewport)
    await tab.sign_in("/admin", email)
    await expect(tab.find("#reply-index .index-item").first).to_be_visible()
    return tab


async def test_an_edit_in_admin_shows_in_the_next_suggestion(desk: Server, tabs: TabFactory) -> None:
    console = await console_online(tabs, desk)
    visitor, _ = await desk.visitor(locale="en-GB")
    await visitor.say("My blender arrived broken, the jug is cracked.")
    await expect(console.find("#situation")).to_have_text("Defective product")
    cards = console.find("#suggestions .reply-btn")
    await expect(cards).to_have_count(3)
    # Suggestions rotate by the message's seq: the second reply now is the first one next time.
    response_id = await cards.nth(1).get_attribute("data-response-id")
    assert response_id

    admin = await admin_tab(tabs, desk)
    await admin.find("#lib-situation").select_option("defect")
    await admin.find(f'.index-item[data-id="{response_id}"]').click()
    text = admin.find("#f-text")
    await expect(text).not_to_have_value("")
    edited = "So sorry, {customer.first_name}! EDITED BY ADMIN: a new one goes out today at our cost."
    await text.fill(edited)
    # The live preview fills the variables with their examples as the admin types.
    await expect(admin.find("#preview")).to_contain_text("EDITED BY ADMIN")
    await expect(admin.find("#preview")).not_to_contain_text("{customer.first_name}")
    await admin.find("#save-reply").click()
    await expect(admin.find(".toast.ok")).to_contain_text("Saved")
    await expect(admin.find(".editor-head")).to_contain_text("Version 2")

    await visitor.say("It is completely cracked, really disappointing.")
    first = console.find("#suggestions .reply-btn").first
    await expect(first).to_contain_text("EDITED BY ADMIN")
    await expect(first).to_have_attribute("data-response-id", response_id)
    await first.click()
    await expect(console.find("#composer")).to_have_value(re.compile("EDITED BY ADMIN"))
    assert admin.errors == [] and console.errors == []


async def test_validation_messages_sit_next_to_their_field(desk: Server, tabs: TabFactory) -> None:
    admin = await admin_tab(tabs, desk)
    await admin.find("#new-reply").click()
    await admin.find("#f-id").fill("general.thanks_wait")
    await admin.find("#f-title").fill("Thanks for waiting")
    await admin.find("#f-shortcut").fill("/defect1")
    await admin.find("#f-text").fill("Thanks, {customer.frist_name}!")
    # The preview already names the problem under the text.
    await expect(admin.find("#f-text-error")).to_contain_text("did you mean {customer.first_name}")
    await admin.find("#save-reply").click()
    await expect(admin.find("#f-text-error")).to_contain_text("unknown_variable")
    await expect(admin.find("#f-text")).to_have_class(re.compile("invalid"))

    await admin.find("#f-text").fill(
        "Thanks for waiting, {customer.first_name}. Your order {order.id} is on its way."
    )
    await admin.find("#slot-order\\.id").check()
    await expect(admin.find("#preview mark.slot")).to_have_count(0)
    await admin.find("#preview-mode").select_option("nothing")
    await expect(admin.find("#preview mark.slot")).to_have_text(["order.id"])
    await expect(admin.find("#preview")).to_have_text(
        "Thanks for waiting. Your order order.id is on its way."
    )
    await admin.find("#save-reply").click()
    await expect(admin.find("#f-shortcut-error")).to_contain_text("duplicate_shortcut")
    await admin.find("#f-shortcut").fill("/thx")
    await admin.find("#save-reply").click()
    await expect(admin.find(".toast.ok")).to_contain_text("Reply created")
    await expect(admin.find('.index-item[data-id="general.thanks_wait"]')).to_be_visible()

    # Versions: change it, then restore the first version.
    await admin.find("#f-title").fill("Thank you for waiting")
    await admin.find("#save-reply").click()
    await expect(admin.find(".editor-head h2")).to_have_text("Thank you for waiting")
    await admin.find("#versions-btn").click()
    versions = admin.find("#versions .version")
    await expect(versions).to_have_count(2)
    await versions.nth(1).locator("button", has_text="Restore").click()
    await expect(admin.find(".editor-head h2")).to_have_text("Thanks for waiting")
    await expect(admin.find(".editor-head")).to_contain_text("Version 3")
    assert admin.errors == [] and admin.dialogs == []


async def test_export_and_import(desk: Server, tabs: TabFactory, tmp_path: Path) -> None:
    admin = await admin_tab(tabs, desk)
    async with admin.page.expect_download() as download_info:
        await admin.find("#export-btn").click()
    download = await download_info.value
    assert download.suggested_filename == "default-library.json"
    exported = tmp_path / "library.json"
    await download.save_as(exported)
    document = json.loads(exported.read_text(encoding="utf-8"))
    assert document["library"] == "default" and len(document["responses"]) > 50

    for reply in document["responses"]:
        if reply["id"] == "defect.replace_now" and reply["language"] == "en":
            reply["title"] = "Imported title"
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(document), encoding="utf-8")
    await admin.find("#import-file").set_input_files(str(changed))
    await admin.find("#import-mode").select_option("merge")
    await admin.find("#import-go").click()
    await expect(admin.find("#import-result")).to_contain_text("1 updated")
    await admin.page.keyboard.press("Escape")
    await expect(admin.find('.index-item[data-id="defect.replace_now"]')).to_contain_text("Imported title")

    broken = tmp_path / "broken.json"
    document["responses"][0]["situation"] = "nonsense"
    broken.write_text(json.dumps(document), encoding="utf-8")
    await admin.find("#import-file").set_input_files(str(broken))
    await admin.find("#import-go").click()
    await expect(admin.find("#import-result .form-error")).to_contain_text("unknown_situation")
    await expect(admin.find("#import-result .form-error")).to_contain_text("field situation")
    assert admin.errors == []


async def test_operators_and_teams(desk: Server, tabs: TabFactory) -> None:
    admin = await admin_tab(tabs, desk)
    await admin.find('a[href="#teams"]').click()
    await admin.find("#team-name").fill("billing")
    await admin.find("#team-name").press("Enter")
    await expect(admin.find('.team-card[data-team="billing"]')).to_be_visible()
    await admin.find("#team-name").fill("billing")
    await admin.find("#team-name").press("Enter")
    await expect(admin.find("#team-name-error")).to_contain_text("already exists")

    await admin.find('a[href="#operators"]').click()
    await admin.find("#new-operator").click()
    await admin.find("#o-name").fill("Piotr Zieliński")
    await admin.find("#o-email").fill("piotr@desk.example")
    await admin.find("#o-password").fill("short")
    await admin.find("#team-billing").check()
    await admin.find("#o-save").click()
    await expect(admin.find("#o-password-error")).to_contain_text("8 to 200 characters")
    await admin.find("#o-password").fill(PASSWORD)
    await admin.find("#o-capacity").fill("5")
    await admin.find("#o-save").click()
    row = admin.find("#operators tr", has_text="Piotr Zieliński")
    await expect(row).to_contain_text("billing")
    await expect(row).to_contain_text("0 / 5")

    # The new account signs in to the console; the admin sees it online, then turns it off.
    console = await tabs()
    await console.sign_in("/console", "piotr@desk.example")
    await expect(console.find(".status-switch")).to_be_visible()
    await console.find('.status-opt[data-status="online"]').click()
    await expect(console.find('.status-opt[data-status="online"]')).to_have_attribute("aria-checked", "true")
    await admin.page.reload()
    await expect(row).to_contain_text("online")
    await row.locator("button", has_text="Edit").click()
    await admin.find("#o-active").uncheck()
    await admin.find("#o-save").click()
    await expect(row).to_contain_text("off")
    await expect(console.find("#login-error")).to_contain_text("Your session has ended")

    # The last admin cannot take away their own admin role.
    me = admin.find("#operators tr", has_text="Ada Admin")
    await me.locator("button", has_text="Edit").click()
    await admin.find("#o-role").select_option("operator")
    await admin.find("#o-save").click()
    await expect(admin.find("#o-role-error")).to_contain_text("last active admin")
    assert admin.errors == []


async def test_an_operator_cannot_use_the_admin_pages(desk: Server, tabs: TabFactory) -> None:
    _oid, email = await make_operator(desk, "Olga")
    tab = await tabs()
    await tab.sign_in("/admin", email)
    await expect(tab.find("#login-error")).to_contain_text("not an admin")
    assert await tab.find("#reply-index").count() == 0


async def test_screenshots_desktop_and_phone(desk: Server, tabs: TabFactory) -> None:
    await make_operator(desk, "Piotr Zieliński", teams=("billing",))
    await make_operator(desk, "Olga Nowak", role="supervisor", teams=("support", "vip"), capacity=5)
    for viewport, label in ((DESKTOP, "desktop"), (PHONE, "phone")):
        admin = await admin_tab(tabs, desk, viewport)
        await admin.find(".index-item").nth(1).click()
        await expect(admin.find("#preview")).not_to_be_empty()
        await admin.shot(f"admin-{label}-replies")
        await admin.find("#f-text").fill("Hi {customer.frist_name}, it is back {restock.date}.")
        await expect(admin.find("#f-text-error")).to_contain_text("unknown_variable")
        await admin.find("#f-text").scroll_into_view_if_needed()
        await admin.shot(f"admin-{label}-reply-problem")
        await admin.find('a[href="#operators"]').click()
        await expect(admin.find("#operators tbody tr")).not_to_have_count(0)
        await admin.shot(f"admin-{label}-operators")
        await admin.find("#new-operator").click()
        await admin.shot(f"admin-{label}-new-operator")
        await admin.page.keyboard.press("Escape")
        await admin.find('a[href="#teams"]').click()
        await expect(admin.find(".team-card").first).to_be_visible()
        await admin.shot(f"admin-{label}-teams")
        assert admin.errors == [] and admin.dialogs == []
