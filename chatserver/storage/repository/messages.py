"""The message hot path: batches stored with gap-free seqs and deduplication.

`store_messages` runs on the writer thread for every group commit, so its
statements go straight to the driver cursor and its loops stay flat.
`messages_after` reads them back in seq order.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from ..db import driver_integrity_error, driver_write_transaction, read_transaction
from ..errors import UnknownConversation
from ..models import SENDERS
from ..records import NewMessage, StoredMessage
from ._common import MESSAGE_COLUMNS, check_allowed, stored_message
from .tables import MESSAGE

_STORE_ATTEMPTS = 3


_DedupKey = tuple[str, str, str]


_MESSAGE_FIELDS = ", ".join(column.name for column in MESSAGE_COLUMNS)
_INSERT_FIELDS = "conversation_id, seq, sender, sender_id, client_id, text, ts, author_name, author_title"


def _placeholders(n: int) -> str:
    return ", ".join(["?"] * n)


def _value_rows(rows: int, columns: int) -> str:
    """``(?, ?), (?, ?)`` for a multi-row VALUES list."""
    row = f"({_placeholders(columns)})"
    return ", ".join([row] * rows)


class _Driver:
    """The message hot path's statements on the driver's cursor, with ``?`` placeholders.

    SQLite takes ``?``; psycopg takes ``%s``, so the text is translated once per call.
    On SQLite every result row is one ``sqlite3_step`` that drops and retakes the GIL,
    and each retake waits for the event loop's thread; so SQLite statements here
    return at most one row (`one_json` folds many into one JSON text), whatever the
    batch size. psycopg reads a whole result in one round trip, so PostgreSQL uses RETURNING.
    """

    __slots__ = ("cursor", "postgres")

    def __init__(self, cursor: Any, dialect: str) -> None:
        self.cursor = cursor
        self.postgres = dialect == "postgresql"

    def execute(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        if self.postgres:
            sql = sql.replace("?", "%s")
        self.cursor.execute(sql, params)
        return self.cursor.fetchall() if self.cursor.description is not None else []

    def one_json(self, sql: str, params: Sequence[Any]) -> Any:
        """The decoded JSON value of a one-row, one-column query (SQLite's json_group_array)."""
        self.cursor.execute(sql, params)
        value = self.cursor.fetchone()[0]
        return json.loads(value) if value is not None else None


def _known_messages(db: _Driver, keys: set[_DedupKey]) -> dict[_DedupKey, StoredMessage]:
    """Already stored messages among `keys`, in one indexed query."""
    client_ids = list({k[2] for k in keys})
    rows = db.execute(
        f"SELECT {_MESSAGE_FIELDS} FROM message WHERE client_id IN ({_placeholders(len(client_ids))})",
        client_ids,
    )
    known: dict[_DedupKey, StoredMessage] = {}
    for row in rows:
        key = (row[3], row[4], row[5])
        if key in keys:
            known[key] = stored_message(row, duplicate=True)
    return known


def _reserve_seqs(db: _Driver, counts: dict[int, int]) -> dict[int, int]:
    """Bump last_seq by each conversation's count in one UPDATE; the first seq of each.

    The UPDATE's row locks serialize two processes writing one conversation
    on PostgreSQL; locking in id order first keeps them from deadlocking.
    """
    ids = sorted(counts)
    marks = _placeholders(len(ids))
    if db.postgres:
        db.execute(f"SELECT id FROM conversation WHERE id IN ({marks}) ORDER BY id FOR UPDATE", ids)
    by_count: dict[int, int] = {}
    for count in counts.values():
        by_count[count] = by_count.get(count, 0) + 1
    common = max(by_count, key=lambda k: by_count[k])  # an int of ours, safe to inline
    odd = [(cid, counts[cid]) for cid in ids if counts[cid] != common]
    increment = str(int(common))
    params: list[int] = []
    if odd:
        increment = "CASE id " + " ".join(["WHEN ? THEN ?"] * len(odd)) + f" ELSE {int(common)} END"
        for cid, count in odd:
            params += (cid, count)
    update_seqs = f"UPDATE conversation SET last_seq = last_seq + {increment} WHERE id IN ({marks})"
    if db.postgres:
        rows = db.execute(update_seqs + " RETURNING id, last_seq", [*params, *ids])
    else:
        db.execute(update_seqs, [*params, *ids])
        rows = db.one_json(
            f"SELECT json_group_array(json_array(id, last_seq)) FROM conversation WHERE id IN ({marks})", ids
        )
    first = {cid: last - counts[cid] + 1 for cid, last in rows}
    missing = set(ids) - first.keys()
    if missing:
        raise UnknownConversation(f"no conversation {', '.join(map(str, sorted(missing)))}")
    return first


def _insert_new(db: _Driver, new: Sequence[NewMessage]) -> list[StoredMessage]:
    """Give `new` consecutive seqs per conversation and insert them in one statement."""
    counts: dict[int, int] = {}
    for m in new:
        counts[m.conversation_id] = counts.get(m.conversation_id, 0) + 1
    next_seq = _reserve_seqs(db, counts)
    seqs: list[int] = []
    for m in new:
        seqs.append(next_seq[m.conversation_id])
        next_seq[m.conversation_id] += 1
    fields = [
        (
            m.conversation_id,
            seq,
            m.sender,
            m.sender_id,
            m.client_id,
            m.text,
            m.ts,
            m.author_name,
            m.author_title,
        )
        for m, seq in zip(new, seqs, strict=True)
    ]
    if db.postgres:
        rows = db.execute(
            f"INSERT INTO message ({_INSERT_FIELDS}) VALUES {_value_rows(len(new), 9)}"
            " RETURNING id, conversation_id, seq",
            [value for row in fields for value in row],
        )
        by_key = {(c, s): mid for mid, c, s in rows}
        message_ids = [by_key[(m.conversation_id, seq)] for m, seq in zip(new, seqs, strict=True)]
    else:
        # BEGIN IMMEDIATE holds SQLite's only write lock, so the next ids are ours to give.
        first_id = db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM message", ())[0][0]
        message_ids = list(range(first_id, first_id + len(new)))
        db.execute(
            f"INSERT INTO message (id, {_INSERT_FIELDS}) VALUES {_value_rows(len(new), 10)}",
            [value for mid, row in zip(message_ids, fields, strict=True) for value in (mid, *row)],
        )
    return [StoredMessage(mid, *row, False) for mid, row in zip(message_ids, fields, strict=True)]


def _store_batch(db: _Driver, messages: Sequence[NewMessage]) -> list[StoredMessage]:
    keys = {(m.sender, m.sender_id, m.client_id) for m in messages if m.client_id is not None}
    known = _known_messages(db, keys) if keys else {}
    results: list[StoredMessage | None] = [None] * len(messages)
    first_in_batch: dict[_DedupKey, int] = {}
    repeats: list[tuple[int, int]] = []  # (index, index of the same message earlier)
    fresh: list[int] = []
    for i, m in enumerate(messages):
        check_allowed(m.sender, SENDERS, "sender")
        if m.client_id is not None:
            key = (m.sender, m.sender_id, m.client_id)
            if key in known:
                results[i] = known[key]
                continue
            if key in first_in_batch:
                repeats.append((i, first_in_batch[key]))
                continue
            first_in_batch[key] = i
        fresh.append(i)
    if fresh:
        stored = _insert_new(db, [messages[i] for i in fresh])
        for i, message in zip(fresh, stored, strict=True):
            results[i] = message
    for i, j in repeats:
        original = results[j]
        assert original is not None
        results[i] = dataclasses.replace(original, duplicate=True)
    return [r for r in results if r is not None]


def store_messages(engine: Engine, *, messages: Sequence[NewMessage]) -> list[StoredMessage]:
    """Store a batch in one transaction; results in input order.

    A repeated (sender, sender_id, client_id), in the database or earlier in
    the batch, yields the original message with duplicate=True and stores
    nothing. Seqs are gap-free per conversation. A unique-constraint race
    with another process is retried: the retry then sees the winner's row.
    The hot path: statements go straight to the driver (`driver_write_transaction`).
    """
    if not messages:
        return []
    integrity_error = driver_integrity_error(engine)
    dialect = engine.dialect.name
    for attempt in range(1, _STORE_ATTEMPTS + 1):
        try:
            with driver_write_transaction(engine) as cursor:
                return _store_batch(_Driver(cursor, dialect), messages)
        except integrity_error:
            if attempt == _STORE_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def store_messages_in(cursor: Any, dialect: str, *, messages: Sequence[NewMessage]) -> list[StoredMessage]:
    """`store_messages` on the driver cursor of the caller's transaction (a group that mixes
    messages with other writes); the caller retries or splits the group if it fails."""
    return _store_batch(_Driver(cursor, dialect), messages) if messages else []


def messages_of(
    engine: Engine, *, conversation_ids: Sequence[int], max_seq: int
) -> dict[int, list[StoredMessage]]:
    """The messages up to `max_seq` of several conversations, each in seq order, in one statement
    (the replays of a run of operators' briefings)."""
    found: dict[int, list[StoredMessage]] = {cid: [] for cid in conversation_ids}
    if not conversation_ids:
        return found
    with read_transaction(engine) as conn:
        rows = conn.execute(
            select(*MESSAGE_COLUMNS)
            .where(MESSAGE.c.conversation_id.in_(list(conversation_ids)), MESSAGE.c.seq <= max_seq)
            .order_by(MESSAGE.c.conversation_id, MESSAGE.c.seq)
        ).all()
    for row in rows:
        found[row[1]].append(stored_message(row, duplicate=False))
    return found


def messages_after(
    engine: Engine, *, conversation_id: int, after_seq: int, limit: int = 1000
) -> list[StoredMessage]:
    """Messages with seq > after_seq, in seq order: resume replay and operator backlog."""
    with read_transaction(engine) as conn:
        rows = conn.execute(
            select(*MESSAGE_COLUMNS)
            .where(MESSAGE.c.conversation_id == conversation_id, MESSAGE.c.seq > after_seq)
            .order_by(MESSAGE.c.seq)
            .limit(limit)
        ).all()
    return [stored_message(row, duplicate=False) for row in rows]
