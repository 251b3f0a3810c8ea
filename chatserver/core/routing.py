"""Who gets the next chat: the previous operator if free, else the least busy, ties to the longest idle."""

from __future__ import annotations

from .roster import OperatorState, Roster


def choose_operator(
    roster: Roster, *, team: str | None, previous_operator_id: int | None
) -> tuple[OperatorState, bool] | None:
    """Return (operator, sticky) or None when nobody eligible has a free slot."""
    if previous_operator_id is not None:
        previous = roster.get(previous_operator_id)
        if previous is not None and previous.available and previous.eligible_for(team):
            return previous, True
    candidates = [op for op in roster if op.available and op.eligible_for(team)]
    if not candidates:
        return None
    best = min(candidates, key=lambda op: (op.load, op.idle_since, op.operator_id))
    return best, False
