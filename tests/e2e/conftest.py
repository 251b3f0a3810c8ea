"""The widget in a real browser: headless Debian Chromium driven by Playwright, against a real server.

The server runs in the test's own event loop on a free port (``run_server`` from the transport
tests) with ``demo=True``, so ``/demo`` serves the sample shop with the widget embedded. The
operator side is a websockets client, as in the transport tests.

Chromium comes from Debian (``apt-get install chromium``), never from Playwright's downloads;
the session fixture installs it when missing and fails loudly when it cannot, so this suite never
skips.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    ViewportSize,
    async_playwright,
    expect,
)

from chatserver.settings import Settings
from tests.transport.conftest import Client, Server, run_server

CHROMIUM = "/usr/bin/chromium"
INSTALL_LOCK = "/tmp/chatserver-tests-chromium.lock"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}

expect.set_options(timeout=10_000)

# Every message in the widget, in order: (kind v|o|s, text, seq or None, meta line).
READ_LOG = """host => Array.from(host.shadowRoot.querySelectorAll('li.m:not(.greet)')).map(li => [
  li.classList[1], li.querySelector('.b').textContent, li.dataset.seq ? Number(li.dataset.seq) : null,
  li.querySelector('.meta') ? li.querySelector('.meta').textContent : ''])"""


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium, installed with apt-get when absent; the suite fails (never skips) without it."""
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    with open(INSTALL_LOCK, "w") as lock:  # test workers in parallel install it once
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(CHROMIUM):
            _install_chromium()
    return CHROMIUM


def _install_chromium() -> None:
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        pytest.fail(f"{CHROMIUM} is missing and cannot be installed here (needs root and apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in ([apt, "update"], [apt, "install", "-y", "--no-install-recommends", "chromium"]):
        done = subprocess.run(command, capture_output=True, text=True, timeout=1200, env=env)
        if done.returncode != 0:
            pytest.fail(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"apt-get installed chromium but {CHROMIUM} does not exist")


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[Server]:
    """A server with the demo shop page, on a free port, with a fresh SQLite database."""
    settings = Settings(database_url=f"sqlite:///{tmp_path}/chat.db", demo=True)
    async with run_server(settings) as server:
        yield server


@pytest.fixture
async def browser(chromium: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


class Visitor:
    """One browser tab on the demo shop, seen through the widget's shadow root."""

    def __init__(self, context: BrowserContext, page: Page, shop: Server) -> None:
        self.context = context
        self.page = page
        self.shop = shop
        self.host: Locator = page.locator("#chat-widget-host")
        self.dialogs: list[str] = []
        self.errors: list[str] = []

        async def on_dialog(dialog: Any) -> None:
            self.dialogs.append(dialog.message)
            await dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def find(self, selector: str) -> Locator:
        return self.host.locator(selector)

    @property
    def bubble(self) -> Locator:
        return self.find(".bubble")

    @property
    def composer(self) -> Locator:
        return self.find("textarea#cw-input")

    async def goto(self) -> None:
        await self.page.goto(self.shop.base_url + "/demo")
        await expect(self.bubble).to_be_visible()

    async def open(self) -> None:
        await self.bubble.click()
        await expect(self.find(".panel")).to_be_visible()

    async def say(self, text: str) -> None:
        await self.composer.fill(text)
        await self.composer.press("Enter")

    async def log(self) -> list[list[Any]]:
        entries: list[list[Any]] = await self.host.evaluate(READ_LOG)
        return entries

    async def texts(self) -> list[str]:
        return [entry[1] for entry in await self.log()]

    async def wait_for_texts(self, expected: list[str], timeout_s: float = 10.0) -> list[list[Any]]:
        """Until the widget shows exactly these messages, in this order, none still sending."""
        deadline = time.monotonic() + timeout_s
        while True:
            log = await self.log()
            if [e[1] for e in log] == expected and all(e[2] is not None for e in log):
                return log
            if time.monotonic() > deadline:
                raise AssertionError(f"widget shows {log}, expected {expected}")
            await asyncio.sleep(0.1)

    async def active_id(self) -> str | None:
        """The id of the focused element inside the widget's shadow root."""
        result: str | None = await self.host.evaluate(
            "h => h.shadowRoot.activeElement && h.shadowRoot.activeElement.id"
        )
        return result

    async def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        await self.page.wait_for_timeout(250)  # let the panel's entrance animation finish
        await self.page.screenshot(path=str(path))
        return path


VisitFactory = Callable[..., Awaitable[Visitor]]


@pytest.fixture
async def visit(browser: Browser, shop: Server) -> AsyncIterator[VisitFactory]:
    """Open the demo shop in a fresh browser context (its own localStorage), at a size and locale."""
    contexts: list[BrowserContext] = []

    async def open_shop(viewport: ViewportSize | None = None, locale: str = "en-US") -> Visitor:
        context = await browser.new_context(viewport=viewport or DESKTOP, locale=locale)
        contexts.append(context)
        visitor = Visitor(context, await context.new_page(), shop)
        await visitor.goto()
        return visitor

    try:
        yield open_shop
    finally:
        for context in contexts:
            await context.close()


async def operator_online(shop: Server, name: str = "Anna", *, capacity: int = 3) -> Client:
    """A new operator account, signed in over the websocket and online."""
    _oid, token = await shop.add_operator(name, capacity=capacity)
    return await shop.operator(token)
