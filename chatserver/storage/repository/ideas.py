"""Visitors' ideas: recording who asked, the admin's list and status, and the news to tell them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Table, func, select, update
from sqlalchemy.engine import Engine

from .. import models
from ..db import read_transaction, write_transaction
from .tables import CONVERSATION, MESSAGE

IDEA: Table = models.Team.metadata.tables["idea"]
IDEA_ASKER: Table = models.Team.metadata.tables["idea_asker"]

ChooseIdea = Callable[[list[tuple[int, str]]], int | None]  # the known (id, key) → the same idea's id


def visitor_message(engine: Engine, *, conversation_id: int, seq: int) -> dict[str, Any] | None:
    """The visitor message ``seq`` of the conversation, with who wrote it; None if it is not one."""
    with read_transaction(engine) as conn:
        row = conn.execute(
            select(
                MESSAGE.c.text, CONVERSATION.c.visitor_id, CONVERSATION.c.customer_id, CONVERSATION.c.locale
            )
            .join(CONVERSATION, CONVERSATION.c.id == MESSAGE.c.conversation_id)
            .where(
                MESSAGE.c.conversation_id == conversation_id,
                MESSAGE.c.seq == seq,
                MESSAGE.c.sender == "visitor",
            )
        ).first()
    if row is None:
        return None
    return {
        "text": row.text,
        "visitor_id": row.visitor_id,
        "customer_id": row.customer_id,
        "locale": row.locale,
    }


def record_idea(
    engine: Engine,
    *,
    conversation_id: int,
    seq: int,
    visitor_id: str,
    customer_id: int | None,
    text: str,
    summary: str,
    key: str,
    language: str,
    operator_id: int | None,
    now: float,
    choose: ChooseIdea,
) -> dict[str, Any]:
    """Count visitor message ``seq`` as asking for an idea: the near-duplicate ``choose`` picks
    among the known ones, or a new idea. A message already counted is counted once.
    Returns ``{"idea_id", "count", "new", "recorded"}``."""
    with write_transaction(engine) as conn:
        existing = conn.execute(
            select(IDEA_ASKER.c.idea_id).where(
                IDEA_ASKER.c.conversation_id == conversation_id, IDEA_ASKER.c.seq == seq
            )
        ).scalar_one_or_none()
        new = recorded = False
        if existing is not None:
            idea_id = int(existing)
        else:
            known = [(int(r.id), r.key) for r in conn.execute(select(IDEA.c.id, IDEA.c.key)).all()]
            found = choose(known)
            if found is None:
                new = True
                inserted = conn.execute(
                    IDEA.insert().values(
                        summary=summary,
                        key=key,
                        language=language,
                        status="new",
                        created_at=now,
                        updated_at=now,
                    )
                ).inserted_primary_key
                assert inserted is not None
                idea_id = int(inserted[0])
            else:
                idea_id = found
                conn.execute(update(IDEA).where(IDEA.c.id == idea_id).values(updated_at=now))
            conn.execute(
                IDEA_ASKER.insert().values(
                    idea_id=idea_id,
                    conversation_id=conversation_id,
                    seq=seq,
                    visitor_id=visitor_id,
                    customer_id=customer_id,
                    text=text,
                    language=language,
                    operator_id=operator_id,
                    created_at=now,
                    news_seen=False,
                )
            )
            recorded = True
        count = conn.execute(
            select(func.count()).select_from(IDEA_ASKER).where(IDEA_ASKER.c.idea_id == idea_id)
        ).scalar_one()
    return {"idea_id": idea_id, "count": int(count), "new": new, "recorded": recorded}


def _idea_dict(row: Any, askers: list[Any]) -> dict[str, Any]:
    return {
        "id": row.id,
        "summary": row.summary,
        "language": row.language,
        "status": row.status,
        "count": len(askers),
        "visitors": len({a.visitor_id for a in askers}),
        "customers": len({a.customer_id for a in askers if a.customer_id is not None}),
        "languages": sorted({a.language for a in askers}),
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "examples": [
            {"conversation_id": a.conversation_id, "seq": a.seq, "text": a.text, "language": a.language}
            for a in askers[:3]
        ],
    }


def list_ideas(
    engine: Engine, *, status: str | None = None, idea_id: int | None = None
) -> list[dict[str, Any]]:
    """Every idea (or those of one status, or the one), the most asked for first."""
    with read_transaction(engine) as conn:
        query = select(IDEA)
        if status is not None:
            query = query.where(IDEA.c.status == status)
        if idea_id is not None:
            query = query.where(IDEA.c.id == idea_id)
        ideas = conn.execute(query).all()
        askers: dict[int, list[Any]] = {row.id: [] for row in ideas}
        if ideas:
            for a in conn.execute(
                select(IDEA_ASKER).where(IDEA_ASKER.c.idea_id.in_(list(askers))).order_by(IDEA_ASKER.c.id)
            ).all():
                askers[a.idea_id].append(a)
    found = [_idea_dict(row, askers[row.id]) for row in ideas]
    found.sort(key=lambda idea: (-idea["count"], idea["id"]))
    return found


def set_idea_status(engine: Engine, *, idea_id: int, status: str, now: float) -> bool:
    """Change an idea's status; False if there is no such idea."""
    with write_transaction(engine) as conn:
        changed = conn.execute(
            update(IDEA).where(IDEA.c.id == idea_id).values(status=status, updated_at=now)
        ).rowcount
    return bool(changed)


def askers_to_tell(engine: Engine, *, idea_id: int, status: str) -> list[dict[str, Any]]:
    """The askers of the idea not yet told it became ``status``: one per conversation, oldest first."""
    with read_transaction(engine) as conn:
        rows = conn.execute(
            select(
                IDEA_ASKER.c.id, IDEA_ASKER.c.conversation_id, IDEA_ASKER.c.language, IDEA_ASKER.c.told_status
            )
            .where(IDEA_ASKER.c.idea_id == idea_id)
            .order_by(IDEA_ASKER.c.id)
        ).all()
    told: dict[int, dict[str, Any]] = {}
    for row in rows:
        entry = told.setdefault(
            row.conversation_id,
            {
                "conversation_id": row.conversation_id,
                "language": row.language,
                "asker_ids": [],
                "told": False,
            },
        )
        entry["asker_ids"].append(row.id)
        entry["told"] = entry["told"] or row.told_status == status
    return [entry for entry in told.values() if not entry["told"]]


def mark_told(engine: Engine, *, asker_ids: list[int], status: str, news_seq: int, seen: bool) -> None:
    with write_transaction(engine) as conn:
        conn.execute(
            update(IDEA_ASKER)
            .where(IDEA_ASKER.c.id.in_(asker_ids))
            .values(told_status=status, news_seq=news_seq, news_seen=seen)
        )


def unseen_idea_news(engine: Engine, *, visitor_id: str) -> list[int]:
    """The conversations holding news of an idea the visitor asked for that they have not seen."""
    return unseen_idea_news_by_visitor(engine, keys=[visitor_id]).get(visitor_id, [])


def unseen_idea_news_by_visitor(engine: Engine, *, keys: Sequence[str]) -> dict[str, list[int]]:
    """`unseen_idea_news` for many visitors in one statement; visitors with none left out."""
    with read_transaction(engine) as conn:
        rows = conn.execute(
            select(IDEA_ASKER.c.visitor_id, IDEA_ASKER.c.conversation_id)
            .where(
                IDEA_ASKER.c.visitor_id.in_(keys),
                IDEA_ASKER.c.news_seq.is_not(None),
                IDEA_ASKER.c.news_seen.is_(False),
            )
            .distinct()
            .order_by(IDEA_ASKER.c.conversation_id)
        ).all()
    found: dict[str, list[int]] = {}
    for row in rows:
        found.setdefault(row.visitor_id, []).append(int(row.conversation_id))
    return found


def mark_idea_news_seen(engine: Engine, *, visitor_id: str, conversation_id: int) -> None:
    with write_transaction(engine) as conn:
        conn.execute(
            update(IDEA_ASKER)
            .where(
                IDEA_ASKER.c.visitor_id == visitor_id,
                IDEA_ASKER.c.conversation_id == conversation_id,
                IDEA_ASKER.c.news_seq.is_not(None),
            )
            .values(news_seen=True)
        )
