"""One contract, every backend: what the rest of the server may rely on."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager

import pytest

from chatserver.broker import Broker, MemoryBroker, RedisBroker, Subscription

from .helpers import FakeClock, eventually, take


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def prefix() -> str:
    """A fresh key and channel namespace, so tests never see each other's data."""
    return f"test:{uuid.uuid4().hex}:"


@pytest.fixture(params=["memory", "redis"])
async def broker(request: pytest.FixtureRequest, clock: FakeClock, prefix: str) -> AsyncIterator[Broker]:
    backend: Broker
    if request.param == "memory":
        backend = MemoryBroker(clock=clock)
    else:
        backend = RedisBroker(request.getfixturevalue("redis_url"), prefix=prefix)
    await backend.connect()
    try:
        yield backend
    finally:
        await backend.disconnect()


@pytest.fixture
def elapse(broker: Broker, clock: FakeClock) -> Callable[[float], None]:
    """Let time pass: the memory backend's clock jumps; Redis's runs by itself (tests poll)."""

    def elapse(seconds: float) -> None:
        if isinstance(broker, MemoryBroker):
            clock.advance(seconds)

    return elapse


# Fan-out


async def test_publish_reaches_every_subscriber_of_its_channel_only(broker: Broker) -> None:
    async with (
        broker.subscribe("a") as a1,
        broker.subscribe("a") as a2,
        broker.subscribe("b") as b1,
    ):
        await broker.publish("a", "for-a")
        await broker.publish("b", "for-b")
        await broker.publish("nobody", "lost")
        await broker.publish("a", "end")
        assert await take(a1, 2) == ["for-a", "end"]
        assert await take(a2, 2) == ["for-a", "end"]
        assert await take(b1, 1) == ["for-b"]
        assert (a1.backlog, a2.backlog, b1.backlog) == (0, 0, 0)


async def test_order_per_channel_holds_under_many_concurrent_publishers(broker: Broker) -> None:
    channels, publishers, each = 4, 10, 100  # 1,000 messages per channel

    async def publish_run(channel: str, publisher: int) -> None:
        for seq in range(each):
            await broker.publish(channel, f"{publisher}:{seq}")
            if seq % 7 == 0:
                await asyncio.sleep(0)  # let the other publishers interleave

    async with _subscribed(broker, [f"c{i}" for i in range(channels)]) as subs:
        await asyncio.gather(*(publish_run(sub.channel, p) for sub in subs for p in range(publishers)))
        for sub in subs:
            by_publisher: dict[str, list[int]] = defaultdict(list)
            for message in await take(sub, publishers * each):
                publisher, seq = message.split(":")
                by_publisher[publisher].append(int(seq))
            assert len(by_publisher) == publishers
            assert all(seqs == list(range(each)) for seqs in by_publisher.values())
            assert sub.backlog == 0


class Collector:
    """A subscription callback that keeps what it is given and says when it has ``expected``."""

    def __init__(self, expected: int) -> None:
        self.got: list[str] = []
        self.expected = expected
        self.done = asyncio.Event()

    def __call__(self, message: str) -> None:
        self.got.append(message)
        if len(self.got) == self.expected:
            self.done.set()

    async def all_in(self) -> list[str]:
        await asyncio.wait_for(self.done.wait(), 5)
        return self.got


async def test_a_callback_subscription_gets_every_message_in_order_until_it_leaves(broker: Broker) -> None:
    collect = Collector(100)
    got = collect.got
    async with broker.subscribe("cb", on_message=collect):
        for n in range(100):
            await broker.publish("cb", str(n))
        await collect.all_in()
    assert got == [str(n) for n in range(100)]
    async with broker.subscribe("cb") as witness:
        await broker.publish("cb", "after")
        assert await take(witness, 1) == ["after"]
    assert len(got) == 100


async def test_publish_nowait_keeps_order_with_publish(broker: Broker) -> None:
    collect = Collector(60)
    async with broker.subscribe("mixed", on_message=collect):
        for n in range(60):
            if n % 3 == 0:
                await broker.publish("mixed", str(n))
            else:
                broker.publish_nowait("mixed", str(n))
        assert await collect.all_in() == [str(n) for n in range(60)]


async def test_leaving_the_context_on_an_exception_unsubscribes(broker: Broker) -> None:
    with pytest.raises(RuntimeError, match="handler crashed"):
        async with broker.subscribe("room") as gone:
            await broker.publish("room", "before")
            assert await take(gone, 1) == ["before"]
            raise RuntimeError("handler crashed")
    await _assert_no_longer_receives(broker, gone)


async def test_cancelling_a_consumer_unsubscribes(broker: Broker) -> None:
    entered: asyncio.Future[Subscription] = asyncio.get_running_loop().create_future()

    async def consume() -> None:
        async with broker.subscribe("room") as sub:
            entered.set_result(sub)
            async for _ in sub:
                pass

    task = asyncio.create_task(consume())
    gone = await entered
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await _assert_no_longer_receives(broker, gone)


async def test_disconnect_ends_open_subscriptions(broker: Broker) -> None:
    async with broker.subscribe("room") as sub:
        await broker.disconnect()
        async with asyncio.timeout(5):
            assert [m async for m in sub] == []


# Claims


async def test_claim_is_exclusive_under_50_concurrent_claimers(broker: Broker) -> None:
    owners = [f"worker-{i}" for i in range(50)]
    results = await asyncio.gather(*(broker.claim("chat:1", owner) for owner in owners))
    assert results.count(True) == 1
    assert await broker.holder("chat:1") == owners[results.index(True)]


async def test_holder_claims_again_and_only_the_holder_releases(broker: Broker) -> None:
    assert await broker.holder("chat:2") is None
    assert await broker.claim("chat:2", "alice")
    assert await broker.claim("chat:2", "alice")  # already hers
    assert not await broker.claim("chat:2", "bob")
    assert not await broker.release("chat:2", "bob")
    assert await broker.holder("chat:2") == "alice"
    assert await broker.release("chat:2", "alice")
    assert await broker.holder("chat:2") is None
    assert not await broker.release("chat:2", "alice")
    assert await broker.claim("chat:2", "bob")


async def test_claim_expires_after_its_ttl(broker: Broker, elapse: Callable[[float], None]) -> None:
    assert await broker.claim("chat:3", "alice", ttl_s=0.5)
    assert not await broker.claim("chat:3", "bob", ttl_s=0.5)
    elapse(0.5)

    async def free() -> bool:
        return await broker.holder("chat:3") is None

    await eventually(free)
    assert await broker.claim("chat:3", "bob")
    assert await broker.holder("chat:3") == "bob"


async def test_non_positive_ttls_are_rejected(broker: Broker) -> None:
    with pytest.raises(ValueError):
        await broker.claim("chat:4", "alice", ttl_s=0)
    with pytest.raises(ValueError):
        await broker.set_presence("operator:1", "online", ttl_s=-1)


# Presence and counters


async def test_presence_appears_filters_by_prefix_and_expires(
    broker: Broker, elapse: Callable[[float], None]
) -> None:
    await broker.set_presence("operator:1", "online", ttl_s=60)
    await broker.set_presence("operator:2", "away", ttl_s=0.5)
    await broker.set_presence("customer:9", "online", ttl_s=60)
    assert await broker.presence("operator:") == {"operator:1": "online", "operator:2": "away"}
    assert await broker.presence("") == {
        "operator:1": "online",
        "operator:2": "away",
        "customer:9": "online",
    }
    assert await broker.presence("nobody:") == {}
    await broker.set_presence("operator:1", "busy", ttl_s=60)
    elapse(0.5)

    async def lapsed() -> bool:
        return await broker.presence("operator:") == {"operator:1": "busy"}

    await eventually(lapsed)


async def test_incr_counts_from_zero_by_any_amount(broker: Broker) -> None:
    assert await broker.incr("msgs") == 1
    assert await broker.incr("msgs", 5) == 6
    assert await broker.incr("msgs", -2) == 4
    assert await broker.incr("other") == 1
    values = await asyncio.gather(*(broker.incr("race") for _ in range(100)))
    assert sorted(values) == list(range(1, 101))


# Across processes (Redis only: the memory backend is one process by definition)


@pytest.fixture
async def two_processes(redis_url: str, prefix: str) -> AsyncIterator[tuple[Broker, Broker]]:
    first, second = RedisBroker(redis_url, prefix=prefix), RedisBroker(redis_url, prefix=prefix)
    await first.connect()
    await second.connect()
    try:
        yield first, second
    finally:
        await first.disconnect()
        await second.disconnect()


async def test_a_message_published_in_one_process_reaches_the_other(
    two_processes: tuple[Broker, Broker],
) -> None:
    first, second = two_processes
    async with second.subscribe("room") as there, first.subscribe("room") as here:
        await first.publish("room", "hello")
        await second.publish("room", "hi")
        assert sorted(await take(there, 2)) == ["hello", "hi"]
        assert sorted(await take(here, 2)) == ["hello", "hi"]


async def test_claims_are_exclusive_across_processes(
    two_processes: tuple[Broker, Broker],
) -> None:
    first, second = two_processes
    claims = [(first if i % 2 else second).claim("chat:9", f"worker-{i}") for i in range(50)]
    results = await asyncio.gather(*claims)
    assert results.count(True) == 1
    winner = f"worker-{results.index(True)}"
    assert await first.holder("chat:9") == await second.holder("chat:9") == winner
    assert not await second.release("chat:9", "worker-x")


# Helpers


@asynccontextmanager
async def _subscribed(broker: Broker, channels: list[str]) -> AsyncIterator[list[Subscription]]:
    """Subscribe to several channels at once."""
    async with AsyncExitStack() as stack:
        yield [await stack.enter_async_context(broker.subscribe(c)) for c in channels]


async def _assert_no_longer_receives(broker: Broker, gone: Subscription) -> None:
    """A witness subscribed after `gone` left gets a message; `gone` must not have."""
    assert gone.closed
    async with broker.subscribe(gone.channel) as witness:
        await broker.publish(gone.channel, "after")
        assert await take(witness, 1) == ["after"]
    async with asyncio.timeout(5):
        leftovers = [m async for m in gone]
    assert "after" not in leftovers
