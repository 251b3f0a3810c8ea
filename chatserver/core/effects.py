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
    """Tell the waiting visitor their position and estimate (None when nobody can serve them).

    ``kind`` is "queue" for a chat waiting for its first operator and "transfer" for a transfer
    waiting for a free colleague. ``late`` marks the update sent because the previous promise
    was about to be broken.
    """

    conversation_id: int
    visitor_id: str
    position: int
    estimated_wait_s: int | None
    operators_online: int
    low_s: int | None = None
    high_s: int | None = None
    kind: str = "queue"
    late: bool = False
    # The range in milliseconds, as calibrated (low_s / high_s are it rounded out to the promise).
    low_ms: int | None = None
    high_ms: int | None = None


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


# --- transfers ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TransferAlternative:
    """Something the operator could do instead: another team with room now, or queue anyway."""

    team: str | None
    queue: bool
    operators_online: int
    free_slots: int
    estimated_wait_s: int | None
    low_s: int | None = None
    high_s: int | None = None


@dataclass(frozen=True, slots=True)
class Refused:
    """The request (transfer, accept, leave a message…) cannot be done; nothing changed.

    ``code`` is the stable error code the adapter sends back to whoever asked.
    """

    conversation_id: int
    code: str
    message: str
    alternatives: tuple[TransferAlternative, ...] = ()


@dataclass(frozen=True, slots=True)
class TransferStarted:
    """Announce the handoff to the visitor (stored as a system message) and confirm it to the operator."""

    conversation_id: int
    visitor_id: str
    from_operator_id: int
    to_operator_id: int | None
    to_team: str | None
    reason: str
    benefit: str
    text: str | None
    queued: bool
    estimated_wait_s: int | None
    low_s: int | None
    high_s: int | None


@dataclass(frozen=True, slots=True)
class TransferOffered:
    """Offer the chat to a colleague, with the briefing; they have until ``expires_at`` to accept."""

    conversation_id: int
    visitor_id: str
    from_operator_id: int
    to_operator_id: int
    reason: str
    benefit: str
    attempt: int
    expires_at: float


@dataclass(frozen=True, slots=True)
class TransferOfferWithdrawn:
    """The offer is off (expired, declined, taken back, the chat closed): tell that colleague."""

    conversation_id: int
    operator_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class TransferMoved:
    """Nobody took the offer in time: it went to the next colleague. Tell the visitor and the operator."""

    conversation_id: int
    visitor_id: str
    from_operator_id: int
    to_team: str | None
    estimated_wait_s: int | None
    low_s: int | None
    high_s: int | None


@dataclass(frozen=True, slots=True)
class TransferCompleted:
    """The colleague took the chat: it is theirs now; the original operator lets go."""

    conversation_id: int
    visitor_id: str
    from_operator_id: int
    to_operator_id: int
    to_team: str | None
    reason: str
    benefit: str


@dataclass(frozen=True, slots=True)
class TransferReturned:
    """The transfer ended without a taker (or was cancelled): the original operator keeps the chat."""

    conversation_id: int
    visitor_id: str
    operator_id: int
    to_operator_id: int | None
    to_team: str | None
    reason: str  # "no_taker" | "cancelled"


# --- promises -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PromiseMade:
    """A wait figure the visitor was given: record it. ``deadline`` = made_at + high_s."""

    promise_id: int
    conversation_id: int
    kind: str
    made_at: float
    position: int | None
    estimate_s: int
    low_s: int
    high_s: int
    deadline: float
    wait_started_at: float


@dataclass(frozen=True, slots=True)
class PromiseSettled:
    """How the promise ended: kept, broken, revised, revised_late, returned, left, abandoned."""

    promise_id: int
    conversation_id: int
    outcome: str
    at: float
    waited_s: float


# --- hold messages, leaving a message, silence ----------------------------------------------


@dataclass(frozen=True, slots=True)
class HoldMessage:
    """Time for a wait-filler: a line from the hold library with the current position and estimate."""

    conversation_id: int
    visitor_id: str
    kind: str  # "queue" | "transfer"
    position: int | None
    estimated_wait_s: int | None
    low_s: int | None
    high_s: int | None
    count: int
    to_team: str | None = None
    to_operator_id: int | None = None


@dataclass(frozen=True, slots=True)
class LateNotice:
    """The promise is about to be broken: tell the visitor in words (a system line) with the new figure."""

    conversation_id: int
    visitor_id: str
    kind: str
    estimated_wait_s: int | None
    low_s: int | None
    high_s: int | None


@dataclass(frozen=True, slots=True)
class MessageLeft:
    """The visitor chose to leave a message instead of waiting: confirm it; they are answered here.

    ``again`` when they had already left it: confirm once more, store nothing new.
    """

    conversation_id: int
    visitor_id: str
    again: bool = False


@dataclass(frozen=True, slots=True)
class AnswerLater:
    """A chat whose visitor left a message went to an operator: tell them the visitor is not waiting."""

    conversation_id: int
    operator_id: int


@dataclass(frozen=True, slots=True)
class SilenceNudge:
    """The visitor's message has waited ``waited_s`` for a reply: nudge the operator."""

    conversation_id: int
    operator_id: int
    since: float
    waited_s: float


@dataclass(frozen=True, slots=True)
class HoldingLine:
    """Twice the nudge time without a reply: one holding line to the visitor in the operator's name."""

    conversation_id: int
    visitor_id: str
    operator_id: int
    since: float


@dataclass(frozen=True, slots=True)
class CheckBackDue:
    """The promised answer is due at ``due_at``: remind the operator holding the chat."""

    conversation_id: int
    operator_id: int
    due_at: float


@dataclass(frozen=True, slots=True)
class ReplyWritten:
    """The operator's message answers a check-back (``check_back``) or a left message: send it on."""

    conversation_id: int
    operator_id: int | None
    check_back: bool


@dataclass(frozen=True, slots=True)
class ShutOut:
    """The visitor was blocked: close their sockets in this process (every process does it)."""

    visitor_id: str


Effect = (
    Assign
    | QueueUpdate
    | Requeued
    | Released
    | Closed
    | StartTimer
    | CancelTimer
    | Refused
    | TransferStarted
    | TransferOffered
    | TransferOfferWithdrawn
    | TransferMoved
    | TransferCompleted
    | TransferReturned
    | PromiseMade
    | PromiseSettled
    | HoldMessage
    | LateNotice
    | MessageLeft
    | AnswerLater
    | SilenceNudge
    | HoldingLine
    | CheckBackDue
    | ReplyWritten
    | ShutOut
)
