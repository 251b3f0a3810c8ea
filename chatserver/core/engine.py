"""The single entry point of the domain core: ``receive(event, now) -> effects``.

No asyncio, sockets, SQL or clock in here: the adapters feed events with the current time
and carry out the effects (persist, claim, deliver, set timers), like the sans-I/O protocol
object of the ``websockets`` library is driven by its asyncio connection.
"""

from __future__ import annotations

from collections.abc import Callable

from . import events as ev
from .conversation import Conversation, State
from .effects import (
    Assign,
    CancelTimer,
    Closed,
    Effect,
    QueueUpdate,
    Released,
    Requeued,
    StartTimer,
)
from .queue import WaitingQueue
from .roster import OFFLINE, ONLINE, STATUSES, OperatorState, Roster
from .routing import choose_operator
from .wait_time import HandleTime, estimate_wait_s

GRACE_PREFIX = "grace:"


class UnknownStatus(ValueError):
    """The status is not one of online, away, offline."""


class Engine:
    """Routing, queue, roster and conversation states for one chat service."""

    def __init__(
        self,
        *,
        default_capacity: int = 3,
        grace_s: float = 60.0,
        default_handle_s: float = 240.0,
    ) -> None:
        self.default_capacity = default_capacity
        self.grace_s = grace_s
        self.roster = Roster()
        self.queue = WaitingQueue()
        self.conversations: dict[int, Conversation] = {}
        self.handle_time = HandleTime(default_handle_s)
        self._announced: dict[int, tuple[int, int | None, int]] = {}
        self._handlers: dict[type, Callable[[object, float, list[Effect]], None]] = {
            ev.OperatorConnected: self._on_operator_connected,  # type: ignore[dict-item]
            ev.OperatorDisconnected: self._on_operator_disconnected,  # type: ignore[dict-item]
            ev.OperatorStatusChanged: self._on_status,  # type: ignore[dict-item]
            ev.ConversationOpened: self._on_opened,  # type: ignore[dict-item]
            ev.ConversationRestored: self._on_restored,  # type: ignore[dict-item]
            ev.ConversationClosed: self._on_closed,  # type: ignore[dict-item]
            ev.ClaimLost: self._on_claim_lost,  # type: ignore[dict-item]
            ev.TimerFired: self._on_timer,  # type: ignore[dict-item]
        }

    # ------------------------------------------------------------------ entry point

    def receive(self, event: ev.Event, now: float) -> list[Effect]:
        """Apply one event at time ``now``; return what the adapters must do, in order."""
        effects: list[Effect] = []
        self._handlers[type(event)](event, now, effects)
        self._drain_queue(now, effects)
        self._announce_queue(effects)
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
        return [(cid, pos, est) for cid, (pos, est, _online) in self._queue_figures().items()]

    # ------------------------------------------------------------------ handlers

    def _on_operator_connected(self, e: ev.OperatorConnected, now: float, out: list[Effect]) -> None:
        op = self.roster.ensure(e.operator_id, capacity=e.capacity, teams=e.teams)
        op.capacity = e.capacity
        op.teams = e.teams
        was_connected = op.connected
        op.connected = True
        if not was_connected:
            out.append(CancelTimer(GRACE_PREFIX + str(e.operator_id)))

    def _on_operator_disconnected(
        self, e: ev.OperatorDisconnected, now: float, out: list[Effect]
    ) -> None:
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

    def _on_restored(self, e: ev.ConversationRestored, now: float, out: list[Effect]) -> None:
        conv = Conversation(
            id=e.conversation_id,
            visitor_id=e.visitor_id,
            state=State.WAITING,
            team=e.team,
            locale=e.locale,
            waiting_since=e.waiting_since,
        )
        self.conversations[conv.id] = conv
        if e.operator_id is None:
            self.queue.push_back(conv.id)
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
        self._announced.pop(conv.id, None)
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
        if e.key.startswith(GRACE_PREFIX):
            self._grace_expired(int(e.key[len(GRACE_PREFIX):]), now, out)

    # ------------------------------------------------------------------ internals

    def _grace_expired(self, operator_id: int, now: float, out: list[Effect]) -> None:
        op = self.roster.get(operator_id)
        if op is None or op.connected:
            return
        op.status = OFFLINE
        lost = sorted((self.conversations[c] for c in op.chats), key=lambda c: c.waiting_since)
        for conv in lost:
            self._unassign(conv, now)
            out.append(Released(conv.id, operator_id))
            out.append(Requeued(conv.id, conv.visitor_id, operator_id, reason="operator_lost"))
        self.queue.push_front([conv.id for conv in lost])

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
        op.chats.add(conv.id)
        op.idle_since = now
        self._announced.pop(conv.id, None)
        out.append(Assign(conv.id, conv.visitor_id, op.operator_id, sticky=sticky))

    def _drain_queue(self, now: float, out: list[Effect]) -> None:
        """Fill every free eligible slot with the longest-waiting chat it may take."""
        while len(self.queue):
            progressed = False
            for cid in list(self.queue):
                conv = self.conversations[cid]
                choice = choose_operator(self.roster, team=conv.team, previous_operator_id=None)
                if choice is None:
                    continue
                self.queue.remove(cid)
                self._assign(conv, choice[0], now, out, sticky=False)
                progressed = True
                break
            if not progressed:
                return

    def _queue_figures(self) -> dict[int, tuple[int, int | None, int]]:
        figures: dict[int, tuple[int, int | None, int]] = {}
        for index, cid in enumerate(self.queue):
            conv = self.conversations[cid]
            serving = self.roster.serving(conv.team)
            capacity = sum(op.capacity for op in serving)
            free = sum(max(op.capacity - len(op.chats), 0) for op in serving if op.available)
            estimate = estimate_wait_s(
                position=index + 1,
                free_slots=free,
                serving_capacity=capacity,
                handle_s=self.handle_time.typical(conv.team),
            )
            figures[cid] = (index + 1, estimate, len(serving))
        return figures

    def _announce_queue(self, out: list[Effect]) -> None:
        """Tell each waiting visitor whose position, estimate or operator count changed."""
        for cid, figures in self._queue_figures().items():
            if self._announced.get(cid) == figures:
                continue
            self._announced[cid] = figures
            position, estimate, online = figures
            out.append(QueueUpdate(cid, self.conversations[cid].visitor_id, position, estimate, online))
