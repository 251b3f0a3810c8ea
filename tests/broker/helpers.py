"""Small helpers for broker tests: a fake clock, bounded receive, polling."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from chatserver.broker import Subscription


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


async def take(sub: Subscription, count: int, timeout: float = 5.0) -> list[str]:
    """The next `count` messages, failing instead of hanging if they do not come."""
    async with asyncio.timeout(timeout):
        return [await anext(sub) for _ in range(count)]


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    """Poll `check` until it holds; for effects of real time passing (Redis TTLs)."""
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.01)
