"""The single entry point of the domain core: ``receive(event, now) -> effects``.

No asyncio, sockets, SQL or clock in here: the adapters feed events with the current time
and carry out the effects (persist, claim, deliver, set timers), like the sans-I/O protocol
object of the ``websockets`` library is driven by its asyncio connection.

The engine owns the state (roster, line, parked left messages, conversations) and dispatches
each event to a handler; the rules of the waiting etiquette (``docs/etiquette.md``) live in their
own objects: transfers (`TransferRule`), waits, hold messages and promises (`WaitRule`), estimates
(`Estimator`), silence (`SilenceRule`) and assignment (`Assigner`). The adapters read the state
through the immutable views (`presence`, `queue_view`, `conversation`, `directory`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from . import events as ev
from .assignment import Assigner
from .boundary import CoolDowns
from .check_back import CHECK_BACK_PREFIX, CheckBackRule
from .conversation import Conversation, State
from .effects import CancelTimer, Closed, Effect, MessageLeft, Refused, Released, ShutOut, StartTimer
from .estimates import Estimator, Figures
from .promises import HOLD_PREFIX, PROMISE_PREFIX, WaitRule
from .queue import WaitingQueue
from .roster import ONLINE, STATUSES, OperatorState, Roster
from .routing import choose_operator
from .silence import SILENCE_PREFIX, SilenceRule
from .transfer_rule import OFFER_PREFIX, TransferRule
from .views import (
    ConversationView,
    PresenceView,
    QueueView,
    TeamPresence,
    conversation_view,
    team_directory,
)
from .wait_time import HandleTime, RateMeter, RecentDelays

__all__ = ["GRACE_PREFIX", "Engine", "Figures", "UnknownStatus"]

GRACE_PREFIX = "grace:"

# Events that never free a slot or move the line: no routing pass after them (they come with every
# chat message, so they must stay cheap).
_ROUTING_NEUTRAL = frozenset(
    {
        ev.VisitorMessaged,
        ev.OperatorReplied,
        ev.CheckBackPromised,
        ev.VisitorCooledDown,
        ev.CoolDownEnded,
        ev.VisitorBlocked,
    }
)


class UnknownStatus(ValueError):
    """The status is not one of online, away, offline."""


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
        check_back_remind_s: float = 60.0,
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
        self.check_backs = CheckBackRule(check_back_remind_s)
        self.cool_downs = CoolDowns()
        self._now = 0.0
        self.estimator = Estimator(
            conversations=self.conversations,
            roster=self.roster,
            queue=self.queue,
            handle_time=self.handle_time,
            accept_delay=self.accept_delay,
            cut_ins=self.cut_ins,
            transfer_offer_s=transfer_offer_s,
            promise_notice_s=promise_notice_s,
        )
        self.waits = WaitRule(
            conversations=self.conversations,
            queue=self.queue,
            estimator=self.estimator,
            hold_interval_s=hold_interval_s,
            promise_notice_s=promise_notice_s,
        )
        self.transfers = TransferRule(
            conversations=self.conversations,
            roster=self.roster,
            queue=self.queue,
            estimator=self.estimator,
            waits=self.waits,
            silence=self.silence,
            handle_time=self.handle_time,
            accept_delay=self.accept_delay,
            cut_ins=self.cut_ins,
            default_capacity=default_capacity,
            offer_s=transfer_offer_s,
            max_offers=transfer_max_offers,
        )
        self.assigner = Assigner(
            conversations=self.conversations,
            roster=self.roster,
            queue=self.queue,
            parked=self.parked,
            waits=self.waits,
            transfers=self.transfers,
            silence=self.silence,
            cut_ins=self.cut_ins,
        )
        self._wire()

    def _wire(self) -> None:
        """The views and the dispatch table: derived from the state, rebuilt when a state is loaded."""
        self.presence = PresenceView(self.roster)
        self.queue_view = QueueView(
            conversations=self.conversations,
            queue=self.queue,
            estimator=self.estimator,
            waits=self.waits,
            clock=self._current_time,
        )
        self._handlers: dict[type, Callable[[object, float, list[Effect]], None]] = {
            ev.OperatorConnected: self._on_operator_connected,  # type: ignore[dict-item]
            ev.OperatorDisconnected: self._on_operator_disconnected,  # type: ignore[dict-item]
            ev.ProcessLost: self._on_process_lost,  # type: ignore[dict-item]
            ev.OperatorUpdated: self._on_operator_updated,  # type: ignore[dict-item]
            ev.OperatorStatusChanged: self._on_status,  # type: ignore[dict-item]
            ev.ConversationOpened: self._on_opened,  # type: ignore[dict-item]
            ev.ConversationRestored: self._on_restored,  # type: ignore[dict-item]
            ev.ConversationClosed: self._on_closed,  # type: ignore[dict-item]
            ev.ClaimLost: self._on_claim_lost,  # type: ignore[dict-item]
            ev.TimerFired: self._on_timer,  # type: ignore[dict-item]
            ev.TransferRequested: self.transfers.requested,  # type: ignore[dict-item]
            ev.TransferAccepted: self.transfers.accepted,  # type: ignore[dict-item]
            ev.TransferDeclined: self.transfers.declined,  # type: ignore[dict-item]
            ev.TransferCancelled: self.transfers.cancelled,  # type: ignore[dict-item]
            ev.VisitorMessaged: self._on_visitor_messaged,  # type: ignore[dict-item]
            ev.OperatorReplied: self._on_operator_replied,  # type: ignore[dict-item]
            ev.LeaveMessage: self._on_leave_message,  # type: ignore[dict-item]
            ev.CheckBackPromised: self._on_check_back,  # type: ignore[dict-item]
            ev.VisitorCooledDown: self._on_cooled_down,  # type: ignore[dict-item]
            ev.CoolDownEnded: self._on_cool_down_ended,  # type: ignore[dict-item]
            ev.VisitorBlocked: self._on_blocked,  # type: ignore[dict-item]
        }

    def _current_time(self) -> float:
        return self._now

    # ------------------------------------------------------------------ state transfer

    def __getstate__(self) -> dict[str, object]:
        """Everything but the derived parts, so another process can carry on from here."""
        return {k: v for k, v in vars(self).items() if k not in ("presence", "queue_view", "_handlers")}

    def __setstate__(self, state: dict[str, object]) -> None:
        vars(self).clear()
        vars(self).update(state)
        if "cool_downs" not in state:  # a snapshot taken before cool-downs were held here
            self.cool_downs = CoolDowns()
        self._wire()

    def take_state(self, other: Engine) -> None:
        """Become ``other`` (a copy received from another process) while callers keep this object."""
        self.__setstate__(other.__getstate__())

    # ------------------------------------------------------------------ entry point

    def receive(self, event: ev.Event, now: float) -> list[Effect]:
        """Apply one event at time ``now``; return what the adapters must do, in order."""
        self._now = now
        effects: list[Effect] = []
        self._handlers[type(event)](event, now, effects)
        if type(event) not in _ROUTING_NEUTRAL:
            self.assigner.drain(now, effects)
            self.waits.announce_queue(now, effects)
        return effects

    # ------------------------------------------------------------------ read models

    def conversation(self, conversation_id: int) -> ConversationView | None:
        """An immutable snapshot of the open conversation (None when it is not open here)."""
        conv = self.conversations.get(conversation_id)
        return conversation_view(conv) if conv is not None else None

    def cooling_down_until(self, visitor_id: str, now: float) -> float | None:
        """When the visitor may write again, while a boundary cool-down is on; None otherwise."""
        return self.cool_downs.until(visitor_id, now)

    def cool_downs_in_force(self, now: float) -> dict[str, float]:
        return self.cool_downs.in_force(now)

    def open_conversations(self) -> tuple[ConversationView, ...]:
        """Every open conversation, as immutable snapshots."""
        return tuple(conversation_view(conv) for conv in self.conversations.values())

    def directory(
        self, teams: Iterable[str], members: Mapping[int, Iterable[str]], *, exclude: int | None = None
    ) -> tuple[TeamPresence, ...]:
        """Per team: members online, their free slots and the chats waiting (see `team_directory`)."""
        return team_directory(self.presence, self.queue_view, teams, members, exclude=exclude)

    # ------------------------------------------------------------------ queries (kept for callers)

    def position(self, conversation_id: int) -> int | None:
        """The plain place in the whole line (`QueueView.position` is the one a visitor is told)."""
        return self.queue_view.place_in_line(conversation_id)

    def operator_chats(self, operator_id: int) -> list[int]:
        return list(self.presence.operator(operator_id).chat_ids)

    def queue_snapshot(self) -> list[tuple[int, int, int | None]]:
        """(conversation_id, position, estimated_wait_s) for everyone waiting, in order."""
        return [(w.conversation_id, w.position, w.estimated_wait_s) for w in self.queue_view.snapshot()]

    def figures(self, conversation_id: int) -> Figures | None:
        """The figures last told to this waiting visitor (None when they are not waiting in line)."""
        return self.waits.told(conversation_id)

    def offer_of(self, conversation_id: int) -> int | None:
        """The operator the chat is offered to right now, if any."""
        view = self.conversation(conversation_id)
        return view.offered_to if view is not None else None

    # ------------------------------------------------------------------ handlers: operators

    def _on_operator_connected(self, e: ev.OperatorConnected, now: float, out: list[Effect]) -> None:
        op = self.roster.ensure(e.operator_id, capacity=e.capacity, teams=e.teams)
        op.capacity = e.capacity
        op.teams = e.teams
        was_connected = op.connected
        op.places.add(e.process)
        if not was_connected:
            out.append(CancelTimer(GRACE_PREFIX + str(e.operator_id)))

    def _on_operator_disconnected(self, e: ev.OperatorDisconnected, now: float, out: list[Effect]) -> None:
        op = self.roster.get(e.operator_id)
        if op is None:
            return
        for place in list(op.places) if e.everywhere else [e.process] if e.process in op.places else []:
            self._lose_place(op, place, now, out)

    def _on_operator_updated(self, e: ev.OperatorUpdated, now: float, out: list[Effect]) -> None:
        op = self.roster.get(e.operator_id)
        if op is not None:
            op.capacity = e.capacity
            op.teams = e.teams

    def _on_process_lost(self, e: ev.ProcessLost, now: float, out: list[Effect]) -> None:
        for op in list(self.roster):
            if e.process in op.places:
                self._lose_place(op, e.process, now, out)

    def _lose_place(self, op: OperatorState, process: str, now: float, out: list[Effect]) -> None:
        op.places.discard(process)
        if not op.places and op.chats:
            out.append(StartTimer(GRACE_PREFIX + str(op.operator_id), now + self.grace_s))

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
                self.assigner.assign(conv, operator, now, out, sticky=sticky)
                return
        self.queue.push_back(conv.id)
        self.waits.enter(conv, now, out)

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
        self.check_backs.restored(conv, e.check_back_due_at, e.left_answered, now, out)
        if e.operator_id is None:
            if conv.left_message:
                self.parked.append(conv.id)
            else:
                self.queue.push_back(conv.id)
                self.waits.enter(conv, now, out)
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
            self.transfers.drop(conv, out, reason="closed")
        self.waits.end(conv, now, out, "abandoned")
        self.silence.stop(conv, out)
        self.check_backs.stop(conv.id, out)
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
        self.assigner.unassign(conv, now)
        del self.conversations[conv.id]

    def _on_timer(self, e: ev.TimerFired, now: float, out: list[Effect]) -> None:
        prefix, _, rest = e.key.partition(":")
        prefix += ":"
        if prefix == GRACE_PREFIX:
            self.assigner.operator_lost(int(rest), now, out)
            return
        conv = self.conversations.get(int(rest)) if rest.isdigit() else None
        if conv is None:
            return
        if prefix == OFFER_PREFIX:
            self.transfers.offer_lapsed(conv, now, out, reason="expired")
        elif prefix == HOLD_PREFIX:
            self.waits.hold_due(conv, now, out)
        elif prefix == PROMISE_PREFIX:
            self.waits.promise_due(conv, now, out)
        elif prefix == SILENCE_PREFIX:
            self.silence.fired(conv, now, out)
        elif prefix == CHECK_BACK_PREFIX:
            self.check_backs.fired(conv, out)

    # ------------------------------------------------------------------ handlers: messages

    def _on_visitor_messaged(self, e: ev.VisitorMessaged, now: float, out: list[Effect]) -> None:
        conv = self.conversations.get(e.conversation_id)
        if conv is not None:
            self.silence.visitor_wrote(conv, now, out)

    def _on_operator_replied(self, e: ev.OperatorReplied, now: float, out: list[Effect]) -> None:
        conv = self.conversations.get(e.conversation_id)
        if conv is not None:
            self.silence.operator_replied(conv, out)
            self.check_backs.operator_replied(conv, out)

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
        self.waits.end(conv, now, out, "left")
        out.append(MessageLeft(conv.id, conv.visitor_id))

    def _on_check_back(self, e: ev.CheckBackPromised, now: float, out: list[Effect]) -> None:
        conv = self.conversations.get(e.conversation_id)
        if conv is None or conv.operator_id != e.operator_id:
            out.append(Refused(e.conversation_id, "not_your_conversation", "the conversation is not yours"))
            return
        self.check_backs.promised(conv, e.due_at, now, out)

    # ------------------------------------------------------------------ the abusive visitor

    def _on_cooled_down(self, e: ev.VisitorCooledDown, now: float, out: list[Effect]) -> None:
        self.cool_downs.start(e.visitor_id, e.until, now)

    def _on_cool_down_ended(self, e: ev.CoolDownEnded, now: float, out: list[Effect]) -> None:
        self.cool_downs.end(e.visitor_id)

    def _on_blocked(self, e: ev.VisitorBlocked, now: float, out: list[Effect]) -> None:
        self.cool_downs.end(e.visitor_id)
        out.append(ShutOut(e.visitor_id))
