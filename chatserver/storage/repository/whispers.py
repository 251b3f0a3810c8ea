"""Supervisors' whispers: stored apart from messages, read only for operators' consoles."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from ..db import read_transaction, write_transaction
from .tables import WHISPER


@dataclass(frozen=True, slots=True)
class StoredWhisper:
    id: int
    conversation_id: int
    supervisor_id: int
    operator_id: int | None
    text: str
    ts: float


def add_whisper(
    engine: Engine, *, conversation_id: int, supervisor_id: int, operator_id: int | None, text: str, ts: float
) -> StoredWhisper:
    values = {
        "conversation_id": conversation_id,
        "supervisor_id": supervisor_id,
        "operator_id": operator_id,
        "text": text,
        "ts": ts,
    }
    with write_transaction(engine) as conn:
        new_id: int = conn.execute(insert(WHISPER).values(**values).returning(WHISPER.c.id)).scalar_one()
    return StoredWhisper(
        id=new_id,
        conversation_id=conversation_id,
        supervisor_id=supervisor_id,
        operator_id=operator_id,
        text=text,
        ts=ts,
    )


def whispers_for(engine: Engine, *, conversation_id: int) -> list[StoredWhisper]:
    """The conversation's whispers, oldest first."""
    with read_transaction(engine) as conn:
        rows = conn.execute(
            select(WHISPER).where(WHISPER.c.conversation_id == conversation_id).order_by(WHISPER.c.id)
        ).all()
    return [
        StoredWhisper(
            id=r.id,
            conversation_id=r.conversation_id,
            supervisor_id=r.supervisor_id,
            operator_id=r.operator_id,
            text=r.text,
            ts=r.ts,
        )
        for r in rows
    ]
