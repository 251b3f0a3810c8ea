"""What both websocket endpoints share: the Origin rule, the hello handshake, chat message checks
and the frame loop. ``ws_session`` puts them together into one socket's life."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from starlette.websockets import WebSocket, WebSocketDisconnect

from chatserver.settings import Settings

from . import frames as f
from .auth import TokenClaims, TokenSigner
from .frame_rate import ACCEPT, REFUSE, FrameRate
from .limits import CLOSE_TOO_MANY
from .outbox import Outbox
from .ws_protocol import SEND_NOW

log = logging.getLogger("chatserver.ws")

# The server is going away (shutdown): sent once a socket's messages in flight are answered.
CLOSE_GOING_AWAY = 1001

Handler = Callable[[dict[str, Any]], Awaitable["asyncio.Future[Any] | None"]]


def origin_allowed(websocket: WebSocket, settings: Settings) -> bool:
    """Browsers always send Origin: allow the embedding sites, the server's own pages and non-browsers."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    origin = origin.rstrip("/")
    if "*" in settings.allowed_origins or origin in settings.allowed_origins:
        return True
    host = websocket.headers.get("host", "")
    return urlsplit(origin).netloc == host


async def refuse_origin(websocket: WebSocket) -> None:
    """Refused before the handshake completes: the client sees HTTP 403."""
    await websocket.close(code=f.CLOSE_FORBIDDEN_ORIGIN)


async def await_hello(
    websocket: WebSocket, *, signer: TokenSigner, kind: str, timeout_s: float, clock: Callable[[], float]
) -> tuple[TokenClaims, dict[str, Any]] | None:
    """The first frame must be a hello with a valid token within the timeout; otherwise close 4401."""
    try:
        message = await asyncio.wait_for(websocket.receive(), timeout_s)
    except TimeoutError:
        await close_quietly(websocket, f.CLOSE_UNAUTHORIZED, "no hello in time")
        return None
    if message["type"] == "websocket.disconnect":
        # The client left, or the server is shutting down (then this close reaches it).
        await close_quietly(websocket, CLOSE_GOING_AWAY, "server shutting down")
        return None
    try:
        frame = f.parse(message.get("text") or message.get("bytes") or b"")
    except f.FrameError:
        frame = {}
    claims = signer.check(frame.get("token"), kind=kind, now=clock())
    if frame.get("type") != f.HELLO or claims is None:
        await close_quietly(websocket, f.CLOSE_UNAUTHORIZED, "a valid hello must come first")
        return None
    return claims, frame


async def close_quietly(websocket: WebSocket, code: int, reason: str) -> None:
    with contextlib.suppress(Exception):
        await websocket.close(code=code, reason=reason)


async def open_session(
    websocket: WebSocket,
    settings: Settings,
    signer: TokenSigner,
    kind: str,
    *,
    clock: Callable[[], float],
    over_limit: str | None = None,
) -> tuple[TokenClaims, dict[str, Any]] | None:
    """Origin check, handshake and hello, the same for both endpoints; None when the socket was refused.

    ``over_limit`` (a reason) refuses the socket right after the handshake with close 4429,
    before any hello is read.
    """
    if not origin_allowed(websocket, settings):
        await refuse_origin(websocket)
        return None
    await websocket.accept()
    if over_limit is not None:
        await close_quietly(websocket, CLOSE_TOO_MANY, over_limit)
        return None
    return await await_hello(
        websocket, signer=signer, kind=kind, timeout_s=settings.hello_timeout_s, clock=clock
    )


MAX_CLIENT_ID = 128


def check_message(frame: dict[str, Any], max_chars: int) -> tuple[str, str]:
    """The client_id and text of a chat message (either side), or a FrameError naming what is wrong."""
    f.require(frame, f.FieldSpec("client_id", str), f.FieldSpec("text", str))
    client_id, text = frame["client_id"], frame["text"]
    if not client_id or len(client_id) > MAX_CLIENT_ID:
        raise f.FrameError(f.INVALID_FIELD, f"'client_id' must be 1 to {MAX_CLIENT_ID} characters", client_id)
    if not text.strip():
        raise f.FrameError(f.INVALID_FIELD, "'text' must not be empty", client_id)
    if len(text) > max_chars:
        raise f.FrameError(f.TEXT_TOO_LONG, f"'text' is longer than {max_chars} characters", client_id)
    return client_id, text


def make_outbox(websocket: WebSocket, settings: Settings) -> Outbox:
    async def close(code: int, reason: str) -> None:
        await websocket.close(code=code, reason=reason)

    return Outbox(
        websocket.send_text,
        close,
        max_frames=settings.ws_send_queue_frames,
        max_chars=settings.ws_send_queue_bytes,
        send_now=websocket.scope.get("extensions", {}).get(SEND_NOW),
    )


def frame_rate_for(settings: Settings) -> FrameRate | None:
    """The socket's frame limit, or None when ``CHAT_WS_FRAMES_PER_S`` is 0 (no limit)."""
    if settings.ws_frames_per_s <= 0:
        return None
    return FrameRate(rate=settings.ws_frames_per_s, burst=settings.ws_frames_burst)


FLOOD_REASON = "too many frames"


def rate_limited_frame(raw: str | bytes, retry_after_ms: int) -> str:
    """The ``error`` frame for a frame refused unread; it names the frame's client_id when it has one."""
    client_id: str | None = None
    with contextlib.suppress(f.FrameError):
        candidate = f.parse(raw).get("client_id")
        client_id = candidate if isinstance(candidate, str) else None
    frame: dict[str, Any] = {
        "type": f.ERROR,
        "code": f.RATE_LIMITED,
        "message": "too many frames: slow down",
        "retry_after_ms": retry_after_ms,
    }
    if client_id is not None:
        frame["client_id"] = client_id
    return f.encode(frame)


MAX_MESSAGES_IN_FLIGHT = 32


def error_frame_for(exc: BaseException, client_id: str | None) -> str:
    """The error frame for a refused or failed frame: a FrameError's own code, else internal_error."""
    if isinstance(exc, f.FrameError):
        log.info("refused frame: %s (%s)", exc.code, exc.message)
        return f.error_frame(exc.code, exc.message, exc.client_id or client_id)
    log.error("frame handler failed", exc_info=exc)
    return f.error_frame(f.INTERNAL_ERROR, "the server could not handle this frame", client_id)


def reply_to(
    outbox: Outbox,
    client_id: str | None,
    ack: Callable[[Any], str],
    *,
    received: float = 0.0,
    observe: Callable[[float], None] | None = None,
) -> Callable[[Any], None]:
    """A commit callback for a pipelined frame: its ack, or its error frame.

    With ``observe``, the seconds from ``received`` (``time.perf_counter``) to the ack.
    """

    def reply(outcome: Any) -> None:
        if isinstance(outcome, BaseException):
            outbox.put(error_frame_for(outcome, client_id))
            return
        outbox.put(ack(outcome))
        if observe is not None:
            observe(time.perf_counter() - received)

    return reply


async def _handle(
    handler: Handler, frame: dict[str, Any], outbox: Outbox, client_id: str | None
) -> asyncio.Future[Any] | None:
    """Run one handler; whatever it refuses or fails at becomes an error frame, never a dead socket."""
    try:
        return await handler(frame)
    except Exception as exc:
        outbox.put(error_frame_for(exc, client_id))
        return None


async def serve_frames(
    websocket: WebSocket,
    outbox: Outbox,
    handlers: Mapping[str, Handler],
    *,
    pipelined: frozenset[str] = frozenset({f.MESSAGE}),
    unordered: frozenset[str] = frozenset({f.TYPING}),
    rate: FrameRate | None = None,
    clock: Callable[[], float] = time.monotonic,
    refused: Callable[[str], None] | None = None,
) -> None:
    """Read frames until the socket closes; dispatch by ``type``; bad frames get an error frame.

    A handler may return a future for work still in flight (a chat message waiting for its
    group commit, which answers through a callback): the socket goes on reading meanwhile.
    At most ``MAX_MESSAGES_IN_FLIGHT`` of a socket's messages are in flight (backpressure);
    any other frame waits until those before it are done, so it sees their effects, except
    ``unordered`` ones (typing).

    With a ``rate``, a frame over the socket's limit is not read: it gets a ``rate_limited``
    error; a flood closes the socket with 1008. When the outbox overflows (the client does not
    read), the loop ends at once, even while it waits for the next frame.
    """
    reader = asyncio.current_task()
    in_flight: deque[asyncio.Future[Any]] = deque()

    async def drain(down_to: int) -> None:
        while len(in_flight) > down_to:
            pending = in_flight.popleft()
            if not pending.done():
                await asyncio.wait((pending,))  # its own callback reports how it ended

    try:
        while not outbox.overflowed:
            outbox.interrupt = reader.cancel if reader is not None else None
            try:
                message = await websocket.receive()
            except (WebSocketDisconnect, RuntimeError):
                return
            except asyncio.CancelledError:
                if outbox.overflowed and reader is not None and reader.uncancel() == 0:
                    return
                raise
            finally:
                outbox.interrupt = None
            if message["type"] == "websocket.disconnect":
                return
            raw = message.get("text")
            if raw is None:
                raw = message.get("bytes") or b""
            if rate is not None:
                verdict = rate.take(clock())
                if verdict == ACCEPT:
                    pass
                elif verdict == REFUSE:
                    outbox.put(rate_limited_frame(raw, rate.retry_after_ms()))
                    if refused is not None:
                        refused("ws_frames")
                    continue
                else:
                    log.info("closing a socket that floods frames")
                    if refused is not None:
                        refused("ws_flood")
                    await outbox.close(f.CLOSE_POLICY, FLOOD_REASON)
                    return
            client_id: str | None = None
            try:
                frame = f.parse(raw)
                client_id = frame.get("client_id") if isinstance(frame.get("client_id"), str) else None
                kind = frame["type"]
                handler = handlers.get(kind)
                if handler is None:
                    raise f.FrameError(f.UNKNOWN_TYPE, f"unknown frame type {kind[:64]!r}", client_id)
            except f.FrameError as error:
                outbox.put(error_frame_for(error, client_id))
                continue
            while in_flight and in_flight[0].done():
                in_flight.popleft()
            if kind in pipelined:
                await drain(MAX_MESSAGES_IN_FLIGHT - 1)
            elif kind not in unordered:
                await drain(0)
            pending = await _handle(handler, frame, outbox, client_id)
            if pending is not None:
                in_flight.append(pending)
    finally:
        # Messages already taken are stored and answered even if the socket has gone.
        await drain(0)
