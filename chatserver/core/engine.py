"""The single entry point of the domain core: ``receive(event, now) -> effects``.

No asyncio, sockets, SQL or clock in here: the adapters feed events with the current time
and carry out the effects (persist, claim, deliver, set timers), like the sans-I/O protocol
object of the ``websockets`` library is driven by its asyncio connection.

Besides routing, the core enforces the waiting etiquette (``docs/etiquette.md``): transfers with
a reason, a benefit and a wait; honest estimates, each recorded as a promise and revised before
it would be broken; hold messages while the visitor waits; and no silence once an operator holds
the chat.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import events as ev
from .conversation import Conversation, State
from .effects import (
    AnswerLater,
    Assign,
    CancelTimer,
    Closed,
    Effect,
    HoldMessage,
    LateNotice,
    MessageLeft,
    PromiseMade,
    PromiseSettled,
    QueueUpdate,
    Refused,
    Released,
    Requeued,
    StartTimer,
    TransferAlternative,
    TransferCompleted,
    TransferMoved,
    TransferOffered,
    TransferOfferWithdrawn,
    TransferReturned,
    TransferStarted,
)
from .queue import WaitingQueue
from .roster import OFFLINE, ONLINE, STATUSES, OperatorState, Roster
from .routing import choose_operator
from .silence import SILENCE_PREFIX, SilenceRule
from .transfer import Transfer, choose_receiver, serving_targets
from .wait_time import (
    NO_ESTIMATE,
    Estimate,
    HandleTime,
    RateMeter,
    RecentDelays,
    estimate_wait,
    meaningfully_different,
)

GRACE_PREFIX = "grace:"
OFFER_PREFIX = "offer:"
HOLD_PREFIX = "hold:"
PROMISE_PREFIX = "promise:"
# The shortest range end we promise: a shorter one would be re-announced before anyone read it.
MIN_PROMISE_S = 2


# Events that never free a slot or move the line: no routing pass after them (they come with every
# chat message, so they must stay cheap).
_ROUTING_NEUTRAL = frozenset({ev.VisitorMessaged, ev.OperatorReplied})


def _floored(estimate: Estimate) -> Estimate:
    """The range as shown and promised: never ending before MIN_PROMISE_S nor before the estimate."""
    if estimate.seconds is None:
        return estimate
    high = max(
        estimate.high if estimate.high is not None else estimate.seconds, estimate.seconds, MIN_PROMISE_S
    )
    return Estimate(estimate.seconds, estimate.low, high)


class UnknownStatus(ValueError):
    """The status is not one of online, away, offline."""


@dataclass(frozen=True, slots=True)
class Figures:
    """What a waiting visitor is told: position among chats competing for the same operators."""

    position: int
    estimate: Estimate
    online: int


@dataclass(frozen=True, slots=True)
class Promise:
    """The wait figure a visitor holds right now; broken if the wait runs past ``deadline``."""

    promise_id: int
    kind: str
    made_at: float
    estimate: int
    high: int
    deadline: float


# Who a queued chat is waiting for: ("team", team, excluded operator) or ("op", operator, excluded).
_Key = tuple[str, object, int | None]


class Engine:
    """Routing, queue, roster, conversation states and the waiting etiquette for one chat service."""

    def __init__(
        self,
        *,
        default_capacity: int = 3,
        grace_s: float = 60.0,
        default_handle_s: float = 240.0,
        transfer_offer_s: float = 30.0,
        transfer_max_offers: int = 2,
        hold_interval_s: float = 45.0,
        silence_s: float = 60.0,
        promise_notice_s: float = 10.0,
    ) -> None:
        self.default_capacity = default_capacity
        self.grace_s = grace_s
        self.transfer_offer_s = transfer_offer_s
        self.transfer_max_offers = max(transfer_max_offers, 1)
        self.hold_interval_s = hold_interval_s
        self.promise_notice_s = promise_notice_s
        self.roster = Roster()
        self.queue = WaitingQueue()
        self.parked: list[int] = []
        self.conversations: dict[int, Conversation] = {}
        self.handle_time = HandleTime(default_handle_s)
        self.accept_delay = RecentDelays(min(15.0, transfer_offer_s / 2))
        self.cut_ins = RateMeter()
        self.silence = SilenceRule(silence_s)
        self._now = 0.0
        self._announced: dict[int, Figures] = {}
        self._promises: dict[int, Promise] = {}
        self._promise_seq = 0
        self._handlers: dict[type, Callable[[object, float, list[Effect]], None]] = {
            ev.OperatorConnected: self._on_operator_connected,  # type: ignore[dict-item]
            ev.OperatorDisconnected: self._on_operator_disconnected,  # type: ignore[dict-item]
            ev.OperatorStatusChanged: self._on_status,  # type: ignore[dict-item]
            ev.ConversationOpened: self._on_opened,  # type: ignore[dict-item]
            ev.ConversationRestored: self._on_restored,  # type: ignore[dict-item]
            ev.ConversationClosed: self._on_closed,  # type: ignore[dict-item]
            ev.ClaimLost: self._on_claim_lost,  # type: ignore[dict-item]
            ev.TimerFired: self._on_timer,  # type: ignore[dict-item]
            ev.TransferRequested: self._on_transfer_requested,  # type: ignore[dict-item]
            ev.TransferAccepted: self._on_transfer_accepted,  # type: ignore[dict-item]
            ev.TransferDeclined: self._on_transfer_declined,  # type: ignore[dict-item]
            ev.TransferCancelled: self._on_transfer_cancelled,  # type: ignore[dict-item]
            ev.VisitorMessaged: self._on_visitor_messaged,  # type: ignore[dict-item]
            ev.OperatorReplied: self._on_operator_replied,  # type: ignore[dict-item]
            ev.LeaveMessage: self._on_leave_message,  # type: ignore[dict-item]
        }

    # ------------------------------------------------------------------ entry point

    def receive(self, event: ev.Event, now: float) -> list[Effect]:
        """Apply one event at time ``now``; return what the adapters must do, in order."""
        self._now = now
        effects: list[Effect] = []
        self._handlers[type(event)](event, now, effects)
        if type(event) not in _ROUTING_NEUTRAL:
            self._drain_queue(now, effects)
            self._announce_queue(now, effects)
        return effects

    # ------------------------------------------------------------------ queries

    def position(self, conversation_id: int) -> int | None:
        for index, cid in enumerate(self.queue):
            if cid == conversation_id:
                return index + 1
        return None

    def operator_chats(self, operator_id: int) -> list[int]:
        op = self.roster.get(operator_id)
        return sorted(op.chats) if op else []

    def queue_snapshot(self) -> list[tuple[int, int, int | None]]:
        """(conversation_id, position, estimated_wait_s) for everyone waiting, in order."""
        return [
            (cid, fig.position, fig.estimate.seconds) for cid, fig in self._queue_figures(self._now).items()
        ]

    def figures(self, conversation_id: int) -> Figures | None:
        """The figures last told to this waiting visitor (None when they are not waiting in line)."""
        return self._announced.get(conversation_id)

    def offer_of(self, conversation_id: int) -> int | None:
        """The operator the chat is offered to right now, if any."""
        conv = self.conversations.get(conversation_id)
        return conv.transfer.offered_to if conv is not None and conv.transfer is not None else None

    # ------------------------------------------------------------------ handlers: operators

    def _on_operator_connected(self, e: ev.OperatorConnected, now: float, out: list[Effect]) -> None:
        op = self.roster.ensure(e.operator_id, capacity=e.capacity, teams=e.teams)
        op.capacity = e.capacity
        op.teams = e.teams
        was_connected = op.connected
        op.connected = True
        if not was_connected:
            out.append(CancelTimer(GRACE_PREFIX + str(e.operator_id)))

    def _on_operator_disconnected(self, e: ev.OperatorDisconnected, now: float, out: list[Effect]) -> None:
        op = self.roster.get(e.operator_id)
        if op is None or not op.connected:
            return
        op.connected = False
        if op.chats:
            out.append(StartTimer(GRACE_PREFIX + str(e.operator_id), now + self.grace_s))

    def _on_status(self, e: ev.OperatorStatusChanged, now: float, out: list[Effect]) -> None:
        if e.status not in STATUSES:
            raise UnknownStatus(e.status)
        op = self.roster.ensure(e.operator_id, capacity=self.default_capacity)
        if e.status == ONLINE and op.status != ONLINE and not op.chats:
            op.idle_since = now
        op.status = e.status

    # ------------------------------------------------------------------ handlers: conversations

    def _on_opened(self, e: ev.ConversationOpened, now: float, out: list[Effect]) -> None:
        conv = Conversation(
            id=e.conversation_id,
            visitor_id=e.visitor_id,
            state=State.WAITING,
            team=e.team,
            locale=e.locale,
            waiting_since=now,
        )
        self.conversations[conv.id] = conv
        if len(self.queue) == 0:
            choice = choose_operator(self.roster, team=e.team, previous_operator_id=e.previous_operator_id)
            if choice is not None:
                operator, sticky = choice
                self._assign(conv, operator, now, out, sticky=sticky)
                return
        self.queue.push_back(conv.id)
        self._enter_wait(conv, now, out)

    def _on_restored(self, e: ev.ConversationRestored, now: float, out: list[Effect]) -> None:
        conv = Conversation(
            id=e.conversation_id,
            visitor_id=e.visitor_id,
            state=State.WAITING,
            team=e.team,
            locale=e.locale,
            waiting_since=e.waiting_since,
            left_message=e.left_message,
        )
        self.conversations[conv.id] = conv
        if e.operator_id is None:
            if conv.left_message:
                self.parked.append(conv.id)
            else:
                self.queue.push_back(conv.id)
                self._enter_wait(conv, now, out)
            return
        op = self.roster.ensure(e.operator_id, capacity=self.default_capacity)
        conv.move(State.ASSIGNED)
        conv.operator_id = op.operator_id
        conv.assigned_at = now
        op.chats.add(conv.id)
        if not op.connected:
            out.append(StartTimer(GRACE_PREFIX + str(op.operator_id), now + self.grace_s))

    def _on_closed(self, e: ev.ConversationClosed, now: float, out: list[Effect]) -> None:
        conv = self.conversations.pop(e.conversation_id, None)
        if conv is None:
            return
        self.queue.remove(conv.id)
        if conv.id in self.parked:
            self.parked.remove(conv.id)
        if conv.transfer is not None:
            self._drop_transfer(conv, out, reason="closed")
        self._end_wait(conv, now, out, "abandoned")
        self.silence.stop(conv, out)
        if conv.operator_id is not None:
            op = self.roster.get(conv.operator_id)
            if op is not None:
                op.chats.discard(conv.id)
                op.idle_since = now
                if not op.chats and not op.connected:
                    out.append(CancelTimer(GRACE_PREFIX + str(op.operator_id)))
            if conv.assigned_at is not None:
                self.handle_time.observe(conv.team, now - conv.assigned_at)
            out.append(Released(conv.id, conv.operator_id))
        conv.move(State.CLOSED)
        out.append(Closed(conv.id, conv.visitor_id, conv.operator_id))

    def _on_claim_lost(self, e: ev.ClaimLost, now: float, out: list[Effect]) -> None:
        conv = self.conversations.get(e.conversation_id)
        if conv is None or conv.operator_id != e.operator_id:
            return
        # Another process holds the chat now: it is theirs to serve, not ours to retry.
        self._unassign(conv, now)
        del self.conversations[conv.id]

    def _on_timer(self, e: ev.TimerFired, now: float, out: list[Effect]) -> None:
        prefix, _, rest = e.key.partition(":")
        prefix += ":"
        if prefix == GRACE_PREFIX:
            self._grace_expired(int(rest), now, out)
            return
        conv = self.conversations.get(int(rest)) if rest.isdigit() else None
        if conv is None:
            return
        if prefix == OFFER_PREFIX:
            self._offer_lapsed(conv, now, out, reason="expired")
        elif prefix == HOLD_PREFIX:
            self._hold_due(conv, now, out)
        elif prefix == PROMISE_PREFIX:
            self._promise_due(conv, now, out)
        elif prefix == SILENCE_PREFIX:
            self.silence.fired(conv, now, out)

    # ------------------------------------------------------------------ handlers: messages

    def _on_visitor_messaged(self, e: ev.VisitorMessaged, now: float, out: list[Effect]) -> None:
        conv = self.conversations.get(e.conversation_id)
        if conv is not None:
            self.silence.visitor_wrote(conv, now, out)

    def _on_operator_replied(self, e: ev.OperatorReplied, now: float, out: list[Effect]) -> None:
        conv = self.conversations.get(e.conversation_id)
        if conv is not None:
            self.silence.operator_replied(conv, out)

    def _on_leave_message(self, e: ev.LeaveMessage, now: float, out: list[Effect]) -> None:
        conv = self.conversations.get(e.conversation_id)
        if conv is None:
            out.append(Refused(e.conversation_id, "no_open_conversation", "there is no open conversation"))
            return
        if conv.left_message:
            out.append(MessageLeft(conv.id, conv.visitor_id, again=True))  # said twice: change nothing
            return
        if conv.state is State.WAITING and conv.id in self.queue:
            self.queue.remove(conv.id)
            self.parked.append(conv.id)
        elif conv.state is not State.TRANSFERRING:
            out.append(Refused(conv.id, "not_waiting", "a consultant is already with you in this chat"))
            return
        # A transfer goes on (the colleague answers later, here); only the waiting stops.
        conv.left_message = True
        self._end_wait(conv, now, out, "left")
        out.append(MessageLeft(conv.id, conv.visitor_id))

    # ------------------------------------------------------------------ handlers: transfers

    def _on_transfer_requested(self, e: ev.TransferRequested, now: float, out: list[Effect]) -> None:
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
            out.append(Refused(cid, code, message, self._alternatives(conv, transfer, now)))
            return
        conv.move(State.TRANSFERRING)
        conv.transfer = transfer
        if receiver is not None:
            estimate = self._offer_estimate(transfer)
            out.append(self._started(conv, transfer, estimate, queued=False))
            self._enter_wait(conv, now, out)
            self._offer(conv, receiver, now, out, announce=False)
            return
        transfer.queued = True
        conv.priority = True
        self._insert_priority(conv, now)
        figures = self._queue_figures(now)[conv.id]
        out.append(self._started(conv, transfer, figures.estimate, queued=True))
        self._enter_wait(conv, now, out)
        self._announced[conv.id] = figures
        self._promise(conv, "transfer", figures.estimate, figures.position, now, out)

    def _on_transfer_accepted(self, e: ev.TransferAccepted, now: float, out: list[Effect]) -> None:
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
        self._end_wait(conv, now, out, "served")
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

    def _on_transfer_declined(self, e: ev.TransferDeclined, now: float, out: list[Effect]) -> None:
        conv = self.conversations.get(e.conversation_id)
        if conv is None or conv.transfer is None or conv.transfer.offered_to != e.operator_id:
            out.append(
                Refused(e.conversation_id, "no_transfer_offer", "this chat is not offered to you (any more)")
            )
            return
        self._offer_lapsed(conv, now, out, reason="declined")

    def _on_transfer_cancelled(self, e: ev.TransferCancelled, now: float, out: list[Effect]) -> None:
        conv = self.conversations.get(e.conversation_id)
        if conv is None or conv.operator_id != e.operator_id:
            cid = e.conversation_id
            out.append(Refused(cid, "not_your_conversation", f"conversation {cid} is not assigned to you"))
            return
        if conv.transfer is None:
            out.append(Refused(conv.id, "no_transfer", "this chat is not being transferred"))
            return
        self._return(conv, now, out, reason="cancelled")

    # ------------------------------------------------------------------ transfers: internals

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

    def _offer_estimate(self, t: Transfer) -> Estimate:
        """An offer is answered within the offer time, usually about as fast as recent ones were."""
        typical = min(self.accept_delay.typical(t.to_team), self.transfer_offer_s)
        high = int(self.transfer_offer_s + self.promise_notice_s)
        return _floored(Estimate(int(round(typical)), 0, high))

    def _offer(
        self, conv: Conversation, op: OperatorState, now: float, out: list[Effect], *, announce: bool
    ) -> Estimate:
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
        self._announced.pop(conv.id, None)
        estimate = self._offer_estimate(t)
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
                )
            )
        expires = now + self.transfer_offer_s
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
        self._promise(conv, "transfer", estimate, None, now, out, timer=False)
        return estimate

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

    def _offer_lapsed(self, conv: Conversation, now: float, out: list[Effect], *, reason: str) -> None:
        """Nobody took the offer in time (or it was declined): the next colleague, else back home."""
        t = conv.transfer
        if t is None or t.offered_to is None:
            return
        self._withdraw(conv, out, reason)
        if t.to_team is not None and t.attempts < self.transfer_max_offers:
            receiver = choose_receiver(self.roster, t)
            if receiver is not None:
                estimate = self._offer_estimate(t)
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
                self._offer(conv, receiver, now, out, announce=False)
                return
        self._return(conv, now, out, reason="no_taker")

    def _return(self, conv: Conversation, now: float, out: list[Effect], *, reason: str) -> None:
        """The original operator keeps the chat: the transfer is over."""
        t = conv.transfer
        assert t is not None and conv.operator_id is not None
        self._drop_transfer(conv, out, reason=reason)
        conv.move(State.ASSIGNED)
        self._end_wait(conv, now, out, "returned")
        out.append(
            TransferReturned(conv.id, conv.visitor_id, conv.operator_id, t.to_operator_id, t.to_team, reason)
        )

    def _drop_transfer(self, conv: Conversation, out: list[Effect], *, reason: str) -> None:
        self._withdraw(conv, out, reason)
        if conv.transfer is not None and conv.transfer.queued:
            self.queue.remove(conv.id)
        conv.transfer = None
        conv.priority = False
        self._announced.pop(conv.id, None)

    def _alternatives(self, conv: Conversation, t: Transfer, now: float) -> tuple[TransferAlternative, ...]:
        """Other teams with room now, then "queue and wait anyway" with its honest estimate."""
        teams = sorted({team for op in self.roster if op.serving for team in op.teams} - {t.to_team})
        found: list[TransferAlternative] = []
        for team in teams:
            probe = Transfer(
                from_operator_id=t.from_operator_id, reason="", benefit="", started_at=now, to_team=team
            )
            online = serving_targets(self.roster, probe)
            free = sum(max(op.capacity - op.load, 0) for op in online if op.available)
            if free <= 0:
                continue
            estimate = self._offer_estimate(probe)
            found.append(
                TransferAlternative(
                    team, False, len(online), free, estimate.seconds, estimate.low, estimate.high
                )
            )
        key = self._key_of_transfer(t)
        index = self._priority_index()
        position = 1 + sum(
            1 for cid in list(self.queue)[:index] if self._competes(self._key(self.conversations[cid]), key)
        )
        estimate = self._estimate_for(key, position, now)
        online_count = len(self._eligible(key))
        found.append(
            TransferAlternative(
                t.to_team, True, online_count, 0, estimate.seconds, estimate.low, estimate.high
            )
        )
        return tuple(found)

    # ------------------------------------------------------------------ waits, holds, promises

    def _enter_wait(self, conv: Conversation, now: float, out: list[Effect]) -> None:
        if conv.left_message:
            return
        conv.wait_started_at = now
        conv.hold_count = 0
        if self.hold_interval_s > 0:
            out.append(StartTimer(HOLD_PREFIX + str(conv.id), now + self.hold_interval_s))

    def _end_wait(self, conv: Conversation, now: float, out: list[Effect], outcome: str) -> None:
        if conv.wait_started_at is None:
            return
        promise = self._promises.pop(conv.id, None)
        if promise is not None:
            if outcome == "served":
                outcome = "kept" if now <= promise.deadline else "broken"
            out.append(PromiseSettled(promise.promise_id, conv.id, outcome, now, now - conv.wait_started_at))
            out.append(CancelTimer(PROMISE_PREFIX + str(conv.id)))
        out.append(CancelTimer(HOLD_PREFIX + str(conv.id)))
        conv.wait_started_at = None
        self._announced.pop(conv.id, None)

    def _promise(
        self,
        conv: Conversation,
        kind: str,
        estimate: Estimate,
        position: int | None,
        now: float,
        out: list[Effect],
        *,
        timer: bool = True,
        late: bool = False,
    ) -> None:
        """Record what the visitor was just told; arrange to revise it before it would be broken."""
        started = conv.wait_started_at if conv.wait_started_at is not None else now
        old = self._promises.pop(conv.id, None)
        if old is not None:
            out.append(
                PromiseSettled(
                    old.promise_id, conv.id, "revised_late" if late else "revised", now, now - started
                )
            )
        if estimate.seconds is None or conv.left_message:
            # Nothing to promise: nobody could serve the chat, or the visitor is not waiting.
            out.append(CancelTimer(PROMISE_PREFIX + str(conv.id)))
            return
        self._promise_seq += 1
        high = max(estimate.high if estimate.high is not None else estimate.seconds, estimate.seconds)
        low = estimate.low if estimate.low is not None else estimate.seconds
        promise = Promise(self._promise_seq, kind, now, estimate.seconds, high, now + high)
        self._promises[conv.id] = promise
        out.append(
            PromiseMade(
                promise.promise_id,
                conv.id,
                kind,
                now,
                position,
                estimate.seconds,
                low,
                high,
                promise.deadline,
                started,
            )
        )
        if timer:
            notice = min(self.promise_notice_s, high / 4)
            out.append(StartTimer(PROMISE_PREFIX + str(conv.id), promise.deadline - notice))
        else:
            out.append(CancelTimer(PROMISE_PREFIX + str(conv.id)))

    def _promise_due(self, conv: Conversation, now: float, out: list[Effect]) -> None:
        """The promise would be broken soon and the visitor is still waiting: re-estimate and say so."""
        if conv.wait_started_at is None or conv.id not in self._promises or conv.id not in self.queue:
            return
        figures = self._queue_figures(now).get(conv.id)
        if figures is None:
            return
        kind = "transfer" if conv.state is State.TRANSFERRING else "queue"
        estimate = figures.estimate
        self._announced[conv.id] = figures
        out.append(
            QueueUpdate(
                conv.id,
                conv.visitor_id,
                figures.position,
                estimate.seconds,
                figures.online,
                estimate.low,
                estimate.high,
                kind=kind,
                late=True,
            )
        )
        out.append(LateNotice(conv.id, conv.visitor_id, kind, estimate.seconds, estimate.low, estimate.high))
        self._promise(conv, kind, estimate, figures.position, now, out, late=True)

    def _hold_due(self, conv: Conversation, now: float, out: list[Effect]) -> None:
        if conv.wait_started_at is None or conv.left_message:
            return
        t = conv.transfer
        kind = "transfer" if conv.state is State.TRANSFERRING else "queue"
        figures = self._announced.get(conv.id)
        if figures is not None:
            position: int | None = figures.position
            estimate = figures.estimate
        elif t is not None and t.offered_to is not None:
            promise = self._promises.get(conv.id)
            position = None
            remaining_high = int(promise.deadline - now) if promise is not None else None
            typical = self._offer_estimate(t).seconds or 0
            estimate = Estimate(typical, 0, max(remaining_high or typical, typical))
        else:
            position, estimate = None, NO_ESTIMATE
        out.append(
            HoldMessage(
                conv.id,
                conv.visitor_id,
                kind,
                position,
                estimate.seconds,
                estimate.low,
                estimate.high,
                conv.hold_count,
                to_team=t.to_team if t is not None else None,
                to_operator_id=t.to_operator_id if t is not None else None,
            )
        )
        conv.hold_count += 1
        out.append(StartTimer(HOLD_PREFIX + str(conv.id), now + self.hold_interval_s))

    # ------------------------------------------------------------------ routing internals

    def _grace_expired(self, operator_id: int, now: float, out: list[Effect]) -> None:
        op = self.roster.get(operator_id)
        if op is None or op.connected:
            return
        op.status = OFFLINE
        lost = sorted((self.conversations[c] for c in op.chats), key=lambda c: c.waiting_since)
        for conv in lost:
            if conv.transfer is not None:
                self._drop_transfer(conv, out, reason="operator_lost")
                self._end_wait(conv, now, out, "abandoned")
            self._unassign(conv, now)
            self.silence.operator_changed(conv, now, out)
            conv.priority = True
            out.append(Released(conv.id, operator_id))
            out.append(Requeued(conv.id, conv.visitor_id, operator_id, reason="operator_lost"))
        if lost and len(self.queue):
            self.cut_ins.hit(now, len(lost))
        self.queue.push_front([conv.id for conv in lost])
        for conv in lost:
            self._enter_wait(conv, now, out)

    def _unassign(self, conv: Conversation, now: float) -> None:
        op = self.roster.get(conv.operator_id) if conv.operator_id is not None else None
        if op is not None:
            op.chats.discard(conv.id)
        conv.move(State.WAITING)
        conv.operator_id = None
        conv.assigned_at = None

    def _assign(
        self, conv: Conversation, op: OperatorState, now: float, out: list[Effect], *, sticky: bool
    ) -> None:
        conv.move(State.ASSIGNED)
        conv.operator_id = op.operator_id
        conv.assigned_at = now
        conv.priority = False
        op.chats.add(conv.id)
        op.idle_since = now
        self._end_wait(conv, now, out, "served")
        self._announced.pop(conv.id, None)
        out.append(Assign(conv.id, conv.visitor_id, op.operator_id, sticky=sticky))
        self.silence.operator_changed(conv, now, out)

    def _priority_index(self) -> int:
        """Where a chat that goes first goes: after the chats already put first."""
        for index, cid in enumerate(self.queue):
            if not self.conversations[cid].priority:
                return index
        return len(self.queue)

    def _insert_priority(self, conv: Conversation, now: float) -> None:
        index = self.queue.insert_before_first(conv.id, lambda cid: not self.conversations[cid].priority)
        if index < len(self.queue) - 1:
            self.cut_ins.hit(now)

    def _drain_queue(self, now: float, out: list[Effect]) -> None:
        """Fill every free eligible slot with the longest-waiting chat it may take."""
        while len(self.queue):
            progressed = False
            for cid in list(self.queue):
                conv = self.conversations[cid]
                if conv.transfer is not None:
                    receiver = choose_receiver(self.roster, conv.transfer)
                    if receiver is None:
                        continue
                    self._offer(conv, receiver, now, out, announce=not conv.left_message)
                else:
                    choice = choose_operator(self.roster, team=conv.team, previous_operator_id=None)
                    if choice is None:
                        continue
                    self.queue.remove(cid)
                    self._assign(conv, choice[0], now, out, sticky=False)
                progressed = True
                break
            if not progressed:
                break
        # Left messages take only the slots no waiting visitor can use.
        for cid in list(self.parked):
            conv = self.conversations[cid]
            choice = choose_operator(self.roster, team=conv.team, previous_operator_id=None)
            if choice is None:
                continue
            self.parked.remove(cid)
            self._assign(conv, choice[0], now, out, sticky=False)
            out.append(AnswerLater(conv.id, choice[0].operator_id))

    # ------------------------------------------------------------------ estimates

    def _key(self, conv: Conversation) -> _Key:
        if conv.transfer is not None:
            return self._key_of_transfer(conv.transfer)
        return ("team", conv.team, None)

    @staticmethod
    def _key_of_transfer(t: Transfer) -> _Key:
        if t.to_operator_id is not None:
            return ("op", t.to_operator_id, t.from_operator_id)
        return ("team", t.to_team, t.from_operator_id)

    def _eligible(self, key: _Key) -> list[OperatorState]:
        kind, target, excluded = key
        if kind == "op":
            return [op for op in self.roster if op.serving and op.operator_id == target]
        team = target if isinstance(target, str) else None
        return [
            op for op in self.roster if op.serving and op.eligible_for(team) and op.operator_id != excluded
        ]

    def _competes(self, ahead: _Key, mine: _Key) -> bool:
        """Could a chat waiting for ``ahead`` take a slot this one needs?"""
        if ahead == mine:
            return True
        a = {op.operator_id for op in self._eligible(ahead)}
        b = {op.operator_id for op in self._eligible(mine)}
        if a and b:
            return bool(a & b)
        # Nobody online for one of them: say who would compete once people are back.
        return ahead[0] == mine[0] == "team" and (ahead[1] is None or mine[1] is None)

    def _estimate_for(self, key: _Key, position: int, now: float) -> Estimate:
        eligible = self._eligible(key)
        capacity = sum(op.capacity for op in eligible)
        free = sum(max(op.capacity - op.load, 0) for op in eligible if op.available)
        team = key[1] if key[0] == "team" and isinstance(key[1], str) else None
        transfer = key[2] is not None
        extra = min(self.accept_delay.typical(team), self.transfer_offer_s) if transfer else 0.0
        return _floored(
            estimate_wait(
                position=position,
                free_slots=free,
                serving_capacity=capacity,
                handle_s=self.handle_time.typical(team),
                cut_in_rate=self.cut_ins.rate(now),
                extra_s=extra,
                extra_high_s=self.transfer_offer_s if transfer else 0.0,
            )
        )

    def _queue_figures(self, now: float) -> dict[int, Figures]:
        figures: dict[int, Figures] = {}
        ahead: dict[_Key, int] = {}
        competes: dict[tuple[_Key, _Key], bool] = {}
        estimates: dict[tuple[_Key, int], Estimate] = {}
        online: dict[_Key, int] = {}
        for cid in self.queue:
            conv = self.conversations[cid]
            key = self._key(conv)
            before = 0
            for other, count in ahead.items():
                pair = (other, key)
                if pair not in competes:
                    competes[pair] = self._competes(other, key)
                if competes[pair]:
                    before += count
            ahead[key] = ahead.get(key, 0) + 1
            position = before + 1
            if (key, position) not in estimates:
                estimates[(key, position)] = self._estimate_for(key, position, now)
            if key not in online:
                online[key] = len(self._eligible(key))
            figures[cid] = Figures(position, estimates[(key, position)], online[key])
        return figures

    def _announce_queue(self, now: float, out: list[Effect]) -> None:
        """Tell each waiting visitor whose position or operator count changed, or whose estimate moved."""
        if not len(self.queue):
            return
        for cid, figures in self._queue_figures(now).items():
            conv = self.conversations[cid]
            if conv.left_message:
                continue
            previous = self._announced.get(cid)
            if (
                previous is not None
                and previous.position == figures.position
                and previous.online == figures.online
                and not meaningfully_different(previous.estimate, figures.estimate)
            ):
                continue
            self._announced[cid] = figures
            kind = "transfer" if conv.state is State.TRANSFERRING else "queue"
            estimate = figures.estimate
            out.append(
                QueueUpdate(
                    cid,
                    conv.visitor_id,
                    figures.position,
                    estimate.seconds,
                    figures.online,
                    estimate.low,
                    estimate.high,
                    kind=kind,
                )
            )
            self._promise(conv, kind, estimate, figures.position, now, out)
