"""One Redis pub/sub connection per process, shared by every local subscription.

Local subscribers are reference-counted per channel: the first one makes the
process SUBSCRIBE, the last one leaving makes it UNSUBSCRIBE. A reader task
hands each incoming message to the queues of that channel's subscribers, and a
second task batches SUBSCRIBE/UNSUBSCRIBE so a thousand chats opening at once
cost one command, not a thousand round trips.

Redis pub/sub is at-most-once: messages published while this connection is
down are not seen. When a read fails (Redis restarted, the connection cut) the
reader reconnects at once and then with a backoff capped at a second, and
redis-py subscribes every channel again as the connection comes back;
``connected`` is false in between, so readiness can say so. Chat history must
come from storage, not from the broker.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from .base import Subscription

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

_MIN_BACKOFF_S = 0.05
_MAX_BACKOFF_S = 1.0  # a lost subscriber misses every message: never wait long to come back


class ChannelFanout:
    """Multiplexes every local subscription over one pub/sub connection."""

    def __init__(self, client: Redis) -> None:
        self._pubsub = client.pubsub()
        self._local: dict[str, dict[Subscription, None]] = {}
        self._active: set[str] = set()  # Redis confirmed the SUBSCRIBE
        self._requested: set[str] = set()  # SUBSCRIBE sent, not yet confirmed
        self._ready: dict[str, asyncio.Future[None]] = {}
        self._changed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.connected = False  # the pub/sub connection is up (and resubscribed)

    async def start(self) -> None:
        """Open the pub/sub connection and start the reader and the (un)subscriber."""
        await self._pubsub.connect()
        self.connected = True
        self._tasks = [
            asyncio.create_task(self._read(), name="broker-pubsub-reader"),
            asyncio.create_task(self._sync(), name="broker-pubsub-sync"),
        ]

    async def add(self, channel: str, sub: Subscription) -> None:
        """Register `sub`; return once Redis confirms the channel is subscribed."""
        self._local.setdefault(channel, {})[sub] = None
        if channel in self._active:
            return
        ready = self._ready.get(channel)
        if ready is None:
            ready = self._ready[channel] = asyncio.get_running_loop().create_future()
            self._changed.set()
        try:
            await asyncio.shield(ready)
        except BaseException:
            self.remove(channel, sub)
            raise

    def remove(self, channel: str, sub: Subscription) -> None:
        """Unregister `sub` (synchronous, so it cannot be interrupted half-way)."""
        sub.close()
        subs = self._local.get(channel)
        if subs is not None and sub in subs:
            del subs[sub]
            if not subs:
                del self._local[channel]
                self._changed.set()

    async def aclose(self) -> None:
        """Stop the tasks, end every local subscription, close the connection."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for subs in self._local.values():
            for sub in subs:
                sub.close()
        for ready in self._ready.values():
            if not ready.done():
                ready.set_exception(ConnectionError("broker disconnected"))
        self._ready.clear()
        await self._pubsub.aclose()

    async def _read(self) -> None:
        while True:
            try:
                message: dict[str, Any] | None = await self._pubsub.get_message(timeout=None)
            except Exception as exc:
                log.warning("redis pub/sub read failed (%s); reconnecting", exc)
                self.connected = False
                await self._reconnect()
                continue
            if message is None:
                continue
            kind = message["type"]
            if kind == "message":
                for sub in self._local.get(message["channel"], ()):
                    sub.deliver(message["data"])
            elif kind == "subscribe":
                self._confirmed(message["channel"])

    async def _reconnect(self) -> None:
        """Connect again (redis-py then subscribes every channel again), retrying with a short backoff."""
        backoff = _MIN_BACKOFF_S
        while True:
            try:
                await self._pubsub.connect()
            except Exception as exc:
                log.debug("redis pub/sub reconnect failed (%s); retrying in %.2fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF_S)
                continue
            log.info("redis pub/sub connection is back; channels subscribed again")
            self.connected = True
            return

    def _confirmed(self, channel: str) -> None:
        self._requested.discard(channel)
        self._active.add(channel)
        ready = self._ready.pop(channel, None)
        if ready is not None and not ready.done():
            ready.set_result(None)
        if channel not in self._local:
            self._changed.set()  # everyone left while we waited: unsubscribe again

    async def _sync(self) -> None:
        """Bring Redis's subscriptions in line with the local subscribers."""
        backoff = _MIN_BACKOFF_S
        while True:
            await self._changed.wait()
            self._changed.clear()
            stale = [ch for ch in self._active if ch not in self._local]
            pending = self._active | self._requested
            wanted = [ch for ch in self._local if ch not in pending]
            try:
                if stale:
                    self._active.difference_update(stale)
                    await self._pubsub.unsubscribe(*stale)
                if wanted:
                    self._requested.update(wanted)
                    await self._pubsub.subscribe(*wanted)
            except Exception as exc:
                log.warning("redis (un)subscribe failed (%s); retrying in %.2fs", exc, backoff)
                self._requested.difference_update(wanted)
                self._active.update(ch for ch in stale if ch not in self._local)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF_S)
                self._changed.set()
                continue
            backoff = _MIN_BACKOFF_S
