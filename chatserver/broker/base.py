"""The broker contract every backend satisfies, and the subscription type they share."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

OnMessage = Callable[[str], None]


class _NoQueue(asyncio.Queue[str | None]):
    """The queue of a callback subscription: never filled, shared, nearly empty."""

    def __init__(self) -> None:  # no deques, no event
        pass

    def qsize(self) -> int:
        return 0

    def put_nowait(self, item: str | None) -> None:
        pass


_NO_QUEUE = _NoQueue()


class Subscription:
    """The messages of one channel for one consumer.

    Each subscription has its own unbounded queue, so a slow consumer delays only
    itself: publishers and other subscribers never wait for it, and no message is
    ever dropped. The price is memory; `backlog` lets the owner notice a consumer
    that is falling behind and close its connection.

    With `on_message`, each message is handed to that callback as it arrives
    instead of being queued: a hot consumer that only routes messages onward
    saves a queue and a task switch per message. The callback must not block.
    """

    __slots__ = ("channel", "_queue", "_closed", "_on_message")

    def __init__(self, channel: str, on_message: OnMessage | None = None) -> None:
        self.channel = channel
        # A queue only for a consumer that iterates: an empty asyncio.Queue is about 1.5 KiB,
        # held by every idle socket's channel otherwise.
        self._queue: asyncio.Queue[str | None] = asyncio.Queue() if on_message is None else _NO_QUEUE
        self._closed = False
        self._on_message = on_message

    @property
    def backlog(self) -> int:
        """Messages received but not yet consumed."""
        return self._queue.qsize() - (1 if self._closed else 0)

    @property
    def closed(self) -> bool:
        """True once the subscription has left its channel."""
        return self._closed

    def deliver(self, message: str) -> None:
        """Queue a message, or hand it to the callback (called by backends; never blocks)."""
        if self._closed:
            return
        if self._on_message is not None:
            self._on_message(message)
        else:
            self._queue.put_nowait(message)

    def close(self) -> None:
        """Stop receiving; iteration ends after the messages already queued."""
        if not self._closed:
            self._closed = True
            self._queue.put_nowait(None)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> str:
        message = await self._queue.get()
        if message is None:
            self._queue.put_nowait(None)  # keep later calls from blocking
            raise StopAsyncIteration
        return message


class Broker(ABC):
    """Fan-out, ownership, presence and counters shared by every server process.

    Call `connect()` before use and `disconnect()` at shutdown. All keys, owners
    and messages are plain strings; messages are already-encoded JSON.
    """

    @abstractmethod
    async def connect(self) -> None:
        """Open connections and start background tasks."""

    @property
    def healthy(self) -> bool:
        """Subscriptions receive what is published now (false while a backend reconnects)."""
        return True

    @abstractmethod
    async def disconnect(self) -> None:
        """Deliver what is still buffered, end all subscriptions, close connections."""

    @abstractmethod
    async def publish(self, channel: str, message: str) -> None:
        """Send `message` to every subscriber of `channel`, in every process.

        Fire-and-forget: returns once the message is accepted for delivery, not
        after it was delivered. Messages published to one channel are received in
        the order they were published. A message published to a channel nobody
        subscribes to is discarded.
        """

    @abstractmethod
    def publish_nowait(self, channel: str, message: str) -> None:
        """`publish` for code that cannot await (a callback after a commit).

        The same delivery and the same order as `publish`, and in order with it;
        it only skips waiting for room when the backend is backed up.
        """

    @abstractmethod
    def subscribe(
        self, channel: str, *, on_message: OnMessage | None = None
    ) -> AbstractAsyncContextManager[Subscription]:
        """Receive the messages published to `channel` while the context is open.

        With `on_message`, messages go to that callback as they arrive instead of
        the subscription's queue (see `Subscription`).

        The subscription is active when the context is entered: everything
        published after that is received. Leaving the context, normally or by an
        exception or cancellation, always unsubscribes.
        """

    @abstractmethod
    async def claim(self, key: str, owner: str, *, ttl_s: float | None = None) -> bool:
        """Atomically take `key` for `owner` unless someone else holds it.

        Returns True if `owner` holds the key afterwards, including when it already
        did; the expiry then becomes `ttl_s` from now (none if `ttl_s` is None),
        so claiming again renews a lease. This is how two processes never take
        the same chat.
        """

    @abstractmethod
    async def release(self, key: str, owner: str) -> bool:
        """Give up `key` if, and only if, `owner` holds it; True if it was released."""

    @abstractmethod
    async def holder(self, key: str) -> str | None:
        """The current owner of `key`, or None if it is free or expired."""

    @abstractmethod
    async def set_presence(self, member: str, status: str, *, ttl_s: float) -> None:
        """Mark `member` (e.g. "operator:7") as `status` for the next `ttl_s` seconds.

        Presence lapses unless refreshed, so a crashed process's members vanish.
        """

    @abstractmethod
    async def presence(self, prefix: str) -> dict[str, str]:
        """Every live member whose name starts with `prefix`, mapped to its status."""

    @abstractmethod
    async def incr(self, key: str, amount: int = 1) -> int:
        """Add `amount` to the shared counter `key` (starting at 0); return the new value."""


def check_ttl(ttl_s: float | None) -> None:
    """Reject non-positive TTLs early, identically in every backend."""
    if ttl_s is not None and not ttl_s > 0:
        raise ValueError(f"ttl_s must be positive, got {ttl_s!r}")
