"""Customers and visitors, created on first sight.

A customer is the shop's account (by its external id); a visitor is one
browser (by the widget's id), linked to a customer once they log in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Engine

from ..db import read_transaction, write_transaction
from ..errors import UnknownVisitor
from ..models import CustomerPublic, VisitorPublic
from ._common import insert_if_absent
from .tables import CUSTOMER, VISITOR


def _customer(conn: Connection, **where: Any) -> CustomerPublic | None:
    clauses = [CUSTOMER.c[k] == v for k, v in where.items()]
    row = conn.execute(select(CUSTOMER).where(*clauses)).one_or_none()
    return None if row is None else CustomerPublic.model_validate(dict(row._mapping))


def get_or_create_customer_by_external_id(
    engine: Engine,
    *,
    external_id: str,
    name: str | None,
    email: str | None,
    locale: str | None,
    now: float,
) -> CustomerPublic:
    """The shop's customer, created on first sight; fresh name/email/locale win."""
    values = {
        "external_id": external_id,
        "name": name,
        "email": email,
        "locale": locale,
        "first_seen": now,
        "last_seen": now,
        "created_at": now,
    }
    with write_transaction(engine) as conn:
        if insert_if_absent(conn, CUSTOMER, values, ["external_id"]) is None:
            fresh = {"name": name, "email": email, "locale": locale}
            changes: dict[str, Any] = {k: v for k, v in fresh.items() if v is not None}
            changes["last_seen"] = now
            conn.execute(update(CUSTOMER).where(CUSTOMER.c.external_id == external_id).values(**changes))
        found = _customer(conn, external_id=external_id)
    assert found is not None
    return found


def get_customer(engine: Engine, *, customer_id: int) -> CustomerPublic | None:
    with read_transaction(engine) as conn:
        return _customer(conn, id=customer_id)


def _visitor(conn: Connection, visitor_id: str) -> VisitorPublic | None:
    row = conn.execute(select(VISITOR).where(VISITOR.c.id == visitor_id)).one_or_none()
    return None if row is None else VisitorPublic.model_validate(dict(row._mapping))


def create_visitor(
    engine: Engine,
    *,
    visitor_id: str,
    locale: str | None,
    customer_id: int | None = None,
    now: float,
) -> VisitorPublic:
    """Insert a visitor; if the id already exists, the stored visitor is returned as is."""
    with write_transaction(engine) as conn:
        return create_visitor_in(conn, visitor_id=visitor_id, locale=locale, customer_id=customer_id, now=now)


def create_visitor_in(
    conn: Connection,
    *,
    visitor_id: str,
    locale: str | None,
    customer_id: int | None = None,
    now: float,
) -> VisitorPublic:
    """`create_visitor` inside the caller's transaction (the writer's group commit)."""
    values = {
        "id": visitor_id,
        "customer_id": customer_id,
        "locale": locale,
        "created_at": now,
        "last_seen": now,
    }
    insert_if_absent(conn, VISITOR, values, ["id"])
    found = _visitor(conn, visitor_id)
    assert found is not None
    return found


def get_visitor(engine: Engine, *, visitor_id: str) -> VisitorPublic | None:
    with read_transaction(engine) as conn:
        return _visitor(conn, visitor_id)


def visitors_by_id(engine: Engine, *, keys: Sequence[str]) -> dict[str, VisitorPublic]:
    """The visitors with these ids (absent ones left out): a crowd's hellos in one statement."""
    with read_transaction(engine) as conn:
        rows = conn.execute(select(VISITOR).where(VISITOR.c.id.in_(keys))).all()
    return {row.id: VisitorPublic.model_validate(dict(row._mapping)) for row in rows}


def touch_visitor(
    engine: Engine,
    *,
    visitor_id: str,
    now: float,
    customer_id: int | None = None,
    locale: str | None = None,
) -> VisitorPublic:
    """Mark a visitor seen; link a customer / update the locale when given (never unlinks)."""
    changes: dict[str, Any] = {"last_seen": now}
    if customer_id is not None:
        changes["customer_id"] = customer_id
    if locale is not None:
        changes["locale"] = locale
    with write_transaction(engine) as conn:
        updated = conn.execute(update(VISITOR).where(VISITOR.c.id == visitor_id).values(**changes))
        if updated.rowcount == 0:
            raise UnknownVisitor(f"no visitor {visitor_id!r}")
        found = _visitor(conn, visitor_id)
    assert found is not None
    return found
