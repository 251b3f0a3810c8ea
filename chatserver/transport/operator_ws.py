"""``/ws/operator``: the console's socket. Parses frames and calls the hub; nothing more."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.websockets import WebSocket

from chatserver.assistant import LABELS, UnknownRecognition, unfilled_placeholders
from chatserver.core.roster import STATUSES
from chatserver.storage import repository as repo

from . import frames as f
from .auth import TokenClaims
from .boundaries import check_boundary_frame, set_boundary
from .boundary_notices import brief_supervisor
from .check_backs import CHECK_BACK, promise_check_back
from .connection import check_message, reply_to
from .etiquette import TRANSFER_ACCEPT, TRANSFER_CANCEL, TRANSFER_DECLINE
from .hub import ack_frame
from .ideas import IDEA, MAX_SUMMARY
from .outbox import Outbox
from .state import ServerState
from .supervision import Supervision
from .wrap_up import ask_anything_else
from .ws_session import SocketKind, serve_socket


class OperatorSession:
    """One operator socket: its welcome, join and goodbye, and its handlers named after the frame types."""

    def __init__(self, state: ServerState, outbox: Outbox, operator: Any, hello: dict[str, Any]) -> None:
        self.state = state
        self.outbox = outbox
        self.operator = operator
        self._ack_latency = state.hub.metrics.ack_latency.observe

    def welcome(self) -> dict[str, Any]:
        operator = self.operator
        frame = f.operator_welcome_frame(
            operator_id=operator.id,
            name=operator.name,
            title=operator.title,
            role=operator.role,
            teams=operator.teams,
            capacity=operator.capacity,
        )
        # The status routing holds now: "offline" unless another console of theirs is connected,
        # whose status a console signing in keeps rather than overriding it.
        frame["status"] = self.state.hub.engine.presence.operator(operator.id).status
        return frame

    async def joined(self) -> None:
        await self.state.hub.operator_joined(self.outbox, self.operator)
        await brief_supervisor(self.state, self.outbox, self.operator)

    async def left(self) -> None:
        await self.state.hub.operator_left(self.outbox, self.operator.id)

    def handlers(self) -> dict[str, Any]:
        return {
            f.STATUS: self.on_status,
            f.MESSAGE: self.on_message,
            f.TYPING: self.on_typing,
            f.CLOSE: self.on_close,
            f.WRAP_UP: self.on_wrap_up,
            f.TRANSFER: self.on_transfer,
            TRANSFER_ACCEPT: self.on_transfer_accept,
            TRANSFER_DECLINE: self.on_transfer_decline,
            TRANSFER_CANCEL: self.on_transfer_cancel,
            f.LIBRARY_SEARCH: self.on_library_search,
            f.SITUATION: self.on_situation,
            **Supervision(self.state, self.outbox, self.operator).handlers(),
            f.BOUNDARY: self.on_boundary,
            CHECK_BACK: self.on_check_back,
            IDEA: self.on_idea,
        }

    def _held_conversation(self, frame: dict[str, Any]) -> int:
        f.require(frame, f.FieldSpec("conversation_id", int))
        cid: int = frame["conversation_id"]
        if not self.state.hub.operator_holds(self.operator.id, cid):
            raise f.FrameError(
                f.NOT_YOUR_CONVERSATION,
                f"conversation {cid} is not assigned to you",
                frame.get("client_id") if isinstance(frame.get("client_id"), str) else None,
            )
        return cid

    async def on_status(self, frame: dict[str, Any]) -> None:
        f.require(frame, f.FieldSpec("status", str))
        if frame["status"] not in STATUSES:
            raise f.FrameError(f.UNKNOWN_STATUS, "status must be online, away or offline")
        self.state.hub.operator_status(self.operator.id, frame["status"])
        # To every console of theirs (this one too), in every process: they all show one status.
        await self.state.hub.channels.tell_operator(self.operator.id, f.status_frame(frame["status"]))

    async def on_message(self, frame: dict[str, Any]) -> asyncio.Future[Any] | None:
        received = time.perf_counter()
        client_id, text = check_message(frame, self.state.settings.max_text_chars)
        cid = self._held_conversation(frame)
        placeholders = unfilled_placeholders(text)
        if placeholders:
            raise f.FrameError(
                f.UNFILLED_SLOT,
                "fill these before sending: " + ", ".join(placeholders),
                client_id,
            )
        pending = self.state.hub.operator_message_nowait(
            operator_id=self.operator.id,
            conversation_id=cid,
            client_id=client_id,
            text=text,
            reply=reply_to(self.outbox, client_id, ack_frame, received=received, observe=self._ack_latency),
        )
        if pending is not None:
            return pending
        stored = await self.state.hub.operator_message(
            operator_id=self.operator.id, conversation_id=cid, client_id=client_id, text=text
        )
        self.outbox.put(ack_frame(stored))
        self._ack_latency(time.perf_counter() - received)
        return None

    async def on_typing(self, frame: dict[str, Any]) -> None:
        f.require(frame, f.FieldSpec("on", bool))
        cid = self._held_conversation(frame)
        await self.state.hub.operator_typing(self.operator.id, cid, frame["on"])

    async def on_wrap_up(self, frame: dict[str, Any]) -> None:
        """Ask the visitor whether there is anything else; they decide when the chat is done."""
        await ask_anything_else(self.state, self.operator.id, self._held_conversation(frame))

    async def on_boundary(self, frame: dict[str, Any]) -> None:
        """The abusive visitor protocol: ``step`` warn, cool_down or block (see boundaries.py)."""
        step, reason, signal = check_boundary_frame(frame)
        await set_boundary(
            self.state, self.operator.id, self._held_conversation(frame), step, reason=reason, signal=signal
        )

    async def on_check_back(self, frame: dict[str, Any]) -> None:
        """I don't know yet: tell the visitor when the answer will come; be reminded before then."""
        await promise_check_back(self.state, self.operator.id, self._held_conversation(frame), frame)

    async def on_close(self, frame: dict[str, Any]) -> None:
        cid = self._held_conversation(frame)
        self.state.hub.close_conversation(cid)

    async def on_transfer(self, frame: dict[str, Any]) -> None:
        cid = self._held_conversation(frame)
        reason, benefit = frame.get("reason"), frame.get("benefit")
        if not (isinstance(reason, str) and reason.strip() and isinstance(benefit, str) and benefit.strip()):
            raise f.FrameError(
                f.TRANSFER_REASON_REQUIRED,
                "say why you transfer the visitor ('reason') and what they gain ('benefit')",
            )
        error = await self.state.hub.etiquette.request_transfer(
            self.operator.id, cid, frame, max_text_chars=self.state.settings.max_text_chars
        )
        if error is not None:
            self.outbox.put(f.encode(error))

    def _offered_conversation(self, frame: dict[str, Any]) -> int:
        f.require(frame, f.FieldSpec("conversation_id", int))
        cid: int = frame["conversation_id"]
        return cid

    async def on_transfer_accept(self, frame: dict[str, Any]) -> None:
        """Take a chat offered to you: it becomes yours, with the whole conversation."""
        cid = self._offered_conversation(frame)
        error = await self.state.hub.etiquette.answer_offer(self.operator.id, cid, accept=True)
        if error is not None:
            self.outbox.put(f.encode(error))

    async def on_transfer_decline(self, frame: dict[str, Any]) -> None:
        """Say no to an offer at once, so the next colleague is asked without waiting out the offer."""
        cid = self._offered_conversation(frame)
        error = await self.state.hub.etiquette.answer_offer(self.operator.id, cid, accept=False)
        if error is not None:
            self.outbox.put(f.encode(error))

    async def on_transfer_cancel(self, frame: dict[str, Any]) -> None:
        """Take back your own transfer before anyone accepted it; the visitor is told."""
        cid = self._held_conversation(frame)
        error = await self.state.hub.etiquette.cancel_transfer(self.operator.id, cid)
        if error is not None:
            self.outbox.put(f.encode(error))

    async def on_library_search(self, frame: dict[str, Any]) -> None:
        """Shortcut or word search of the reply library, each reply filled for the chat in view."""
        f.require(
            frame,
            f.FieldSpec("query", str),
            f.FieldSpec("conversation_id", int, required=False),
            f.FieldSpec("language", str, required=False),
        )
        assistant = self.state.hub.assistant
        if assistant is None:
            raise f.FrameError(f.ASSISTANT_OFF, "the assistant is switched off on this server")
        cid = frame.get("conversation_id")
        if cid is not None:
            cid = self._held_conversation(frame)
        items = assistant.search(cid, frame["query"][:200], frame.get("language"))
        self.outbox.put(f.encode(f.library_results_frame(frame["query"], cid, items)))

    async def on_situation(self, frame: dict[str, Any]) -> None:
        """The operator corrects the situation of a visitor message: kept, and suggestions for it."""
        f.require(frame, f.FieldSpec("seq", int), f.FieldSpec("situation", str))
        cid = self._held_conversation(frame)
        assistant = self.state.hub.assistant
        if assistant is None:
            raise f.FrameError(f.ASSISTANT_OFF, "the assistant is switched off on this server")
        label = frame["situation"]
        if label not in LABELS:
            raise f.FrameError(f.INVALID_FIELD, "situation must be one of " + ", ".join(LABELS))
        try:
            feedback, suggestions, usage = assistant.correct(cid, frame["seq"], label)
        except UnknownRecognition as exc:
            raise f.FrameError(f.INVALID_FIELD, str(exc)) from None
        worker = self.state.hub.suggestions
        worker.feedback(feedback, self.operator.id)
        worker.usage(usage)
        # To every console of theirs, like the suggestions it replaces.
        await self.state.hub.channels.tell_operator(self.operator.id, suggestions)

    async def on_idea(self, frame: dict[str, Any]) -> None:
        """Visitor message ``seq`` asks for a feature: record the idea (``text``: its summary)."""
        f.require(frame, f.FieldSpec("seq", int), f.FieldSpec("text", str, required=False))
        cid = self._held_conversation(frame)
        summary = frame.get("text")
        if summary is not None and len(summary) > MAX_SUMMARY:
            raise f.FrameError(f.INVALID_FIELD, f"text: at most {MAX_SUMMARY} characters")
        recorded = await self.state.hub.ideas.heard(
            cid, frame["seq"], operator_id=self.operator.id, summary=summary, language=None
        )
        if recorded is None:
            raise f.FrameError(f.INVALID_FIELD, "seq: not a visitor message of this conversation")
        await self.state.hub.channels.tell_operator(self.operator.id, recorded)


async def _find_operator(state: ServerState, claims: TokenClaims) -> Any:
    """The account the token names, while it is active."""
    operator = await state.writer.read(repo.get_operator, operator_id=int(claims.subject))
    return operator if operator is not None and operator.active else None


OPERATOR_SOCKET = SocketKind(
    token_kind="operator",
    find=_find_operator,
    unknown_reason="unknown or deactivated operator",
    session=OperatorSession,
)


async def operator_endpoint(websocket: WebSocket) -> None:
    await serve_socket(websocket, OPERATOR_SOCKET)
