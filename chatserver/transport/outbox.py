"""One socket's outgoing side: frames queued without waiting and sent in order by one task.

A slow or stuck socket only delays itself. Message frames carry their conversation and seq, so
the outbox drops repeats and, while a replay from storage is being read (``begin_sync`` …
``end_sync``), holds live messages back and then sends history and live ones in seq order
without gaps or duplicates.

The queue is bounded (frames and characters): a client that stops reading while frames keep
coming would otherwise grow the server's memory without end. Past the bound the queue is
dropped, the socket is closed with 1008 and its reader is woken so that the session ends and
the hub forgets the socket's subscriptions.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable

SendText = Callable[[str], Awaitable[None]]
SendNow = Callable[[str], bool]  # sends at once, or says False and sends nothing
CloseSocket = Callable[[int, str], Awaitable[None]]

CLOSE_POLICY = 1008
OVERFLOW_REASON = "the client is not reading what it is sent"
CLOSE_TIMEOUT_S = 5.0  # a close frame stuck behind unread data is given up on after this

UNBOUNDED = 1 << 62


class Outbox:
    def __init__(
        self,
        send: SendText,
        close: CloseSocket,
        *,
        max_frames: int = UNBOUNDED,
        max_chars: int = UNBOUNDED,
        send_now: SendNow | None = None,
    ) -> None:
        """``send_now``: the socket's synchronous send (`ws_protocol.SEND_NOW`), used when
        nothing is queued and the sender is idle: no task wake-up and no ASGI ``send`` chain
        per frame on the hot path, in the same order."""
        self._send = send
        self._send_now = send_now
        self._close = close
        # A deque and one future, not an asyncio.Queue: every idle socket holds one (a Queue is
        # three deques and an Event, about 2 KiB empty).
        self._queue: deque[str | None] = deque()
        self._wakeup: asyncio.Future[None] | None = None
        self._max_frames = max_frames
        self._max_chars = max_chars
        self.queued_chars = 0
        self.overflowed = False
        # Set by the reader while it waits for the next frame: wakes it when the outbox overflows.
        self.interrupt: Callable[[], object] | None = None
        self._sender: asyncio.Task[None] | None = None
        self._closing: asyncio.Task[None] | None = None
        self._last_seq: dict[int, int] = {}
        self._syncing: set[int] = set()
        self._held: list[tuple[int | None, int, str]] = []
        self.channels: set[str] = set()
        self.pending_subscriptions: list[asyncio.Future[None]] = []
        self.closed = False

    def put(self, text: str) -> None:
        if self.closed:
            return
        # Parked sender, empty queue: nothing of ours is ahead of this frame.
        if (
            self._send_now is not None
            and self._wakeup is not None
            and not self._queue
            and self._send_now(text)
        ):
            return
        self.queued_chars += len(text)
        if len(self._queue) >= self._max_frames or self.queued_chars > self._max_chars:
            self._overflow()
            return
        self._push(text)

    def _push(self, item: str | None) -> None:
        self._queue.append(item)
        wakeup = self._wakeup
        if wakeup is not None:
            self._wakeup = None
            if not wakeup.done():
                wakeup.set_result(None)

    @property
    def queued_frames(self) -> int:
        return len(self._queue)

    def _overflow(self) -> None:
        """Too much unsent: drop it all, close the socket with 1008, wake the reader."""
        self.closed = self.overflowed = True
        self._queue.clear()
        self.queued_chars = 0
        if self._sender is not None:
            self._sender.cancel()  # most likely waiting for the socket to drain, which it will not
        self._closing = asyncio.get_running_loop().create_task(
            self._close_quietly(CLOSE_POLICY, OVERFLOW_REASON)
        )
        if self.interrupt is not None:
            self.interrupt()

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

    def start(self) -> asyncio.Task[None]:
        """The task that sends queued frames until ``stop``."""
        self._sender = asyncio.get_running_loop().create_task(self.run())
        return self._sender

    async def run(self) -> None:
        """Send queued frames until ``stop``; a failed send ends the loop (the reader sees the close)."""
        queue = self._queue
        while True:
            if not queue:
                self._wakeup = asyncio.get_running_loop().create_future()
                await self._wakeup
                continue
            text = queue.popleft()
            if text is None:
                return
            self.queued_chars -= len(text)
            try:
                await self._send(text)
            except Exception:
                self.closed = True
                return

    def stop(self) -> None:
        self.closed = True
        self._push(None)

    async def close(self, code: int, reason: str) -> None:
        self.stop()
        await self._close_quietly(code, reason)

    async def close_after_sending(self, code: int, reason: str) -> None:
        """Send what is queued (the frames that explain the close), then close."""
        self.stop()
        if self._sender is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self._sender), CLOSE_TIMEOUT_S)
        await self._close_quietly(code, reason)

    async def _close_quietly(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._close(code, reason), CLOSE_TIMEOUT_S)

    async def finished(self) -> None:
        """After ``stop``: wait for the sender and for a close under way."""
        for task in (self._sender, self._closing):
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
