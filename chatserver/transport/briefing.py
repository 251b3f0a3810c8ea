"""Bringing a socket up to date on one conversation: an operator's briefing, a visitor's standing.

An operator who gets a chat (assigned, transferred, or reconnecting) receives ``assigned`` with
who the visitor is, then the whole conversation so far, in order, then what it still owes the
visitor (a pending ``check_back``, an unanswered ``message_left``). A visitor who reconnects is
told who is with them, or where they stand in line: the figures they were last promised.
"""

from __future__ import annotations

from chatserver.assistant import Assistant
from chatserver.core.engine import Engine
from chatserver.customers.context import context_for_assigned
from chatserver.storage import repository as repo
from chatserver.storage.writer import MessageWriter

from . import frames as f
from .check_back_appliers import owed_answer_frames
from .core_driver import Clock
from .directory import OperatorDirectory
from .message_relay import MessageRelay
from .outbox import Outbox
from .suggestion_worker import SuggestionWorker


class Briefing:
    """Writes the frames that bring one socket up to date on one conversation."""

    def __init__(
        self,
        *,
        engine: Engine,
        writer: MessageWriter,
        directory: OperatorDirectory,
        relay: MessageRelay,
        suggestions: SuggestionWorker,
        assistant: Assistant | None,
        clock: Clock,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._writer = writer
        self._directory = directory
        self._relay = relay
        self._suggestions = suggestions
        self._assistant = assistant

    async def brief_operator(self, outbox: Outbox, conversation_id: int) -> None:
        """``assigned`` with who the visitor is, then the whole conversation so far, in order."""
        known = self._suggestions.last_seq(conversation_id)
        conv = await self._writer.read(repo.get_conversation, conversation_id=conversation_id)
        if conv is None:
            return
        customer = await context_for_assigned(self._writer, conv)
        if self._assistant is not None:
            info = await self._directory.public(conv.operator_id) if conv.operator_id else None
            name = str(customer["name"]) if customer and customer["name"] else None
            self._assistant.set_context(
                conversation_id,
                {
                    "customer.name": name,
                    "customer.first_name": name.split()[0] if name else None,
                    "operator.name": info["name"] if info else None,
                    "operator.title": info["title"] if info else None,
                },
            )
        outbox.put(
            f.encode(
                f.operator_assigned_frame(
                    conversation_id, visitor_id=conv.visitor_id, locale=conv.locale, customer=customer
                )
            )
        )
        await self._relay.replay(outbox, conversation_id, 0)
        # What the chat still owes (a check-back, a left message): a console that reloads shows it again.
        for frame in await owed_answer_frames(self._engine, self._writer, conversation_id, self._clock()):
            outbox.put(f.encode(frame))
        if self._assistant is not None:
            self._suggestions.request_again(conversation_id, known=known)

    async def brief_everywhere(self, operator_id: int, conversation_id: int) -> None:
        """Brief every socket the operator has open in this process."""
        for outbox in self._directory.outboxes(operator_id):
            await self.brief_operator(outbox, conversation_id)

    async def send_conversation_state(self, outbox: Outbox, conversation_id: int) -> None:
        """To a visitor's socket: who is with them, or where they stand in line."""
        conv = self._engine.conversation(conversation_id)
        if conv is None:
            return
        if conv.operator_id is not None:
            info = await self._directory.public(conv.operator_id)
            outbox.put(f.encode(f.visitor_assigned_frame(conversation_id, info)))
            return
        figures = self._engine.queue_view.figures(conversation_id)
        if figures is not None:
            # The figures the visitor was last given: the promise they hold.
            frame = f.queue_frame(
                conversation_id,
                position=figures.position,
                estimated_wait_s=figures.estimate.seconds,
                operators_online=figures.online,
                low_s=figures.estimate.low,
                high_s=figures.estimate.high,
                kind="queue",
                low_ms=figures.estimate.low_ms,
                high_ms=figures.estimate.high_ms,
            )
            outbox.put(f.encode(frame))
            return
        row = self._engine.queue_view.waiting(conversation_id)
        if row is not None:
            # Only the estimate is known here, not the range around it.
            frame = f.queue_frame(
                conversation_id,
                position=row.position,
                estimated_wait_s=row.estimated_wait_s,
                operators_online=self._engine.presence.online_count(conv.team),
                low_s=None,
                high_s=None,
                kind="queue",
            )
            outbox.put(f.encode(frame))
