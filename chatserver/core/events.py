"""Inputs to the core: what happened, as plain data. The core never learns how (socket, REST, timer)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OperatorConnected:
    """The operator's first socket in one server process opened (or reopened within the grace period).

    ``process`` names that process when several share the service: the operator is connected
    while any process holds one of their sockets.
    """

    operator_id: int
    teams: frozenset[str]
    capacity: int
    process: str = ""


@dataclass(frozen=True, slots=True)
class OperatorDisconnected:
    """The operator's last socket in ``process`` closed.

    With no socket left anywhere, their chats wait out the grace period.
    """

    operator_id: int
    process: str = ""
    everywhere: bool = False  # the account was switched off: every process's sockets are closing


@dataclass(frozen=True, slots=True)
class OperatorUpdated:
    """An admin changed the operator's teams or capacity; routing takes them now."""

    operator_id: int
    teams: frozenset[str]
    capacity: int


@dataclass(frozen=True, slots=True)
class ProcessLost:
    """A server process stopped answering: every operator socket it held is gone."""

    process: str


@dataclass(frozen=True, slots=True)
class OperatorStatusChanged:
    """The operator said online, away or offline."""

    operator_id: int
    status: str


@dataclass(frozen=True, slots=True)
class ConversationOpened:
    """A visitor's first message opened a conversation that now needs an operator."""

    conversation_id: int
    visitor_id: str
    previous_operator_id: int | None = None
    team: str | None = None
    locale: str | None = None


@dataclass(frozen=True, slots=True)
class ConversationRestored:
    """On start-up: an open conversation read back from storage."""

    conversation_id: int
    visitor_id: str
    operator_id: int | None
    waiting_since: float
    team: str | None = None
    locale: str | None = None
    left_message: bool = False
    check_back_due_at: float | None = None  # a check-back still owed (its reminder is rebuilt)
    left_answered: bool = False  # the left message was already answered (and mailed) once


@dataclass(frozen=True, slots=True)
class ConversationClosed:
    """An operator (or the system) ended the conversation."""

    conversation_id: int


@dataclass(frozen=True, slots=True)
class ClaimLost:
    """Another process claimed the chat first: the proposed assignment is void and the chat is theirs."""

    conversation_id: int
    operator_id: int


@dataclass(frozen=True, slots=True)
class TimerFired:
    """A deadline the core asked for has come."""

    key: str


@dataclass(frozen=True, slots=True)
class TransferRequested:
    """The operator hands the chat to a colleague or a team, saying why and what the visitor gains.

    ``queue`` asks to wait for the target even when nobody there is free (or online); ``text`` is
    the operator's own wording of the announcement (checked by the adapter before it gets here).
    """

    conversation_id: int
    operator_id: int
    reason: str
    benefit: str
    to_operator_id: int | None = None
    to_team: str | None = None
    queue: bool = False
    text: str | None = None


@dataclass(frozen=True, slots=True)
class TransferAccepted:
    """The colleague the chat was offered to takes it."""

    conversation_id: int
    operator_id: int


@dataclass(frozen=True, slots=True)
class TransferDeclined:
    """The colleague the chat was offered to says no: offer it to the next one at once."""

    conversation_id: int
    operator_id: int


@dataclass(frozen=True, slots=True)
class TransferCancelled:
    """The original operator takes the transfer back before anyone accepted."""

    conversation_id: int
    operator_id: int


@dataclass(frozen=True, slots=True)
class VisitorMessaged:
    """A visitor message was stored: it starts a silence gap unless one is already open."""

    conversation_id: int


@dataclass(frozen=True, slots=True)
class OperatorReplied:
    """An operator message was stored: it closes the silence gap."""

    conversation_id: int


@dataclass(frozen=True, slots=True)
class LeaveMessage:
    """The waiting visitor leaves a message instead of waiting; it is answered in the same thread."""

    conversation_id: int


@dataclass(frozen=True, slots=True)
class CheckBackPromised:
    """The operator does not know yet and promises the answer by ``due_at`` (docs/playbook.md#dont-know)."""

    conversation_id: int
    operator_id: int
    due_at: float


@dataclass(frozen=True, slots=True)
class VisitorCooledDown:
    """An operator gave the visitor a boundary cool-down: their messages are refused until ``until``."""

    visitor_id: str
    until: float


@dataclass(frozen=True, slots=True)
class CoolDownEnded:
    """An admin ended the visitor's cool-down early."""

    visitor_id: str


@dataclass(frozen=True, slots=True)
class VisitorBlocked:
    """The visitor (and their customer) is blocked: every process closes their sockets."""

    visitor_id: str


Event = (
    OperatorConnected
    | OperatorDisconnected
    | OperatorUpdated
    | ProcessLost
    | OperatorStatusChanged
    | ConversationOpened
    | ConversationRestored
    | ConversationClosed
    | ClaimLost
    | TimerFired
    | TransferRequested
    | TransferAccepted
    | TransferDeclined
    | TransferCancelled
    | VisitorMessaged
    | OperatorReplied
    | LeaveMessage
    | CheckBackPromised
    | VisitorCooledDown
    | CoolDownEnded
    | VisitorBlocked
)
