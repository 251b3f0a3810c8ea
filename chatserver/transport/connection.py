"""What both websocket endpoints share: the Origin rule, the hello handshake and the frame loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from starlette.websockets import WebSocket, WebSocketDisconnect

from chatserver.settings import Settings

from . import frames as f
from .auth import TokenClaims, TokenSigner
from .outbox import Outbox

log = logging.getLogger("chatserver.ws")

Handler = Callable[[dict[str, Any]], Awaitable[None]]


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
    websocket: WebSocket, *, signer: TokenSigner, kind: str, timeout_s: float
) -> tuple[TokenClaims, dict[str, Any]] | None:
    """The first frame must be a hello with a valid token within the timeout; otherwise close 4401."""
    try:
        message = await asyncio.wait_for(websocket.receive(), timeout_s)
    except TimeoutError:
        await _close_quietly(websocket, f.CLOSE_UNAUTHORIZED, "no hello in time")
        return None
    if message["type"] == "websocket.disconnect":
        return None
    try:
        frame = f.parse(message.get("text") or message.get("bytes") or b"")
    except f.FrameError:
        frame = {}
    claims = signer.check(frame.get("token"), kind=kind, now=time.time())
    if frame.get("type") != f.HELLO or claims is None:
        await _close_quietly(websocket, f.CLOSE_UNAUTHORIZED, "a valid hello must come first")
        return None
    return claims, frame


async def _close_quietly(websocket: WebSocket, code: int, reason: str) -> None:
    with contextlib.suppress(Exception):
        await websocket.close(code=code, reason=reason)


async def open_session(
    websocket: WebSocket, settings: Settings, signer: TokenSigner, kind: str
) -> tuple[TokenClaims, dict[str, Any]] | None:
    """Origin check, handshake and hello, the same for both endpoints; None when the socket was refused."""
    if not origin_allowed(websocket, settings):
        await refuse_origin(websocket)
        return None
    await websocket.accept()
    return await await_hello(websocket, signer=signer, kind=kind, timeout_s=settings.hello_timeout_s)


def make_outbox(websocket: WebSocket) -> Outbox:
    async def close(code: int, reason: str) -> None:
        await websocket.close(code=code, reason=reason)

    return Outbox(websocket.send_text, close)


async def serve_frames(websocket: WebSocket, outbox: Outbox, handlers: Mapping[str, Handler]) -> None:
    """Read frames until the socket closes; dispatch by ``type``; bad frames get an error frame."""
    while True:
        try:
            message = await websocket.receive()
        except (WebSocketDisconnect, RuntimeError):
            return
        if message["type"] == "websocket.disconnect":
            return
        raw = message.get("text")
        if raw is None:
            raw = message.get("bytes") or b""
        client_id: str | None = None
        try:
            frame = f.parse(raw)
            client_id = frame.get("client_id") if isinstance(frame.get("client_id"), str) else None
            handler = handlers.get(frame["type"])
            if handler is None:
                raise f.FrameError(f.UNKNOWN_TYPE, f"unknown frame type {frame['type']!r}", client_id)
            await handler(frame)
        except f.FrameError as error:
            log.info("refused frame: %s (%s)", error.code, error.message)
            outbox.put(f.error_frame(error.code, error.message, error.client_id or client_id))
        except Exception:
            log.exception("frame handler failed")
            outbox.put(f.error_frame(f.INTERNAL_ERROR, "the server could not handle this frame", client_id))
