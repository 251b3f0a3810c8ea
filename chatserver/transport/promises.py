"""Wait promises: every wait figure a visitor is given, and whether it was kept, for the reports.

The chat never waits for these writes: changes are queued and one writer call takes everything
queued meanwhile, in order. Promises a previous run left open are marked interrupted at start.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from chatserver.core.effects import PromiseMade, PromiseSettled
from chatserver.storage import repository as repo
from chatserver.storage.writer import MessageWriter

from .core_driver import Clock

log = logging.getLogger("chatserver.etiquette")


class PromiseRecorder:
    """Applies ``PromiseMade`` and ``PromiseSettled`` by writing them, batched, in the background."""

    def __init__(self, writer: MessageWriter, clock: Clock) -> None:
        self._writer = writer
        self._clock = clock
        self._keys: dict[int, str] = {}
        self._ops: list[tuple[str, dict[str, Any]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._writer.run(repo.interrupt_open_promises, now=self._clock())

    async def flush(self) -> None:
        """Wait until every promise recorded so far is written (tests, shutdown)."""
        while self._flusher is not None and not self._flusher.done():
            await self._flusher

    async def made(self, e: PromiseMade) -> None:
        key = uuid.uuid4().hex
        self._keys[e.promise_id] = key
        self._record(
            "made",
            {
                "key": key,
                "conversation_id": e.conversation_id,
                "kind": e.kind,
                "made_at": e.made_at,
                "position": e.position,
                "estimate_s": e.estimate_s,
                "low_s": e.low_s,
                "high_s": e.high_s,
                "deadline": e.deadline,
                "wait_started_at": e.wait_started_at,
            },
        )

    async def settled(self, e: PromiseSettled) -> None:
        key = self._keys.pop(e.promise_id, None)
        if key is not None:
            self._record(
                "settled", {"key": key, "outcome": e.outcome, "settled_at": e.at, "waited_s": e.waited_s}
            )

    def _record(self, op: str, values: dict[str, Any]) -> None:
        """Queue a promise write; one writer call takes everything queued meanwhile, in order."""
        self._ops.append((op, values))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_promises(), name="promise-writer")

    async def _flush_promises(self) -> None:
        await asyncio.sleep(0)
        while self._ops:
            ops, self._ops = self._ops, []
            try:
                await self._writer.run(repo.write_promises, ops=ops)
            except Exception:
                log.exception("could not record %d wait promise changes", len(ops))
