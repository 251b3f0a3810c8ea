"""One socket's life, the same for ``/ws/visitor`` and ``/ws/operator``.

Origin check, accept, hello with a token (close 4401 without one), the account the token names
(close 4401 when it is unknown), the welcome frame, the read loop dispatching by ``type`` to the
session's named handlers (an unknown type or a second hello gets an error frame, the socket stays
open), and on the way out the hub forgets the socket and the session says goodbye.
The endpoints only say how to find their account and which handlers they have.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from starlette.websockets import WebSocket

from . import frames as f
from .auth import TokenClaims
from .connection import (
    CLOSE_GOING_AWAY,
    Handler,
    close_quietly,
    frame_rate_for,
    make_outbox,
    open_session,
    serve_frames,
)
from .limits import CLOSE_TOO_MANY, client_ip
from .outbox import Outbox
from .state import ServerState, server_state

__all__ = ["Session", "SocketKind", "serve_socket"]

Account = TypeVar("Account")


class Session(Protocol):
    """What an endpoint does with its authenticated socket."""

    def welcome(self) -> dict[str, Any]:
        """The ``welcome`` frame, sent first."""
        ...

    async def joined(self) -> None:
        """After the welcome, before the first frame is read: subscribe, replay, announce."""
        ...

    def handlers(self) -> Mapping[str, Handler]:
        """The frame handlers by ``type``."""
        ...

    async def left(self) -> None:
        """After the socket closed and the hub forgot it."""
        ...


@dataclass(frozen=True, slots=True)
class SocketKind(Generic[Account]):
    """One websocket endpoint: its token kind, how it finds the account, and its session."""

    token_kind: str
    find: Callable[[ServerState, TokenClaims], Awaitable[Account | None]]
    unknown_reason: str  # the close reason when ``find`` finds nothing
    session: Callable[[ServerState, Outbox, Account, dict[str, Any]], Session]
    # An error code when this account may not connect (a blocked visitor): an error frame, then close 4410.
    refuse: Callable[[ServerState, Account], Awaitable[str | None]] | None = None


async def refuse_second_hello(frame: dict[str, Any]) -> None:
    raise f.FrameError(f.ALREADY_AUTHENTICATED, "this socket already said hello")


async def serve_socket(websocket: WebSocket, kind: SocketKind[Account]) -> None:
    state = server_state(websocket.app)
    limits = state.limits
    address = client_ip(websocket.scope, state.settings.trust_forwarded_for)
    address_counted = limits.sockets_per_ip.acquire(address)
    if not address_counted:
        state.hub.metrics.refused("sockets_per_ip")
    try:
        hello = await open_session(
            websocket,
            state.settings,
            state.signer,
            kind.token_kind,
            clock=state.clock,
            over_limit=None if address_counted else "too many sockets from this address",
        )
        if hello is None:
            return
        claims, hello_frame = hello
        account = await kind.find(state, claims)
        if account is None:
            await close_quietly(websocket, f.CLOSE_UNAUTHORIZED, kind.unknown_reason)
            return
        refused = await kind.refuse(state, account) if kind.refuse is not None else None
        if refused is not None:
            with contextlib.suppress(Exception):
                await websocket.send_text(f.error_frame(refused, "this visitor is blocked"))
            await close_quietly(websocket, f.CLOSE_BLOCKED, refused)
            return
        sockets = limits.sockets_of(kind.token_kind)
        if not sockets.acquire(claims.subject):
            state.hub.metrics.refused(f"sockets_per_{kind.token_kind}")
            await close_quietly(websocket, CLOSE_TOO_MANY, f"too many sockets for this {kind.token_kind}")
            return
        try:
            await _serve_session(websocket, state, kind, account, hello_frame)
        finally:
            sockets.release(claims.subject)
    finally:
        if address_counted:
            limits.sockets_per_ip.release(address)


async def _serve_session(
    websocket: WebSocket,
    state: ServerState,
    kind: SocketKind[Account],
    account: Account,
    hello: dict[str, Any],
) -> None:
    outbox = make_outbox(websocket, state.settings)
    outbox.start()
    session = kind.session(state, outbox, account, hello)
    sockets = state.hub.metrics.sockets[kind.token_kind]
    sockets.inc()
    try:
        outbox.put(f.encode(session.welcome()))
        await session.joined()
        handlers = {f.HELLO: refuse_second_hello, **session.handlers()}
        await serve_frames(
            websocket,
            outbox,
            handlers,
            rate=frame_rate_for(state.settings),
            refused=state.hub.metrics.refused,
        )
    finally:
        sockets.dec()
        state.hub.forget(outbox)
        await session.left()
        outbox.stop()
        await outbox.finished()
        # The frame loop ends when the client left (then this goes nowhere) or when the server
        # shuts down: then the acks of what it took have been sent above, and this says why.
        await close_quietly(websocket, CLOSE_GOING_AWAY, "server shutting down")
