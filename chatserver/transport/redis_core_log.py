"""The core's log shared by several server processes: one Redis stream, read by every process.

Appending is batched: entries appended in one turn of the event loop leave in one pipeline
(`docs/performance.md`: one Redis round trip per message starves chats; batched, it costs
~110 us). Each process reads the stream on its own connection, in order, and hands every
entry to its core (``core_log``).

A process that joins a running service starts from a *snapshot*: the leader regularly stores
its core's state with the stream position it corresponds to, signed with the service's secret
so that nobody who can write to Redis can make a process load arbitrary data.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import pickle
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .core_log import CoreLog, Entry
from .event_codec import decode_event, encode_event

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("chatserver.cluster")

DEFAULT_PREFIX = "chat:core:"
_BLOCK_MS = 250  # how long one read waits for new entries (and so how long stopping may take)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A core's state as of stream position ``at``, in the service's era ``epoch``."""

    epoch: str
    at: str
    state: Any


def encode_entry(entry: Entry) -> str:
    data: dict[str, Any] = {"e": encode_event(entry.event), "n": entry.now, "o": entry.origin}
    if entry.ticket:
        data["k"] = entry.ticket
    if entry.deadline is not None:
        data["d"] = entry.deadline
    return json.dumps(data, separators=(",", ":"))


def decode_entry(raw: str | bytes) -> Entry:
    data = json.loads(raw)
    return Entry(
        decode_event(data["e"]),
        float(data["n"]),
        str(data["o"]),
        ticket=int(data.get("k", 0)),
        deadline=data.get("d"),
    )


class RedisLog(CoreLog):
    """The stream ``<prefix>log``, the snapshot ``<prefix>snapshot`` and the era ``<prefix>epoch``."""

    shared = True

    def __init__(
        self, url: str, *, secret: bytes, prefix: str = DEFAULT_PREFIX, max_len: int = 200_000
    ) -> None:
        super().__init__()
        self._url = url
        self._secret = secret
        self._stream = prefix + "log"
        self._snapshot_key = prefix + "snapshot"
        self._epoch_key = prefix + "epoch"
        self._max_len = max_len
        self._client: Redis | None = None
        self._reader_client: Redis | None = None
        self._outgoing: list[str] = []
        self._flushing: asyncio.Task[None] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._reading = False
        self.paused = False
        self.position = "0-0"  # the last entry delivered here
        self.healthy = False

    # ------------------------------------------------------------------ connections

    async def connect(self) -> None:
        from redis.asyncio import Redis

        self._client = Redis.from_url(self._url)
        self._reader_client = Redis.from_url(self._url)
        await self._client.ping()
        self.healthy = True

    async def close(self) -> None:
        await self.stop()
        await self._flush()
        for client in (self._client, self._reader_client):
            if client is not None:
                await client.aclose()
        self._client = self._reader_client = None

    def _redis(self) -> Redis:
        if self._client is None:
            raise RuntimeError("RedisLog is not connected; call connect() first")
        return self._client

    # ------------------------------------------------------------------ appending

    def append(self, entry: Entry) -> None:
        self._outgoing.append(encode_entry(entry))
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if self.paused or not self._outgoing:
            return
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.get_running_loop().create_task(self._flush_soon())

    def pause(self) -> None:
        """Hold appended entries here (Redis was lost: they must not go into a log about to be
        replaced); `resume` sends them once this process has the service's current state."""
        self.paused = True

    def resume(self) -> None:
        self.paused = False
        self._schedule_flush()

    async def _flush_soon(self) -> None:
        await asyncio.sleep(0)  # everything appended in this turn of the loop goes in one pipeline
        await self._flush()

    async def _flush(self) -> None:
        while self._outgoing and not self.paused:
            batch, self._outgoing = self._outgoing, []
            pipe = self._redis().pipeline(transaction=False)
            for raw in batch:
                pipe.xadd(self._stream, {"j": raw}, maxlen=self._max_len, approximate=True)
            try:
                await pipe.execute()
            except Exception:
                # Kept, in order, for when Redis is back: a request waits instead of being lost.
                # (Entries of a pipeline cut short may then go in twice; the core takes every
                # event twice without harm, and a fired timer counts once.)
                log.warning("could not append %d core entries; holding them", len(batch))
                self._outgoing[:0] = batch
                self.healthy = False
                self.pause()
                return

    async def latest(self) -> str:
        """The position of the newest entry, "0-0" for an empty log."""
        newest: Any = await self._redis().xrevrange(self._stream, count=1)
        return newest[0][0].decode() if newest else "0-0"

    # ------------------------------------------------------------------ reading

    async def start(self) -> None:
        self._reading = True
        self._reader = asyncio.get_running_loop().create_task(self._read_forever(), name="core-log-reader")

    async def stop(self) -> None:
        """Stop reading after the current blocking read (at most ``_BLOCK_MS``).

        The reader is asked to stop rather than cancelled: a cancelled ``XREAD`` can leave
        redis-py waiting on its connection forever.
        """
        reader, self._reader = self._reader, None
        self._reading = False
        if reader is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(reader), _BLOCK_MS / 1000 * 4)
        except TimeoutError:
            reader.cancel()
            if self._reader_client is not None:
                await self._reader_client.connection_pool.disconnect()

    async def _read_forever(self) -> None:
        assert self._reader_client is not None and self._deliver is not None
        client, deliver = self._reader_client, self._deliver
        while self._reading:
            try:
                reply: Any = await client.xread({self._stream: self.position}, block=_BLOCK_MS, count=1000)
            except asyncio.CancelledError:
                raise
            except Exception:
                if self.healthy:
                    log.exception("lost the core log")
                self.healthy = False
                self.pause()  # until the cluster member has checked the shared state is the same
                await asyncio.sleep(0.5)
                continue
            self.healthy = True
            for _stream, entries in reply:
                for entry_id, fields in entries:
                    self.position = entry_id.decode()
                    try:
                        entry = decode_entry(fields[b"j"])
                    except Exception:
                        log.exception("skipping an undecodable core entry %s", self.position)
                        continue
                    deliver(entry)

    # ------------------------------------------------------------------ snapshots and eras

    async def epoch(self) -> str | None:
        raw: Any = await self._redis().get(self._epoch_key)
        return raw.decode() if raw is not None else None

    async def begin_epoch(self, epoch: str) -> bool:
        """Start a new era (the service's state rebuilt from storage); False if another began first."""
        return bool(await self._redis().set(self._epoch_key, epoch, nx=True))

    async def save_snapshot(self, snapshot: Snapshot) -> None:
        body = pickle.dumps(snapshot, protocol=pickle.HIGHEST_PROTOCOL)
        signature = hmac.new(self._secret, body, hashlib.sha256).digest()
        await self._redis().set(self._snapshot_key, signature + body)

    async def load_snapshot(self) -> Snapshot | None:
        raw: Any = await self._redis().get(self._snapshot_key)
        if raw is None or len(raw) < 32:
            return None
        signature, body = raw[:32], raw[32:]
        if not hmac.compare_digest(signature, hmac.new(self._secret, body, hashlib.sha256).digest()):
            log.error("ignoring a core snapshot with a bad signature")
            return None
        snapshot = pickle.loads(body)  # noqa: S301 - signed with the service's secret, checked above
        return snapshot if isinstance(snapshot, Snapshot) else None
