"""Operator accounts and teams."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from chatserver.storage import repository as repo
from chatserver.storage.errors import DuplicateEmail, UnknownOperator

from .helpers import NOW


def _add(engine: Engine, email: str = "ada@example.com", **extra: object) -> repo.OperatorPublic:
    return repo.create_operator(
        engine,
        email=email,
        name="Ada",
        password_hash="argon2$hash",
        now=NOW,
        **extra,  # type: ignore[arg-type]
    )


def test_create_operator_with_defaults(engine: Engine) -> None:
    op = _add(engine)
    assert (op.email, op.name, op.title, op.role, op.capacity, op.active) == (
        "ada@example.com",
        "Ada",
        "",
        "operator",
        3,
        True,
    )
    assert op.created_at == NOW and op.teams == []
    assert "password_hash" not in op.model_dump()
    assert repo.get_operator(engine, operator_id=op.id) == op


def test_duplicate_email_raises_even_in_another_case(engine: Engine) -> None:
    _add(engine)
    with pytest.raises(DuplicateEmail):
        _add(engine)
    with pytest.raises(DuplicateEmail):
        _add(engine, email=" ADA@Example.com")
    assert len(repo.list_operators(engine)) == 1


def test_login_lookup_carries_the_hash_and_ignores_case(engine: Engine) -> None:
    op = _add(engine, role="admin", title="Lead")
    found = repo.get_operator_by_email(engine, email="Ada@Example.COM")
    assert found is not None
    assert (found.id, found.password_hash, found.role, found.title) == (op.id, "argon2$hash", "admin", "Lead")
    assert repo.get_operator_by_email(engine, email="nobody@example.com") is None


def test_teams_are_created_on_demand_and_listed(engine: Engine) -> None:
    op = _add(engine, teams=("billing", "returns", "billing"), capacity=5)
    assert op.teams == ["billing", "returns"] and op.capacity == 5
    other = _add(engine, email="bob@example.com", teams=["billing"])
    assert repo.operator_teams(engine, operator_id=other.id) == ["billing"]
    assert [t.name for t in repo.list_teams(engine)] == ["billing", "returns"]
    assert repo.ensure_team(engine, name="billing").id == repo.list_teams(engine)[0].id
    assert repo.operator_teams(engine, operator_id=999) == []


def test_deactivate_and_list(engine: Engine) -> None:
    ada, bob = _add(engine), _add(engine, email="bob@example.com")
    off = repo.set_operator_active(engine, operator_id=bob.id, active=False)
    assert not off.active
    assert [o.id for o in repo.list_operators(engine)] == [ada.id, bob.id]
    assert [o.id for o in repo.list_operators(engine, active_only=True)] == [ada.id]
    with pytest.raises(UnknownOperator):
        repo.set_operator_active(engine, operator_id=999, active=False)


def test_unknown_role_is_refused(engine: Engine) -> None:
    with pytest.raises(ValueError):
        _add(engine, role="owner")
    assert repo.list_operators(engine) == []
