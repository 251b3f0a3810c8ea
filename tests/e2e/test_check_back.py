"""I don't know yet, and leave a message, end to end in Chromium: the operator's console and the
visitor's widget on a real server whose clock the test moves (the reminder is driven through it)."""

from __future__ import annotations

import email
import email.policy
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, BrowserContext, expect

from chatserver.settings import Settings
from tests.transport.conftest import Server, run_server

from .conftest import DESKTOP, Visitor
from .test_console import PASSWORD, make_operator

ZONE = "Europe/Warsaw"


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(time.time())


@pytest.fixture
async def desk(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Server]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/chat.db",
        demo=True,
        check_back_remind_s=60.0,
        mail_url=f"file://{tmp_path}/mail",
    )
    async with run_server(settings, clock) as server:
        yield server


@pytest.fixture
async def contexts(browser: Browser) -> AsyncIterator[list[BrowserContext]]:
    opened: list[BrowserContext] = []
    try:
        yield opened
    finally:
        for context in opened:
            await context.close()


async def widget(browser: Browser, contexts: list[BrowserContext], server: Server, locale: str) -> Visitor:
    context = await browser.new_context(viewport=DESKTOP, locale=locale, timezone_id=ZONE)
    contexts.append(context)
    visitor = Visitor(context, await context.new_page(), server)
    await visitor.goto()
    await visitor.open()
    return visitor


async def console(browser: Browser, contexts: list[BrowserContext], server: Server) -> Visitor:
    """The operator's console, signed in and online (a Visitor only for its page and error log)."""
    _oid, address = await make_operator(server, "Anna Nowak")
    context = await browser.new_context(viewport=DESKTOP, locale="en-GB", timezone_id=ZONE)
    contexts.append(context)
    tab = Visitor(context, await context.new_page(), server)
    page = tab.page
    await page.goto(server.base_url + "/console")
    await page.locator("#login-email").fill(address)
    await page.locator("#login-password").fill(PASSWORD)
    await page.locator("#login-password").press("Enter")
    await page.locator('.status-opt[data-status="online"]').click()
    await expect(page.locator('.status-opt[data-status="online"]')).to_have_attribute("aria-checked", "true")
    return tab


def hhmm(ts: float) -> str:
    return datetime.fromtimestamp(ts, ZoneInfo(ZONE)).strftime("%H:%M")


def mails(folder: Path) -> list[email.message.EmailMessage]:
    found = sorted(folder.glob("*.eml")) if folder.exists() else []
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in found]  # type: ignore[misc]


async def test_check_back_promised_reminded_and_answered_in_the_same_thread(
    desk: Server, browser: Browser, contexts: list[BrowserContext], clock: FakeClock, tmp_path: Path
) -> None:
    anna = await console(browser, contexts, desk)
    op = anna.page
    visitor = await widget(browser, contexts, desk, "pl-PL")
    await visitor.say("Czy blender X2 można myć w zmywarce?")
    await expect(op.locator("#log li.msg.visitor .bubble")).to_have_text(
        "Czy blender X2 można myć w zmywarce?"
    )

    # "I'll find out": within one hour, with the operator's own words first.
    await op.locator("#check-back-btn").click()
    await expect(op.locator("#check-back-60")).to_be_checked()
    await op.locator("#check-back-text").fill("Dobre pytanie.")
    await op.locator("#check-back-send").click()
    hub = desk.state.hub
    await expect(op.locator("#check-back-banner")).to_contain_text("You promised an answer by")
    (cid,) = hub.engine.check_backs.pending
    due_at = hub.engine.check_backs.pending[cid]
    assert due_at == clock.now + 3600

    # The visitor reads the promise in their language, and when the answer will come.
    promise = visitor.find("li.m.o .b").last
    await expect(promise).to_contain_text("Dobre pytanie.")
    await expect(promise).to_contain_text("odezwę się tutaj w ciągu 60 min")
    await expect(visitor.find(".st")).to_be_visible()
    await expect(visitor.find(".st .stb > p").first).to_have_text(f"Odezwiemy się tutaj do {hhmm(due_at)}.")
    await expect(visitor.find(".lm")).to_be_hidden()
    # The operator's list of answers owed shows it with the time.
    await expect(op.locator("#owed-list")).to_contain_text(f"answer by {hhmm(due_at)}")
    await expect(op.locator("#send")).to_have_text("Send answer")

    # The reminder, a minute before the time (the server's clock moves; its timers are armed again).
    clock.now = due_at - 60
    core = hub.core
    core.reset_timers(dict(core.wanted), core.last_now)
    banner = op.locator("#check-back-banner")
    await expect(banner).to_have_attribute("role", "alert")
    await expect(banner).to_contain_text(f"Due at {hhmm(due_at)}: answer now.")
    await expect(op.locator("#owed-list .owed-item.due")).to_have_count(1)
    await anna.shot("console-check-back-due")

    # The answer is the next message, in the same thread; the promise is kept.
    clock.now += 30
    await op.locator("#composer").fill("Tak, wszystkie części oprócz silnika.")
    await op.locator("#send").click()
    await expect(visitor.find("li.m.o .b").last).to_have_text("Tak, wszystkie części oprócz silnika.")
    await expect(visitor.find(".st")).to_be_hidden()
    await expect(op.locator("#check-back-banner")).to_have_count(0)
    await expect(op.locator("#owed-list")).to_have_text("No answers owed.")
    await expect(op.locator("#send")).to_have_text("Send")
    await desk.settle()
    assert not hub.engine.check_backs.pending
    assert mails(tmp_path / "mail") == [], "no address was left: nothing is mailed"
    # One thread: the question, the promise, the answer.
    log = await visitor.log()
    assert [entry[0] for entry in log] == ["v", "o", "o"]
    assert visitor.errors == [] and anna.errors == []


async def test_left_message_with_email_is_listed_answered_and_mailed(
    desk: Server, browser: Browser, contexts: list[BrowserContext], tmp_path: Path
) -> None:
    visitor = await widget(browser, contexts, desk, "en-US")
    await visitor.say("Do you ship to Norway?")
    leave = visitor.find(".lm")
    await expect(leave).to_have_text("Leave a message instead of waiting")
    await leave.click()
    field = visitor.find("#cw-leave-email")
    await expect(field).to_be_focused()
    await field.fill("ola@example")
    await visitor.find("#cw-leave-send").click()
    error = visitor.find("#cw-leave-error")
    await expect(error).to_have_text(
        "That email address doesn't look right. Check it, or leave the field empty."
    )
    await expect(field).to_have_attribute("aria-invalid", "true")
    await field.fill("ola@example.no")
    await expect(error).to_be_hidden()
    await visitor.find("#cw-leave-send").click()
    await expect(visitor.find(".st")).to_contain_text("Message left. We'll reply here")
    await desk.settle()

    # An operator comes online: the left message is theirs, listed with the address.
    anna = await console(browser, contexts, desk)
    op = anna.page
    await expect(op.locator("#left-message-banner")).to_contain_text("It is also mailed to ola@example.no.")
    await expect(op.locator("#owed-list")).to_contain_text("left a message")
    await expect(op.locator("#owed-list")).to_contain_text("ola@example.no")
    await op.reload()  # a reload of the console keeps what the chat owes
    await expect(op.locator("#owed-list")).to_contain_text("ola@example.no")
    await anna.shot("console-left-message")

    await op.locator("#composer").fill("Yes, we ship to Norway within 3 days.")
    await expect(op.locator("#send")).to_have_text("Send answer")
    await op.locator("#send").click()
    await expect(op.locator(".toast")).to_contain_text("Answer sent to")
    await expect(op.locator("#owed-list")).to_have_text("No answers owed.")
    await expect(visitor.find("li.m.o .b").last).to_have_text("Yes, we ship to Norway within 3 days.")
    await desk.settle()
    (mail,) = mails(tmp_path / "mail")
    assert mail["To"] == "ola@example.no"
    assert mail["Subject"] == "The answer to your question"
    body = mail.get_body()
    assert body is not None and "Yes, we ship to Norway within 3 days." in body.get_content()
    assert visitor.errors == [] and anna.errors == []
