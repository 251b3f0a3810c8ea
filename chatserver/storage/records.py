"""Plain records for the message hot path: cheaper than pydantic models."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message as received, before it has a seq or an id."""

    conversation_id: int
    sender: str  # "visitor" | "operator" | "system"
    sender_id: str  # "" for system messages
    client_id: str | None  # None for system messages: never deduplicated
    text: str
    ts: float
    author_name: str | None = None
    author_title: str | None = None


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A committed message; `duplicate` marks a repeated client_id answered from the store."""

    message_id: int
    conversation_id: int
    seq: int
    sender: str
    sender_id: str
    client_id: str | None
    text: str
    ts: float
    author_name: str | None
    author_title: str | None
    duplicate: bool = False
