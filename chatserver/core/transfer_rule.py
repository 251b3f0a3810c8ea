"""Transfers as the core runs them: request, offer, accept, decline, lapse, return.

Etiquette (``docs/etiquette.md``): a transfer needs a reason and a benefit; the visitor is told
how long it will take; the original operator keeps the chat until a colleague accepts, so a
transfer nobody takes goes back home instead of into the void. A target with no free slot is
refused with the alternatives (other teams with room, or queueing with an honest estimate) unless
the operator asked to queue. Each offer holds a slot of the colleague it is offered to.
"""

from __future__ import annotations

from . import events as ev
from .conversation import Conversation, State
from .effects import (
    CancelTimer,
    Effect,
    QueueUpdate,
    Refused,
    Released,
    StartTimer,
    TransferAlternative,
    TransferCompleted,
    TransferMoved,
    TransferOffered,
    TransferOfferWithdrawn,
    TransferReturned,
    TransferStarted,
)
from .estimates import Estimator
from .promises import WaitRule
from .queue import WaitingQueue
from .roster import OperatorState, Roster
from .silence import SilenceRule
from .transfer import Transfer, choose_receiver, serving_targets
from .wait_time import Estimate, HandleTime, RateMeter, RecentDelays

OFFER_PREFIX = "offer:"


class TransferRule:
    """Moves a chat from one operator to a colleague or a team, keeping the visitor informed."""

    def __init__(
        self,
        *,
        conversations: dict[int, Conversation],
        roster: Roster,
        queue: WaitingQueue,
        estimator: Estimator,
        waits: WaitRule,
        silence: SilenceRule,
        handle_time: HandleTime,
        accept_delay: RecentDelays,
        cut_ins: RateMeter,
        default_capacity: int,
        offer_s: float,
        max_offers: int,
    ) -> None:
        self.conversations = conversations
        self.roster = roster
        self.queue = queue
        self.estimator = estimator
        self.waits = waits
        self.silence = silence
        self.handle_time = handle_time
        self.accept_delay = accept_delay
        self.cut_ins = cut_ins
        self.default_capacity = default_capacity
        self.offer_s = offer_s
        self.max_offers = max(max_offers, 1)

    # ------------------------------------------------------------------ events

    def requested(self, e: ev.TransferRequested, now: float, out: list[Effect]) -> None:
        conv = self.conversations.get(e.conversation_id)
        cid = e.conversation_id
        if conv is None or conv.operator_id != e.operator_id:
            out.append(Refused(cid, "not_your_conversation", f"conversation {cid} is not assigned to you"))
            return
        if conv.state is State.TRANSFERRING:
            out.append(Refused(cid, "transfer_in_progress", "this chat is already being transferred"))
            return
        if not (e.reason.strip() and e.benefit.strip()):
            out.append(
                Refused(
                    cid,
                    "transfer_reason_required",
                    "say why you transfer the visitor ('reason') and what they gain ('benefit')",
                )
            )
            return
        if (e.to_operator_id is None) == (e.to_team is None):
            out.append(Refused(cid, "invalid_field", "'to' must name one operator_id or one team"))
            return
        if e.to_operator_id == e.operator_id:
            out.append(Refused(cid, "invalid_field", "you already hold this chat"))
            return
        transfer = Transfer(
            from_operator_id=e.operator_id,
            reason=e.reason.strip(),
            benefit=e.benefit.strip(),
            started_at=now,
            to_operator_id=e.to_operator_id,
            to_team=e.to_team,
            text=e.text,
        )
        online = serving_targets(self.roster, transfer)
        receiver = choose_receiver(self.roster, transfer)
        if receiver is None and not e.queue:
            who = f"operator {e.to_operator_id}" if e.to_operator_id is not None else f"team {e.to_team}"
            if online:
                code, message = "transfer_target_busy", f"nobody in {who} has a free slot right now"
            else:
                code, message = "transfer_target_offline", f"nobody in {who} is online"
            out.append(Refused(cid, code, message, self._alternatives(transfer, now)))
            return
        conv.move(State.TRANSFERRING)
        conv.transfer = transfer
        if receiver is not None:
            estimate = self.estimator.offer_estimate(transfer)
            out.append(self._started(conv, transfer, estimate, queued=False))
            self.waits.enter(conv, now, out)
            self.offer(conv, receiver, now, out, announce=False)
            return
        transfer.queued = True
        conv.priority = True
        self._insert_priority(conv, now)
        figures = self.estimator.queue_figures(now)[conv.id]
        out.append(self._started(conv, transfer, figures.estimate, queued=True))
        self.waits.enter(conv, now, out)
        self.waits.remember(conv.id, figures)
        self.waits.promise(conv, "transfer", figures.estimate, figures.position, now, out)

    def accepted(self, e: ev.TransferAccepted, now: float, out: list[Effect]) -> None:
        conv = self.conversations.get(e.conversation_id)
        transfer = conv.transfer if conv is not None else None
        if conv is None or transfer is None or transfer.offered_to != e.operator_id:
            out.append(
                Refused(e.conversation_id, "no_transfer_offer", "this chat is not offered to you (any more)")
            )
            return
        receiver = self.roster.ensure(e.operator_id, capacity=self.default_capacity)
        receiver.offers.discard(conv.id)
        out.append(CancelTimer(OFFER_PREFIX + str(conv.id)))
        if transfer.first_offered_at is not None:
            # From the first offer, lapsed offers included: what the next visitor will wait.
            self.accept_delay.observe(transfer.to_team, now - transfer.first_offered_at)
        original = self.roster.get(transfer.from_operator_id)
        if original is not None:
            original.chats.discard(conv.id)
            original.idle_since = now
        if conv.assigned_at is not None:
            # The original operator's slot is free again: that is a slot release like any other.
            self.handle_time.observe(conv.team, now - conv.assigned_at)
        conv.transfer = None
        conv.priority = False
        conv.move(State.ASSIGNED)
        conv.operator_id = receiver.operator_id
        conv.assigned_at = now
        if transfer.to_team is not None:
            conv.team = transfer.to_team
        receiver.chats.add(conv.id)
        receiver.idle_since = now
        self.waits.end(conv, now, out, "served")
        out.append(
            TransferCompleted(
                conv.id,
                conv.visitor_id,
                transfer.from_operator_id,
                receiver.operator_id,
                transfer.to_team,
                transfer.reason,
                transfer.benefit,
            )
        )
        out.append(Released(conv.id, transfer.from_operator_id))
        self.silence.operator_changed(conv, now, out)

    def declined(self, e: ev.TransferDeclined, now: float, out: list[Effect]) -> None:
        conv = self.conversations.get(e.conversation_id)
        if conv is None or conv.transfer is None or conv.transfer.offered_to != e.operator_id:
            out.append(
                Refused(e.conversation_id, "no_transfer_offer", "this chat is not offered to you (any more)")
            )
            return
        self.offer_lapsed(conv, now, out, reason="declined")

    def cancelled(self, e: ev.TransferCancelled, now: float, out: list[Effect]) -> None:
        conv = self.conversations.get(e.conversation_id)
        if conv is None or conv.operator_id != e.operator_id:
            cid = e.conversation_id
            out.append(Refused(cid, "not_your_conversation", f"conversation {cid} is not assigned to you"))
            return
        if conv.transfer is None:
            out.append(Refused(conv.id, "no_transfer", "this chat is not being transferred"))
            return
        self._return(conv, now, out, reason="cancelled")

    # ------------------------------------------------------------------ offers

    def offer(
        self, conv: Conversation, op: OperatorState, now: float, out: list[Effect], *, announce: bool
    ) -> Estimate:
        """Offer the chat to ``op`` (out of the line if it was queued) and hold one of their slots."""
        t = conv.transfer
        assert t is not None
        self.queue.remove(conv.id)
        t.queued = False
        t.offered_to = op.operator_id
        t.offered_at = now
        if t.first_offered_at is None:
            t.first_offered_at = now
        t.attempts += 1
        t.tried.add(op.operator_id)
        op.offers.add(conv.id)
        self.waits.forget(conv.id)
        estimate = self.estimator.offer_estimate(t)
        if announce:
            out.append(
                QueueUpdate(
                    conv.id,
                    conv.visitor_id,
                    1,
                    estimate.seconds,
                    1,
                    estimate.low,
                    estimate.high,
                    kind="transfer",
                    low_ms=estimate.low_ms,
                    high_ms=estimate.high_ms,
                )
            )
        expires = now + self.offer_s
        out.append(
            TransferOffered(
                conv.id,
                conv.visitor_id,
                t.from_operator_id,
                op.operator_id,
                t.reason,
                t.benefit,
                t.attempts,
                expires,
            )
        )
        out.append(StartTimer(OFFER_PREFIX + str(conv.id), expires))
        # The promise outlives the offer by the notice time: a lapsed offer is always told first.
        self.waits.promise(conv, "transfer", estimate, None, now, out, timer=False)
        return estimate

    def offer_lapsed(self, conv: Conversation, now: float, out: list[Effect], *, reason: str) -> None:
        """Nobody took the offer in time (or it was declined): the next colleague, else back home."""
        t = conv.transfer
        if t is None or t.offered_to is None:
            return
        self._withdraw(conv, out, reason)
        if t.to_team is not None and t.attempts < self.max_offers:
            receiver = choose_receiver(self.roster, t)
            if receiver is not None:
                estimate = self.estimator.offer_estimate(t)
                out.append(
                    TransferMoved(
                        conv.id,
                        conv.visitor_id,
                        t.from_operator_id,
                        t.to_team,
                        estimate.seconds,
                        estimate.low,
                        estimate.high,
                    )
                )
                self.offer(conv, receiver, now, out, announce=False)
                return
        self._return(conv, now, out, reason="no_taker")

    def drop(self, conv: Conversation, out: list[Effect], *, reason: str) -> None:
        """End the transfer without a return (the chat closed or its operator is gone)."""
        self._withdraw(conv, out, reason)
        if conv.transfer is not None and conv.transfer.queued:
            self.queue.remove(conv.id)
        conv.transfer = None
        conv.priority = False
        self.waits.forget(conv.id)

    # ------------------------------------------------------------------ internals

    def _started(
        self, conv: Conversation, t: Transfer, estimate: Estimate, *, queued: bool
    ) -> TransferStarted:
        return TransferStarted(
            conv.id,
            conv.visitor_id,
            t.from_operator_id,
            t.to_operator_id,
            t.to_team,
            t.reason,
            t.benefit,
            t.text,
            queued,
            estimate.seconds,
            estimate.low,
            estimate.high,
        )

    def _insert_priority(self, conv: Conversation, now: float) -> None:
        index = self.queue.insert_before_first(conv.id, lambda cid: not self.conversations[cid].priority)
        if index < len(self.queue) - 1:
            self.cut_ins.hit(now)

    def _withdraw(self, conv: Conversation, out: list[Effect], reason: str) -> None:
        t = conv.transfer
        if t is None or t.offered_to is None:
            return
        op = self.roster.get(t.offered_to)
        if op is not None:
            op.offers.discard(conv.id)
        out.append(TransferOfferWithdrawn(conv.id, t.offered_to, reason))
        out.append(CancelTimer(OFFER_PREFIX + str(conv.id)))
        t.offered_to = None

    def _return(self, conv: Conversation, now: float, out: list[Effect], *, reason: str) -> None:
        """The original operator keeps the chat: the transfer is over."""
        t = conv.transfer
        assert t is not None and conv.operator_id is not None
        self.drop(conv, out, reason=reason)
        conv.move(State.ASSIGNED)
        self.waits.end(conv, now, out, "returned")
        out.append(
            TransferReturned(conv.id, conv.visitor_id, conv.operator_id, t.to_operator_id, t.to_team, reason)
        )

    def _alternatives(self, t: Transfer, now: float) -> tuple[TransferAlternative, ...]:
        """Other teams with room now, then "queue and wait anyway" with its honest estimate."""
        teams = sorted({team for op in self.roster if op.serving for team in op.teams} - {t.to_team})
        found: list[TransferAlternative] = []
        for team in teams:
            probe = Transfer(
                from_operator_id=t.from_operator_id, reason="", benefit="", started_at=now, to_team=team
            )
            online = serving_targets(self.roster, probe)
            free = sum(op.free_slots for op in online)
            if free <= 0:
                continue
            estimate = self.estimator.offer_estimate(probe)
            found.append(
                TransferAlternative(
                    team, False, len(online), free, estimate.seconds, estimate.low, estimate.high
                )
            )
        queued = self.estimator.if_queued(t, now)
        estimate = queued.estimate
        found.append(
            TransferAlternative(
                t.to_team, True, queued.online, 0, estimate.seconds, estimate.low, estimate.high
            )
        )
        return tuple(found)
