"""This process as one member of a service of several: joining, leading, noticing the dead.

Every process keeps a replica of the routing core fed by the shared log (``core_log``). One
of them is the *leader*, chosen by a lease in Redis (``claim`` with a TTL, renewed every
beat): it arms the timers, writes the core's decisions to storage and publishes them, stores
snapshots of the core for processes that join, and turns a process whose heartbeat lapsed into
``ProcessLost`` (its operators' chats then follow the grace rules). When the leader dies its
lease lapses and another process takes over with the same replica and the same timers, so a
timer fires once whoever leads (``core_driver``).

Why a leader rather than a scheduler per timer: the core already decides everything in one
order; giving one process the side effects keeps "exactly once" a property of the log, not of
a lock per timer.

An *epoch* names the era of the shared state. The first process to find none rebuilds the
core from PostgreSQL (the record) and begins one; if Redis loses its data (a restart), the
epoch is gone, the next leader rebuilds again, and every process takes the new state and
announces its own operators again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable

from chatserver.broker.base import Broker
from chatserver.core import events as ev
from chatserver.core.engine import Engine
from chatserver.core.views import PresenceView

from .core_driver import CoreDriver
from .redis_core_log import RedisLog, Snapshot

log = logging.getLogger("chatserver.cluster")

LEADER_KEY = "core:leader"
Restore = Callable[[], Awaitable[None]]
OnResync = Callable[[PresenceView], Awaitable[None]]  # given the presence as it was before


def process_key(process: str) -> str:
    return f"process:{process}"


class ClusterMember:
    """Heartbeat, leadership, snapshots and the dead-process sweep of one process."""

    def __init__(
        self,
        *,
        core: CoreDriver,
        core_log: RedisLog,
        broker: Broker,
        new_engine: Callable[[], Engine],
        restore: Restore,
        on_resync: OnResync,
        lease_s: float = 3.0,
        beat_s: float = 0.5,
        snapshot_every_s: float = 2.0,
    ) -> None:
        self._core = core
        self._log = core_log
        self._broker = broker
        self._new_engine = new_engine
        self._restore = restore
        self._on_resync = on_resync
        self._lease_s = lease_s
        self._beat_s = beat_s
        self._snapshot_every_s = snapshot_every_s
        self.process = core.process
        self.epoch: str | None = None
        self.ready = False
        self._task: asyncio.Task[None] | None = None
        self._lost_reported: set[str] = set()

    @property
    def healthy(self) -> bool:
        """The shared log answers and nothing is held back waiting for it."""
        return self._log.healthy and not self._log.paused

    @property
    def leading(self) -> bool:
        return self._core.leader

    # ------------------------------------------------------------------ joining

    async def join(self) -> None:
        """Start from the service's current state (or rebuild it), then keep up with the log."""
        await self._beat()
        await self._take_or_build_state()
        await self._log.start()
        self.ready = True
        self._task = asyncio.get_running_loop().create_task(self._keep_forever(), name="cluster-member")

    async def leave(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._log.stop()
        if self.leading:
            await self._save_snapshot()
            await self._broker.release(LEADER_KEY, self.process)
        await self._broker.release(process_key(self.process), self.process)

    async def _take_or_build_state(self) -> None:
        while True:
            epoch = await self._log.epoch()
            if epoch is not None:
                snapshot = await self._log.load_snapshot()
                if snapshot is not None and snapshot.epoch == epoch:
                    self._load(snapshot)
                    return
            elif await self._broker.claim(LEADER_KEY, self.process, ttl_s=self._lease_s):
                await self._build_state()
                return
            await asyncio.sleep(0.05)

    def _load(self, snapshot: Snapshot) -> None:
        engine, wanted, last_now = snapshot.state
        self._core.engine.take_state(engine)
        self._core.reset_timers(wanted, last_now)
        self._log.position = snapshot.at
        self.epoch = snapshot.epoch

    async def _build_state(self) -> None:
        """As leader of a service with no shared state: rebuild the core from storage."""
        self._core.engine.take_state(self._new_engine())
        self._core.reset_timers({}, 0.0)
        self._log.position = await self._log.latest()
        self._core.lead(True)
        await self._restore()
        epoch = secrets.token_hex(8)
        self.epoch = epoch
        await self._save_snapshot()
        if not await self._log.begin_epoch(epoch):
            log.warning("another process rebuilt the shared state at the same time; taking theirs")
            self._core.lead(False)
        log.info("rebuilt the shared routing state from storage (epoch %s)", epoch)

    async def _save_snapshot(self) -> None:
        if self.epoch is None:
            return
        state = (self._core.engine, dict(self._core.wanted), self._core.last_now)
        await self._log.save_snapshot(Snapshot(self.epoch, self._log.position, state))

    # ------------------------------------------------------------------ staying a member

    async def _keep_forever(self) -> None:
        loop = asyncio.get_running_loop()
        next_snapshot = loop.time() + self._snapshot_every_s
        while True:
            await asyncio.sleep(self._beat_s)
            try:
                await self._beat()
                if await self._log.epoch() != self.epoch:
                    await self._resync()
                    continue
                if self._log.paused:
                    # Redis answered again and still holds our era: send what was held.
                    log.info("the shared routing state is reachable again")
                    self._log.resume()
                leading = await self._broker.claim(LEADER_KEY, self.process, ttl_s=self._lease_s)
                if leading != self.leading:
                    log.info("this process %s the leader", "is now" if leading else "is no longer")
                    self._core.lead(leading)
                if leading:
                    await self._sweep()
                    if loop.time() >= next_snapshot:
                        next_snapshot = loop.time() + self._snapshot_every_s
                        await self._save_snapshot()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("cluster upkeep failed; retrying")
                if self.leading:
                    self._core.lead(False)

    async def _beat(self) -> None:
        await self._broker.claim(process_key(self.process), self.process, ttl_s=self._lease_s)

    async def _sweep(self) -> None:
        """Turn every process whose heartbeat lapsed into ``ProcessLost``, once."""
        for place in self._core.engine.presence.places() - {self.process, ""}:
            if place in self._lost_reported:
                continue
            if await self._broker.holder(process_key(place)) is None:
                log.warning("process %s stopped answering; its operators' sockets are gone", place)
                self._lost_reported.add(place)
                self._core.dispatch(ev.ProcessLost(place))

    async def _resync(self) -> None:
        """The shared state is gone (Redis lost it): take the rebuilt state, announce our operators."""
        log.warning("the shared routing state was lost; resynchronising")
        self.ready = False
        self._log.pause()
        before = self._core.engine.presence
        await self._log.stop()
        self._core.lead(False)
        self._lost_reported.clear()
        await self._take_or_build_state()
        await self._log.start()
        self._log.resume()
        await self._on_resync(before)
        self.ready = True
