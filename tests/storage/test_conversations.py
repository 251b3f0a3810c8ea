"""Conversations, their event log, and the lookup behind sticky routing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.engine import Engine

from chatserver.storage import repository as repo
from chatserver.storage.errors import UnknownConversation

from .helpers import NOW, new_conversation


def _operator(engine: Engine, email: str) -> int:
    return repo.create_operator(engine, email=email, name=email, password_hash="h", now=NOW).id


def test_open_conversation_waits_and_logs_opened(engine: Engine) -> None:
    repo.create_visitor(engine, visitor_id="v", locale="pl", now=NOW)
    conv = repo.open_conversation(
        engine, visitor_id="v", customer_id=None, locale="pl", team="billing", now=NOW + 1
    )
    assert (conv.state, conv.operator_id, conv.team, conv.locale, conv.last_seq) == (
        "waiting",
        None,
        "billing",
        "pl",
        0,
    )
    assert conv.created_at == NOW + 1
    assert repo.get_open_conversation_for_visitor(engine, visitor_id="v") == conv
    [opened] = repo.list_conversation_events(engine, conversation_id=conv.id)
    assert (opened.kind, opened.state, opened.ts, json.loads(opened.data)) == (
        "opened",
        "waiting",
        NOW + 1,
        {"team": "billing"},
    )


def test_state_changes_update_the_row_and_append_events(engine: Engine) -> None:
    ada = _operator(engine, "ada@example.com")
    conv = new_conversation(engine)
    assigned = repo.set_conversation_state(
        engine,
        conversation_id=conv.id,
        state="assigned",
        operator_id=ada,
        now=NOW + 5,
        event_kind="assigned",
        data={"sticky": False},
    )
    assert (assigned.state, assigned.operator_id, assigned.assigned_at) == ("assigned", ada, NOW + 5)
    requeued = repo.set_conversation_state(
        engine,
        conversation_id=conv.id,
        state="waiting",
        operator_id=None,
        now=NOW + 6,
        event_kind="requeued",
    )
    assert (requeued.operator_id, requeued.assigned_at) == (None, None)
    repo.set_conversation_state(
        engine, conversation_id=conv.id, state="assigned", operator_id=ada, now=NOW + 7, event_kind="assigned"
    )
    closed = repo.set_conversation_state(
        engine, conversation_id=conv.id, state="closed", operator_id=None, now=NOW + 9, event_kind="closed"
    )
    assert (closed.state, closed.closed_at, closed.operator_id) == ("closed", NOW + 9, ada)
    events = repo.list_conversation_events(engine, conversation_id=conv.id)
    assert [(e.kind, e.state, e.operator_id) for e in events] == [
        ("opened", "waiting", None),
        ("assigned", "assigned", ada),
        ("requeued", "waiting", None),
        ("assigned", "assigned", ada),
        ("closed", "closed", None),
    ]
    assert json.loads(events[1].data) == {"sticky": False}
    assert repo.get_open_conversation_for_visitor(engine, visitor_id=conv.visitor_id) is None


def test_bad_state_or_conversation_is_refused(engine: Engine) -> None:
    conv = new_conversation(engine)
    with pytest.raises(ValueError):
        repo.set_conversation_state(
            engine, conversation_id=conv.id, state="paused", operator_id=None, now=NOW, event_kind="x"
        )
    with pytest.raises(UnknownConversation):
        repo.set_conversation_state(
            engine,
            conversation_id=conv.id + 99,
            state="closed",
            operator_id=None,
            now=NOW,
            event_kind="closed",
        )
    assert len(repo.list_conversation_events(engine, conversation_id=conv.id)) == 1


def test_list_open_conversations_oldest_first(engine: Engine) -> None:
    late = new_conversation(engine, now=NOW + 10)
    early = new_conversation(engine, now=NOW)
    gone = new_conversation(engine, now=NOW + 5)
    repo.set_conversation_state(
        engine, conversation_id=gone.id, state="closed", operator_id=None, now=NOW + 6, event_kind="closed"
    )
    assert [c.id for c in repo.list_open_conversations(engine)] == [early.id, late.id]


def test_get_or_open_conversation_reuses_the_open_one(engine: Engine) -> None:
    repo.create_visitor(engine, visitor_id="v", locale=None, now=NOW)
    first, opened = repo.get_or_open_conversation(
        engine, visitor_id="v", customer_id=None, locale=None, now=NOW
    )
    again, opened_again = repo.get_or_open_conversation(
        engine, visitor_id="v", customer_id=None, locale=None, now=NOW + 1
    )
    assert opened and not opened_again and again.id == first.id


def test_sticky_lookup_returns_the_previous_operator(engine: Engine) -> None:
    ada, bob = _operator(engine, "ada@example.com"), _operator(engine, "bob@example.com")
    customer = repo.get_or_create_customer_by_external_id(
        engine, external_id="shop-1", name=None, email=None, locale=None, now=NOW
    )
    assert (
        repo.last_operator_for_customer_or_visitor(engine, visitor_id="v1", customer_id=customer.id) is None
    )

    old = new_conversation(engine, visitor_id="v1", customer_id=customer.id, now=NOW)
    for oid, t in ((ada, 1), (bob, 2)):  # transferred from Ada to Bob
        repo.set_conversation_state(
            engine,
            conversation_id=old.id,
            state="assigned",
            operator_id=oid,
            now=NOW + t,
            event_kind="assigned",
        )
    repo.set_conversation_state(
        engine, conversation_id=old.id, state="closed", operator_id=None, now=NOW + 3, event_kind="closed"
    )
    # Same visitor, new conversation.
    assert repo.last_operator_for_customer_or_visitor(engine, visitor_id="v1", customer_id=None) == bob
    # The same customer on another device (another visitor id).
    new_conversation(engine, visitor_id="v2", customer_id=customer.id, now=NOW + 10)
    assert repo.last_operator_for_customer_or_visitor(engine, visitor_id="v2", customer_id=customer.id) == bob
    # A stranger gets nobody.
    assert repo.last_operator_for_customer_or_visitor(engine, visitor_id="v3", customer_id=None) is None
