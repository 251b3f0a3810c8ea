"""Read models: immutable answers about operators, the line and conversations, for the adapters.

The adapters must not derive domain facts from the core's mutable state themselves (what counts
as online, as a free slot, as serving a team, where a visitor stands in line): each is computed
here, once, from the same rules routing uses, and handed out as frozen snapshots that cannot
change the core by accident.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

from .conversation import Conversation, State
from .estimates import Estimator, Figures
from .promises import WaitRule
from .queue import WaitingQueue
from .roster import OFFLINE, ONLINE, OperatorState, Roster


@dataclass(frozen=True, slots=True)
class OperatorPresence:
    """One operator as others see them. ``status`` is "offline" while not connected."""

    operator_id: int
    known: bool
    connected: bool
    status: str
    chats: int
    capacity: int
    free_slots: int
    teams: frozenset[str]
    chat_ids: tuple[int, ...]

    @property
    def online(self) -> bool:
        return self.status == ONLINE


def _presence(operator_id: int, op: OperatorState | None) -> OperatorPresence:
    if op is None:
        return OperatorPresence(operator_id, False, False, OFFLINE, 0, 0, 0, frozenset(), ())
    return OperatorPresence(
        operator_id=operator_id,
        known=True,
        connected=op.connected,
        status=op.status if op.connected else OFFLINE,
        chats=len(op.chats),
        capacity=op.capacity,
        free_slots=op.free_slots,
        teams=op.teams,
        chat_ids=tuple(sorted(op.chats)),
    )


class PresenceView:
    """Who is there to serve: per operator, and per team (``None`` means any team)."""

    def __init__(self, roster: Roster) -> None:
        self._roster = roster

    def operator(self, operator_id: int) -> OperatorPresence:
        """Always an answer: an operator the core has not heard of is offline with no chats."""
        return _presence(operator_id, self._roster.get(operator_id))

    def serving(self, team: str | None = None) -> tuple[OperatorPresence, ...]:
        """Operators online and connected who may take this team's chats (free or not)."""
        return tuple(_presence(op.operator_id, op) for op in self._roster.serving(team))

    def online_count(self, team: str | None = None) -> int:
        return len(self._roster.serving(team))

    def places(self) -> frozenset[str]:
        """The server processes holding at least one operator socket."""
        return frozenset(place for op in self._roster for place in op.places)

    def anyone_serving(self, team: str | None = None) -> bool:
        return bool(self._roster.serving(team))


@dataclass(frozen=True, slots=True)
class ConversationView:
    """An open conversation as the adapters read it."""

    conversation_id: int
    visitor_id: str
    state: State
    operator_id: int | None
    team: str | None
    locale: str | None
    waiting_since: float
    left_message: bool
    offered_to: int | None
    # When the holder got the chat, and the visitor's first message unanswered since (None: none).
    assigned_at: float | None = None
    unanswered_since: float | None = None

    def held_by(self, operator_id: int) -> bool:
        """Is this the operator who holds the chat now (during a transfer: still the original one)?"""
        return self.operator_id == operator_id


def conversation_view(conv: Conversation) -> ConversationView:
    t = conv.transfer
    return ConversationView(
        conversation_id=conv.id,
        visitor_id=conv.visitor_id,
        state=conv.state,
        operator_id=conv.operator_id,
        team=conv.team,
        locale=conv.locale,
        waiting_since=conv.waiting_since,
        left_message=conv.left_message,
        offered_to=t.offered_to if t is not None else None,
        assigned_at=conv.assigned_at,
        unanswered_since=conv.gap_since,
    )


@dataclass(frozen=True, slots=True)
class WaitingChat:
    """A chat in line with the figures it gets now (position among the chats competing with it)."""

    conversation_id: int
    position: int
    estimated_wait_s: int | None
    low_s: int | None
    high_s: int | None
    operators_online: int
    waiting_since: float
    locale: str | None
    team: str | None
    state: State


class QueueView:
    """The line as of the last event: who waits, where they stand, what they were told."""

    def __init__(
        self,
        *,
        conversations: dict[int, Conversation],
        queue: WaitingQueue,
        estimator: Estimator,
        waits: WaitRule,
        clock: Callable[[], float],
    ) -> None:
        self._conversations = conversations
        self._queue = queue
        self._estimator = estimator
        self._waits = waits
        self._clock = clock

    def __len__(self) -> int:
        return len(self._queue)

    def snapshot(self) -> tuple[WaitingChat, ...]:
        """Everyone waiting, in the order they will be served."""
        rows = []
        for cid, fig in self._estimator.queue_figures(self._clock()).items():
            conv = self._conversations[cid]
            rows.append(
                WaitingChat(
                    conversation_id=cid,
                    position=fig.position,
                    estimated_wait_s=fig.estimate.seconds,
                    low_s=fig.estimate.low,
                    high_s=fig.estimate.high,
                    operators_online=fig.online,
                    waiting_since=conv.waiting_since,
                    locale=conv.locale,
                    team=conv.team,
                    state=conv.state,
                )
            )
        return tuple(rows)

    def as_told(self) -> tuple[WaitingChat, ...]:
        """:meth:`snapshot` with the figures each visitor was last told (their position, estimate and
        range), so operators see exactly what the visitor sees; a row not told yet keeps its own."""
        rows = []
        for row in self.snapshot():
            told = self._waits.told(row.conversation_id)
            if told is not None:
                row = replace(
                    row,
                    position=told.position,
                    estimated_wait_s=told.estimate.seconds,
                    low_s=told.estimate.low,
                    high_s=told.estimate.high,
                    operators_online=told.online,
                )
            rows.append(row)
        return tuple(rows)

    def waiting(self, conversation_id: int) -> WaitingChat | None:
        """This chat's row of :meth:`snapshot` (None when it is not in line)."""
        if conversation_id not in self._queue:
            return None
        for row in self.snapshot():
            if row.conversation_id == conversation_id:
                return row
        return None

    def is_waiting(self, conversation_id: int) -> bool:
        """Open and in line (a parked left message or a chat on offer is not in line)."""
        return conversation_id in self._conversations and conversation_id in self._queue

    def position(self, conversation_id: int) -> int | None:
        """The position this visitor is told: chats ahead of them that compete for the same operators."""
        row = self.waiting(conversation_id)
        return row.position if row is not None else None

    def place_in_line(self, conversation_id: int) -> int | None:
        """The plain 1-based place in the whole line, whoever the chats ahead are waiting for."""
        for index, cid in enumerate(self._queue):
            if cid == conversation_id:
                return index + 1
        return None

    def figures(self, conversation_id: int) -> Figures | None:
        """The figures last told to this waiting visitor (None when they are not waiting in line)."""
        return self._waits.told(conversation_id)

    def waiting_by_team(self) -> dict[str | None, int]:
        """Chats in line per team they were opened for (a queued transfer counts for its old team)."""
        counts: dict[str | None, int] = {}
        for cid in self._queue:
            conv = self._conversations.get(cid)
            if conv is not None:
                counts[conv.team] = counts.get(conv.team, 0) + 1
        return counts


@dataclass(frozen=True, slots=True)
class TeamPresence:
    """One row of the operators' directory: who could take a transfer to this team right now."""

    team: str
    online: int
    free_slots: int
    waiting: int


def team_directory(
    presence: PresenceView,
    queue: QueueView,
    teams: Iterable[str],
    members: Mapping[int, Iterable[str]],
    *,
    exclude: int | None = None,
) -> tuple[TeamPresence, ...]:
    """Per team: members online, their free slots, chats waiting. ``members`` maps operator id to
    the teams their account lists (the account, not the roster, says who belongs where);
    ``exclude`` leaves out the asking operator, who cannot transfer to themselves."""
    waiting = queue.waiting_by_team()
    people = {oid: (set(names), presence.operator(oid)) for oid, names in members.items() if oid != exclude}
    rows = []
    for team in teams:
        in_team = [p for names, p in people.values() if team in names]
        rows.append(
            TeamPresence(
                team=team,
                online=sum(1 for p in in_team if p.online),
                free_slots=sum(p.free_slots for p in in_team),
                waiting=waiting.get(team, 0),
            )
        )
    return tuple(rows)
