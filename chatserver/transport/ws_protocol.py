"""uvicorn's websockets-sansio protocol with read flow control by the frame count, not per frame.

uvicorn stops reading a socket after every incoming frame until the app has taken it, then
starts again: two ``epoll_ctl`` calls per chat message. Measured at 1,000 chats and 2,000
messages a second that was 11 % of the event loop's time. Here reading pauses only once
``HIGH_WATER`` frames wait for the app and resumes when at most ``LOW_WATER`` do, as the
``websockets`` library's own server does with its ``max_queue``. A client still cannot
make the server buffer more than that many frames (each at most ``ws_max_size``).
"""

from __future__ import annotations

from typing import Any

import uvicorn
from starlette.types import ASGIApp
from uvicorn._types import ASGIReceiveEvent
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

HIGH_WATER = 16
LOW_WATER = 4
# On shutdown a socket has this long to answer what it took and close with 1001 itself.
GOING_AWAY_S = 10.0


class BufferedWebSocketProtocol(WebSocketsSansIOProtocol):
    """Pauses reading at ``HIGH_WATER`` queued frames instead of after each one.

    On shutdown it stops reading and tells the app the socket is done (after the frames it
    already queued) instead of closing at once with 1012 as uvicorn does: the app then answers
    the messages it took and closes with 1001 (going away). Past ``GOING_AWAY_S`` uvicorn's
    own shutdown closes it anyway.
    """

    going_away = False

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

    async def receive(self) -> ASGIReceiveEvent:
        message = await self.queue.get()
        if self.read_paused and not self.going_away and self.queue.qsize() <= LOW_WATER:
            self.read_paused = False
            self.transport.resume_reading()
        return message


def uvicorn_config(
    app: ASGIApp,
    *,
    host: str,
    port: int,
    max_frame_bytes: int,
    log_level: str,
    json_logs: bool = False,
) -> uvicorn.Config:
    """How the server is served, the same for ``chatserver serve`` and the tests' real server.

    No per-message compression: short chat frames gain little from it and each socket
    would hold ~40 KiB more (docs/performance.md#memory-per-socket).
    With ``json_logs`` uvicorn keeps its own log setup out: its lines go to the root logger's
    JSON handler like every other.
    """
    extra: dict[str, Any] = {"log_config": None} if json_logs else {}
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        ws=BufferedWebSocketProtocol,
        loop="chatserver.transport.loop_load:timed_event_loop",
        ws_max_size=max_frame_bytes,
        ws_per_message_deflate=False,
        log_level=log_level,
        lifespan="on",
        # uvicorn would take X-Forwarded-For from any peer on 127.0.0.1 by default; the client
        # address is the app's business (CHAT_TRUST_FORWARDED_FOR, off unless set).
        proxy_headers=False,
        # Sockets close themselves within GOING_AWAY_S on shutdown; then what is left is cancelled.
        timeout_graceful_shutdown=int(GOING_AWAY_S) + 5,
        **extra,
    )
