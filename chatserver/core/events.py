"""Inputs to the core: what happened, as plain data. The core never learns how (socket, REST, timer)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OperatorConnected:
    """The operator's first socket opened (or reopened within the grace period)."""

    operator_id: int
    teams: frozenset[str]
    capacity: int


@dataclass(frozen=True, slots=True)
class OperatorDisconnected:
    """The operator's last socket closed; their chats wait out the grace period."""

    operator_id: int


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


Event = (
    OperatorConnected
    | OperatorDisconnected
    | OperatorStatusChanged
    | ConversationOpened
    | ConversationRestored
    | ConversationClosed
    | ClaimLost
    | TimerFired
)
