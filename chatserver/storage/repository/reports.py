"""The team lead's report: conversations, satisfaction, wait honesty, etiquette, the assistant.

Every figure is aggregated in SQL (GROUP BY, window functions, per-conversation subqueries on
indexed columns); Python only rounds and combines the few grouped rows. The definitions are in
``docs/reports.md``. Percentiles are nearest-rank: the p-th of n sorted values is the one at rank
ceil(p * n / 100), found in SQL as the row whose rank r has (r - 1) * 100 < p * n <= r * 100.

Scope: the conversations created in [from, to), of one team (``conversation.team``) and of one
operator (``conversation.operator_id``: who held the chat when it closed, or holds it now) when
asked. Every section reads these conversations; only the reply usage counters are lifetime totals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, ColumnElement, and_, case, cast, func, literal, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql import Select

from ..db import read_transaction
from .conversations import LEFT_MESSAGE_EVENT
from .tables import (
    CONVERSATION,
    EVENT,
    MESSAGE,
    OPERATOR,
    RATING,
    REPLY_USAGE,
    SITUATION_FEEDBACK,
    WAIT_PROMISE,
)

SILENCE_NUDGE_EVENT = "silence_nudge"
HOLDING_LINE_EVENT = "holding_line"
TRANSFER_EVENT = "transfer_requested"
COMMENTS_LIMIT = 200
# Waits that ended with the visitor served: their length is known.
_SERVED_OUTCOMES = ("kept", "broken")
_REVISED_OUTCOMES = ("revised", "revised_late")


@dataclass(frozen=True, slots=True)
class ReportScope:
    """Which conversations a report reads; ``now`` decides whether the period is over."""

    from_ts: float
    to_ts: float
    now: float
    team: str | None = None
    operator_id: int | None = None


def _where(scope: ReportScope) -> list[ColumnElement[bool]]:
    where = [CONVERSATION.c.created_at >= scope.from_ts, CONVERSATION.c.created_at < scope.to_ts]
    if scope.team is not None:
        where.append(CONVERSATION.c.team == scope.team)
    if scope.operator_id is not None:
        where.append(CONVERSATION.c.operator_id == scope.operator_id)
    return where


def _day(conn: Connection, ts: Any) -> ColumnElement[str]:
    """The UTC day of a unix timestamp as YYYY-MM-DD."""
    if conn.dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", func.to_timestamp(ts)), "YYYY-MM-DD")
    return func.date(ts, "unixepoch")


def _json_text(conn: Connection, column: Any, key: str) -> ColumnElement[str]:
    if conn.dialect.name == "postgresql":
        return func.json_extract_path_text(cast(column, JSON), key)
    return func.json_extract(column, f"$.{key}")


def _count_if(cond: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


def _at_rank(value: Any, rank: Any, count: Any, p: int) -> ColumnElement[Any]:
    """``value`` on the row that holds the nearest-rank p-th percentile, else NULL (use with MAX)."""
    return case(
        (
            and_(value.is_not(None), (rank - 1) * 100 < count * p, count * p <= rank * 100),
            value,
        ),
        else_=None,
    )


def _ranked(value: Any, *partition: Any) -> tuple[Any, Any]:
    """(rank among the non-NULL values, how many there are), over the partition."""
    order = (value.is_(None), value)
    rank = func.row_number().over(partition_by=partition or None, order_by=order)
    count = func.count(value).over(partition_by=partition or None)
    return rank, count


def _round(value: Any, digits: int) -> float | None:
    return None if value is None else round(float(value), digits)


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 3)


def nps_score(promoters: int, detractors: int, answers: int) -> float | None:
    """% promoters (9-10) minus % detractors (0-6), to one decimal; None with no answers."""
    return None if answers == 0 else round(100.0 * (promoters - detractors) / answers, 1)


# --- conversations -----------------------------------------------------------------------


def _per_conversation(conn: Connection, scope: ReportScope) -> Select[Any]:
    c = CONVERSATION.c
    first_assigned = (
        select(func.min(EVENT.c.ts))
        .where(EVENT.c.conversation_id == c.id, EVENT.c.kind == "assigned")
        .scalar_subquery()
    )
    first_operator = (
        select(func.min(MESSAGE.c.ts))
        .where(MESSAGE.c.conversation_id == c.id, MESSAGE.c.sender == "operator")
        .scalar_subquery()
    )
    return select(
        c.id,
        c.created_at,
        c.closed_at,
        _day(conn, c.created_at).label("day"),
        first_assigned.label("assigned"),
        first_operator.label("answered"),
    ).where(*_where(scope))


def conversations_section(conn: Connection, scope: ReportScope) -> dict[str, Any]:
    # Materialized: each conversation's two index searches run once, not once per reference.
    per = _per_conversation(conn, scope).cte("per").prefix_with("MATERIALIZED")
    served = per.c.assigned.is_not(None)
    ended = per.c.closed_at.is_not(None)
    abandoned = and_(~served, ended if scope.to_ts > scope.now else literal(True))
    first_response = case((served, per.c.answered - per.c.created_at), else_=None)
    wait = per.c.assigned - per.c.created_at
    handle = per.c.closed_at - per.c.assigned
    metrics = {"first_response": first_response, "wait": wait, "handle": handle}
    columns: list[Any] = [per.c.day, served.label("served"), abandoned.label("abandoned")]
    for name, value in metrics.items():
        rank, count = _ranked(value)
        columns += [value.label(name), rank.label(f"{name}_rank"), count.label(f"{name}_n")]
    day_rank, day_n = _ranked(first_response, per.c.day)
    columns += [day_rank.label("day_rank"), day_n.label("day_n")]
    ranked = select(*columns).subquery("ranked")
    r = ranked.c
    # One pass, grouped by day: each day's own figures, and the overall percentiles, which
    # are on exactly one row of the whole period, so on one day's group.
    overall = [
        func.max(_at_rank(r[name], r[f"{name}_rank"], r[f"{name}_n"], p)).label(f"{name}_p{p}")
        for name in metrics
        for p in (50, 90)
    ]
    rows = conn.execute(
        select(
            r.day,
            func.count().label("total"),
            _count_if(r.served).label("served"),
            _count_if(r.abandoned).label("abandoned"),
            func.max(_at_rank(r.first_response, r.day_rank, r.day_n, 50)).label("day_p50"),
            *overall,
        )
        .group_by(r.day)
        .order_by(r.day)
    ).all()
    out: dict[str, Any] = {
        "total": sum(int(row.total) for row in rows),
        "served": sum(int(row.served) for row in rows),
        "abandoned": sum(int(row.abandoned) for row in rows),
    }
    for name, key in (("first_response", "first_response"), ("wait", "wait"), ("handle", "handle")):
        for p in (50, 90):
            found = [getattr(row, f"{name}_p{p}") for row in rows if getattr(row, f"{name}_p{p}") is not None]
            out[f"{key}_p{p}_s"] = _round(found[0], 1) if found else None
    out["by_day"] = [
        {
            "day": row.day,
            "total": int(row.total),
            "served": int(row.served),
            "abandoned": int(row.abandoned),
            "first_response_p50_s": _round(row.day_p50, 1),
        }
        for row in rows
    ]
    return out


# --- satisfaction ------------------------------------------------------------------------


def _satisfaction(rows: list[Any]) -> dict[str, Any]:
    ratings = sum(int(r.ratings) for r in rows)
    stars = sum(int(r.stars) for r in rows)
    promoters = sum(int(r.promoters) for r in rows)
    passives = sum(int(r.passives) for r in rows)
    detractors = sum(int(r.detractors) for r in rows)
    answers = promoters + passives + detractors
    return {
        "ratings": ratings,
        "stars_mean": None if ratings == 0 else round(stars / ratings, 2),
        "nps": nps_score(promoters, detractors, answers),
        "promoters": promoters,
        "passives": passives,
        "detractors": detractors,
    }


def satisfaction_section(
    conn: Connection, scope: ReportScope, *, comments_limit: int | None = COMMENTS_LIMIT
) -> dict[str, Any]:
    c, rt = CONVERSATION.c, RATING.c
    rated = RATING.join(CONVERSATION, CONVERSATION.c.id == rt.conversation_id)
    groups = conn.execute(
        select(
            c.team,
            c.operator_id,
            OPERATOR.c.name,
            func.count().label("ratings"),
            func.sum(rt.score).label("stars"),
            _count_if(rt.nps >= 9).label("promoters"),
            _count_if(and_(rt.nps >= 7, rt.nps <= 8)).label("passives"),
            _count_if(rt.nps <= 6).label("detractors"),
        )
        .select_from(rated.outerjoin(OPERATOR, OPERATOR.c.id == c.operator_id))
        .where(*_where(scope))
        .group_by(c.team, c.operator_id, OPERATOR.c.name)
    ).all()
    out = _satisfaction(list(groups))
    by_team: dict[str | None, list[Any]] = {}
    by_operator: dict[int | None, list[Any]] = {}
    names: dict[int | None, str | None] = {}
    for row in groups:
        by_team.setdefault(row.team, []).append(row)
        by_operator.setdefault(row.operator_id, []).append(row)
        names[row.operator_id] = row.name
    out["by_team"] = [
        {"team": team, **_pick(_satisfaction(rows))}
        for team, rows in sorted(by_team.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))
    ]
    out["by_operator"] = [
        {"operator_id": oid, "name": names[oid], **_pick(_satisfaction(rows))}
        for oid, rows in sorted(by_operator.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))
    ]
    comments = (
        select(rt.conversation_id, rt.score, rt.nps, rt.comment, rt.ts)
        .select_from(rated)
        .where(*_where(scope), rt.comment.is_not(None), func.trim(rt.comment) != "")
        .order_by(rt.ts.desc(), rt.conversation_id.desc())
    )
    if comments_limit is not None:
        comments = comments.limit(comments_limit)
    out["comments"] = [
        {
            "conversation_id": r.conversation_id,
            "stars": r.score,
            "nps": r.nps,
            "comment": r.comment,
            "created_at": r.ts,
        }
        for r in conn.execute(comments).all()
    ]
    return out


def _pick(figures: dict[str, Any]) -> dict[str, Any]:
    return {k: figures[k] for k in ("ratings", "stars_mean", "nps")}


# --- wait honesty ------------------------------------------------------------------------


def wait_honesty_section(conn: Connection, scope: ReportScope) -> dict[str, Any]:
    w = WAIT_PROMISE.c
    one_wait = (w.conversation_id, w.wait_started_at)
    chain = (
        select(
            w.estimate_s,
            w.low_s,
            w.high_s,
            w.deadline,
            w.made_at,
            w.outcome,
            w.settled_at,
            func.max(w.settled_at).over(partition_by=one_wait).label("wait_end"),
            func.first_value(w.outcome)
            .over(partition_by=one_wait, order_by=(w.made_at.desc(), w.id.desc()))
            .label("final"),
        )
        .select_from(WAIT_PROMISE.join(CONVERSATION, CONVERSATION.c.id == w.conversation_id))
        .where(*_where(scope))
        .subquery("chain")
    )
    ch = chain.c
    actual = ch.wait_end - ch.made_at
    measured = ch.final.in_(_SERVED_OUTCOMES)
    # Any wait that ended (not one a restart cut short, not one still running) can be seen overrun.
    overrun = and_(ch.final.is_not(None), ch.final != "interrupted", actual > ch.high_s)
    announced = and_(overrun, ch.outcome.in_(_REVISED_OUTCOMES), ch.settled_at <= ch.deadline)
    row = conn.execute(
        select(
            func.count().label("promises"),
            _count_if(measured).label("measured"),
            func.avg(case((measured, func.abs(actual - ch.estimate_s)), else_=None)).label("mae"),
            _count_if(and_(measured, actual >= ch.low_s, actual <= ch.high_s)).label("covered"),
            _count_if(overrun).label("overruns"),
            _count_if(announced).label("announced"),
        )
    ).one()
    return {
        "promises": int(row.promises),
        "mae_s": _round(row.mae, 1),
        "coverage": _share(int(row.covered), int(row.measured)),
        "overruns": int(row.overruns),
        "overruns_announced": int(row.announced),
    }


# --- etiquette ---------------------------------------------------------------------------


def etiquette_section(conn: Connection, scope: ReportScope) -> dict[str, Any]:
    e = EVENT.c
    events = EVENT.join(CONVERSATION, CONVERSATION.c.id == e.conversation_id)

    def filled(key: str) -> ColumnElement[bool]:
        return func.coalesce(func.trim(_json_text(conn, e.data, key)), "") != ""

    kinds = (TRANSFER_EVENT, SILENCE_NUDGE_EVENT, HOLDING_LINE_EVENT, LEFT_MESSAGE_EVENT)
    row = conn.execute(
        select(
            _count_if(e.kind == TRANSFER_EVENT).label("transfers"),
            _count_if(and_(e.kind == TRANSFER_EVENT, filled("reason"), filled("benefit"))).label("explained"),
            _count_if(e.kind == SILENCE_NUDGE_EVENT).label("nudges"),
            _count_if(e.kind == HOLDING_LINE_EVENT).label("holding_lines"),
        )
        .select_from(events)
        .where(*_where(scope), e.kind.in_(kinds[:3]))
    ).one()
    # Each conversation's first left message, and the first operator message after it.
    left = (
        select(e.conversation_id, func.min(e.ts).label("left_at"))
        .select_from(events)
        .where(*_where(scope), e.kind == LEFT_MESSAGE_EVENT)
        .group_by(e.conversation_id)
        .subquery("left")
    )
    answered_at = (
        select(func.min(MESSAGE.c.ts))
        .where(
            MESSAGE.c.conversation_id == left.c.conversation_id,
            MESSAGE.c.sender == "operator",
            MESSAGE.c.ts >= left.c.left_at,
        )
        .scalar_subquery()
    )
    answer = (select((answered_at - left.c.left_at).label("answer_s"))).subquery("answer")
    rank, count = _ranked(answer.c.answer_s)
    ranked = select(answer.c.answer_s, rank.label("rank"), count.label("n")).subquery("ranked")
    left_row = conn.execute(
        select(
            func.count().label("left_messages"),
            func.max(_at_rank(ranked.c.answer_s, ranked.c.rank, ranked.c.n, 50)).label("p50"),
        )
    ).one()
    return {
        "transfers": int(row.transfers),
        "transfers_with_reason_and_benefit": int(row.explained),
        "nudges": int(row.nudges),
        "holding_lines": int(row.holding_lines),
        "left_messages": int(left_row.left_messages),
        "left_message_answer_p50_s": _round(left_row.p50, 1),
    }


# --- the assistant -----------------------------------------------------------------------


def situations_rows(conn: Connection, scope: ReportScope) -> list[dict[str, Any]]:
    """The situations operators confirmed (a picked reply's or the one they set), most seen first."""
    f = SITUATION_FEEDBACK.c
    count = func.count().label("seen")
    rows = conn.execute(
        select(f.corrected, count)
        .select_from(SITUATION_FEEDBACK.join(CONVERSATION, CONVERSATION.c.id == f.conversation_id))
        .where(*_where(scope))
        .group_by(f.corrected)
        .order_by(count.desc(), f.corrected)
    ).all()
    return [{"situation": r.corrected, "count": int(r.seen)} for r in rows]


def replies_rows(conn: Connection) -> list[dict[str, Any]]:
    """Every reply's usage counters (lifetime totals over all libraries: they are not dated)."""
    u = REPLY_USAGE.c
    kinds = ("suggested", "sent_as_is", "sent_edited", "ignored")
    rows = conn.execute(
        select(
            u.language,
            u.response_id,
            *(func.coalesce(func.sum(case((u.kind == k, u.count), else_=0)), 0).label(k) for k in kinds),
        )
        .group_by(u.language, u.response_id)
        .order_by(u.language, u.response_id)
    ).all()
    return [
        {"language": r.language, "response_id": r.response_id, **{k: int(getattr(r, k)) for k in kinds}}
        for r in rows
    ]


def assistant_section(conn: Connection, scope: ReportScope) -> dict[str, Any]:
    f = SITUATION_FEEDBACK.c
    row = conn.execute(
        select(func.count().label("total"), _count_if(f.recognized == f.corrected).label("agreed"))
        .select_from(SITUATION_FEEDBACK.join(CONVERSATION, CONVERSATION.c.id == f.conversation_id))
        .where(*_where(scope))
    ).one()
    total, agreed = int(row.total), int(row.agreed)
    return {
        "situations": situations_rows(conn, scope),
        "replies": replies_rows(conn),
        "corrections": {"total": total, "agreed": agreed, "accuracy": _share(agreed, total)},
    }


# --- the report and its tables -----------------------------------------------------------


def report(engine: Engine, *, scope: ReportScope) -> dict[str, Any]:
    """Every section of the report, read in one snapshot."""
    with read_transaction(engine) as conn:
        return {
            "period": {"from": scope.from_ts, "to": scope.to_ts},
            "filters": {"team": scope.team, "operator_id": scope.operator_id},
            "conversations": conversations_section(conn, scope),
            "satisfaction": satisfaction_section(conn, scope),
            "wait_honesty": wait_honesty_section(conn, scope),
            "etiquette": etiquette_section(conn, scope),
            "assistant": assistant_section(conn, scope),
        }


REPORT_TABLES: dict[str, tuple[str, ...]] = {
    "conversations_by_day": ("day", "total", "served", "abandoned", "first_response_p50_s"),
    "satisfaction_by_team": ("team", "ratings", "stars_mean", "nps"),
    "satisfaction_by_operator": ("operator_id", "name", "ratings", "stars_mean", "nps"),
    "comments": ("conversation_id", "stars", "nps", "comment", "created_at"),
    "replies": ("language", "response_id", "suggested", "sent_as_is", "sent_edited", "ignored"),
    "situations": ("situation", "count"),
}


def report_table(engine: Engine, *, table: str, scope: ReportScope) -> list[dict[str, Any]]:
    """The rows of one of ``REPORT_TABLES`` (comments: all of them, newest first)."""
    with read_transaction(engine) as conn:
        if table == "conversations_by_day":
            rows: list[dict[str, Any]] = conversations_section(conn, scope)["by_day"]
            return rows
        if table in ("satisfaction_by_team", "satisfaction_by_operator", "comments"):
            section = satisfaction_section(conn, scope, comments_limit=None)
            key = {"satisfaction_by_team": "by_team", "satisfaction_by_operator": "by_operator"}
            return list(section[key.get(table, table)])
        if table == "replies":
            return replies_rows(conn)
        if table == "situations":
            return situations_rows(conn, scope)
    raise KeyError(table)


__all__ = [
    "COMMENTS_LIMIT",
    "HOLDING_LINE_EVENT",
    "REPORT_TABLES",
    "SILENCE_NUDGE_EVENT",
    "ReportScope",
    "nps_score",
    "report",
    "report_table",
]
