"""The one database writer: group commit for messages, in order with other writes.

Per-message commits cap out near 1k msgs/s (docs/performance.md#persistence); one thread
that drains a queue and commits everything queued in one transaction keeps
full durability (each ack waits for its group's commit) at a fraction of
the cost. Other small writes on a hot path (a visitor's session, a conversation opened or
assigned) join the same groups through `grouped`: a flash crowd of new chats then costs a
few commits, not three per chat. One thread also means SQLite never sees two writers. While one
batch commits, the next accumulates. Reads go to a separate small pool,
which WAL lets run beside the writer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Hashable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar, cast

from sqlalchemy.engine import Engine

from .batched_reads import BatchedReads
from .db import checkpoint_wal, driver_write_transaction, write_transaction
from .records import NewMessage, StoredMessage
from .repository import store_messages, store_messages_in

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
READERS = 2  # reader threads: reads run beside the writer (WAL), batched per thread
log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Store:
    message: NewMessage
    future: asyncio.Future[StoredMessage]


@dataclass(slots=True)
class _Call:
    fn: Callable[..., Any]
    kwargs: dict[str, Any]
    future: asyncio.Future[Any]


@dataclass(slots=True)
class _Grouped:
    fn: Callable[..., Any]
    kwargs: dict[str, Any]
    future: asyncio.Future[Any]


@dataclass(slots=True)
class _Bulk:
    fn: Callable[[Any, str, Sequence[dict[str, Any]]], list[Any]]
    item: dict[str, Any]
    future: asyncio.Future[Any]


_Step = NewMessage | _Grouped | _Bulk


def _same_run(a: _Step, b: _Step) -> bool:
    """Whether two neighbouring steps are done by one call (messages, or one bulk function)."""
    if isinstance(a, NewMessage):
        return isinstance(b, NewMessage)
    return isinstance(a, _Bulk) and isinstance(b, _Bulk) and a.fn is b.fn


def _write_steps(engine: Engine, steps: Sequence[_Step], conn: Any, cursor: Any) -> list[Any]:
    results: list[Any] = []
    dialect = engine.dialect.name
    i = 0
    while i < len(steps):
        step = steps[i]
        j = i + 1
        if not isinstance(step, _Grouped):
            while j < len(steps) and _same_run(step, steps[j]):
                j += 1
        if isinstance(step, _Grouped):
            results.append(step.fn(conn, **step.kwargs))
        elif isinstance(step, _Bulk):
            items = [cast(_Bulk, s).item for s in steps[i:j]]
            results.extend(step.fn(cursor, dialect, items))
        else:
            results.extend(store_messages_in(cursor, dialect, messages=cast(list[NewMessage], steps[i:j])))
        i = j
    return results


def _write_group(engine: Engine, steps: Sequence[_Step]) -> list[Any]:
    """Messages, bulk and grouped writes in queue order, in one transaction; results in that order.

    Runs of messages and of one bulk function take one call each; without a grouped write
    (which needs SQLAlchemy's connection) the whole group stays on the driver's cursor.
    """
    if not any(isinstance(s, _Grouped) for s in steps):
        with driver_write_transaction(engine) as cursor:
            return _write_steps(engine, steps, None, cursor)
    with write_transaction(engine) as conn:
        cursor = conn.connection.cursor()
        try:
            return _write_steps(engine, steps, conn, cursor)
        finally:
            cursor.close()


def _write_each(engine: Engine, steps: Sequence[_Step]) -> list[Any]:
    """After a failed group: one transaction per step, so only the bad one fails."""
    outcomes: list[Any] = []
    for step in steps:
        try:
            if isinstance(step, _Bulk):
                with driver_write_transaction(engine) as cursor:
                    outcomes.append(step.fn(cursor, engine.dialect.name, [step.item])[0])
            elif isinstance(step, _Grouped):
                with write_transaction(engine) as conn:
                    outcomes.append(step.fn(conn, **step.kwargs))
            else:
                outcomes.append(store_messages(engine, messages=[step])[0])
        except Exception as exc:  # noqa: BLE001 - handed to that step's caller
            outcomes.append(exc)
    return outcomes


def _store_each(engine: Engine, messages: Sequence[NewMessage]) -> list[StoredMessage | Exception]:
    """After a failed batch: one transaction per message, so only the bad one fails."""
    outcomes: list[StoredMessage | Exception] = []
    for message in messages:
        try:
            outcomes.append(store_messages(engine, messages=[message])[0])
        except Exception as exc:  # noqa: BLE001 - handed to that message's caller
            outcomes.append(exc)
    return outcomes


# A WAL this long (about 64 MiB) is restarted by the writer between batches.
RESTART_WAL_PAGES = 16_000


def _log_failed_checkpoint(done: asyncio.Future[Any]) -> None:
    if not done.cancelled() and done.exception() is not None:
        log.warning("WAL restart checkpoint failed: %r", done.exception())


def _resolve(future: asyncio.Future[Any], outcome: Any) -> None:
    """Settle a future unless its caller already gave up (cancelled)."""
    if future.done():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


class MessageWriter:
    """Serializes every write through one thread; batches message stores."""

    def __init__(
        self, engine: Engine, *, max_batch: int = 512, checkpoint_every_s: float | None = None
    ) -> None:
        """``checkpoint_every_s``: run `checkpoint_wal` in a thread of its own at most this often,
        after commits (for an engine made with ``background_checkpoints``)."""
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._engine = engine
        self._max_batch = max_batch
        self._checkpoint_every_s = checkpoint_every_s
        self._checkpointer: ThreadPoolExecutor | None = None
        self._checkpoint_running = False
        self._checkpoint: asyncio.Future[int] | None = None
        self._last_checkpoint = 0.0
        self._queue: deque[_Store | _Call | _Grouped | _Bulk] = deque()
        self._in_flight: list[_Store | _Call | _Grouped | _Bulk] = []
        self._wakeup = asyncio.Event()
        self._idle_waiters: list[asyncio.Future[None]] = []
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._writer: ThreadPoolExecutor | None = None
        self._readers: ThreadPoolExecutor | None = None
        self._reads: BatchedReads | None = None
        # Told (seconds, messages) after each group commit: the metrics' hook, off by default.
        self.on_commit: Callable[[float, int], None] | None = None

    @property
    def engine(self) -> Engine:
        return self._engine

    def queued(self) -> int:
        """Writes waiting for the writer thread: a backpressure and health signal."""
        return len(self._queue)

    def idle(self) -> asyncio.Future[None]:
        """Resolves once nothing is being written or waiting to be.

        For background work on the event loop's thread (suggestions): Python running there
        while a commit is in flight holds the GIL the writer thread needs between its SQLite
        calls, and measured, that tripled the slowest commits (and every ack waits for one).
        """
        idle: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._queue or self._in_flight:
            self._idle_waiters.append(idle)
        else:
            idle.set_result(None)
        return idle

    def _wake_idle(self) -> None:
        waiters, self._idle_waiters = self._idle_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def start(self) -> None:
        if self._task is not None:
            raise RuntimeError("MessageWriter already started")
        self._closing = False
        self._wakeup = asyncio.Event()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="db-writer")
        self._readers = ThreadPoolExecutor(max_workers=READERS, thread_name_prefix="db-reader")
        self._reads = BatchedReads(self._engine, self._readers, readers=READERS)
        if self._checkpoint_every_s is not None:
            self._checkpointer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="db-checkpoint")
            self._last_checkpoint = time.monotonic()
        self._task = asyncio.create_task(self._drain(), name="message-writer")

    async def stop(self) -> None:
        """Commit everything already queued, then stop; later calls raise RuntimeError."""
        if self._task is None or self._closing:
            return
        self._closing = True
        self._wakeup.set()
        try:
            await asyncio.shield(self._task)
            if self._checkpoint is not None and not self._checkpoint.done():
                await asyncio.wait((self._checkpoint,))  # nobody reads the file half-written
        finally:
            assert self._writer is not None and self._readers is not None
            self._writer.shutdown(wait=False)
            self._readers.shutdown(wait=False)
            if self._checkpointer is not None:
                self._checkpointer.shutdown(wait=False)
                self._checkpointer = None
            self._task = None

    async def store(self, message: NewMessage) -> StoredMessage:
        """The stored message, returned only once the batch holding it has committed."""
        return await self.submit(message)

    def submit(self, message: NewMessage) -> asyncio.Future[StoredMessage]:
        """Queue a message now, without waiting: its place in the write order is taken at once.

        The future resolves once the batch holding it has committed.
        """
        future: asyncio.Future[StoredMessage] = asyncio.get_running_loop().create_future()
        self._submit(_Store(message, future))
        return future

    def grouped(self, fn: Callable[..., T], /, **kwargs: Any) -> asyncio.Future[T]:
        """Queue fn(connection, **kwargs) now, to run inside the next group commit.

        For small writes on a hot path: ``fn`` runs in the transaction of the group it lands
        in, in queue order with messages and other grouped writes, and must not commit. The
        future resolves once that group has committed (with fn's result, or its error: a
        group that fails is retried one write per transaction, so only the bad one fails).
        """
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._submit(_Grouped(fn, kwargs, future))
        return future

    def bulk(
        self, fn: Callable[[Any, str, Sequence[dict[str, Any]]], list[Any]], /, **item: Any
    ) -> asyncio.Future[Any]:
        """Queue one item of a bulk write now, to run inside the next group commit.

        Every item of ``fn`` queued next to each other lands in one call
        ``fn(cursor, dialect, items)`` on the group's driver cursor, which returns one result
        per item (`repository.chat_setup`: a flash crowd's chats in a few statements). The
        future resolves with this item's result once the group has committed.
        """
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._submit(_Bulk(fn, item, future))
        return future

    async def run(self, fn: Callable[..., T], /, **kwargs: Any) -> T:
        """Run fn(engine, **kwargs) in the writer thread, ordered with message batches."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._submit(_Call(fn, kwargs, future))
        return cast(T, await future)

    async def read(self, fn: Callable[..., T], /, **kwargs: Any) -> T:
        """Run a read-only fn(engine, **kwargs) in the reader pool, beside the writer.

        It shares one transaction with the other reads asked for meanwhile (`BatchedReads`).
        """
        return cast(T, await self._running_reads().read(fn, kwargs))

    async def read_keyed(self, fn: Callable[..., Mapping[K, T]], /, key: K, default: T) -> T:
        """``fn(engine, keys=[...]).get(key, default)``, the keys of every caller meanwhile in one call.

        For hot reads made once per visitor (a flash crowd's hellos): one statement per batch.
        """
        return cast(T, await self._running_reads().read_keyed(fn, key, default))

    def _running_reads(self) -> BatchedReads:
        if self._reads is None or self._closing:
            raise RuntimeError("MessageWriter is not running")
        return self._reads

    def _submit(self, item: _Store | _Call | _Grouped | _Bulk) -> None:
        if self._task is None or self._closing:
            raise RuntimeError("MessageWriter is not running")
        self._queue.append(item)
        self._wakeup.set()

    async def _drain(self) -> None:
        try:
            while True:
                if not self._queue:
                    self._wake_idle()
                    if self._closing:
                        return
                    self._wakeup.clear()
                    await self._wakeup.wait()
                    continue
                if isinstance(self._queue[0], _Call):
                    call = self._queue.popleft()
                    assert isinstance(call, _Call)
                    self._in_flight = [call]
                    await self._run_call(call)
                else:
                    batch: list[_Store | _Grouped | _Bulk] = []
                    queue = self._queue
                    while (
                        self._queue and len(batch) < self._max_batch and not isinstance(self._queue[0], _Call)
                    ):
                        batch.append(cast(_Store | _Grouped | _Bulk, queue.popleft()))
                    self._in_flight = list(batch)
                    if not all(isinstance(item, _Store) for item in batch):
                        await self._commit_group(batch)
                    else:
                        await self._commit(cast(list[_Store], batch))
                self._in_flight = []
                self._maybe_checkpoint()
        finally:
            # Whatever ended the loop, no caller may wait forever.
            stopped = RuntimeError("MessageWriter stopped before this write was done")
            for item in [*self._in_flight, *self._queue]:
                _resolve(item.future, stopped)
            self._in_flight = []
            self._queue.clear()
            self._wake_idle()

    def _maybe_checkpoint(self) -> None:
        """Start a background WAL checkpoint when one is due and none is running."""
        if self._checkpointer is None or self._checkpoint_running or self._checkpoint_every_s is None:
            return
        now = time.monotonic()
        if now - self._last_checkpoint < self._checkpoint_every_s:
            return
        self._checkpoint_running, self._last_checkpoint = True, now
        done = asyncio.get_running_loop().run_in_executor(self._checkpointer, checkpoint_wal, self._engine)
        done.add_done_callback(self._checkpoint_done)
        self._checkpoint = done

    def _checkpoint_done(self, done: asyncio.Future[int]) -> None:
        self._checkpoint_running = False
        if done.cancelled():
            return
        if done.exception() is not None:
            log.warning("WAL checkpoint failed: %r", done.exception())
            return
        if done.result() > RESTART_WAL_PAGES and self._task is not None and not self._closing:
            restarted: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            restarted.add_done_callback(_log_failed_checkpoint)
            self._submit(_Call(checkpoint_wal, {"restart": True}, restarted))

    async def _in_writer(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, partial(fn, *args, **kwargs))

    async def _run_call(self, call: _Call) -> None:
        try:
            result = await self._in_writer(call.fn, self._engine, **call.kwargs)
        except Exception as exc:
            _resolve(call.future, exc)
        else:
            _resolve(call.future, result)

    async def _commit_group(self, batch: list[_Store | _Grouped | _Bulk]) -> None:
        steps: list[_Step] = [item.message if isinstance(item, _Store) else item for item in batch]
        started = time.perf_counter()
        try:
            results: Sequence[Any] = await self._in_writer(_write_group, self._engine, steps)
        except Exception as exc:
            if len(batch) == 1:
                results = [exc]
            else:
                log.info("group of %d writes failed (%r); retrying one by one", len(batch), exc)
                results = await self._in_writer(_write_each, self._engine, steps)
        else:
            if self.on_commit is not None:
                self.on_commit(time.perf_counter() - started, sum(isinstance(s, NewMessage) for s in steps))
        for item, outcome in zip(batch, results, strict=True):
            _resolve(item.future, outcome)

    async def _commit(self, batch: list[_Store]) -> None:
        messages = [item.message for item in batch]
        started = time.perf_counter()
        try:
            results: Sequence[StoredMessage | Exception] = await self._in_writer(
                store_messages, self._engine, messages=messages
            )
        except Exception as exc:
            if len(batch) == 1:
                results = [exc]
            else:
                log.warning("batch of %d messages failed (%r); retrying one by one", len(batch), exc)
                results = await self._in_writer(_store_each, self._engine, messages)
        else:
            if self.on_commit is not None:
                self.on_commit(time.perf_counter() - started, len(messages))
        for item, outcome in zip(batch, results, strict=True):
            _resolve(item.future, outcome)
