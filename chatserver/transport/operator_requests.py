"""What an operator's socket asks of the server: join and leave, status, messages, typing, close.

An operator's sockets (one per open console) are known to the directory; the first to join
connects the operator in the core, the last to leave disconnects them, and every joining
socket is briefed on the chats the operator holds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from chatserver.assistant import Assistant, Feedback
from chatserver.core import events as ev
from chatserver.core.engine import Engine
from chatserver.storage.records import NewMessage, StoredMessage
from chatserver.storage.writer import MessageWriter

from . import frames as f
from .briefing import Briefing
from .channels import Channels, operator_channel
from .core_driver import Clock, CoreDriver
from .directory import OperatorDirectory, OperatorInfo
from .message_relay import MessageRelay, OnCommitted
from .outbox import Outbox
from .suggestion_worker import SuggestionWorker


class OperatorRequests:
    """Joins, status, messages, typing and closes from operators' sockets; deactivation by admins."""

    def __init__(
        self,
        *,
        engine: Engine,
        writer: MessageWriter,
        clock: Clock,
        core: CoreDriver,
        channels: Channels,
        relay: MessageRelay,
        directory: OperatorDirectory,
        briefing: Briefing,
        suggestions: SuggestionWorker,
        assistant: Assistant | None,
    ) -> None:
        self._engine = engine
        self._writer = writer
        self._clock = clock
        self._core = core
        self._channels = channels
        self._relay = relay
        self._directory = directory
        self._briefing = briefing
        self._suggestions = suggestions
        self._assistant = assistant
        self.on_pick: list[Callable[[Feedback, int | None], None]] = []  # a suggested reply was sent

    def holds(self, operator_id: int, conversation_id: object) -> bool:
        conv = self._engine.conversation(conversation_id) if isinstance(conversation_id, int) else None
        return conv is not None and conv.held_by(operator_id)

    async def joined(self, outbox: Outbox, operator: Any) -> None:
        oid = operator.id
        self._directory.remember(operator)
        self._channels.listen(operator_channel(oid), outbox)
        first = self._directory.connected(oid, outbox)
        await outbox.subscriptions_ready()
        if first:
            # Awaited: the chats listed below must include any the connection brought back.
            await self._core.ask(
                ev.OperatorConnected(oid, frozenset(operator.teams), operator.capacity, self._core.process)
            )
        await self._core.settle()
        for cid in self._engine.presence.operator(oid).chat_ids:
            await self._briefing.brief_operator(outbox, cid)

    async def left(self, outbox: Outbox, operator_id: int) -> None:
        if self._directory.disconnected(operator_id, outbox):
            self._core.dispatch(ev.OperatorDisconnected(operator_id, self._core.process))

    def status(self, operator_id: int, status: str) -> None:
        self._core.dispatch(ev.OperatorStatusChanged(operator_id, status))

    async def message(
        self, *, operator_id: int, conversation_id: int, client_id: str, text: str
    ) -> StoredMessage:
        info = await self._directory.public(operator_id)
        stored = await self._relay.fan_out_committed(
            self._writer.submit(self._new_message(info, conversation_id, client_id, text))
        )
        self._after_message(stored, text)
        return stored

    def message_nowait(
        self, *, operator_id: int, conversation_id: int, client_id: str, text: str, reply: OnCommitted
    ) -> asyncio.Future[StoredMessage] | None:
        """`VisitorRequests.message_nowait` for operators; None until the operator's name is known here."""
        info = self._directory.cached(operator_id)
        if info is None:
            return None
        pending = self._writer.submit(self._new_message(info, conversation_id, client_id, text))
        self._relay.when_committed(pending, reply, lambda stored: self._after_message(stored, text))
        return pending

    def _new_message(self, info: OperatorInfo, conversation_id: int, client_id: str, text: str) -> NewMessage:
        return NewMessage(
            conversation_id,
            "operator",
            str(info["id"]),
            client_id,
            text,
            self._clock(),
            author_name=info["name"],
            author_title=info["title"],
        )

    def _after_message(self, stored: StoredMessage, text: str) -> None:
        if stored.duplicate:
            return
        self._core.dispatch(ev.OperatorReplied(stored.conversation_id))
        if self._assistant is not None:
            usage, picked = self._assistant.operator_reply(stored.conversation_id, text)
            self._suggestions.usage(usage)
            operator_id = int(stored.sender_id) if stored.sender_id.isdigit() else None
            self._suggestions.feedback(picked, operator_id)
            if picked is not None:
                for hook in self.on_pick:
                    hook(picked, operator_id)

    async def typing(self, operator_id: int, conversation_id: int, on: bool) -> None:
        conv = self._engine.conversation(conversation_id)
        if conv is None:
            return
        await self._channels.tell_visitor(conv.visitor_id, f.typing_frame(conversation_id, on, "operator"))

    def close_conversation(self, conversation_id: int) -> None:
        self._core.dispatch(ev.ConversationClosed(conversation_id))

    async def deactivate(self, operator_id: int) -> None:
        """Close the operator's sockets now and hand their chats back to the queue at once."""
        self._directory.drop(operator_id)
        for outbox in self._directory.outboxes(operator_id):
            await outbox.close(f.CLOSE_UNAUTHORIZED, "account deactivated")
        self._directory.disconnect_all(operator_id)
        self._core.dispatch(ev.OperatorDisconnected(operator_id, everywhere=True))
        self._core.dispatch(ev.TimerFired(f"grace:{operator_id}"))
