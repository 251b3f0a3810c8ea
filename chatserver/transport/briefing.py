"""Bringing a socket up to date on one conversation: an operator's briefing, a visitor's standing.

An operator who gets a chat (assigned, transferred, or reconnecting) receives ``assigned`` with
who the visitor is, then the whole conversation so far, in order, then what it still owes the
visitor (a pending ``check_back``, an unanswered ``message_left``). A visitor who reconnects is
told who is with them, or where they stand in line: the figures they were last promised.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine as DbEngine

from chatserver.assistant import Assistant
from chatserver.core.engine import Engine
from chatserver.customers.context import context_for_assigned, contexts_for_assigned
from chatserver.storage import repository as repo
from chatserver.storage.models import ConversationPublic
from chatserver.storage.records import StoredMessage
from chatserver.storage.writer import MessageWriter

from . import frames as f
from .channels import Channels, conv_channel
from .check_back_appliers import owed_answer_frames
from .core_driver import Clock
from .directory import OperatorDirectory
from .message_relay import REPLAY_BATCH, MessageRelay
from .outbox import Outbox
from .suggestion_worker import SuggestionWorker


@dataclass(slots=True)
class _Brief:
    """What one briefing reads: the conversation, the context beside it, its messages."""

    conversation: ConversationPublic
    customer: dict[str, Any] | None
    messages: list[StoredMessage] | None  # None: too long for the run's read, replayed alone


def _read_briefs(engine: DbEngine, *, conversation_ids: Sequence[int]) -> dict[int, _Brief]:
    """A run of briefings' reads in one trip to a reader thread, a few statements for all."""
    conversations = repo.get_conversations(engine, conversation_ids=conversation_ids)
    customers = contexts_for_assigned(engine, conversations=list(conversations.values()))
    short = [cid for cid, c in conversations.items() if c.last_seq <= REPLAY_BATCH]
    messages = repo.messages_of(engine, conversation_ids=short, max_seq=REPLAY_BATCH)
    return {cid: _Brief(c, customers.get(cid), messages.get(cid)) for cid, c in conversations.items()}


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
        channels: Channels | None = None,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._channels = channels
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
        await self._assistant_context(conv, customer)
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

    async def _assistant_context(self, conv: ConversationPublic, customer: dict[str, Any] | None) -> None:
        """The names the assistant fills into its suggestions for this chat."""
        if self._assistant is None:
            return
        info = await self._directory.public(conv.operator_id) if conv.operator_id else None
        name = str(customer["name"]) if customer and customer["name"] else None
        self._assistant.set_context(
            conv.id,
            {
                "customer.name": name,
                "customer.first_name": name.split()[0] if name else None,
                "operator.name": info["name"] if info else None,
                "operator.title": info["title"] if info else None,
            },
        )

    async def brief_run(self, assignments: Sequence[tuple[int, int]]) -> None:
        """`brief_everywhere` for a run of (operator, conversation) assignments at once: the
        same frames in the same order per socket, the reads of all of them in one trip."""
        wanted = [(cid, outbox) for oid, cid in assignments for outbox in self._directory.outboxes(oid)]
        if not wanted:
            return
        if self._channels is None:
            await asyncio.gather(*(self.brief_operator(outbox, cid) for cid, outbox in wanted))
            return
        known = {cid: self._suggestions.last_seq(cid) for cid, _ in wanted}
        for cid, outbox in wanted:  # live messages wait from here until their history is sent
            outbox.begin_sync(cid, 0)
            self._channels.listen(conv_channel(cid), outbox)
        for outbox in {id(o): o for _, o in wanted}.values():
            await outbox.subscriptions_ready()
        try:
            briefs = await self._writer.read(_read_briefs, conversation_ids=sorted(known))
        except BaseException:
            for cid, outbox in wanted:
                outbox.end_sync(cid, [])
            raise
        for cid, outbox in wanted:
            brief = briefs.get(cid)
            if brief is None:
                outbox.end_sync(cid, [])
                self._channels.unlisten(conv_channel(cid), outbox)
                continue
            conv = brief.conversation
            await self._assistant_context(conv, brief.customer)
            frame = f.operator_assigned_frame(
                cid, visitor_id=conv.visitor_id, locale=conv.locale, customer=brief.customer
            )
            outbox.put(f.encode(frame))
            if brief.messages is None:
                try:
                    history = await self._relay.history(cid, 0)
                except BaseException:
                    outbox.end_sync(cid, [])
                    raise
            else:
                history = [(m.seq, f.encode(f.message_frame(m))) for m in brief.messages]
            outbox.end_sync(cid, history)
            if self._assistant is not None:
                self._suggestions.request_again(cid, known=known[cid])

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
