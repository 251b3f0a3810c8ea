"""Transfers: who may receive one, and the announcement the visitor reads.

Etiquette (docs/playbook.md#transfers): say **why** the visitor is transferred, what they **gain**, and say
**how long** they will wait. The server writes the announcement from those parts in the visitor's
language; an operator who words it themselves may not drop any of them. Plain functions: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .roster import OperatorState, Roster

# Placeholders an operator's own wording may use; the server fills them.
REASON, BENEFIT, WAIT, TARGET = "{reason}", "{benefit}", "{wait}", "{target}"
PLACEHOLDERS = (REASON, BENEFIT, WAIT, TARGET)


@dataclass(slots=True)
class Transfer:
    """A transfer in flight. The original operator keeps the chat until a colleague accepts it."""

    from_operator_id: int
    reason: str
    benefit: str
    started_at: float
    to_operator_id: int | None = None
    to_team: str | None = None
    text: str | None = None
    queued: bool = False
    offered_to: int | None = None
    offered_at: float | None = None
    first_offered_at: float | None = None
    attempts: int = 0
    tried: set[int] = field(default_factory=set)

    def wants(self, op: OperatorState) -> bool:
        """May this operator be offered the chat (whether or not they have room now)?"""
        if op.operator_id == self.from_operator_id:
            return False
        if self.to_operator_id is not None:
            return op.operator_id == self.to_operator_id
        return op.eligible_for(self.to_team)


def serving_targets(roster: Roster, transfer: Transfer) -> list[OperatorState]:
    """Who could take the transfer and is online (free or not)."""
    return [op for op in roster if op.serving and transfer.wants(op)]


def choose_receiver(roster: Roster, transfer: Transfer) -> OperatorState | None:
    """The least busy colleague with a free slot who has not been offered this chat yet."""
    candidates = [
        op for op in roster if op.available and transfer.wants(op) and op.operator_id not in transfer.tried
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda op: (op.load, op.idle_since, op.operator_id))


# --- the operator's own wording --------------------------------------------------------------

_SPACES = re.compile(r"\s+")


def _fold(text: str) -> str:
    return _SPACES.sub(" ", text).strip().casefold().rstrip(".!?…")


def missing_parts(text: str, reason: str, benefit: str) -> list[str]:
    """What an operator's wording lost: "reason", "benefit", "wait" (empty when complete).

    The reason and the benefit may be written out (the exact words given in the frame, case and
    spacing aside) or left as ``{reason}`` / ``{benefit}``. The wait must be ``{wait}``: only the
    server knows the estimate at the moment the visitor reads it.
    """
    folded = _fold(text)
    missing = []
    if REASON not in text and _fold(reason) not in folded:
        missing.append("reason")
    if BENEFIT not in text and _fold(benefit) not in folded:
        missing.append("benefit")
    if WAIT not in text:
        missing.append("wait")
    return missing


def clause(text: str) -> str:
    """A reason or benefit as a clause inside a sentence: no closing full stop of its own."""
    return text.strip().rstrip(".!…").strip()


def fill(template: str, *, reason: str, benefit: str, wait: str, target: str) -> str:
    """The operator's wording (or ours) with the placeholders filled; other braces are left alone."""
    return (
        template.replace(REASON, clause(reason))
        .replace(BENEFIT, clause(benefit))
        .replace(WAIT, wait)
        .replace(TARGET, target)
    )
