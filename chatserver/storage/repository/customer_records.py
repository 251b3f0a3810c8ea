"""The rows kept beside a customer: orders, cases, profile, ratings, page.

The shop's order feed upserts orders and cases (returns, complaints) by the
shop's ids and keeps each customer's totals in `customer_profile`; operators
edit the profile's tags, type and notes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection, Engine

from ..db import write_transaction
from ..errors import ProfileVersionConflict, UnknownCustomer, UnknownVisitor
from ..models import (
    CLOSED_CASE_STATUSES,
    CLOSED_ORDER_STATUSES,
    COSTLY_CASE_KINDS,
    ConversationRatingPublic,
    CustomerCasePublic,
    CustomerProfilePublic,
    ShopOrderPublic,
)
from ._common import context_reader, insert_if_absent
from .tables import CASE, CONVERSATION, CUSTOMER, PROFILE, RATING, SHOP_ORDER, VISITOR, VISITOR_PAGE


@dataclasses.dataclass(frozen=True)
class FeedResult:
    """What a feed push did: "created", "updated" or "stale" (older than what is stored)."""

    outcome: str
    customer_id: int
    row: ShopOrderPublic | CustomerCasePublic


def merge_visitor_history(engine: Engine, *, visitor_id: str, customer_id: int, now: float) -> int:
    """Link a visitor to a customer and hand the customer the visitor's anonymous conversations.

    Conversations that already belong to a customer keep theirs. Returns how many moved.
    """
    with write_transaction(engine) as conn:
        linked = conn.execute(
            update(VISITOR).where(VISITOR.c.id == visitor_id).values(customer_id=customer_id, last_seen=now)
        )
        if linked.rowcount == 0:
            raise UnknownVisitor(f"no visitor {visitor_id!r}")
        moved = conn.execute(
            update(CONVERSATION)
            .where(CONVERSATION.c.visitor_id == visitor_id, CONVERSATION.c.customer_id.is_(None))
            .values(customer_id=customer_id)
        )
        if moved.rowcount:
            _refresh_ratings(conn, customer_id)
        return int(moved.rowcount)


def _feed_customer(
    conn: Connection, external_id: str, details: Mapping[str, str | None] | None, now: float
) -> int:
    """The customer with this shop id, created on first mention; the feed never moves last_seen."""
    values = {
        "external_id": external_id,
        "name": None,
        "email": None,
        "locale": None,
        "first_seen": now,
        "last_seen": now,
        "created_at": now,
    }
    fresh = {k: v for k, v in (details or {}).items() if k in ("name", "email", "locale") and v}
    values.update(fresh)
    created = insert_if_absent(conn, CUSTOMER, values, ["external_id"])
    if created is not None:
        return int(created)
    if fresh:
        conn.execute(update(CUSTOMER).where(CUSTOMER.c.external_id == external_id).values(**fresh))
    return int(conn.execute(select(CUSTOMER.c.id).where(CUSTOMER.c.external_id == external_id)).scalar_one())


def _ensure_profile(conn: Connection, customer_id: int) -> None:
    insert_if_absent(
        conn,
        PROFILE,
        {
            "customer_id": customer_id,
            "tags": "[]",
            "comm_type": None,
            "notes": "",
            "version": 0,
            "order_count": 0,
            "order_total": 0.0,
            "case_count": 0,
            "rating_count": 0,
            "rating_total": 0,
        },
        ["customer_id"],
    )


def _refresh_ratings(conn: Connection, customer_id: int) -> None:
    """Recount the customer's ratings into the profile, so reading the context never scans them."""
    count, total = conn.execute(
        select(func.count(RATING.c.score), func.coalesce(func.sum(RATING.c.score), 0))
        .select_from(RATING)
        .join(CONVERSATION, CONVERSATION.c.id == RATING.c.conversation_id)
        .where(CONVERSATION.c.customer_id == customer_id)
    ).one()
    _ensure_profile(conn, customer_id)
    conn.execute(
        update(PROFILE)
        .where(PROFILE.c.customer_id == customer_id)
        .values(rating_count=count, rating_total=int(total))
    )


def _refresh_stats(conn: Connection, customer_ids: Iterable[int]) -> None:
    """Recount a customer's orders, order value and costly cases from the rows (idempotent)."""
    for customer_id in set(customer_ids):
        count, total = conn.execute(
            select(func.count(), func.coalesce(func.sum(SHOP_ORDER.c.total), 0.0)).where(
                SHOP_ORDER.c.customer_id == customer_id,
                SHOP_ORDER.c.status.not_in(CLOSED_ORDER_STATUSES),
            )
        ).one()
        cases = conn.execute(
            select(func.count()).where(CASE.c.customer_id == customer_id, CASE.c.kind.in_(COSTLY_CASE_KINDS))
        ).scalar_one()
        _ensure_profile(conn, customer_id)
        conn.execute(
            update(PROFILE)
            .where(PROFILE.c.customer_id == customer_id)
            .values(order_count=count, order_total=float(total), case_count=cases)
        )


def _is_stale(stored: float | None, incoming: float | None) -> bool:
    return stored is not None and incoming is not None and incoming < stored


def upsert_order(
    engine: Engine,
    *,
    order_id: str,
    external_customer_id: str,
    status: str,
    total: float,
    currency: str,
    placed_at: float | None,
    items: str,
    source_updated_at: float | None = None,
    customer: Mapping[str, str | None] | None = None,
    now: float,
) -> FeedResult:
    """Store the shop's order by its id: the first push inserts, every later one updates.

    A push carrying an `updated_at` older than the stored one changes nothing ("stale").
    The customer is created from the shop's id when the chat has not met them yet.
    """
    with write_transaction(engine) as conn:
        customer_id = _feed_customer(conn, external_customer_id, customer, now)
        values: dict[str, Any] = {
            "order_id": order_id,
            "customer_id": customer_id,
            "status": status,
            "total": total,
            "currency": currency,
            "placed_at": now if placed_at is None else placed_at,
            "items": items,
            "source_updated_at": source_updated_at,
            "created_at": now,
            "updated_at": now,
        }
        outcome = "created"
        if insert_if_absent(conn, SHOP_ORDER, values, ["order_id"]) is None:
            stored = conn.execute(select(SHOP_ORDER).where(SHOP_ORDER.c.order_id == order_id)).one()
            if _is_stale(stored.source_updated_at, source_updated_at):
                return FeedResult(
                    "stale", stored.customer_id, ShopOrderPublic.model_validate(dict(stored._mapping))
                )
            changes = {k: v for k, v in values.items() if k not in ("order_id", "created_at")}
            if placed_at is None:
                del changes["placed_at"]
            if source_updated_at is None:
                del changes["source_updated_at"]
            conn.execute(update(SHOP_ORDER).where(SHOP_ORDER.c.id == stored.id).values(**changes))
            outcome = "updated"
            _refresh_stats(conn, [stored.customer_id, customer_id])
        else:
            _refresh_stats(conn, [customer_id])
        row = conn.execute(select(SHOP_ORDER).where(SHOP_ORDER.c.order_id == order_id)).one()
    return FeedResult(outcome, customer_id, ShopOrderPublic.model_validate(dict(row._mapping)))


def upsert_case(
    engine: Engine,
    *,
    kind: str,
    case_id: str,
    external_customer_id: str,
    status: str,
    text: str,
    order_id: str | None = None,
    source_updated_at: float | None = None,
    now: float,
) -> FeedResult:
    """Store a return, complaint or other case by (kind, the shop's id); repeats update it."""
    is_open = status not in CLOSED_CASE_STATUSES
    with write_transaction(engine) as conn:
        customer_id = _feed_customer(conn, external_customer_id, None, now)
        values: dict[str, Any] = {
            "kind": kind,
            "case_id": case_id,
            "customer_id": customer_id,
            "status": status,
            "is_open": is_open,
            "text": text,
            "order_id": order_id,
            "source_updated_at": source_updated_at,
            "created_at": now,
            "updated_at": now,
        }
        outcome = "created"
        key = (CASE.c.kind == kind, CASE.c.case_id == case_id)
        if insert_if_absent(conn, CASE, values, ["kind", "case_id"]) is None:
            stored = conn.execute(select(CASE).where(*key)).one()
            if _is_stale(stored.source_updated_at, source_updated_at):
                return FeedResult(
                    "stale", stored.customer_id, CustomerCasePublic.model_validate(dict(stored._mapping))
                )
            changes = {k: v for k, v in values.items() if k not in ("kind", "case_id", "created_at")}
            if source_updated_at is None:
                del changes["source_updated_at"]
            if order_id is None:
                del changes["order_id"]
            conn.execute(update(CASE).where(CASE.c.id == stored.id).values(**changes))
            outcome = "updated"
            _refresh_stats(conn, [stored.customer_id, customer_id])
        else:
            _refresh_stats(conn, [customer_id])
        row = conn.execute(select(CASE).where(*key)).one()
    return FeedResult(outcome, customer_id, CustomerCasePublic.model_validate(dict(row._mapping)))


def get_customer_profile(engine: Engine, *, customer_id: int) -> CustomerProfilePublic | None:
    with context_reader(engine) as conn:
        row = conn.execute(select(PROFILE).where(PROFILE.c.customer_id == customer_id)).one_or_none()
    return None if row is None else CustomerProfilePublic.model_validate(dict(row._mapping))


def update_customer_profile(
    engine: Engine,
    *,
    customer_id: int,
    changes: Mapping[str, Any],
    operator_id: int | None,
    expected_version: int | None = None,
    now: float,
) -> CustomerProfilePublic:
    """Change some of tags (JSON text), comm_type and notes; bumps the version.

    Raises UnknownCustomer, or ProfileVersionConflict when `expected_version` is stale.
    """
    unknown = set(changes) - {"tags", "comm_type", "notes"}
    if unknown:
        raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
    with write_transaction(engine) as conn:
        if conn.execute(select(CUSTOMER.c.id).where(CUSTOMER.c.id == customer_id)).first() is None:
            raise UnknownCustomer(f"no customer {customer_id}")
        _ensure_profile(conn, customer_id)
        statement = update(PROFILE).where(PROFILE.c.customer_id == customer_id)
        if expected_version is not None:
            statement = statement.where(PROFILE.c.version == expected_version)
        done = conn.execute(
            statement.values(**changes, version=PROFILE.c.version + 1, updated_at=now, updated_by=operator_id)
        )
        row = conn.execute(select(PROFILE).where(PROFILE.c.customer_id == customer_id)).one()
        if done.rowcount == 0:
            assert expected_version is not None
            raise ProfileVersionConflict(expected_version, row.version)
    return CustomerProfilePublic.model_validate(dict(row._mapping))


def set_visitor_page(engine: Engine, *, visitor_id: str, url: str, title: str | None, now: float) -> None:
    """Remember the page the visitor is on (one row per visitor, replaced)."""
    values = {"visitor_id": visitor_id, "url": url, "title": title, "ts": now}
    with write_transaction(engine) as conn:
        if insert_if_absent(conn, VISITOR_PAGE, values, ["visitor_id"]) is None:
            conn.execute(
                update(VISITOR_PAGE)
                .where(VISITOR_PAGE.c.visitor_id == visitor_id)
                .values(url=url, title=title, ts=now)
            )


def rate_conversation(
    engine: Engine,
    *,
    conversation_id: int,
    visitor_id: str,
    score: int,
    comment: str | None,
    now: float,
    nps: int | None = None,
) -> ConversationRatingPublic | None:
    """The visitor's rating of their own conversation (a new rating replaces the old); None if not theirs."""
    values = {"conversation_id": conversation_id, "score": score, "comment": comment, "nps": nps, "ts": now}
    with write_transaction(engine) as conn:
        owner = conn.execute(
            select(CONVERSATION.c.visitor_id, CONVERSATION.c.customer_id).where(
                CONVERSATION.c.id == conversation_id
            )
        ).one_or_none()
        if owner is None or owner.visitor_id != visitor_id:
            return None
        if insert_if_absent(conn, RATING, values, ["conversation_id"]) is None:
            conn.execute(
                update(RATING)
                .where(RATING.c.conversation_id == conversation_id)
                .values(score=score, comment=comment, nps=nps, ts=now)
            )
        if owner.customer_id is not None:
            _refresh_ratings(conn, owner.customer_id)
    return ConversationRatingPublic.model_validate(values)


def order_totals(engine: Engine) -> list[float]:
    """Every customer's order value above zero, largest first: the input of the Pareto cut-offs."""
    with context_reader(engine) as conn:
        return list(
            conn.execute(
                select(PROFILE.c.order_total)
                .where(PROFILE.c.order_total > 0)
                .order_by(PROFILE.c.order_total.desc())
            ).scalars()
        )
