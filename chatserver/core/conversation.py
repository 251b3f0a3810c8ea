"""Conversation states and their legal transitions, with exact messages for illegal ones."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class State(enum.StrEnum):
    WAITING = "waiting"
    ASSIGNED = "assigned"
    TRANSFERRING = "transferring"
    CLOSED = "closed"


_LEGAL: dict[State, frozenset[State]] = {
    State.WAITING: frozenset({State.ASSIGNED, State.CLOSED}),
    State.ASSIGNED: frozenset({State.WAITING, State.TRANSFERRING, State.CLOSED}),
    State.TRANSFERRING: frozenset({State.ASSIGNED, State.WAITING, State.CLOSED}),
    State.CLOSED: frozenset(),
}


class IllegalTransition(RuntimeError):
    """A bug in the caller: the core never moves a conversation along an edge that does not exist."""


@dataclass(slots=True)
class Conversation:
    """What the core tracks about one open conversation."""

    id: int
    visitor_id: str
    state: State
    operator_id: int | None = None
    team: str | None = None
    locale: str | None = None
    waiting_since: float = 0.0
    assigned_at: float | None = None

    def move(self, to: State) -> None:
        if to not in _LEGAL[self.state]:
            raise IllegalTransition(
                f"conversation {self.id} cannot go from {self.state.value} to {to.value}"
            )
        self.state = to
