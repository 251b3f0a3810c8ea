"""What the operators taught the assistant: situation feedback, and the models retrained from it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine

from ..db import read_transaction, write_transaction
from .tables import SITUATION_FEEDBACK, SITUATION_MODEL


@dataclass(frozen=True, slots=True)
class FeedbackRow:
    """One operator signal about one recognised visitor message."""

    id: int
    conversation_id: int
    seq: int
    language: str
    messages: tuple[str, ...]
    recognized: str
    score: float
    corrected: str
    source: str
    operator_id: int | None
    created_at: float


@dataclass(frozen=True, slots=True)
class StoredModel:
    id: int
    created_at: float
    operator_id: int | None
    data: bytes
    report: dict[str, Any]


def add_situation_feedback(
    engine: Engine,
    *,
    conversation_id: int,
    seq: int,
    language: str,
    messages: Sequence[str],
    recognized: str,
    score: float,
    corrected: str,
    source: str,
    operator_id: int | None,
    now: float,
) -> int:
    with write_transaction(engine) as conn:
        new_id: int = conn.execute(
            insert(SITUATION_FEEDBACK)
            .values(
                conversation_id=conversation_id,
                seq=seq,
                language=language[:35],
                messages_json=json.dumps(list(messages), ensure_ascii=False),
                recognized=recognized,
                score=float(score),
                corrected=corrected,
                source=source,
                operator_id=operator_id,
                created_at=now,
            )
            .returning(SITUATION_FEEDBACK.c.id)
        ).scalar_one()
        return new_id


def list_situation_feedback(engine: Engine) -> list[FeedbackRow]:
    """Every feedback row, oldest first."""
    t = SITUATION_FEEDBACK
    with read_transaction(engine) as conn:
        rows = conn.execute(select(t).order_by(t.c.created_at, t.c.id)).mappings().all()
    return [
        FeedbackRow(
            id=r["id"],
            conversation_id=r["conversation_id"],
            seq=r["seq"],
            language=r["language"],
            messages=tuple(json.loads(r["messages_json"])),
            recognized=r["recognized"],
            score=r["score"],
            corrected=r["corrected"],
            source=r["source"],
            operator_id=r["operator_id"],
            created_at=r["created_at"],
        )
        for r in rows
    ]


def count_situation_feedback(engine: Engine) -> dict[str, int]:
    """Feedback rows by source."""
    t = SITUATION_FEEDBACK
    with read_transaction(engine) as conn:
        rows = conn.execute(select(t.c.source, func.count()).group_by(t.c.source)).all()
    return {source: int(count) for source, count in rows}


def store_situation_model(
    engine: Engine, *, data: bytes, report: dict[str, Any], operator_id: int | None, now: float
) -> int:
    with write_transaction(engine) as conn:
        new_id: int = conn.execute(
            insert(SITUATION_MODEL)
            .values(created_at=now, operator_id=operator_id, data=data, report_json=json.dumps(report))
            .returning(SITUATION_MODEL.c.id)
        ).scalar_one()
        return new_id


def latest_situation_model(engine: Engine, *, with_data: bool = True) -> StoredModel | None:
    """The newest retrained model (its bytes unless ``with_data`` is false), or None."""
    t = SITUATION_MODEL
    columns = [t.c.id, t.c.created_at, t.c.operator_id, t.c.report_json]
    if with_data:
        columns.append(t.c.data)
    with read_transaction(engine) as conn:
        row = conn.execute(select(*columns).order_by(t.c.id.desc()).limit(1)).mappings().first()
    if row is None:
        return None
    return StoredModel(
        id=row["id"],
        created_at=row["created_at"],
        operator_id=row["operator_id"],
        data=bytes(row["data"]) if with_data else b"",
        report=json.loads(row["report_json"]),
    )
