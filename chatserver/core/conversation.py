"""Conversation states and their legal transitions, with exact messages for illegal ones."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .transfer import Transfer


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
    # Served ahead of chats that have never had an operator (put back after a lost operator,
    # or a transfer waiting for a free colleague).
    priority: bool = False
    # The visitor left a message instead of waiting: answered in this thread, later.
    left_message: bool = False
    transfer: Transfer | None = None
    # The current wait (queue or transfer) the visitor is living through, and its hold messages.
    wait_started_at: float | None = None
    hold_count: int = 0
    # Silence: the first visitor message without an operator reply since, the moment the current
    # operator's clock started for it, and how far the rule has got (0 none, 1 nudged, 2 held).
    gap_since: float | None = None
    gap_clock: float = 0.0
    gap_stage: int = 0

    def move(self, to: State) -> None:
        if to not in _LEGAL[self.state]:
            raise IllegalTransition(f"conversation {self.id} cannot go from {self.state.value} to {to.value}")
        self.state = to
