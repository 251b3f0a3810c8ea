"""Chat setup in bulk: visitors created, conversations opened and assigned, many per statement.

A flash crowd sets up hundreds of chats a second. On the writer thread every SQLite
statement drops and retakes the GIL (and each retake waits for the event loop's thread), so
what a chat's setup costs is mostly how many statements it takes. These functions take a
whole group's worth of one kind of write (``MessageWriter.bulk`` hands them every such write
queued together) and do it in a fixed handful of multi-row statements on the driver's cursor
of the group's transaction, like `store_messages`. They never commit; when one fails the
writer retries each write alone, so only the bad one fails.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import UnknownConversation
from ..models import ConversationPublic
from .messages import _Driver, _placeholders, _value_rows

Item = Mapping[str, Any]


def add_visitors(cursor: Any, dialect: str, items: Sequence[Item]) -> list[None]:
    """New visitors (``visitor_id``, ``locale``, ``customer_id``, ``now``); an existing id is kept."""
    db = _Driver(cursor, dialect)
    values = [
        v for i in items for v in (i["visitor_id"], i.get("customer_id"), i.get("locale"), i["now"], i["now"])
    ]
    db.execute(
        "INSERT INTO visitor (id, customer_id, locale, created_at, last_seen) "
        f"VALUES {_value_rows(len(items), 5)} ON CONFLICT (id) DO NOTHING",
        values,
    )
    return [None] * len(items)


def _previous_operators(db: _Driver, items: Sequence[Item]) -> list[int | None]:
    """For each opening, who was last assigned a chat of this visitor or customer (sticky routing),
    read from the event log like `last_operator_for_customer_or_visitor`."""
    visitors = sorted({i["visitor_id"] for i in items})
    customers = sorted({i["customer_id"] for i in items if i.get("customer_id") is not None})
    who = f"c.visitor_id IN ({_placeholders(len(visitors))})"
    if customers:
        who = f"({who} OR c.customer_id IN ({_placeholders(len(customers))}))"
    sql = (
        "FROM conversation_event e JOIN conversation c ON c.id = e.conversation_id "
        f"WHERE {who} AND e.state = 'assigned' AND e.operator_id IS NOT NULL"
    )
    params = [*visitors, *customers]
    if db.postgres:
        rows = db.execute(f"SELECT c.visitor_id, c.customer_id, e.operator_id, e.ts, e.id {sql}", params)
    else:  # one row whatever the count: see `_Driver`
        rows = db.one_json(
            "SELECT json_group_array(json_array(c.visitor_id, c.customer_id, e.operator_id, e.ts, e.id)) "
            + sql,
            params,
        )
    newest_by_visitor: dict[str, tuple[float, int, int]] = {}
    newest_by_customer: dict[int, tuple[float, int, int]] = {}
    for visitor_id, customer_id, operator_id, ts, event_id in rows or []:
        mark = (ts, event_id, operator_id)
        if mark > newest_by_visitor.get(visitor_id, (-1.0, -1, 0)):
            newest_by_visitor[visitor_id] = mark
        if customer_id is not None and mark > newest_by_customer.get(customer_id, (-1.0, -1, 0)):
            newest_by_customer[customer_id] = mark
    found: list[int | None] = []
    for i in items:
        marks = [newest_by_visitor.get(i["visitor_id"])]
        if i.get("customer_id") is not None:
            marks.append(newest_by_customer.get(i["customer_id"]))
        best = max((m for m in marks if m is not None), default=None)
        found.append(best[2] if best is not None else None)
    return found


def _new_ids(db: _Driver, table: str, n: int) -> list[int]:
    if db.postgres:
        rows = db.execute(
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, ?)", [n]
        )
        return [int(r[0]) for r in rows]
    # BEGIN IMMEDIATE holds SQLite's only write lock, so the next ids are ours to give.
    first = int(db.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}", ())[0][0])
    return list(range(first, first + n))


def _event_rows(
    rows: Sequence[tuple[int, str, str, int | None, Mapping[str, Any] | None, float]],
) -> tuple[str, list[Any]]:
    values: list[Any] = []
    for cid, kind, state, operator_id, data, ts in rows:
        values += (cid, kind, state, operator_id, json.dumps(dict(data or {}), separators=(",", ":")), ts)
    sql = (
        "INSERT INTO conversation_event (conversation_id, kind, state, operator_id, data, ts) "
        f"VALUES {_value_rows(len(rows), 6)}"
    )
    return sql, values


def open_conversations(
    cursor: Any, dialect: str, items: Sequence[Item]
) -> list[tuple[ConversationPublic, int | None]]:
    """New waiting conversations (``visitor_id``, ``customer_id``, ``locale``, ``team``?, ``now``),
    each with its "opened" event and the operator who last served that visitor or customer:
    what `open_conversation_in` returns, for a whole group in five statements."""
    db = _Driver(cursor, dialect)
    previous = _previous_operators(db, items)
    ids = _new_ids(db, "conversation", len(items))
    values: list[Any] = []
    for cid, i in zip(ids, items, strict=True):
        values += (cid, i["visitor_id"], i.get("customer_id"), i.get("team"), i.get("locale"), i["now"])
    db.execute(
        "INSERT INTO conversation (id, visitor_id, customer_id, state, team, locale, created_at, last_seq) "
        f"VALUES {', '.join(['(?, ?, ?, ' + repr('waiting') + ', ?, ?, ?, 0)'] * len(items))}",
        values,
    )
    events = [
        (cid, "opened", "waiting", None, {"team": i["team"]} if i.get("team") else None, i["now"])
        for cid, i in zip(ids, items, strict=True)
    ]
    db.execute(*_event_rows(events))
    return [
        (
            ConversationPublic(
                id=cid,
                visitor_id=i["visitor_id"],
                customer_id=i.get("customer_id"),
                state="waiting",
                operator_id=None,
                team=i.get("team"),
                locale=i.get("locale"),
                created_at=i["now"],
                last_seq=0,
            ),
            before,
        )
        for cid, i, before in zip(ids, items, previous, strict=True)
    ]


def assign_conversations(cursor: Any, dialect: str, items: Sequence[Item]) -> list[None]:
    """Conversations assigned (``conversation_id``, ``operator_id``, ``now``, ``sticky``), each
    with its "assigned" event: `set_conversation_state` to "assigned", for a whole group."""
    db = _Driver(cursor, dialect)
    ids = [i["conversation_id"] for i in items]
    if len(set(ids)) != len(ids):
        raise ValueError("a conversation is assigned twice in one group")  # alone, each is right
    whens = " ".join(["WHEN ? THEN ?"] * len(items))
    params: list[Any] = [v for i in items for v in (i["conversation_id"], i["operator_id"])]
    params += [v for i in items for v in (i["conversation_id"], i["now"])]
    db.execute(
        f"UPDATE conversation SET state = 'assigned', operator_id = CASE id {whens} END, "
        f"assigned_at = CASE id {whens} END WHERE id IN ({_placeholders(len(ids))})",
        [*params, *ids],
    )
    if cursor.rowcount != len(ids):
        raise UnknownConversation("a conversation to assign does not exist")
    events = [
        (i["conversation_id"], "assigned", "assigned", i["operator_id"], {"sticky": i["sticky"]}, i["now"])
        for i in items
    ]
    db.execute(*_event_rows(events))
    return [None] * len(items)
