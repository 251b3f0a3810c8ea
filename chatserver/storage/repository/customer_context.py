"""The context beside the chat: bounded reads of a customer's or visitor's rows.

The profile, the conversation list with ratings, orders, open cases and
transcripts. Each read is bounded (a fixed number of rows of each kind,
whatever the history's length) and runs in one snapshot. `viewer_id` None
reads anything; an operator's id limits the read to customers and visitors
whose conversations that operator holds or held, and anything else reads as absent.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, cast, func, null, or_, select, true, union_all
from sqlalchemy.engine import Connection, Engine, Row

from ..records import StoredMessage
from ._common import MESSAGE_COLUMNS, context_reader, stored_message
from .settings import SEGMENTS_SETTING
from .tables import (
    CASE,
    CONVERSATION,
    CUSTOMER,
    EVENT,
    MESSAGE,
    OPERATOR,
    PROFILE,
    RATING,
    SETTING,
    SHOP_ORDER,
    VISITOR,
    VISITOR_PAGE,
)

# How many of a conversation's first messages are read for its opening lines.
_OPENING_SEQS = 8


@dataclasses.dataclass
class ContextRows:
    """Everything the context beside the chat shows, as plain rows read in one snapshot."""

    customer: dict[str, Any] | None
    visitor: dict[str, Any] | None
    profile: dict[str, Any] | None
    updated_by: dict[str, Any] | None
    conversations: list[dict[str, Any]]
    conversations_total: int
    handled_by: dict[int, list[dict[str, Any]]]
    ratings: dict[int, dict[str, Any]]
    rating_summary: dict[str, Any]
    openings: dict[int, list[str]]
    orders: list[dict[str, Any]]
    open_cases: list[dict[str, Any]]
    page: dict[str, Any] | None
    segments: str | None


def _may_view_clause(who: ColumnElement[bool], viewer_id: int) -> ColumnElement[bool]:
    """True when the viewer holds or held one of these conversations.

    Held: the conversation names the operator, or its event log does (an assignment, even
    one later requeued or transferred). Two uncorrelated EXISTS, each an index search; one
    correlated OR would make PostgreSQL scan the whole event log.
    """
    holds = select(CONVERSATION.c.id).where(who, CONVERSATION.c.operator_id == viewer_id)
    held = (
        select(EVENT.c.conversation_id)
        .join(CONVERSATION, CONVERSATION.c.id == EVENT.c.conversation_id)
        .where(who, EVENT.c.operator_id == viewer_id)
    )
    return or_(holds.exists(), held.exists())


def _may_view(conn: Connection, who: ColumnElement[bool], viewer_id: int | None) -> bool:
    """Whether the viewer may see these conversations' customer or visitor (None sees all)."""
    if viewer_id is None:
        return True
    return bool(conn.execute(select(_may_view_clause(who, viewer_id))).scalar())


def _rows(result: Iterable[Row[Any]]) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in result]


_CONVERSATION_COLUMNS = (
    CONVERSATION.c.id,
    CONVERSATION.c.visitor_id,
    CONVERSATION.c.customer_id,
    CONVERSATION.c.state,
    CONVERSATION.c.operator_id,
    CONVERSATION.c.team,
    CONVERSATION.c.locale,
    CONVERSATION.c.created_at,
    CONVERSATION.c.assigned_at,
    CONVERSATION.c.closed_at,
    CONVERSATION.c.last_seq,
    RATING.c.score.label("rating_score"),
    RATING.c.comment.label("rating_comment"),
    RATING.c.ts.label("rating_ts"),
)
_CONVERSATIONS_RATED = CONVERSATION.outerjoin(RATING, RATING.c.conversation_id == CONVERSATION.c.id)


def _conversation_list(
    conn: Connection, who: ColumnElement[bool], *, exclude: int | None, before: int | None, limit: int
) -> list[dict[str, Any]]:
    """Conversations newest first (each with its rating), older than `before` when given."""
    where = [who]
    if exclude is not None:
        where.append(CONVERSATION.c.id != exclude)
    if before is not None:
        pivot = conn.execute(
            select(CONVERSATION.c.created_at).where(who, CONVERSATION.c.id == before)
        ).scalar_one_or_none()
        if pivot is None:
            return []
        where.append(
            or_(
                CONVERSATION.c.created_at < pivot,
                and_(CONVERSATION.c.created_at == pivot, CONVERSATION.c.id < before),
            )
        )
    return _rows(
        conn.execute(
            select(*_CONVERSATION_COLUMNS)
            .select_from(_CONVERSATIONS_RATED)
            .where(*where)
            .order_by(CONVERSATION.c.created_at.desc(), CONVERSATION.c.id.desc())
            .limit(limit)
        )
    )


_Details = tuple[dict[int, list[dict[str, Any]]], dict[int, dict[str, Any]], dict[int, list[str]]]
# (conversations, handled_by, ratings, openings)
HistoryRows = tuple[
    list[dict[str, Any]], dict[int, list[dict[str, Any]]], dict[int, dict[str, Any]], dict[int, list[str]]
]


def _conversation_details(conn: Connection, listed: Sequence[Mapping[str, Any]]) -> _Details:
    """For listed conversations: who handled each, its rating, its visitor's opening lines."""
    ids = [c["id"] for c in listed]
    handled: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    openings: dict[int, list[str]] = {i: [] for i in ids}
    ratings = {
        c["id"]: {"score": c["rating_score"], "comment": c["rating_comment"], "ts": c["rating_ts"]}
        for c in listed
        if c["rating_score"] is not None
    }
    if not ids:
        return handled, ratings, openings
    # One statement for both: the operators each conversation had (in order of their first
    # event) and the visitor's opening lines (in seq order); operator_id tells them apart.
    operators = (
        select(
            EVENT.c.conversation_id.label("cid"),
            func.min(EVENT.c.id).label("ord"),
            EVENT.c.operator_id.label("operator_id"),
            OPERATOR.c.name.label("text"),
        )
        .join(OPERATOR, OPERATOR.c.id == EVENT.c.operator_id)
        .where(EVENT.c.conversation_id.in_(ids), EVENT.c.operator_id.is_not(None))
        .group_by(EVENT.c.conversation_id, EVENT.c.operator_id, OPERATOR.c.name)
    )
    lines = select(MESSAGE.c.conversation_id, MESSAGE.c.seq, cast(null(), Integer), MESSAGE.c.text).where(
        MESSAGE.c.conversation_id.in_(ids),
        MESSAGE.c.seq <= _OPENING_SEQS,
        MESSAGE.c.sender == "visitor",
    )
    rows = sorted(conn.execute(union_all(operators, lines)).all(), key=lambda r: (r.cid, r.ord))
    for row in rows:
        if row.operator_id is None:
            openings[row.cid].append(row.text)
        else:
            handled[row.cid].append({"id": row.operator_id, "name": row.text})
    return handled, ratings, openings


def _summary_columns(who: ColumnElement[bool], viewer_id: int | None, *, ratings: bool) -> list[Any]:
    """Scalar subqueries read with the customer's (or visitor's) own row: one round trip.

    A customer's ratings come from the profile; `ratings` counts them here instead (a
    visitor's few conversations).
    """
    columns = [
        select(func.count()).select_from(CONVERSATION).where(who).scalar_subquery().label("_total"),
        (true() if viewer_id is None else _may_view_clause(who, viewer_id)).label("_visible"),
    ]
    if ratings:
        rated = select(RATING.c.score).join(CONVERSATION, CONVERSATION.c.id == RATING.c.conversation_id)
        columns += [
            rated.with_only_columns(func.count()).where(who).scalar_subquery().label("_rated"),
            rated.with_only_columns(func.sum(RATING.c.score)).where(who).scalar_subquery().label("_scores"),
        ]
    return columns


def _page_columns(visitors: ColumnElement[bool]) -> list[Any]:
    """The newest page of these visitors, as three scalar subqueries."""
    newest = (
        select(VISITOR_PAGE.c.ts)
        .join(VISITOR, VISITOR.c.id == VISITOR_PAGE.c.visitor_id)
        .where(visitors)
        .order_by(VISITOR_PAGE.c.ts.desc())
        .limit(1)
    )
    return [
        newest.with_only_columns(column).scalar_subquery().label(f"_page_{column.name}")
        for column in (VISITOR_PAGE.c.url, VISITOR_PAGE.c.title, VISITOR_PAGE.c.ts)
    ]


def _split(row: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    return {k[len(prefix) :]: v for k, v in row.items() if k.startswith(prefix)}


def context_rows(
    engine: Engine,
    *,
    customer_id: int | None = None,
    visitor_id: str | None = None,
    viewer_id: int | None = None,
    current_conversation_id: int | None = None,
    conversations: int = 10,
    orders: int = 5,
    cases: int = 10,
) -> ContextRows | None:
    """The rows of a customer's context (or, with `visitor_id`, an anonymous visitor's).

    None when the customer or visitor does not exist or the viewer may not see them.
    `current_conversation_id` is left out of the conversation list (it is on screen).
    Five statements whatever the history's length: the person with their profile, counts,
    page and the access check; the conversation list with ratings; who handled those and
    their opening lines; orders; open cases (a visitor: the first three).
    """
    if (customer_id is None) == (visitor_id is None):
        raise ValueError("give exactly one of customer_id and visitor_id")
    customer = visitor = profile = updated_by = None
    order_rows: list[dict[str, Any]] = []
    case_rows: list[dict[str, Any]] = []
    with context_reader(engine) as conn:
        if customer_id is not None:
            who = CONVERSATION.c.customer_id == customer_id
            head = conn.execute(
                select(
                    CUSTOMER,
                    *[c.label(f"_profile_{c.name}") for c in PROFILE.c],
                    OPERATOR.c.name.label("_updated_by_name"),
                    select(SETTING.c.value)
                    .where(SETTING.c.key == SEGMENTS_SETTING)
                    .scalar_subquery()
                    .label("_segments"),
                    *_page_columns(VISITOR.c.customer_id == customer_id),
                    *_summary_columns(who, viewer_id, ratings=False),
                )
                .select_from(
                    CUSTOMER.outerjoin(PROFILE, PROFILE.c.customer_id == CUSTOMER.c.id).outerjoin(
                        OPERATOR, OPERATOR.c.id == PROFILE.c.updated_by
                    )
                )
                .where(CUSTOMER.c.id == customer_id)
            ).one_or_none()
            if head is None or not head._visible:
                return None
            found = dict(head._mapping)
            customer = {c.name: found[c.name] for c in CUSTOMER.c}
            profile = _split(found, "_profile_")
            found["_rated"] = profile["rating_count"] or 0
            found["_scores"] = profile["rating_total"] or 0
            if profile["customer_id"] is None:
                profile = None
            elif profile["updated_by"] is not None and found["_updated_by_name"] is not None:
                updated_by = {"id": profile["updated_by"], "name": found["_updated_by_name"]}
            order_rows = _rows(
                conn.execute(
                    select(SHOP_ORDER)
                    .where(SHOP_ORDER.c.customer_id == customer_id)
                    .order_by(SHOP_ORDER.c.placed_at.desc(), SHOP_ORDER.c.id.desc())
                    .limit(orders)
                )
            )
            case_rows = _rows(
                conn.execute(
                    select(CASE)
                    .where(CASE.c.customer_id == customer_id, CASE.c.is_open == true())
                    .order_by(CASE.c.updated_at.desc())
                    .limit(cases)
                )
            )
        else:
            who = CONVERSATION.c.visitor_id == visitor_id
            head = conn.execute(
                select(
                    VISITOR,
                    *_page_columns(VISITOR.c.id == visitor_id),
                    *_summary_columns(who, viewer_id, ratings=True),
                ).where(VISITOR.c.id == visitor_id)
            ).one_or_none()
            if head is None or not head._visible:
                return None
            found = dict(head._mapping)
            found["_segments"] = None
            visitor = {c.name: found[c.name] for c in VISITOR.c}
        listed = _conversation_list(
            conn, who, exclude=current_conversation_id, before=None, limit=conversations
        )
        return _assemble(
            conn,
            found,
            listed,
            customer=customer,
            visitor=visitor,
            profile=profile,
            updated_by=updated_by,
            orders=order_rows,
            cases=case_rows,
        )


def _assemble(
    conn: Connection,
    found: dict[str, Any],
    listed: list[dict[str, Any]],
    *,
    customer: dict[str, Any] | None,
    visitor: dict[str, Any] | None,
    profile: dict[str, Any] | None = None,
    updated_by: dict[str, Any] | None = None,
    orders: list[dict[str, Any]] | None = None,
    cases: list[dict[str, Any]] | None = None,
) -> ContextRows:
    """The ContextRows of a head row (`found`, with its ``_page_`` and summary columns)."""
    handled, ratings, openings = _conversation_details(conn, listed)
    page = _split(found, "_page_")
    rated, scores = int(found["_rated"] or 0), int(found["_scores"] or 0)
    return ContextRows(
        customer=customer,
        visitor=visitor,
        profile=profile,
        updated_by=updated_by,
        conversations=listed,
        conversations_total=int(found["_total"]),
        handled_by=handled,
        ratings=ratings,
        rating_summary={"count": rated, "average": round(scores / rated, 2) if rated else None},
        openings=openings,
        orders=orders or [],
        open_cases=cases or [],
        page=page if page["url"] is not None else None,
        segments=found["_segments"],
    )


def visitor_briefing_rows(
    engine: Engine, *, keys: Sequence[tuple[str, int]], conversations: int = 10
) -> dict[tuple[str, int], ContextRows]:
    """`context_rows` of many anonymous visitors, each beside its own conversation, for the
    operator it was assigned to (so no viewer check). Keys: (visitor_id, that conversation).

    A run of briefings reads every head in one statement, and the conversation list only of
    visitors who had chats before: a crowd of new visitors costs one statement, not two each.
    """
    outer = VISITOR.alias("briefed")
    heads = select(
        outer,
        *_page_columns(VISITOR.c.id == outer.c.id),
        *_summary_columns(CONVERSATION.c.visitor_id == outer.c.id, None, ratings=True),
    ).where(outer.c.id.in_({visitor_id for visitor_id, _ in keys}))
    found: dict[tuple[str, int], ContextRows] = {}
    with context_reader(engine) as conn:
        by_id = {row.id: dict(row._mapping) for row in conn.execute(heads)}
        for visitor_id, current in keys:
            head = by_id.get(visitor_id)
            if head is None:
                continue
            head = {**head, "_segments": None}
            earlier = int(head["_total"]) > 1  # the current conversation is one of them
            listed = (
                _conversation_list(
                    conn,
                    CONVERSATION.c.visitor_id == visitor_id,
                    exclude=current,
                    before=None,
                    limit=conversations,
                )
                if earlier
                else []
            )
            visitor = {c.name: head[c.name] for c in VISITOR.c}
            found[(visitor_id, current)] = _assemble(conn, head, listed, customer=None, visitor=visitor)
    return found


def conversation_history(
    engine: Engine,
    *,
    customer_id: int | None = None,
    visitor_id: str | None = None,
    viewer_id: int | None = None,
    before: int | None = None,
    limit: int = 50,
) -> HistoryRows | None:
    """A page of a customer's (or visitor's) conversations, newest first, older than `before`.

    Returns (conversations, handled_by, ratings, openings), or None when not visible.
    """
    if (customer_id is None) == (visitor_id is None):
        raise ValueError("give exactly one of customer_id and visitor_id")
    who = (
        CONVERSATION.c.customer_id == customer_id
        if customer_id is not None
        else CONVERSATION.c.visitor_id == visitor_id
    )
    owner = (
        select(CUSTOMER.c.id).where(CUSTOMER.c.id == customer_id)
        if customer_id is not None
        else select(VISITOR.c.id).where(VISITOR.c.id == visitor_id)
    )
    with context_reader(engine) as conn:
        if conn.execute(owner).first() is None or not _may_view(conn, who, viewer_id):
            return None
        listed = _conversation_list(conn, who, exclude=None, before=before, limit=limit)
        handled, ratings, openings = _conversation_details(conn, listed)
    return listed, handled, ratings, openings


def can_view_customer(engine: Engine, *, customer_id: int, viewer_id: int | None) -> bool:
    """The customer exists and the viewer may see them (None sees everyone)."""
    with context_reader(engine) as conn:
        if conn.execute(select(CUSTOMER.c.id).where(CUSTOMER.c.id == customer_id)).first() is None:
            return False
        return _may_view(conn, CONVERSATION.c.customer_id == customer_id, viewer_id)


@dataclasses.dataclass
class TranscriptRows:
    """One conversation (as listed), who handled it, its rating, and a page of its messages."""

    conversation: dict[str, Any]
    handled_by: list[dict[str, Any]]
    rating: dict[str, Any] | None
    opening: list[str]
    messages: list[StoredMessage]


def transcript_page(
    engine: Engine,
    *,
    conversation_id: int,
    customer_id: int | None = None,
    visitor_id: str | None = None,
    viewer_id: int | None = None,
    after_seq: int = 0,
    limit: int = 100,
) -> TranscriptRows | None:
    """A conversation of this customer (or visitor) and up to `limit` messages after `after_seq`.

    None when the conversation is not theirs or the viewer may not see the customer.
    """
    if (customer_id is None) == (visitor_id is None):
        raise ValueError("give exactly one of customer_id and visitor_id")
    who = (
        CONVERSATION.c.customer_id == customer_id
        if customer_id is not None
        else CONVERSATION.c.visitor_id == visitor_id
    )
    with context_reader(engine) as conn:
        row = conn.execute(
            select(*_CONVERSATION_COLUMNS)
            .select_from(_CONVERSATIONS_RATED)
            .where(CONVERSATION.c.id == conversation_id, who)
        ).one_or_none()
        if row is None or not _may_view(conn, who, viewer_id):
            return None
        handled, ratings, openings = _conversation_details(conn, [dict(row._mapping)])
        messages = conn.execute(
            select(*MESSAGE_COLUMNS)
            .where(MESSAGE.c.conversation_id == conversation_id, MESSAGE.c.seq > after_seq)
            .order_by(MESSAGE.c.seq)
            .limit(limit)
        ).all()
    return TranscriptRows(
        dict(row._mapping),
        handled[conversation_id],
        ratings.get(conversation_id),
        openings[conversation_id],
        [stored_message(m, duplicate=False) for m in messages],
    )
