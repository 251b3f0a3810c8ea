"""Behaviour specific to the Redis backend: connections, batching, recovery."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from chatserver.broker import Keys, RedisBroker

from .helpers import eventually, take


@pytest.fixture
def name() -> str:
    """A client name, so this test's connections can be told apart in CLIENT LIST."""
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def keys() -> Keys:
    return Keys(f"test:{uuid.uuid4().hex}:")


@pytest.fixture
async def raw(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
async def broker(redis_url: str, keys: Keys, name: str) -> AsyncIterator[RedisBroker]:
    backend = RedisBroker(f"{redis_url}?client_name={name}", prefix=keys.prefix)
    await backend.connect()
    yield backend
    await backend.disconnect()


async def _connections(raw: Redis, name: str) -> list[dict[str, Any]]:
    return [c for c in await raw.client_list() if c["name"] == name]


async def _numsub(raw: Redis, channel: str) -> int:
    [(_, count)] = await raw.pubsub_numsub(channel)
    return int(count)


async def test_one_pubsub_connection_and_one_command_connection_serve_everything(
    broker: RedisBroker, raw: Redis, name: str
) -> None:
    channels = [f"chat:{i}" for i in range(20)]
    async with asyncio.TaskGroup() as group:
        for channel in channels:
            group.create_task(_subscribe_and_count(broker, channel, copies=2))
    conns = await _connections(raw, name)
    assert len(conns) == 2
    assert sorted(int(c["sub"]) for c in conns) == [0, 0]  # all left again


async def _subscribe_and_count(broker: RedisBroker, channel: str, copies: int) -> None:
    async with broker.subscribe(channel) as one, broker.subscribe(channel) as two:
        await asyncio.gather(*(broker.publish(channel, str(i)) for i in range(50)))
        assert await take(one, 50) == await take(two, 50) == [str(i) for i in range(50)]


async def test_local_subscribers_share_one_redis_subscription(
    broker: RedisBroker, raw: Redis, keys: Keys
) -> None:
    channel = keys.channel("room")
    async with broker.subscribe("room"), broker.subscribe("room"), broker.subscribe("room"):
        assert await _numsub(raw, channel) == 1

    async def gone() -> bool:
        return await _numsub(raw, channel) == 0

    await eventually(gone)


async def test_churning_subscribers_leave_redis_consistent(
    broker: RedisBroker, raw: Redis, keys: Keys
) -> None:
    async def churn() -> None:
        async with broker.subscribe("room"):
            await asyncio.sleep(0)

    await asyncio.gather(*(churn() for _ in range(50)))
    async with broker.subscribe("room") as sub:
        assert await _numsub(raw, keys.channel("room")) == 1
        await broker.publish("room", "still here")
        assert await take(sub, 1) == ["still here"]

    async def gone() -> bool:
        return await _numsub(raw, keys.channel("room")) == 0

    await eventually(gone)


async def test_concurrent_publishes_share_round_trips(
    broker: RedisBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    batcher = broker._batcher
    assert batcher is not None
    flushes: list[int] = []
    real_flush = batcher._flush

    async def counting_flush(batch: list[Any]) -> bool:
        flushes.append(len(batch))
        return await real_flush(batch)

    monkeypatch.setattr(batcher, "_flush", counting_flush)
    async with broker.subscribe("room") as sub:
        await asyncio.gather(*(broker.publish("room", str(i)) for i in range(1000)))
        assert len(await take(sub, 1000)) == 1000
    assert sum(flushes) == 1000
    assert len(flushes) <= 3


async def test_everything_lives_under_the_prefix(broker: RedisBroker, raw: Redis, keys: Keys) -> None:
    await broker.claim("chat:1", "alice")
    await broker.incr("msgs")
    await broker.set_presence("operator:1", "online", ttl_s=60)
    found = {k async for k in raw.scan_iter(match=f"{keys.prefix}*")}
    assert found == {
        keys.claim("chat:1"),
        keys.counter("msgs"),
        keys.presence_expiry,
        keys.presence_names,
        keys.presence_status,
    }


async def test_claiming_again_renews_or_drops_the_expiry(broker: RedisBroker, raw: Redis, keys: Keys) -> None:
    assert await broker.claim("chat:1", "alice", ttl_s=10)
    assert 0 < await raw.pttl(keys.claim("chat:1")) <= 10_000
    assert await broker.claim("chat:1", "alice", ttl_s=60)
    assert await raw.pttl(keys.claim("chat:1")) > 10_000
    assert await broker.claim("chat:1", "alice")
    assert await raw.pttl(keys.claim("chat:1")) == -1


async def test_subscriptions_survive_a_dropped_pubsub_connection(
    broker: RedisBroker, raw: Redis, name: str
) -> None:
    async with broker.subscribe("room") as sub:
        [pubsub] = [c for c in await _connections(raw, name) if int(c["sub"]) > 0]
        await raw.client_kill_filter(_id=pubsub["id"])

        async def delivered() -> bool:
            # Pub/sub is at-most-once: what is published during the gap is lost,
            # so keep publishing until the resubscribed connection sees one.
            await broker.publish("room", "ping")
            try:
                async with asyncio.timeout(0.05):
                    return await anext(sub) == "ping"
            except TimeoutError:
                return False

        await eventually(delivered)


async def test_publishing_survives_a_dropped_command_connection(
    broker: RedisBroker, raw: Redis, name: str
) -> None:
    async with broker.subscribe("room") as sub:
        await broker.publish("room", "first")
        assert await take(sub, 1) == ["first"]
        for conn in await _connections(raw, name):
            if int(conn["sub"]) == 0:
                await raw.client_kill_filter(_id=conn["id"])
        await broker.publish("room", "second")
        assert await take(sub, 1) == ["second"]
