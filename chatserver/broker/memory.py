"""A single-process broker, for development, tests and one-process deployments."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from .base import Broker, OnMessage, Subscription, check_ttl


class MemoryBroker(Broker):
    """Keeps everything in dicts; expiry is checked lazily against `clock`.

    `clock` is injectable so tests can move time instead of sleeping.
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._subs: dict[str, dict[Subscription, None]] = {}
        self._claims: dict[str, tuple[str, float | None]] = {}
        self._presence: dict[str, tuple[str, float]] = {}
        self._counters: dict[str, int] = {}

    async def connect(self) -> None:
        """Nothing to open."""

    async def disconnect(self) -> None:
        """End every open subscription so its consumer's loop finishes."""
        for subs in self._subs.values():
            for sub in subs:
                sub.close()

    async def publish(self, channel: str, message: str) -> None:
        """Put the message straight into each subscriber's queue (no task hop)."""
        self.publish_nowait(channel, message)

    def publish_nowait(self, channel: str, message: str) -> None:
        """See `Broker.publish_nowait`."""
        for sub in self._subs.get(channel, ()):
            sub.deliver(message)

    def subscribe(
        self, channel: str, *, on_message: OnMessage | None = None
    ) -> AbstractAsyncContextManager[Subscription]:
        """See `Broker.subscribe`."""
        return self._subscription(channel, on_message)

    @asynccontextmanager
    async def _subscription(self, channel: str, on_message: OnMessage | None) -> AsyncIterator[Subscription]:
        sub = Subscription(channel, on_message)
        self._subs.setdefault(channel, {})[sub] = None
        try:
            yield sub
        finally:
            sub.close()
            subs = self._subs.get(channel)
            if subs is not None:
                subs.pop(sub, None)
                if not subs:
                    del self._subs[channel]

    async def claim(self, key: str, owner: str, *, ttl_s: float | None = None) -> bool:
        """See `Broker.claim`."""
        check_ttl(ttl_s)
        current = await self.holder(key)
        if current is not None and current != owner:
            return False
        expires = None if ttl_s is None else self._clock() + ttl_s
        self._claims[key] = (owner, expires)
        return True

    async def release(self, key: str, owner: str) -> bool:
        """See `Broker.release`."""
        if await self.holder(key) != owner:
            return False
        del self._claims[key]
        return True

    async def holder(self, key: str) -> str | None:
        """See `Broker.holder`; forgets the claim if it has expired."""
        entry = self._claims.get(key)
        if entry is None:
            return None
        owner, expires = entry
        if expires is not None and self._clock() >= expires:
            del self._claims[key]
            return None
        return owner

    async def set_presence(self, member: str, status: str, *, ttl_s: float) -> None:
        """See `Broker.set_presence`."""
        check_ttl(ttl_s)
        self._presence[member] = (status, self._clock() + ttl_s)

    async def presence(self, prefix: str) -> dict[str, str]:
        """See `Broker.presence`; drops expired members as it goes."""
        now = self._clock()
        for member in [m for m, (_, exp) in self._presence.items() if now >= exp]:
            del self._presence[member]
        return {m: s for m, (s, _) in self._presence.items() if m.startswith(prefix)}

    async def incr(self, key: str, amount: int = 1) -> int:
        """See `Broker.incr`."""
        value = self._counters.get(key, 0) + amount
        self._counters[key] = value
        return value
