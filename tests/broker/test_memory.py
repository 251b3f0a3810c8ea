"""Behaviour specific to the in-process backend."""

from __future__ import annotations

from chatserver.broker import MemoryBroker

from .helpers import FakeClock


async def test_publish_delivers_without_a_task_hop() -> None:
    broker = MemoryBroker()
    async with broker.subscribe("room") as sub:
        await broker.publish("room", "now")
        assert sub.backlog == 1


async def test_claiming_again_renews_or_drops_the_expiry() -> None:
    clock = FakeClock()
    broker = MemoryBroker(clock=clock)
    assert await broker.claim("chat:1", "alice", ttl_s=10)
    clock.advance(8)
    assert await broker.claim("chat:1", "alice", ttl_s=10)
    clock.advance(8)
    assert await broker.holder("chat:1") == "alice"
    assert await broker.claim("chat:1", "alice")
    clock.advance(10_000)
    assert await broker.holder("chat:1") == "alice"


async def test_expiry_is_inclusive_of_the_deadline() -> None:
    clock = FakeClock()
    broker = MemoryBroker(clock=clock)
    await broker.set_presence("operator:1", "online", ttl_s=5)
    clock.advance(4.5)
    assert await broker.presence("operator:") == {"operator:1": "online"}
    clock.advance(0.5)
    assert await broker.presence("operator:") == {}
