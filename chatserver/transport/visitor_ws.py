"""``/ws/visitor``: the widget's socket. Parses frames and calls the hub; nothing more."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.websockets import WebSocket

from chatserver.customers.ratings import rating_problem
from chatserver.storage import repository as repo

from . import frames as f
from .auth import TokenClaims
from .boundaries import block_of, boundary_frame, cooling_down_frame, cooling_down_until
from .check_backs import remember_reply_email, reply_email_of
from .connection import check_message, reply_to
from .etiquette import LEAVE_MESSAGE
from .hub import ack_frame
from .outbox import Outbox
from .ratings import rating_json, save_rating
from .state import ServerState
from .visitor_pages import PAGE, visitor_page
from .wrap_up import answer_wrap_up
from .ws_session import SocketKind, serve_socket


def _resume_of(hello: dict[str, Any]) -> tuple[int, int] | None:
    resume = hello.get("resume")
    if not isinstance(resume, dict):
        return None
    cid, last = resume.get("conversation_id"), resume.get("last_seq", 0)
    if f.int64(cid) and f.int64(last) and last >= 0:
        return cid, last
    return None


class VisitorSession:
    """One visitor socket: its welcome, its join (with resume), and its handlers named after frame types."""

    def __init__(self, state: ServerState, outbox: Outbox, visitor: Any, hello: dict[str, Any]) -> None:
        self.state = state
        self.outbox = outbox
        self.visitor = visitor
        self.hello = hello
        self._ack_latency = state.hub.metrics.ack_latency.observe

    def welcome(self) -> dict[str, Any]:
        return f.visitor_welcome_frame(self.visitor.id, self.state.hub.open_conversation_of(self.visitor.id))

    async def joined(self) -> None:
        await self.state.hub.visitor_joined(self.outbox, self.visitor.id, _resume_of(self.hello))
        until = cooling_down_until(self.state, self.visitor.id)
        cid = self.state.hub.open_conversation_of(self.visitor.id)
        if until is not None and cid is not None:  # a new tab during the break: it says when, too
            frame = boundary_frame(cid, "cool_down", "", until)
            self.outbox.put(f.encode(frame))

    async def left(self) -> None:
        return None

    def handlers(self) -> dict[str, Any]:
        return {
            f.MESSAGE: self.on_message,
            f.TYPING: self.on_typing,
            PAGE: self.on_page,
            LEAVE_MESSAGE: self.on_leave_message,
            f.RATING: self.on_rating,
            f.WRAP_UP_ANSWER: self.on_wrap_up_answer,
        }

    async def on_wrap_up_answer(self, frame: dict[str, Any]) -> None:
        """ "No, that's all" (``done``: the chat closes) or "Yes, one more thing" (``more``)."""
        f.require(frame, f.FieldSpec("conversation_id", int), f.FieldSpec("answer", str))
        await answer_wrap_up(self.state, self.visitor.id, frame["conversation_id"], frame["answer"])

    async def on_rating(self, frame: dict[str, Any]) -> None:
        """The stars (1-5), the NPS answer (0-10) and a comment the widget asks for when a chat ends."""
        f.require(frame, f.FieldSpec("conversation_id", int))
        client_id = frame.get("client_id") if isinstance(frame.get("client_id"), str) else None
        score = frame.get("rating", frame.get("score"))
        nps, comment = frame.get("nps"), frame.get("comment")
        problem = rating_problem(score, nps, comment)
        if problem is not None:
            raise f.FrameError(f.INVALID_FIELD, problem, client_id)
        assert isinstance(score, int)
        rating = await save_rating(
            self.state,
            visitor_id=self.visitor.id,
            conversation_id=frame["conversation_id"],
            score=score,
            nps=nps if isinstance(nps, int) else None,
            comment=comment if isinstance(comment, str) else None,
        )
        if rating is None:
            raise f.FrameError(f.UNKNOWN_CONVERSATION, "no such conversation of yours", client_id)
        self.outbox.put(f.encode(f.rating_saved_frame(rating_json(rating), client_id)))

    async def on_leave_message(self, frame: dict[str, Any]) -> None:
        """Stop waiting and leave the message: it is answered in this conversation, seen on the next visit."""
        etiquette = self.state.hub.etiquette
        email = reply_email_of(frame)
        error = await etiquette.leave_message(self.visitor.id)
        if error is not None:
            self.outbox.put(f.encode(etiquette.with_client_id(error, frame)))
            return
        cid = self.state.hub.conversations.of_visitor(self.visitor.id)
        if email is not None and cid is not None:
            await remember_reply_email(self.state, cid, email)

    async def on_page(self, frame: dict[str, Any]) -> None:
        await visitor_page(self.state, self.visitor.id, frame)

    async def on_message(self, frame: dict[str, Any]) -> asyncio.Future[Any] | None:
        received = time.perf_counter()
        client_id, text = check_message(frame, self.state.settings.max_text_chars)
        until = cooling_down_until(self.state, self.visitor.id)
        if until is not None:
            self.outbox.put(cooling_down_frame(until, client_id))
            return None
        pending = self.state.hub.visitor_message_nowait(
            visitor_id=self.visitor.id,
            locale=self.visitor.locale,
            client_id=client_id,
            text=text,
            reply=reply_to(self.outbox, client_id, ack_frame, received=received, observe=self._ack_latency),
        )
        if pending is not None:
            return pending
        stored, _opened = await self.state.hub.visitor_message(
            visitor_id=self.visitor.id,
            locale=self.visitor.locale,
            customer_id=self.visitor.customer_id,
            client_id=client_id,
            text=text,
        )
        self.outbox.put(ack_frame(stored))
        self._ack_latency(time.perf_counter() - received)
        return None

    async def on_typing(self, frame: dict[str, Any]) -> None:
        f.require(frame, f.FieldSpec("on", bool))
        await self.state.hub.visitor_typing(self.visitor.id, frame["on"])


async def _find_visitor(state: ServerState, claims: TokenClaims) -> Any:
    return await state.writer.read_keyed(repo.visitors_by_id, claims.subject, None)


async def _refuse_visitor(state: ServerState, visitor: Any) -> str | None:
    """A blocked visitor (or customer) is refused at hello."""
    return f.VISITOR_BLOCKED if await block_of(state, visitor) is not None else None


VISITOR_SOCKET = SocketKind(
    token_kind="visitor",
    find=_find_visitor,
    unknown_reason="unknown visitor",
    session=VisitorSession,
    refuse=_refuse_visitor,
)


async def visitor_endpoint(websocket: WebSocket) -> None:
    await serve_socket(websocket, VISITOR_SOCKET)
