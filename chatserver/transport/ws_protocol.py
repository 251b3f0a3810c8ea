"""uvicorn's websockets-sansio protocol with read flow control by the frame count, not per frame.

uvicorn stops reading a socket after every incoming frame until the app has taken it, then
starts again: two ``epoll_ctl`` calls per chat message. Measured at 1,000 chats and 2,000
messages a second that was 11 % of the event loop's time. Here reading pauses only once
``HIGH_WATER`` frames wait for the app and resumes when at most ``LOW_WATER`` do, as the
``websockets`` library's own server does with its ``max_queue``. A client still cannot
make the server buffer more than that many frames (each at most ``ws_max_size``).

Writes are coalesced: every frame the app sends on a socket within one turn of the event loop
goes out in one ``transport.write`` at the end of that turn (a sender's ack and the echo of
its message, say), not one write (and one ``send`` system call) per frame. The frames stay
whole and in order: they wait in the websocket connection's own output buffer, which every
other write (pings, pongs, the close) drains first.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any

import uvicorn
from starlette.types import ASGIApp
from uvicorn._types import ASGIReceiveEvent, ASGISendEvent
from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.exceptions import InvalidState

# The scope extension holding `BufferedWebSocketProtocol.send_text_now` (`Outbox` uses it).
SEND_NOW = "chatserver.send_text_now"
HIGH_WATER = 16
READ_CHUNK = 64 * 1024
LOW_WATER = 4
# On shutdown a socket has this long to answer what it took and close with 1001 itself.
GOING_AWAY_S = 10.0


class _Inbox:
    """What uvicorn's ``asyncio.Queue`` of received events is used for, in a deque and a future.

    Every idle socket holds one; an empty asyncio.Queue is three deques and an Event.
    """

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: deque[Any] = deque()
        self._waiter: asyncio.Future[None] | None = None

    def qsize(self) -> int:
        return len(self._items)

    def empty(self) -> bool:
        return not self._items

    def put_nowait(self, item: Any) -> None:
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    async def get(self) -> Any:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        return self._items.popleft()


class BufferedWebSocketProtocol(WebSocketsSansIOProtocol):
    """Pauses reading at ``HIGH_WATER`` queued frames instead of after each one.

    On shutdown it stops reading and tells the app the socket is done (after the frames it
    already queued) instead of closing at once with 1012 as uvicorn does: the app then answers
    the messages it took and closes with 1001 (going away). Past ``GOING_AWAY_S`` uvicorn's
    own shutdown closes it anyway.
    """

    going_away = False
    flush_pending = False

    def shutdown(self) -> None:
        if self.going_away or self.disconnected or self.close_sent:
            super().shutdown()
            return
        if not self.handshake_complete or self.initial_response is not None:
            super().shutdown()
            return
        self.going_away = True
        if not self.read_paused:
            self.read_paused = True
            self.transport.pause_reading()
        self.queue.put_nowait({"type": "websocket.disconnect", "code": 1001})
        self.loop.call_later(GOING_AWAY_S, self._overdue)

    def _overdue(self) -> None:
        if not self.disconnected and not self.close_sent:
            super().shutdown()

    def send_receive_event_to_app(self) -> None:
        paused = self.read_paused
        self.read_paused = True  # the parent pauses unless it believes it already has
        try:
            super().send_receive_event_to_app()
        finally:
            self.read_paused = paused
        if not self.read_paused and self.queue.qsize() >= HIGH_WATER:
            self.read_paused = True
            self.transport.pause_reading()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = _Inbox()  # type: ignore[assignment]

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        # Each read allocates this much before shrinking to what came: 256 KiB by default,
        # which fragments the heap of a process holding thousands of idle sockets.
        transport.max_size = READ_CHUNK

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is not None:
            scope["extensions"][SEND_NOW] = self.send_text_now

    def send_text_now(self, text: str) -> bool:
        """Put a text frame in this loop turn's write, as `send` does, without awaiting.

        False when it cannot go at once (handshake not done, closing, the client not reading):
        the caller then sends it through the ASGI ``send``, which waits or raises.
        """
        if (
            not self.handshake_complete
            or self.close_sent
            or self.initial_response is not None
            or self.disconnected
            or not self.writable.is_set()
        ):
            return False
        try:
            self._join_write(text, None)
        except InvalidState:
            return False
        return True

    async def send(self, message: ASGISendEvent) -> None:
        """A data frame joins this loop turn's write; everything else goes through uvicorn."""
        if message["type"] != "websocket.send" or not self.handshake_complete or self.close_sent:
            await super().send(message)
            if self.handshake_complete:  # the handshake's request and response are not needed again
                self.request = self.response = None  # type: ignore[assignment]
            return
        if self.initial_response is not None:
            await super().send(message)
            return
        await self.writable.wait()
        if self.disconnected:
            raise ClientDisconnected()
        try:
            self._join_write(message.get("text"), message.get("bytes"))
        except InvalidState:
            raise ClientDisconnected() from None

    def _join_write(self, text: str | None, data: bytes | None) -> None:
        """Frame a text (or else binary) message into this loop turn's one write."""
        if text is not None:
            self.conn.send_text(text.encode())
        else:
            self.conn.send_binary(data or b"")
        if not self.flush_pending:
            self.flush_pending = True
            self.loop.call_soon(self._flush)

    def _flush(self) -> None:
        self.flush_pending = False
        output = self.conn.data_to_send()
        if output and not self.transport.is_closing():
            self.transport.write(b"".join(output))

    async def receive(self) -> ASGIReceiveEvent:
        message = await self.queue.get()
        if self.read_paused and not self.going_away and self.queue.qsize() <= LOW_WATER:
            self.read_paused = False
            self.transport.resume_reading()
        return message


# What uvicorn and websockets log on ``uvicorn.error`` for every socket: access lines in all but
# name, left out with the HTTP access log (the format strings, so no record is formatted).
SOCKET_ACCESS_LINES = frozenset(
    {
        '%s - "WebSocket %s" [accepted]',
        '%s - "WebSocket %s" 403',
        '%s - "WebSocket %s" %d',
        "connection open",
        "connection closed",
    }
)


def _not_socket_access(record: logging.LogRecord) -> bool:
    return record.msg not in SOCKET_ACCESS_LINES


def uvicorn_config(
    app: ASGIApp,
    *,
    host: str,
    port: int,
    max_frame_bytes: int,
    log_level: str,
    json_logs: bool = False,
    access_log: bool = False,
) -> uvicorn.Config:
    """How the server is served, the same for ``chatserver serve`` and the tests' real server.

    No per-message compression: short chat frames gain little from it and each socket
    would hold ~40 KiB more (docs/performance.md#memory-per-socket).
    With ``json_logs`` uvicorn keeps its own log setup out: its lines go to the root logger's
    JSON handler like every other.
    Without ``access_log`` no line is written per HTTP request or per socket opened or closed:
    a synchronous write to stderr for each, on the event loop, during a connect storm
    (``chatserver serve --access-log`` turns them on; errors are logged either way).
    """
    extra: dict[str, Any] = {"log_config": None} if json_logs else {}
    errors = logging.getLogger("uvicorn.error")
    errors.removeFilter(_not_socket_access)
    if not access_log:
        errors.addFilter(_not_socket_access)
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        ws=BufferedWebSocketProtocol,
        loop="chatserver.transport.loop_load:timed_event_loop",
        ws_max_size=max_frame_bytes,
        ws_per_message_deflate=False,
        log_level=log_level,
        access_log=access_log,
        lifespan="on",
        # uvicorn would take X-Forwarded-For from any peer on 127.0.0.1 by default; the client
        # address is the app's business (CHAT_TRUST_FORWARDED_FOR, off unless set).
        proxy_headers=False,
        # Sockets close themselves within GOING_AWAY_S on shutdown; then what is left is cancelled.
        timeout_graceful_shutdown=int(GOING_AWAY_S) + 5,
        **extra,
    )
