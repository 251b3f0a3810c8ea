"""Small builders shared by the storage tests."""

from __future__ import annotations

import uuid

from sqlalchemy.engine import Engine

from chatserver.storage import repository as repo
from chatserver.storage.models import ConversationPublic
from chatserver.storage.records import NewMessage

NOW = 1_700_000_000.0


def new_conversation(
    engine: Engine, *, visitor_id: str | None = None, customer_id: int | None = None, now: float = NOW
) -> ConversationPublic:
    visitor_id = visitor_id or uuid.uuid4().hex
    repo.create_visitor(engine, visitor_id=visitor_id, locale="en", customer_id=customer_id, now=now)
    return repo.open_conversation(
        engine, visitor_id=visitor_id, customer_id=customer_id, locale="en", now=now
    )


def visitor_says(conversation: ConversationPublic, client_id: str, text: str = "hi") -> NewMessage:
    return NewMessage(conversation.id, "visitor", conversation.visitor_id, client_id, text, NOW)


def operator_says(conversation_id: int, operator_id: int, client_id: str, text: str) -> NewMessage:
    return NewMessage(conversation_id, "operator", str(operator_id), client_id, text, NOW, "Ada", "Support")


def system_says(conversation_id: int, text: str) -> NewMessage:
    return NewMessage(conversation_id, "system", "", None, text, NOW)
