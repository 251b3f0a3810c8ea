"""Supervisors over sockets: watching a live chat silently, whispering to its operator, taking it over.

A supervisor is an operator account whose role is ``supervisor`` (admins count as supervisors
too). Watching subscribes the supervisor's socket to the conversation's channel after a replay
of its history, exactly as an operator's briefing does, but the core is never told: nobody in
the chat sees a change and no slot is taken. Whispers are stored in their own table, never with
the messages, so no path that reads messages for a visitor (replays, resumes, transcripts, past
chats) can carry them; they are published only on ``operator:<id>`` channels. A take-over is a
transfer from the holder to the supervisor, with a reason and a benefit like any other, which
the supervisor accepts at once. Watchers are told when the chat closes (``watchers.py``).
"""

from __future__ import annotations

from typing import Any

from chatserver.storage import repository as repo

from . import frames as f
from .channels import conv_channel
from .connection import MAX_CLIENT_ID
from .outbox import Outbox
from .state import ServerState

SUPERVISING_ROLES = frozenset({"supervisor", "admin"})


def is_supervisor(operator: Any) -> bool:
    return getattr(operator, "role", None) in SUPERVISING_ROLES


class Supervision:
    """The supervisor frames of one operator socket."""

    def __init__(self, state: ServerState, outbox: Outbox, operator: Any) -> None:
        self.state = state
        self.outbox = outbox
        self.operator = operator

    def handlers(self) -> dict[str, Any]:
        return {
            f.WATCH: self.on_watch,
            f.UNWATCH: self.on_unwatch,
            f.WHISPER: self.on_whisper,
            f.TAKE_OVER: self.on_take_over,
        }

    def _check(self, frame: dict[str, Any]) -> int:
        """The conversation a supervisor's frame names, once the sender is a supervisor."""
        client_id = frame.get("client_id") if isinstance(frame.get("client_id"), str) else None
        if not is_supervisor(self.operator):
            raise f.FrameError(f.NOT_A_SUPERVISOR, "only supervisors and admins may do this", client_id)
        f.require(frame, f.FieldSpec("conversation_id", int))
        cid: int = frame["conversation_id"]
        if self.state.hub.engine.conversation(cid) is None:
            raise f.FrameError(f.UNKNOWN_CONVERSATION, f"there is no open conversation {cid}", client_id)
        return cid

    async def on_watch(self, frame: dict[str, Any]) -> None:
        """``watch``: who is in the chat, then its messages so far, then every new one, silently."""
        cid = self._check(frame)
        hub = self.state.hub
        conv = hub.engine.conversation(cid)
        assert conv is not None
        hub.watchers.add(cid, self.outbox, self.operator.id)
        self.outbox.put(
            f.encode(
                f.watch_frame(
                    cid, visitor_id=conv.visitor_id, operator_id=conv.operator_id, state=conv.state.value
                )
            )
        )
        for w in await self.state.writer.read(repo.whispers_for, conversation_id=cid):
            supervisor = await hub.directory.public(w.supervisor_id)
            self.outbox.put(
                f.encode(
                    f.whisper_frame(
                        cid,
                        whisper_id=w.id,
                        text=w.text,
                        ts=w.ts,
                        supervisor=supervisor,
                        operator_id=w.operator_id,
                    )
                )
            )
        await hub.relay.replay(self.outbox, cid, 0)

    async def on_unwatch(self, frame: dict[str, Any]) -> None:
        """``unwatch``: no more of the chat's messages, unless the supervisor holds it by now."""
        client_id = frame.get("client_id") if isinstance(frame.get("client_id"), str) else None
        if not is_supervisor(self.operator):
            raise f.FrameError(f.NOT_A_SUPERVISOR, "only supervisors and admins may do this", client_id)
        f.require(frame, f.FieldSpec("conversation_id", int))
        cid: int = frame["conversation_id"]
        self.state.hub.watchers.remove(cid, self.outbox)
        if not self.state.hub.operator_holds(self.operator.id, cid):
            self.state.hub.channels.unlisten(conv_channel(cid), self.outbox)
        self.outbox.put(f.encode(f.unwatch_frame(cid)))

    async def on_whisper(self, frame: dict[str, Any]) -> None:
        """``whisper``: stored apart from messages, sent to the holder and the supervisor only."""
        cid = self._check(frame)
        f.require(frame, f.FieldSpec("text", str), f.FieldSpec("client_id", str, required=False))
        client_id: str | None = frame.get("client_id")
        text: str = frame["text"]
        max_chars = self.state.settings.max_text_chars
        if client_id is not None and not 0 < len(client_id) <= MAX_CLIENT_ID:
            raise f.FrameError(f.INVALID_FIELD, f"'client_id' must be 1 to {MAX_CLIENT_ID} characters")
        if not text.strip():
            raise f.FrameError(f.INVALID_FIELD, "'text' must not be empty", client_id)
        if len(text) > max_chars:
            raise f.FrameError(f.TEXT_TOO_LONG, f"'text' is longer than {max_chars} characters", client_id)
        hub = self.state.hub
        conv = hub.engine.conversation(cid)
        holder = conv.operator_id if conv is not None else None
        if holder is None:
            raise f.FrameError(f.NO_OPERATOR, "no operator holds this chat yet", client_id)
        stored = await self.state.writer.run(
            repo.add_whisper,
            conversation_id=cid,
            supervisor_id=self.operator.id,
            operator_id=holder,
            text=text,
            ts=hub.clock(),
        )
        supervisor = await hub.directory.public(self.operator.id)
        whisper = f.whisper_frame(
            cid,
            whisper_id=stored.id,
            text=text,
            ts=stored.ts,
            supervisor=supervisor,
            operator_id=holder,
            client_id=client_id,
        )
        await hub.channels.tell_operator(holder, whisper)
        if holder != self.operator.id:
            await hub.channels.tell_operator(self.operator.id, whisper)

    async def on_take_over(self, frame: dict[str, Any]) -> None:
        """``take_over``: a transfer to the supervisor, with a reason and a benefit, accepted at once."""
        cid = self._check(frame)
        reason, benefit = frame.get("reason"), frame.get("benefit")
        if not (isinstance(reason, str) and reason.strip() and isinstance(benefit, str) and benefit.strip()):
            raise f.FrameError(
                f.TRANSFER_REASON_REQUIRED,
                "say why you take the chat over ('reason') and what the visitor gains ('benefit')",
            )
        hub = self.state.hub
        conv = hub.engine.conversation(cid)
        holder = conv.operator_id if conv is not None else None
        if holder is None:
            raise f.FrameError(f.NO_OPERATOR, "no operator holds this chat yet")
        if holder == self.operator.id:
            raise f.FrameError(f.INVALID_FIELD, "you already hold this chat")
        transfer = {"reason": reason, "benefit": benefit, "to": {"operator_id": self.operator.id}}
        if isinstance(frame.get("text"), str):
            transfer["text"] = frame["text"]
        etiquette = hub.etiquette
        error = await etiquette.request_transfer(
            holder, cid, transfer, max_text_chars=self.state.settings.max_text_chars
        )
        if error is None:
            error = await etiquette.answer_offer(self.operator.id, cid, accept=True)
        if error is not None:
            self.outbox.put(f.encode(error))
