"""Abusive visitors: blocks by visitor and by customer, and the audit of each boundary step."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.engine import Engine

from ..db import read_transaction, write_transaction
from .tables import ABUSE_AUDIT, OPERATOR, VISITOR_BLOCK

MAX_REASON = 500  # characters of an operator's reason kept in the audit


def _block_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "visitor_id": row.visitor_id,
        "customer_id": row.customer_id,
        "conversation_id": row.conversation_id,
        "operator_id": row.operator_id,
        "created_at": row.created_at,
        "lifted_at": row.lifted_at,
        "lifted_by": row.lifted_by,
    }


def add_abuse_audit(
    engine: Engine,
    *,
    step: str,
    visitor_id: str,
    conversation_id: int | None,
    operator_id: int | None,
    now: float,
    until: float | None = None,
    block_id: int | None = None,
    reason: str | None = None,
    signal: str | None = None,
) -> dict[str, Any]:
    """Record one step; the row as JSON (with the operator's name), for the supervisors told of it."""
    with write_transaction(engine) as conn:
        audit_id = conn.execute(
            insert(ABUSE_AUDIT)
            .values(
                step=step,
                visitor_id=visitor_id,
                conversation_id=conversation_id,
                operator_id=operator_id,
                block_id=block_id,
                until=until,
                ts=now,
                reason=reason[:MAX_REASON] if reason else None,
                signal=signal,
            )
            .returning(ABUSE_AUDIT.c.id)
        ).scalar_one()
        row = conn.execute(_audit_query().where(ABUSE_AUDIT.c.id == audit_id)).one()
    return _audit_json(row)


def _audit_query() -> Any:
    return select(ABUSE_AUDIT, OPERATOR.c.name.label("operator_name")).select_from(
        ABUSE_AUDIT.outerjoin(OPERATOR, OPERATOR.c.id == ABUSE_AUDIT.c.operator_id)
    )


def _audit_json(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "step": r.step,
        "visitor_id": r.visitor_id,
        "conversation_id": r.conversation_id,
        "operator_id": r.operator_id,
        "operator_name": r.operator_name,
        "block_id": r.block_id,
        "until": r.until,
        "ts": r.ts,
        "reason": r.reason,
        "signal": r.signal,
    }


def recent_abuse_audit(
    engine: Engine, *, since: float = 0.0, steps: tuple[str, ...] | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """The newest steps first (every visitor), since ``since``, of ``steps`` if given."""
    query = _audit_query().where(ABUSE_AUDIT.c.ts >= since)
    if steps is not None:
        query = query.where(ABUSE_AUDIT.c.step.in_(steps))
    with read_transaction(engine) as conn:
        rows = conn.execute(query.order_by(ABUSE_AUDIT.c.id.desc()).limit(limit)).all()
    return [_audit_json(r) for r in rows]


def cool_downs_in_force(engine: Engine, *, now: float) -> dict[str, float]:
    """Visitor id -> until, for every cool-down not over at ``now`` and not ended by an admin since."""
    with read_transaction(engine) as conn:
        rows = conn.execute(
            select(ABUSE_AUDIT.c.visitor_id, ABUSE_AUDIT.c.step, ABUSE_AUDIT.c.until)
            .where(
                or_(
                    (ABUSE_AUDIT.c.step == "cool_down") & (ABUSE_AUDIT.c.until > now),
                    ABUSE_AUDIT.c.step.in_(("end_cool_down", "block")),
                )
            )
            .order_by(ABUSE_AUDIT.c.id)
        ).all()
    in_force: dict[str, float] = {}
    for r in rows:
        if r.step == "cool_down":
            in_force[r.visitor_id] = r.until
        else:  # ended, or overtaken by a block
            in_force.pop(r.visitor_id, None)
    return in_force


def list_abuse_audit(engine: Engine, *, visitor_id: str) -> list[dict[str, Any]]:
    """Every step taken with this visitor, oldest first."""
    with read_transaction(engine) as conn:
        rows = conn.execute(
            _audit_query().where(ABUSE_AUDIT.c.visitor_id == visitor_id).order_by(ABUSE_AUDIT.c.id)
        ).all()
    return [_audit_json(r) for r in rows]


def block_visitor(
    engine: Engine,
    *,
    visitor_id: str,
    customer_id: int | None,
    conversation_id: int | None,
    operator_id: int | None,
    now: float,
    reason: str | None = None,
    signal: str | None = None,
) -> dict[str, Any]:
    """Block the visitor (and their customer), recording the step; the block as JSON, with the
    audit row under ``audit``."""
    with write_transaction(engine) as conn:
        block_id = conn.execute(
            insert(VISITOR_BLOCK)
            .values(
                visitor_id=visitor_id,
                customer_id=customer_id,
                conversation_id=conversation_id,
                operator_id=operator_id,
                created_at=now,
            )
            .returning(VISITOR_BLOCK.c.id)
        ).scalar_one()
        audit_id = conn.execute(
            insert(ABUSE_AUDIT)
            .values(
                step="block",
                visitor_id=visitor_id,
                conversation_id=conversation_id,
                operator_id=operator_id,
                block_id=block_id,
                ts=now,
                reason=reason[:MAX_REASON] if reason else None,
                signal=signal,
            )
            .returning(ABUSE_AUDIT.c.id)
        ).scalar_one()
        row = conn.execute(select(VISITOR_BLOCK).where(VISITOR_BLOCK.c.id == block_id)).one()
        audit = conn.execute(_audit_query().where(ABUSE_AUDIT.c.id == audit_id)).one()
    return {**_block_json(row), "audit": _audit_json(audit)}


def active_block(engine: Engine, *, visitor_id: str | None, customer_id: int | None) -> dict[str, Any] | None:
    """The block in force on this visitor or this customer, if any."""
    return active_blocks(engine, keys=[(visitor_id, customer_id)]).get((visitor_id, customer_id))


BlockKey = tuple[str | None, int | None]  # (visitor_id, customer_id)


def active_blocks(engine: Engine, *, keys: Sequence[BlockKey]) -> dict[BlockKey, dict[str, Any]]:
    """`active_block` for many (visitor, customer) pairs in one statement; pairs with none left out.

    A pair's block is the oldest in force on its visitor or its customer.
    """
    visitors = {v for v, _ in keys if v is not None}
    customers = {c for _, c in keys if c is not None}
    terms = []
    if visitors:
        terms.append(VISITOR_BLOCK.c.visitor_id.in_(visitors))
    if customers:
        terms.append(VISITOR_BLOCK.c.customer_id.in_(customers))
    if not terms:
        return {}
    with read_transaction(engine) as conn:
        rows = conn.execute(
            select(VISITOR_BLOCK)
            .where(VISITOR_BLOCK.c.lifted_at.is_(None), or_(*terms))
            .order_by(VISITOR_BLOCK.c.id)
        ).all()
    found: dict[BlockKey, dict[str, Any]] = {}
    for visitor_id, customer_id in keys:
        for row in rows:
            if (visitor_id is not None and row.visitor_id == visitor_id) or (
                customer_id is not None and row.customer_id == customer_id
            ):
                found[(visitor_id, customer_id)] = _block_json(row)
                break
    return found


def list_blocks(engine: Engine, *, include_lifted: bool = False, limit: int = 500) -> list[dict[str, Any]]:
    query = select(VISITOR_BLOCK).order_by(VISITOR_BLOCK.c.id.desc()).limit(limit)
    if not include_lifted:
        query = query.where(VISITOR_BLOCK.c.lifted_at.is_(None))
    with read_transaction(engine) as conn:
        return [_block_json(r) for r in conn.execute(query).all()]


def lift_block(engine: Engine, *, block_id: int, operator_id: int, now: float) -> dict[str, Any] | None:
    """Lift a block in force (recorded as the ``lift`` step); None when there is no such block in force."""
    with write_transaction(engine) as conn:
        row = conn.execute(
            select(VISITOR_BLOCK).where(VISITOR_BLOCK.c.id == block_id, VISITOR_BLOCK.c.lifted_at.is_(None))
        ).first()
        if row is None:
            return None
        conn.execute(
            update(VISITOR_BLOCK)
            .where(VISITOR_BLOCK.c.id == block_id)
            .values(lifted_at=now, lifted_by=operator_id)
        )
        conn.execute(
            insert(ABUSE_AUDIT).values(
                step="lift",
                visitor_id=row.visitor_id,
                conversation_id=row.conversation_id,
                operator_id=operator_id,
                block_id=block_id,
                ts=now,
            )
        )
        lifted = conn.execute(select(VISITOR_BLOCK).where(VISITOR_BLOCK.c.id == block_id)).one()
    return _block_json(lifted)
