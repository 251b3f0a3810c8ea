"""Feeding the sans-I/O core: events in through the log, effects queued and applied in order, timers.

The core (``Engine.receive(event, now)``) never awaits; what it decides comes back as effects.
Events reach it through a `CoreLog` (``core_log``): with one process an event is applied the
moment it is dispatched; with several, every process applies the shared log in the same
order. Effects are applied strictly in the order the core produced them, by one task, so
storage, claims and notifications never race.

Timers: every process records the timers the core asks for, so any of them can take over;
only the leader arms them. A timer fires as a ``TimerFired`` entry carrying its deadline, and
an entry whose timer is no longer wanted with that deadline (cancelled, replaced, or fired
already by an earlier leader) is dropped: each timer fires once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from chatserver.core import events as ev
from chatserver.core.effects import CancelTimer, Effect, Refused, StartTimer
from chatserver.core.engine import Engine
from chatserver.logs import effect_context

from .core_log import CoreLog, Entry, LocalLog

log = logging.getLogger("chatserver.hub")

Clock = Callable[[], float]
ApplyEffect = Callable[[Effect], Awaitable[None]]
ApplyRun = Callable[[list[Effect]], Awaitable[None]]  # a run of consecutive effects of one batched type
Ask = Callable[[ev.Event], Awaitable[Refused | None]]  # `CoreDriver.ask`, for modules that only make requests
OnEvent = Callable[[ev.Event], None]


class CoreDriver:
    """The log between callers and the core, the effects queue, and the timers the core asks for."""

    def __init__(
        self, engine: Engine, clock: Clock, *, core_log: CoreLog | None = None, process: str = ""
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.process = process
        self.log = core_log or LocalLog()
        self.log.bind(self._deliver)
        self.leader = not self.log.shared
        self.wanted: dict[str, float] = {}  # timer key -> deadline, in every process
        self.timers: dict[str, asyncio.TimerHandle] = {}  # armed here (the leader only)
        self.observers: list[OnEvent] = []
        self._last_now = 0.0
        self._tickets = 0
        self._asking: dict[int, asyncio.Future[Refused | None]] = {}
        self._effects: asyncio.Queue[list[Effect]] = asyncio.Queue()
        self._applier: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ events in

    def dispatch(self, event: ev.Event, *, now: float | None = None) -> None:
        """Feed the core (through the log) and queue its effects; they are applied in order by one task."""
        self.log.append(Entry(event, self.clock() if now is None else now, self.process))

    async def ask(self, event: ev.Event) -> Refused | None:
        """``dispatch`` for a request the core may refuse: the refusal comes back instead of being applied."""
        self._tickets += 1
        ticket = self._tickets
        answer: asyncio.Future[Refused | None] = asyncio.get_running_loop().create_future()
        self._asking[ticket] = answer
        try:
            self.log.append(Entry(event, self.clock(), self.process, ticket=ticket))
            return await answer
        finally:
            self._asking.pop(ticket, None)

    def restore(self, event: ev.Event, now: float) -> None:
        """Feed the core directly, not through the log: rebuilding state that goes out as a snapshot."""
        self._deliver(Entry(event, now, self.process))

    @property
    def last_now(self) -> float:
        return self._last_now

    def reset_timers(self, wanted: dict[str, float], last_now: float) -> None:
        """Take another process's timers (and clock floor) with its state."""
        self.cancel_timers()
        self.wanted = dict(wanted)
        self._last_now = last_now
        if self.leader:
            self.lead(True)

    def _deliver(self, entry: Entry) -> None:
        """One entry of the log, in the log's order: the same decisions in every process."""
        event = entry.event
        if isinstance(event, ev.TimerFired) and not self._timer_due(event.key, entry.deadline):
            return
        now = max(entry.now, self._last_now)
        self._last_now = now
        try:
            effects = self.engine.receive(event, now)
        except Exception:
            log.exception("the core could not take %r", event)
            effects = []
        mine = entry.origin == self.process and entry.ticket in self._asking
        refused: Refused | None = None
        rest: list[Effect] = []
        for effect in effects:
            if isinstance(effect, Refused) and entry.ticket:
                refused = refused or effect
            elif isinstance(effect, StartTimer):
                self._want_timer(effect.key, effect.deadline)
            elif isinstance(effect, CancelTimer):
                self._drop_timer(effect.key)
            else:
                rest.append(effect)
        if mine:
            answer = self._asking[entry.ticket]
            if not answer.done():
                answer.set_result(refused)
        for observe in self.observers:
            observe(event)
        if rest:
            self._effects.put_nowait(rest)

    # ------------------------------------------------------------------ the applier task

    async def settle(self) -> None:
        """Wait until every effect queued so far has been applied (tests and shutdown)."""
        await self._effects.join()

    @property
    def running(self) -> bool:
        return self._applier is not None

    def start(
        self, apply: ApplyEffect, *, apply_run: ApplyRun | None = None, batched: frozenset[type] = frozenset()
    ) -> None:
        """Apply effects in order; consecutive effects of a ``batched`` type go to ``apply_run``
        together (a flash crowd's assignments: one group commit and one round of briefings for
        all of them, not one after the other)."""
        self._applier = asyncio.create_task(
            self._apply_forever(apply, apply_run, batched if apply_run else frozenset()), name="hub-effects"
        )

    async def stop(self) -> None:
        """Stop the applier (after ``settle``, if nothing queued may be lost)."""
        if self._applier is not None:
            self._applier.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._applier

    async def _apply_forever(
        self, apply: ApplyEffect, apply_run: ApplyRun | None, batched: frozenset[type]
    ) -> None:
        while True:
            taken = [await self._effects.get()]
            while batched and not self._effects.empty():
                taken.append(self._effects.get_nowait())  # everything queued meanwhile, in order
            try:
                effects = [effect for group in taken for effect in group]
                i = 0
                while i < len(effects):
                    kind = type(effects[i])
                    j = i + 1
                    if kind in batched:
                        while j < len(effects) and type(effects[j]) is kind:
                            j += 1
                        assert apply_run is not None
                        await self._apply_guarded(apply_run, effects[i:j])
                    else:
                        await self._apply_guarded(apply, effects[i])
                    i = j
            finally:
                for _ in taken:
                    self._effects.task_done()

    @staticmethod
    async def _apply_guarded(apply: Callable[[Any], Awaitable[None]], what: Any) -> None:
        try:
            await apply(what)
        except Exception:
            first = what[0] if isinstance(what, list) else what
            log.exception("could not apply %r", what, extra=effect_context(first))

    # ------------------------------------------------------------------ timers

    def _timer_due(self, key: str, deadline: float | None) -> bool:
        """Whether a fired timer still counts; it is no longer wanted either way."""
        wanted = self.wanted.get(key)
        if deadline is not None and wanted != deadline:
            return False
        self._drop_timer(key)
        return True

    def _want_timer(self, key: str, deadline: float) -> None:
        self._drop_timer(key)
        self.wanted[key] = deadline
        if self.leader:
            self._arm(key, deadline)

    def _drop_timer(self, key: str) -> None:
        self.wanted.pop(key, None)
        handle = self.timers.pop(key, None)
        if handle is not None:
            handle.cancel()

    def _arm(self, key: str, deadline: float) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # fed outside the loop (start-up): armed when this process leads
            return
        delay = max(deadline - self.clock(), 0.0)

        def fire() -> None:
            self.timers.pop(key, None)
            self.log.append(Entry(ev.TimerFired(key), self.clock(), self.process, deadline=deadline))

        self.timers[key] = loop.call_later(delay, fire)

    def lead(self, leading: bool) -> None:
        """This process starts (arming every wanted timer) or stops running the timers."""
        self.leader = leading
        if leading:
            for key, deadline in self.wanted.items():
                if key not in self.timers:
                    self._arm(key, deadline)
        else:
            self.cancel_timers()

    def cancel_timers(self) -> None:
        for handle in self.timers.values():
            handle.cancel()
        self.timers.clear()
