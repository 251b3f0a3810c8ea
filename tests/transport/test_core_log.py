"""The core's log, one contract for both backends: every entry delivered once, in one order everywhere."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import redis.asyncio as aioredis

from chatserver.core import events as ev
from chatserver.core.engine import Engine
from chatserver.transport.core_driver import CoreDriver
from chatserver.transport.core_log import CoreLog, Entry, LocalLog
from chatserver.transport.redis_core_log import RedisLog, Snapshot

SECRET = b"k" * 32
MakeLog = Callable[[], Awaitable[CoreLog]]


@pytest.fixture(params=["local", "redis"])
async def make_log(request: pytest.FixtureRequest, redis_url: str) -> AsyncIterator[MakeLog]:
    """A factory of logs of one kind; with Redis, every log it makes shares one stream."""
    prefix = f"test:{secrets.token_hex(4)}:"
    made: list[RedisLog] = []

    async def make() -> CoreLog:
        if request.param == "local":
            return LocalLog()
        core_log = RedisLog(redis_url, secret=SECRET, prefix=prefix)
        await core_log.connect()
        made.append(core_log)
        return core_log

    yield make
    for core_log in made:
        await core_log.close()


async def _collect(core_log: CoreLog, count: int, appended: Callable[[], None]) -> list[Entry]:
    got: list[Entry] = []
    done = asyncio.Event()

    def deliver(entry: Entry) -> None:
        got.append(entry)
        if len(got) >= count:
            done.set()

    core_log.bind(deliver)
    await core_log.start()
    appended()
    await asyncio.wait_for(done.wait(), 5)
    return got


async def test_every_entry_is_delivered_once_in_the_order_appended(make_log: MakeLog) -> None:
    core_log = await make_log()
    entries = [Entry(ev.VisitorMessaged(i), float(i), "p") for i in range(200)]

    def append_all() -> None:
        for entry in entries:
            core_log.append(entry)

    got = await _collect(core_log, len(entries), append_all)
    assert got == entries
    await core_log.stop()


async def test_a_refusal_comes_back_to_whoever_asked(make_log: MakeLog) -> None:
    driver = CoreDriver(Engine(), lambda: 10.0, core_log=await make_log(), process="p")
    await driver.log.start()
    refused = await asyncio.wait_for(driver.ask(ev.LeaveMessage(99)), 5)
    assert refused is not None and refused.conversation_id == 99
    assert await asyncio.wait_for(driver.ask(ev.OperatorStatusChanged(1, "online")), 5) is None
    await driver.log.stop()


async def test_a_timer_fired_for_a_deadline_no_longer_wanted_is_dropped(make_log: MakeLog) -> None:
    engine = Engine(grace_s=5.0)
    driver = CoreDriver(engine, lambda: 0.0, core_log=await make_log(), process="p")
    driver.lead(False)  # nobody arms: the test fires by hand
    await driver.log.start()
    await driver.ask(ev.OperatorConnected(1, frozenset(), 1, "p"))
    await driver.ask(ev.OperatorStatusChanged(1, "online"))
    await driver.ask(ev.ConversationOpened(7, "v"))
    await driver.ask(ev.OperatorDisconnected(1, "p"))
    assert driver.wanted["grace:1"] == 5.0
    stale = Entry(ev.TimerFired("grace:1"), 6.0, "p", deadline=4.0)
    driver.log.append(stale)
    await driver.ask(ev.OperatorStatusChanged(2, "away"))  # after the stale entry, in the log's order
    assert engine.conversation(7) is not None and engine.conversation(7).operator_id == 1  # type: ignore[union-attr]
    driver.log.append(Entry(ev.TimerFired("grace:1"), 6.0, "p", deadline=5.0))
    driver.log.append(Entry(ev.TimerFired("grace:1"), 6.0, "q", deadline=5.0))  # a second leader's copy
    await driver.ask(ev.OperatorStatusChanged(2, "away"))
    assert engine.conversation(7).operator_id is None  # type: ignore[union-attr]  # back in line, once
    assert engine.queue_view.place_in_line(7) == 1 and "grace:1" not in driver.wanted
    await driver.log.stop()


async def test_processes_sharing_a_redis_log_see_one_order(redis_url: str) -> None:
    prefix = f"test:{secrets.token_hex(4)}:"
    logs = [RedisLog(redis_url, secret=SECRET, prefix=prefix) for _ in range(3)]
    seen: list[list[tuple[str, int]]] = [[] for _ in logs]
    done = [asyncio.Event() for _ in logs]
    for index, core_log in enumerate(logs):
        await core_log.connect()

        def deliver(entry: Entry, index: int = index) -> None:
            assert isinstance(entry.event, ev.VisitorMessaged)
            seen[index].append((entry.origin, entry.event.conversation_id))
            if len(seen[index]) == 300:
                done[index].set()

        core_log.bind(deliver)
        await core_log.start()
    for i in range(100):
        for index, core_log in enumerate(logs):  # interleaved appends from three origins
            core_log.append(Entry(ev.VisitorMessaged(i), 0.0, f"p{index}"))
    await asyncio.wait_for(asyncio.gather(*(d.wait() for d in done)), 5)
    assert seen[0] == seen[1] == seen[2]
    for origin in ("p0", "p1", "p2"):
        assert [cid for o, cid in seen[0] if o == origin] == list(range(100))
    for core_log in logs:
        await core_log.close()


async def test_a_snapshot_not_signed_with_the_secret_is_ignored(redis_url: str) -> None:
    prefix = f"test:{secrets.token_hex(4)}:"
    core_log = RedisLog(redis_url, secret=SECRET, prefix=prefix)
    await core_log.connect()
    await core_log.save_snapshot(Snapshot("e1", "5-0", {"state": 1}))
    loaded = await core_log.load_snapshot()
    assert loaded is not None and (loaded.epoch, loaded.at, loaded.state) == ("e1", "5-0", {"state": 1})
    client = aioredis.Redis.from_url(redis_url)
    raw: bytes = await client.get(prefix + "snapshot")  # type: ignore[assignment]
    await client.set(prefix + "snapshot", raw[:40] + b"x" + raw[41:])
    assert await core_log.load_snapshot() is None
    await client.aclose()
    await core_log.close()
