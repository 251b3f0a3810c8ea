"""Outputs of the core: decisions for the adapters to carry out (persist, claim, tell, set timers)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Assign:
    """Give the conversation to the operator: claim it, persist it, brief the operator, tell the visitor."""

    conversation_id: int
    visitor_id: str
    operator_id: int
    sticky: bool = False


@dataclass(frozen=True, slots=True)
class QueueUpdate:
    """Tell the waiting visitor their position and estimate (None when nobody can serve them)."""

    conversation_id: int
    visitor_id: str
    position: int
    estimated_wait_s: int | None
    operators_online: int


@dataclass(frozen=True, slots=True)
class Requeued:
    """The operator's grace period ran out: the chat went back to the front of the queue."""

    conversation_id: int
    visitor_id: str
    operator_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class Released:
    """The conversation left the operator (closed or requeued): stop their fan-out for it."""

    conversation_id: int
    operator_id: int


@dataclass(frozen=True, slots=True)
class Closed:
    """The conversation ended: persist it and tell everyone in it."""

    conversation_id: int
    visitor_id: str
    operator_id: int | None


@dataclass(frozen=True, slots=True)
class StartTimer:
    """Call back with TimerFired(key) at ``deadline`` (the same clock as ``now``). Replaces an older one."""

    key: str
    deadline: float


@dataclass(frozen=True, slots=True)
class CancelTimer:
    """The deadline no longer matters."""

    key: str


Effect = Assign | QueueUpdate | Requeued | Released | Closed | StartTimer | CancelTimer
