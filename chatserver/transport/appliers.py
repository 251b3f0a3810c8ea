"""What each effect of the core means over sockets: two tables from effect type to its appliers.

The core's effects are applied one at a time, in order (``CoreDriver``). Every process computes
the same effects (``core_log``), so each effect has two parts: the *shared* part (storage,
claims, messages published to channels) is carried out once, by the leader, and the *local*
part (this process's sockets and caches: briefing the operator's consoles here, forgetting a
closed chat) by every process. With one process that process is the leader and does both.

The conversation's own life (assigned, waiting, requeued, released, closed) is applied here; the
transfers, waits and promises by the modules named in the tables. Timers are the driver's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from chatserver.broker.base import Broker
from chatserver.core import events as ev
from chatserver.core import texts
from chatserver.core.effects import (
    AnswerLater,
    Assign,
    Closed,
    Effect,
    HoldingLine,
    HoldMessage,
    LateNotice,
    MessageLeft,
    PromiseMade,
    PromiseSettled,
    QueueUpdate,
    Refused,
    Released,
    Requeued,
    SilenceNudge,
    TransferCompleted,
    TransferMoved,
    TransferOffered,
    TransferOfferWithdrawn,
    TransferReturned,
    TransferStarted,
)
from chatserver.logs import context, effect_context
from chatserver.storage import repository as repo
from chatserver.storage.writer import MessageWriter

from . import frames as f
from .briefing import Briefing
from .channels import Channels, conv_channel, operator_channel, visitor_channel
from .core_driver import CoreDriver
from .directory import OperatorDirectory
from .message_relay import MessageRelay
from .open_conversations import OpenConversations
from .promises import PromiseRecorder
from .suggestion_worker import SuggestionWorker
from .transfers import Transfers
from .waiting import Waiting

log = logging.getLogger("chatserver.hub")

Applier = Callable[[Any], Awaitable[None]]


class EffectAppliers:
    """Carries out each effect the core returns, looked up by its type."""

    def __init__(
        self,
        *,
        core: CoreDriver,
        broker: Broker,
        writer: MessageWriter,
        channels: Channels,
        directory: OperatorDirectory,
        conversations: OpenConversations,
        relay: MessageRelay,
        briefing: Briefing,
        suggestions: SuggestionWorker,
        transfers: Transfers,
        waiting: Waiting,
        promises: PromiseRecorder,
        observe_assignment: Callable[[float], None] | None = None,
    ) -> None:
        self._core = core
        self._broker = broker
        self._writer = writer
        self._channels = channels
        self._directory = directory
        self._conversations = conversations
        self._relay = relay
        self._briefing = briefing
        self._suggestions = suggestions
        self._observe_assignment = observe_assignment
        # Carried out once, by the leader.
        self.shared: dict[type[Effect], Applier] = {
            Assign: self._assign,
            QueueUpdate: self._queue_update,
            Requeued: self._requeued,
            Closed: self._closed,
            TransferStarted: transfers.started,
            TransferOffered: transfers.offered,
            TransferOfferWithdrawn: transfers.withdrawn,
            TransferMoved: transfers.moved,
            TransferCompleted: transfers.completed,
            TransferReturned: transfers.returned,
            LateNotice: waiting.late,
            HoldMessage: waiting.hold,
            MessageLeft: waiting.message_left,
            AnswerLater: waiting.answer_later,
            SilenceNudge: waiting.nudge,
            HoldingLine: waiting.holding_line,
            PromiseMade: promises.made,
            PromiseSettled: promises.settled,
        }
        # Carried out by every process, for its own sockets and caches.
        self.local: dict[type[Effect], Applier] = {
            Assign: self._assign_here,
            Released: self._released,
            Closed: self._closed_here,
            TransferCompleted: transfers.completed_here,
        }

    async def apply(self, effect: Effect) -> None:
        kind = type(effect)
        shared, local = self.shared.get(kind), self.local.get(kind)
        if shared is not None and self._core.leader:
            await shared(effect)
        if local is not None:
            await local(effect)
        if shared is None and local is None:
            if isinstance(effect, Refused):
                log.info("refused without anyone asking: %r", effect, extra=effect_context(effect))
            else:
                log.warning("no applier for %r", effect, extra=effect_context(effect))

    # ------------------------------------------------------------------ the conversation's own life

    #: Effects applied a run at a time (`apply_run`): consecutive assignments.
    batched: frozenset[type] = frozenset({Assign})

    async def apply_run(self, effects: list[Effect]) -> None:
        """Consecutive assignments together: claims and frames as one by one, the state writes
        in one group commit, the operators' briefings side by side."""
        assigns = [e for e in effects if isinstance(e, Assign)]
        if self._core.leader:
            assigns = await self._assign_all(assigns)
        await self._briefing.brief_run([(e.operator_id, e.conversation_id) for e in assigns])

    async def _assign_all(self, effects: list[Assign]) -> list[Assign]:
        """The shared part of a run of assignments; the ones that were carried out."""
        claims = await asyncio.gather(
            *(
                self._broker.claim(f"claim:conv:{e.conversation_id}", f"operator:{e.operator_id}")
                for e in effects
            )
        )
        won: list[Assign] = []
        for effect, claimed in zip(effects, claims, strict=True):
            if claimed:
                won.append(effect)
            else:
                self._core.dispatch(ev.ClaimLost(effect.conversation_id, effect.operator_id))
        now = self._core.clock()
        writes = [
            self._writer.bulk(
                repo.assign_conversations,
                conversation_id=e.conversation_id,
                operator_id=e.operator_id,
                now=now,
                sticky=e.sticky,
            )
            for e in won
        ]
        written = await asyncio.gather(*writes, return_exceptions=True)
        done: list[Assign] = []
        for effect, outcome in zip(won, written, strict=True):
            if isinstance(outcome, BaseException):
                log.error("could not record %r: %r", effect, outcome, extra=effect_context(effect))
                continue
            done.append(effect)
            await self._after_assign_written(effect)
        return done

    async def _assign(self, effect: Assign) -> None:
        cid, oid = effect.conversation_id, effect.operator_id
        if not await self._broker.claim(f"claim:conv:{cid}", f"operator:{oid}"):
            self._core.dispatch(ev.ClaimLost(cid, oid))
            return
        await self._writer.run(
            repo.set_conversation_state,
            conversation_id=cid,
            state="assigned",
            operator_id=oid,
            now=self._core.clock(),
            event_kind="assigned",
            data={"sticky": effect.sticky},
        )
        await self._after_assign_written(effect)

    async def _after_assign_written(self, effect: Assign) -> None:
        """Once the assignment is stored: the wait it ended is measured, the visitor told."""
        cid, oid = effect.conversation_id, effect.operator_id
        if self._observe_assignment is not None and not effect.sticky:
            conv = self._core.engine.conversation(cid)
            if conv is not None and conv.waiting_since:
                self._observe_assignment(max(0.0, self._core.clock() - conv.waiting_since))
        info = await self._directory.public(oid)
        await self._channels.publish(visitor_channel(effect.visitor_id), f.visitor_assigned_frame(cid, info))

    async def _assign_here(self, effect: Assign) -> None:
        await self._briefing.brief_everywhere(effect.operator_id, effect.conversation_id)

    async def _queue_update(self, effect: QueueUpdate) -> None:
        frame = f.queue_frame(
            effect.conversation_id,
            position=effect.position,
            estimated_wait_s=effect.estimated_wait_s,
            operators_online=effect.operators_online,
            low_s=effect.low_s,
            high_s=effect.high_s,
            kind=effect.kind,
            late=effect.late,
            low_ms=effect.low_ms,
            high_ms=effect.high_ms,
        )
        await self._channels.publish(visitor_channel(effect.visitor_id), frame)

    async def _requeued(self, effect: Requeued) -> None:
        cid = effect.conversation_id
        log.info(
            "conversation %s back in line (%s)",
            cid,
            effect.reason,
            extra=context(cid, effect.operator_id, effect.visitor_id),
        )
        await self._broker.release(f"claim:conv:{cid}", f"operator:{effect.operator_id}")
        await self._writer.run(
            repo.set_conversation_state,
            conversation_id=cid,
            state="waiting",
            operator_id=None,
            now=self._core.clock(),
            event_kind="requeued",
            data={"reason": effect.reason, "operator_id": effect.operator_id},
        )
        await self._relay.system_message(cid, texts.text(effect.reason, self._conversations.locale(cid)))

    async def _released(self, effect: Released) -> None:
        for outbox in self._directory.outboxes(effect.operator_id):
            self._channels.unlisten(conv_channel(effect.conversation_id), outbox)
            outbox.put(f.encode(f.released_frame(effect.conversation_id)))

    async def _closed(self, effect: Closed) -> None:
        cid = effect.conversation_id
        log.info("conversation %s closed", cid, extra=context(cid, effect.operator_id, effect.visitor_id))
        await self._writer.run(
            repo.set_conversation_state,
            conversation_id=cid,
            state="closed",
            operator_id=effect.operator_id,
            now=self._core.clock(),
            event_kind="closed",
        )
        if effect.operator_id is not None:
            await self._broker.release(f"claim:conv:{cid}", f"operator:{effect.operator_id}")
        closed = f.closed_frame(cid)
        await self._channels.publish(visitor_channel(effect.visitor_id), closed)
        if effect.operator_id is not None:
            await self._channels.publish(operator_channel(effect.operator_id), closed)

    async def _closed_here(self, effect: Closed) -> None:
        cid = effect.conversation_id
        self._conversations.closed(effect.visitor_id, cid)
        self._suggestions.conversation_closed(cid)
        self._channels.unlisten_everyone(conv_channel(cid))
