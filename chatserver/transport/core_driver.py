"""Feeding the sans-I/O core: events in, effects queued and applied in order, timers that fire events.

The core (``Engine.receive(event, now)``) never awaits; what it decides comes back as effects.
They are applied strictly in the order the core produced them, by one task, so storage, claims
and notifications never race.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from chatserver.core import events as ev
from chatserver.core.effects import Effect, Refused
from chatserver.core.engine import Engine

log = logging.getLogger("chatserver.hub")

Clock = Callable[[], float]
ApplyEffect = Callable[[Effect], Awaitable[None]]
Ask = Callable[[ev.Event], Refused | None]  # `CoreDriver.ask`, for modules that only make requests


class CoreDriver:
    """The queue of effects between the core and their applier, and the timers the core asks for."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        self.timers: dict[str, asyncio.TimerHandle] = {}
        self._effects: asyncio.Queue[list[Effect]] = asyncio.Queue()
        self._applier: asyncio.Task[None] | None = None

    def dispatch(self, event: ev.Event, *, now: float | None = None) -> None:
        """Feed the core and queue its effects; they are applied in order by one task."""
        effects = self.engine.receive(event, self.clock() if now is None else now)
        if effects:
            self._effects.put_nowait(effects)

    def ask(self, event: ev.Event) -> Refused | None:
        """``dispatch`` for a request the core may refuse: a refusal comes back instead of being applied."""
        effects = self.engine.receive(event, self.clock())
        refused = next((e for e in effects if isinstance(e, Refused)), None)
        rest: list[Effect] = [e for e in effects if not isinstance(e, Refused)]
        if rest:
            self._effects.put_nowait(rest)
        return refused

    async def settle(self) -> None:
        """Wait until every effect queued so far has been applied (tests and shutdown)."""
        await self._effects.join()

    # ------------------------------------------------------------------ the applier task

    @property
    def running(self) -> bool:
        return self._applier is not None

    def start(self, apply: ApplyEffect) -> None:
        self._applier = asyncio.create_task(self._apply_forever(apply), name="hub-effects")

    async def stop(self) -> None:
        """Stop the applier (after ``settle``, if nothing queued may be lost)."""
        if self._applier is not None:
            self._applier.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._applier

    async def _apply_forever(self, apply: ApplyEffect) -> None:
        while True:
            effects = await self._effects.get()
            try:
                for effect in effects:
                    try:
                        await apply(effect)
                    except Exception:
                        log.exception("could not apply %r", effect)
            finally:
                self._effects.task_done()

    # ------------------------------------------------------------------ timers

    def start_timer(self, key: str, deadline: float) -> None:
        """Fire ``TimerFired(key)`` at ``deadline``, replacing any timer with that key."""
        old = self.timers.pop(key, None)
        if old is not None:
            old.cancel()
        loop = asyncio.get_running_loop()
        delay = max(deadline - self.clock(), 0.0)

        def fire() -> None:
            self.timers.pop(key, None)
            self.dispatch(ev.TimerFired(key))

        self.timers[key] = loop.call_later(delay, fire)

    def cancel_timer(self, key: str) -> None:
        handle = self.timers.pop(key, None)
        if handle is not None:
            handle.cancel()

    def cancel_timers(self) -> None:
        for handle in self.timers.values():
            handle.cancel()
        self.timers.clear()
