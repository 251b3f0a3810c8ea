"""Reads asked for in the same loop turn run together: one reader job, one transaction.

A flash crowd's hellos, briefings and wait checks are many small reads; each one on its own
paid a thread hop, a connection checkout, a BEGIN and a rollback, which cost more than the
query (docs/performance.md#flash-crowd). Here every read queued while the readers are busy
waits for the next free one and goes with the others in one `shared_read_transaction`, so
the bigger the crowd, the bigger the batches. A read that fails fails only its own caller.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy.engine import Engine

from .db import shared_read_transaction


@dataclass(slots=True, frozen=True)
class _Keyed:
    """A read of one key through ``fn(engine, *, keys) -> {key: answer}``; absent keys get ``default``."""

    key: Hashable
    default: Any


@dataclass(slots=True)
class _Read:
    fn: Callable[..., Any]
    kwargs: dict[str, Any] | _Keyed
    future: asyncio.Future[Any]


_Call = tuple[Callable[..., Any], "dict[str, Any] | _Keyed"]


def _run_reads(engine: Engine, calls: list[_Call]) -> list[tuple[bool, Any]]:
    """In a reader thread: per call (True, its result) or (False, the exception it raised).

    The keyed reads of one function go in one call with every key asked for: one statement
    for a crowd of hellos instead of one each.
    """
    wanted: dict[Callable[..., Any], list[Hashable]] = {}
    for fn, how in calls:
        if isinstance(how, _Keyed):
            wanted.setdefault(fn, []).append(how.key)
    outcomes: list[tuple[bool, Any]] = []
    with shared_read_transaction(engine) as restart:
        answers: dict[Callable[..., Any], tuple[bool, Any]] = {}
        for fn, keys in wanted.items():
            try:
                answers[fn] = (True, fn(engine, keys=list(dict.fromkeys(keys))))
            except Exception as exc:  # noqa: BLE001 - handed to every caller of that function
                answers[fn] = (False, exc)
                restart()
        for fn, how in calls:
            if isinstance(how, _Keyed):
                ok, found = answers[fn]
                outcomes.append((True, found.get(how.key, how.default)) if ok else (False, found))
                continue
            try:
                outcomes.append((True, fn(engine, **how)))
            except Exception as exc:  # noqa: BLE001 - handed to that read's caller
                outcomes.append((False, exc))
                restart()
    return outcomes


class BatchedReads:
    """Queues read-only ``fn(engine, **kwargs)`` calls and runs them in batches.

    At most ``readers`` batches are in flight (one per reader thread), each of at most
    ``max_batch`` reads; whatever is queued meanwhile goes in the next batch.
    """

    def __init__(self, engine: Engine, pool: Executor, *, readers: int, max_batch: int = 64) -> None:
        if readers < 1 or max_batch < 1:
            raise ValueError("readers and max_batch must be at least 1")
        self._engine = engine
        self._pool = pool
        self._readers = readers
        self._max_batch = max_batch
        self._queued: list[_Read] = []
        self._in_flight = 0
        self._flush_soon = False

    def read(self, fn: Callable[..., Any], kwargs: dict[str, Any]) -> asyncio.Future[Any]:
        """A future for fn's result, run with the other reads of this loop turn."""
        return self._queue(fn, kwargs)

    def read_keyed(
        self, fn: Callable[..., Mapping[Any, Any]], key: Hashable, default: Any
    ) -> asyncio.Future[Any]:
        """A future for ``fn(engine, keys=[..., key, ...]).get(key, default)``, one call per batch."""
        return self._queue(fn, _Keyed(key, default))

    def _queue(self, fn: Callable[..., Any], how: dict[str, Any] | _Keyed) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queued.append(_Read(fn, how, future))
        if not self._flush_soon:
            self._flush_soon = True
            loop.call_soon(self._flush)
        return future

    def _flush(self) -> None:
        self._flush_soon = False
        loop = asyncio.get_running_loop()
        while self._queued and self._in_flight < self._readers:
            batch = [r for r in self._queued[: self._max_batch] if not r.future.cancelled()]
            del self._queued[: self._max_batch]
            if not batch:
                continue
            self._in_flight += 1
            job = loop.run_in_executor(
                self._pool, _run_reads, self._engine, [(r.fn, r.kwargs) for r in batch]
            )
            job.add_done_callback(partial(self._finished, batch))

    def _finished(self, batch: list[_Read], done: asyncio.Future[list[tuple[bool, Any]]]) -> None:
        self._in_flight -= 1
        failed = asyncio.CancelledError() if done.cancelled() else done.exception()
        # The whole job failing (no connection, say) fails every read in it.
        outcomes = [(False, failed)] * len(batch) if failed is not None else done.result()
        for read, (ok, value) in zip(batch, outcomes, strict=True):
            if read.future.done():
                continue
            if ok:
                read.future.set_result(value)
            else:
                read.future.set_exception(value)
        if self._queued:
            self._flush()
