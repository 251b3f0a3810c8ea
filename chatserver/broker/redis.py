"""The broker for several server processes, shared through Redis.

`redis.asyncio` is imported in `connect()`, so importing this module (and
choosing a backend) never needs the redis package or a reachable server.
Per process it uses two connections: one for the pub/sub fan-out and one at a
time for the batched commands (see `_batch` for why every command is batched).
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING

from . import _scripts
from ._batch import CommandBatcher
from ._fanout import ChannelFanout
from .base import Broker, OnMessage, Subscription, check_ttl
from .keys import DEFAULT_PREFIX, Keys

if TYPE_CHECKING:
    from redis.asyncio import Redis


def _ms(seconds: float) -> int:
    """Seconds to Redis milliseconds, never rounding a positive TTL down to 0."""
    return max(1, math.ceil(seconds * 1000))


class RedisBroker(Broker):
    """Redis pub/sub for fan-out; Lua scripts for claims and presence.

    Presence lives in three structures under the prefix: a sorted set of
    expiry times (server clock, so process clocks need not agree), a sorted
    set of names for prefix range queries, and a hash of statuses. Expired
    members are purged by the scripts themselves, so no sweeper is needed.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        max_batch: int = 1000,
        max_pending: int = 100_000,
        drain_timeout_s: float = 5.0,
    ) -> None:
        self._url = url
        self._keys = Keys(prefix)
        self._max_batch = max_batch
        self._max_pending = max_pending
        self._drain_timeout_s = drain_timeout_s
        self._client: Redis | None = None
        self._batcher: CommandBatcher | None = None
        self._fanout: ChannelFanout | None = None

    async def connect(self) -> None:
        """Connect (failing fast if Redis does not answer) and start the tasks."""
        if self._client is not None:
            return
        from redis.asyncio import Redis

        client = Redis.from_url(self._url, decode_responses=True)
        try:
            await client.ping()
            fanout = ChannelFanout(client)
            await fanout.start()
        except BaseException:
            await client.aclose()
            raise
        batcher = CommandBatcher(client, max_batch=self._max_batch, max_pending=self._max_pending)
        batcher.start()
        self._client, self._batcher, self._fanout = client, batcher, fanout

    @property
    def healthy(self) -> bool:
        """See `Broker.healthy`: the pub/sub connection is up and its channels subscribed."""
        return self._fanout is not None and self._fanout.connected

    async def disconnect(self) -> None:
        """Send what is still queued, end subscriptions, close connections."""
        client, batcher, fanout = self._client, self._batcher, self._fanout
        self._client = self._batcher = self._fanout = None
        if batcher is not None:
            await batcher.aclose(self._drain_timeout_s)
        if fanout is not None:
            await fanout.aclose()
        if client is not None:
            await client.aclose()

    def _commands(self) -> CommandBatcher:
        if self._batcher is None:
            raise RuntimeError("RedisBroker is not connected; call connect() first")
        return self._batcher

    async def publish(self, channel: str, message: str) -> None:
        """Queue a PUBLISH; it leaves with the next batch."""
        await self._commands().send("PUBLISH", self._keys.channel(channel), message)

    def publish_nowait(self, channel: str, message: str) -> None:
        """See `Broker.publish_nowait`: queued even past the batcher's limit."""
        self._commands().send_nowait("PUBLISH", self._keys.channel(channel), message)

    def subscribe(
        self, channel: str, *, on_message: OnMessage | None = None
    ) -> AbstractAsyncContextManager[Subscription]:
        """See `Broker.subscribe`; shares this process's one pub/sub connection."""
        return self._subscription(channel, on_message)

    @asynccontextmanager
    async def _subscription(self, channel: str, on_message: OnMessage | None) -> AsyncIterator[Subscription]:
        if self._fanout is None:
            raise RuntimeError("RedisBroker is not connected; call connect() first")
        fanout, name, sub = self._fanout, self._keys.channel(channel), Subscription(channel, on_message)
        await fanout.add(name, sub)
        try:
            yield sub
        finally:
            fanout.remove(name, sub)

    async def claim(self, key: str, owner: str, *, ttl_s: float | None = None) -> bool:
        """See `Broker.claim` (a Lua script: set-if-absent-or-mine, with PX)."""
        check_ttl(ttl_s)
        ttl = "" if ttl_s is None else _ms(ttl_s)
        reply = await self._commands().call("EVAL", _scripts.CLAIM, 1, self._keys.claim(key), owner, ttl)
        return bool(reply)

    async def release(self, key: str, owner: str) -> bool:
        """See `Broker.release` (a Lua compare-and-delete)."""
        reply = await self._commands().call("EVAL", _scripts.RELEASE, 1, self._keys.claim(key), owner)
        return bool(reply)

    async def holder(self, key: str) -> str | None:
        """See `Broker.holder`."""
        reply: str | None = await self._commands().call("GET", self._keys.claim(key))
        return reply

    async def set_presence(self, member: str, status: str, *, ttl_s: float) -> None:
        """See `Broker.set_presence`."""
        check_ttl(ttl_s)
        await self._commands().call(
            "EVAL", _scripts.SET_PRESENCE, 3, *self._presence_keys(), member, status, _ms(ttl_s)
        )

    async def presence(self, prefix: str) -> dict[str, str]:
        """See `Broker.presence`."""
        flat: list[str] = await self._commands().call(
            "EVAL", _scripts.PRESENCE, 3, *self._presence_keys(), prefix
        )
        pairs = iter(flat)
        return dict(zip(pairs, pairs, strict=True))

    async def incr(self, key: str, amount: int = 1) -> int:
        """See `Broker.incr`."""
        value: int = await self._commands().call("INCRBY", self._keys.counter(key), amount)
        return value

    def _presence_keys(self) -> tuple[str, str, str]:
        keys = self._keys
        return keys.presence_expiry, keys.presence_names, keys.presence_status
