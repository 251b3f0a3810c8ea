"""Abusive visitors: blocks by visitor and by customer, and the audit of each boundary step."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.engine import Engine

from ..db import read_transaction, write_transaction
from .tables import ABUSE_AUDIT, VISITOR_BLOCK


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
) -> None:
    with write_transaction(engine) as conn:
        conn.execute(
            insert(ABUSE_AUDIT).values(
                step=step,
                visitor_id=visitor_id,
                conversation_id=conversation_id,
                operator_id=operator_id,
                block_id=block_id,
                until=until,
                ts=now,
            )
        )


def list_abuse_audit(engine: Engine, *, visitor_id: str) -> list[dict[str, Any]]:
    with read_transaction(engine) as conn:
        rows = conn.execute(
            select(ABUSE_AUDIT).where(ABUSE_AUDIT.c.visitor_id == visitor_id).order_by(ABUSE_AUDIT.c.id)
        ).all()
    return [
        {
            "id": r.id,
            "step": r.step,
            "visitor_id": r.visitor_id,
            "conversation_id": r.conversation_id,
            "operator_id": r.operator_id,
            "block_id": r.block_id,
            "until": r.until,
            "ts": r.ts,
        }
        for r in rows
    ]


def block_visitor(
    engine: Engine,
    *,
    visitor_id: str,
    customer_id: int | None,
    conversation_id: int | None,
    operator_id: int | None,
    now: float,
) -> dict[str, Any]:
    """Block the visitor (and their customer), recording the step; the block as JSON."""
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
        conn.execute(
            insert(ABUSE_AUDIT).values(
                step="block",
                visitor_id=visitor_id,
                conversation_id=conversation_id,
                operator_id=operator_id,
                block_id=block_id,
                ts=now,
            )
        )
        row = conn.execute(select(VISITOR_BLOCK).where(VISITOR_BLOCK.c.id == block_id)).one()
    return _block_json(row)


def active_block(engine: Engine, *, visitor_id: str | None, customer_id: int | None) -> dict[str, Any] | None:
    """The block in force on this visitor or this customer, if any."""
    terms = []
    if visitor_id is not None:
        terms.append(VISITOR_BLOCK.c.visitor_id == visitor_id)
    if customer_id is not None:
        terms.append(VISITOR_BLOCK.c.customer_id == customer_id)
    if not terms:
        return None
    with read_transaction(engine) as conn:
        row = conn.execute(
            select(VISITOR_BLOCK)
            .where(VISITOR_BLOCK.c.lifted_at.is_(None), or_(*terms))
            .order_by(VISITOR_BLOCK.c.id)
            .limit(1)
        ).first()
    return _block_json(row) if row is not None else None


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
