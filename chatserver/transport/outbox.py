"""One socket's outgoing side: frames queued without waiting and sent in order by one task.

A slow or stuck socket only delays itself. Message frames carry their conversation and seq, so
the outbox drops repeats and, while a replay from storage is being read (``begin_sync`` …
``end_sync``), holds live messages back and then sends history and live ones in seq order
without gaps or duplicates.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

SendText = Callable[[str], Awaitable[None]]
CloseSocket = Callable[[int, str], Awaitable[None]]


class Outbox:
    def __init__(self, send: SendText, close: CloseSocket) -> None:
        self._send = send
        self._close = close
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._last_seq: dict[int, int] = {}
        self._syncing: set[int] = set()
        self._held: list[tuple[int | None, int, str]] = []
        self.channels: set[str] = set()
        self.pending_subscriptions: list[asyncio.Future[None]] = []
        self.closed = False

    def put(self, text: str) -> None:
        if not self.closed:
            self._queue.put_nowait(text)

    def deliver(self, conversation_id: int | None, seq: int, text: str) -> None:
        """A frame from a channel; message frames (seq > 0) are sent once each, in order.

        While a replay is being read, every live frame waits (whatever its channel), so that
        nothing about a message (its suggestions, say) can overtake the message itself.
        """
        if self._syncing:
            self._held.append((conversation_id, seq, text))
            return
        self._send_live(conversation_id, seq, text)

    def _send_live(self, conversation_id: int | None, seq: int, text: str) -> None:
        if conversation_id is None or seq == 0:
            self.put(text)
            return
        if seq <= self._last_seq.get(conversation_id, 0):
            return
        self._last_seq[conversation_id] = seq
        self.put(text)

    def begin_sync(self, conversation_id: int, after_seq: int) -> None:
        self._syncing.add(conversation_id)
        self._last_seq[conversation_id] = after_seq

    def end_sync(self, conversation_id: int, history: list[tuple[int, str]]) -> None:
        """Send the replayed history in seq order, then the live frames held meanwhile."""
        self._syncing.discard(conversation_id)
        last = self._last_seq.get(conversation_id, 0)
        for seq, text in sorted(history, key=lambda item: item[0]):
            if seq > last:
                last = seq
                self.put(text)
        self._last_seq[conversation_id] = last
        if not self._syncing:
            held, self._held = self._held, []
            for item in held:
                self._send_live(*item)

    async def subscriptions_ready(self) -> None:
        """Wait until every channel this socket joined is really subscribed, so nothing slips by."""
        pending, self.pending_subscriptions = self.pending_subscriptions, []
        for ready in pending:
            await ready

    async def run(self) -> None:
        """Send queued frames until ``stop``; a failed send ends the loop (the reader sees the close)."""
        queue = self._queue
        while True:
            text = await queue.get()
            if text is None:
                return
            try:
                await self._send(text)
            except Exception:
                self.closed = True
                return

    def stop(self) -> None:
        self.closed = True
        self._queue.put_nowait(None)

    async def close(self, code: int, reason: str) -> None:
        self.stop()
        with contextlib.suppress(Exception):
            await self._close(code, reason)
