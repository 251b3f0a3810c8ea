"""The context beside the chat: one function builds it for the ``assigned`` frame, the REST
routes and ``bench/history.py``.

Every part is bounded whatever the customer's history: the ten newest conversations (the rest
page through ``/api/customers/{id}/conversations``), five newest orders with at most ten
items each, ten open cases. The rows come from ``repository.context_rows`` in one snapshot
(five indexed statements, none per conversation); this module only shapes them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy.engine import Engine

from chatserver.storage import repository as repo
from chatserver.storage.models import ConversationPublic
from chatserver.storage.writer import MessageWriter
from responses.recognize import recognize

from .segments import Cutoffs, classify
from .typology import customer_type

log = logging.getLogger("chatserver.customers")

CONVERSATIONS = 10
ORDERS = 5
ORDER_ITEMS = 10
CASES = 10
OPENING_CHARS = 200
CASE_TEXT_CHARS = 500
# Visitor messages from the start of a past conversation read for its situation, and how
# much of each: recognition costs ~0.2 ms a line, so it is bounded and remembered.
SITUATION_LINES = 3
SITUATION_CHARS = 300


def _tags(text: str | None) -> list[str]:
    try:
        tags = json.loads(text or "[]")
    except ValueError:
        return []
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


@lru_cache(maxsize=8192)
def _situation(lines: tuple[str, ...]) -> str | None:
    """The hard situation the visitor opened with (a recognizer's guess), or None."""
    return recognize(list(lines)).situation if lines else None


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def conversation_json(
    row: Mapping[str, Any],
    handled_by: Sequence[Mapping[str, Any]],
    rating: Mapping[str, Any] | None,
    opening: Sequence[str],
) -> dict[str, Any]:
    """One past conversation as listed beside the chat."""
    if row["state"] != "closed":
        outcome = "open"
    else:
        outcome = "served" if handled_by else "unserved"
    situation = _situation(tuple(line[:SITUATION_CHARS] for line in opening[:SITUATION_LINES]))
    return {
        "id": row["id"],
        "created_at": row["created_at"],
        "closed_at": row["closed_at"],
        "state": row["state"],
        "outcome": outcome,
        "handled_by": [dict(h) for h in handled_by],
        "messages": row["last_seq"],
        "opening": _clip(opening[0], OPENING_CHARS) if opening else None,
        "situation": situation,
        "rating": None if rating is None else {"score": rating["score"], "comment": rating["comment"]},
    }


def conversations_json(
    listed: Sequence[Mapping[str, Any]],
    handled: Mapping[int, Sequence[Mapping[str, Any]]],
    ratings: Mapping[int, Mapping[str, Any]],
    openings: Mapping[int, Sequence[str]],
) -> list[dict[str, Any]]:
    return [
        conversation_json(c, handled.get(c["id"], ()), ratings.get(c["id"]), openings.get(c["id"], ()))
        for c in listed
    ]


def _order_json(row: Mapping[str, Any]) -> dict[str, Any]:
    try:
        items = json.loads(row["items"])
    except ValueError:
        items = []
    return {
        "order_id": row["order_id"],
        "status": row["status"],
        "total": row["total"],
        "currency": row["currency"],
        "placed_at": row["placed_at"],
        "updated_at": row["updated_at"],
        "items": items[:ORDER_ITEMS],
        "items_count": len(items),
    }


def _case_json(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "kind": row["kind"],
        "id": row["case_id"],
        "status": row["status"],
        "text": _clip(row["text"], CASE_TEXT_CHARS),
        "order_id": row["order_id"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def profile_json(profile: Mapping[str, Any] | None, updated_by: Mapping[str, Any] | None) -> dict[str, Any]:
    """The part operators edit: tags, communication type (with its hint) and notes."""
    profile = profile or {}
    kind = customer_type(profile.get("comm_type"))
    return {
        "tags": _tags(profile.get("tags")),
        "type": None if kind is None else kind.to_json(),
        "notes": profile.get("notes") or "",
        "version": profile.get("version") or 0,
        "updated_at": profile.get("updated_at"),
        "updated_by": None if updated_by is None else {"id": updated_by["id"], "name": updated_by["name"]},
    }


def _common(rows: repo.ContextRows, current_conversation_id: int | None) -> dict[str, Any]:
    listed = conversations_json(rows.conversations, rows.handled_by, rows.ratings, rows.openings)
    earlier = rows.conversations_total - (1 if current_conversation_id is not None else 0)
    return {
        "first_contact": earlier <= 0,
        "conversations": listed,
        "conversations_total": rows.conversations_total,
        "more_conversations": len(listed) < max(earlier, 0),
        "ratings": rows.rating_summary,
        "page": rows.page,
    }


def build_customer_context(
    engine: Engine,
    *,
    customer_id: int,
    viewer_id: int | None = None,
    current_conversation_id: int | None = None,
) -> dict[str, Any] | None:
    """A customer's context, or None when absent or not visible to `viewer_id` (None: all)."""
    rows = repo.context_rows(
        engine,
        customer_id=customer_id,
        viewer_id=viewer_id,
        current_conversation_id=current_conversation_id,
        conversations=CONVERSATIONS,
        orders=ORDERS,
        cases=CASES,
    )
    if rows is None or rows.customer is None:
        return None
    c, profile = rows.customer, rows.profile or {}
    order_total = float(profile.get("order_total") or 0.0)
    case_count = int(profile.get("case_count") or 0)
    return {
        "id": c["id"],
        "anonymous": False,
        "name": c["name"],
        "email": c["email"],
        "external_id": c["external_id"],
        "locale": c["locale"],
        "first_seen": c["first_seen"],
        "last_seen": c["last_seen"],
        "segment": classify(Cutoffs.from_text(rows.segments), order_total=order_total, case_count=case_count),
        **profile_json(rows.profile, rows.updated_by),
        "stats": {
            "orders": int(profile.get("order_count") or 0),
            "order_value": round(order_total, 2),
            "returns_and_complaints": case_count,
        },
        **_common(rows, current_conversation_id),
        "orders": [_order_json(o) for o in rows.orders],
        "open_complaints": [_case_json(k) for k in rows.open_cases],
    }


def build_visitor_context(
    engine: Engine,
    *,
    visitor_id: str,
    viewer_id: int | None = None,
    current_conversation_id: int | None = None,
) -> dict[str, Any] | None:
    """An anonymous visitor's context: their own past conversations and the page they are on."""
    rows = repo.context_rows(
        engine,
        visitor_id=visitor_id,
        viewer_id=viewer_id,
        current_conversation_id=current_conversation_id,
        conversations=CONVERSATIONS,
    )
    return _visitor_context(rows, current_conversation_id)


def _visitor_context(
    rows: repo.ContextRows | None, current_conversation_id: int | None
) -> dict[str, Any] | None:
    if rows is None or rows.visitor is None:
        return None
    v = rows.visitor
    return {
        "id": None,
        "anonymous": True,
        "name": None,
        "visitor_id": v["id"],
        "customer_id": v["customer_id"],
        "locale": v["locale"],
        "first_seen": v["created_at"],
        "last_seen": v["last_seen"],
        **_common(rows, current_conversation_id),
    }


def conversation_context(engine: Engine, *, conversation: ConversationPublic) -> dict[str, Any] | None:
    """What the operator assigned this conversation sees beside it (the ``customer`` of ``assigned``)."""
    if conversation.customer_id is not None:
        found = build_customer_context(
            engine, customer_id=conversation.customer_id, current_conversation_id=conversation.id
        )
        if found is not None:
            return found
    return build_visitor_context(
        engine, visitor_id=conversation.visitor_id, current_conversation_id=conversation.id
    )


def contexts_for_assigned(
    engine: Engine, *, conversations: Sequence[ConversationPublic]
) -> dict[int, dict[str, Any] | None]:
    """`context_for_assigned` for a run of assignments, in one call to a reader thread.

    The anonymous visitors' contexts are read together (`repo.visitor_briefing_rows`).
    """
    found: dict[int, dict[str, Any] | None] = {}
    anonymous = [c for c in conversations if c.customer_id is None]
    try:
        rows = repo.visitor_briefing_rows(
            engine, keys=[(c.visitor_id, c.id) for c in anonymous], conversations=CONVERSATIONS
        )
    except Exception:
        log.exception("could not read the contexts of %s visitors together", len(anonymous))
        rows = None
    for conversation in conversations:
        if rows is not None and conversation.customer_id is None:
            found[conversation.id] = _visitor_context(
                rows.get((conversation.visitor_id, conversation.id)), conversation.id
            )
            continue
        try:
            found[conversation.id] = conversation_context(engine, conversation=conversation)
            continue
        except Exception:
            log.exception("could not build the context of conversation %s", conversation.id)
        cust = conversation.customer_id
        c = repo.get_customer(engine, customer_id=cust) if cust is not None else None
        found[conversation.id] = (  # the bare identity rather than no brief
            None
            if c is None
            else {"id": c.id, "name": c.name, "email": c.email, "external_id": c.external_id}
        )
    return found


async def context_for_assigned(
    writer: MessageWriter, conversation: ConversationPublic
) -> dict[str, Any] | None:
    """`conversation_context` in a reader thread; if it fails, the bare identity rather than no brief."""
    try:
        return await writer.read(conversation_context, conversation=conversation)
    except Exception:
        log.exception("could not build the context of conversation %s", conversation.id)
    if conversation.customer_id is None:
        return None
    c = await writer.read(repo.get_customer, customer_id=conversation.customer_id)
    if c is None:
        return None
    return {"id": c.id, "name": c.name, "email": c.email, "external_id": c.external_id}
