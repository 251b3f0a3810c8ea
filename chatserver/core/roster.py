"""Operators as routing sees them: status, connection, capacity, teams, load and idleness."""

from __future__ import annotations

from dataclasses import dataclass, field

ONLINE, AWAY, OFFLINE = "online", "away", "offline"
STATUSES = frozenset({ONLINE, AWAY, OFFLINE})


@dataclass(slots=True)
class OperatorState:
    """One operator. ``idle_since`` orders ties: the operator who waited longest for a chat goes first."""

    operator_id: int
    capacity: int
    teams: frozenset[str] = frozenset()
    status: str = OFFLINE
    # The server processes holding at least one of the operator's sockets ("" with one process).
    places: set[str] = field(default_factory=set)
    chats: set[int] = field(default_factory=set)
    idle_since: float = 0.0
    # Transfers offered to this operator and not yet answered: each holds a slot for the offer.
    offers: set[int] = field(default_factory=set)

    @property
    def connected(self) -> bool:
        return bool(self.places)

    @property
    def load(self) -> int:
        return len(self.chats) + len(self.offers)

    @property
    def available(self) -> bool:
        """May receive new chats now: connected, online, with a free slot."""
        return self.connected and self.status == ONLINE and self.load < self.capacity

    @property
    def free_slots(self) -> int:
        """Slots a new chat or transfer offer could take now (none unless the operator is serving)."""
        return max(self.capacity - self.load, 0) if self.serving else 0

    @property
    def serving(self) -> bool:
        """Counts toward the team's serving strength (online and connected)."""
        return self.connected and self.status == ONLINE

    def eligible_for(self, team: str | None) -> bool:
        return team is None or team in self.teams


class Roster:
    """All operators the core has heard of."""

    def __init__(self) -> None:
        self._operators: dict[int, OperatorState] = {}

    def get(self, operator_id: int) -> OperatorState | None:
        return self._operators.get(operator_id)

    def ensure(
        self, operator_id: int, *, capacity: int, teams: frozenset[str] = frozenset()
    ) -> OperatorState:
        op = self._operators.get(operator_id)
        if op is None:
            op = OperatorState(operator_id=operator_id, capacity=capacity, teams=teams)
            self._operators[operator_id] = op
        return op

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._operators.values())

    def serving(self, team: str | None = None) -> list[OperatorState]:
        return [op for op in self._operators.values() if op.serving and op.eligible_for(team)]
