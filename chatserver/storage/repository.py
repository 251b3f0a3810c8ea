"""Every SQL statement of the chat server.

Plain synchronous functions taking the Engine first and keyword-only
arguments, so `MessageWriter.run(fn, **kwargs)` can ship any of them to the
writer thread. Writes take `now` (unix seconds) from the caller: one clock
for the database and the wire. Core statements throughout: they are what
the hot path needs and keep the rest uniform.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

from .db import driver_integrity_error, driver_write_transaction, read_transaction, write_transaction
from .errors import DuplicateEmail, UnknownConversation, UnknownOperator, UnknownVisitor
from .models import (
    CONVERSATION_STATES,
    OPEN_STATES,
    OPERATOR_ROLES,
    SENDERS,
    ConversationEventPublic,
    ConversationPublic,
    CustomerPublic,
    OperatorCredentials,
    OperatorPublic,
    TeamPublic,
    VisitorPublic,
)
from .records import NewMessage, StoredMessage

_tables = SQLModel.metadata.tables
TEAM: Table = _tables["team"]
OPERATOR: Table = _tables["operator"]
OPERATOR_TEAM: Table = _tables["operator_team"]
CUSTOMER: Table = _tables["customer"]
VISITOR: Table = _tables["visitor"]
CONVERSATION: Table = _tables["conversation"]
EVENT: Table = _tables["conversation_event"]
MESSAGE: Table = _tables["message"]
SETTING: Table = _tables["setting"]

_STORE_ATTEMPTS = 3


# --- helpers -----------------------------------------------------------------


def _insert_if_absent(
    conn: Connection, table: Table, values: Mapping[str, Any], conflict: Sequence[str]
) -> Any | None:
    """Insert a row unless it clashes on `conflict`; the new primary key, else None.

    ON CONFLICT DO NOTHING instead of catching IntegrityError: two server
    processes may race to create the same row, and the loser must not abort
    its transaction.
    """
    pk = table.primary_key.columns.values()[0]
    if conn.dialect.name == "postgresql":
        pg = pg_insert(table).values(**values).on_conflict_do_nothing(index_elements=conflict)
        return conn.execute(pg.returning(pk)).scalar_one_or_none()
    if conn.dialect.name == "sqlite":
        lite = sqlite_insert(table).values(**values).on_conflict_do_nothing(index_elements=conflict)
        return conn.execute(lite.returning(pk)).scalar_one_or_none()
    with conn.begin_nested() as savepoint:
        try:
            return conn.execute(table.insert().values(**values).returning(pk)).scalar_one()
        except IntegrityError:
            savepoint.rollback()
            return None


def _normalize_email(email: str) -> str:
    return email.strip().lower()


def _check(value: str, allowed: Sequence[str], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}, not {value!r}")


# --- teams and operators -----------------------------------------------------


def _ensure_team(conn: Connection, name: str) -> TeamPublic:
    name = name.strip()
    if not name:
        raise ValueError("a team needs a name")
    _insert_if_absent(conn, TEAM, {"name": name}, ["name"])
    row = conn.execute(select(TEAM).where(TEAM.c.name == name)).one()
    return TeamPublic.model_validate(dict(row._mapping))


def ensure_team(engine: Engine, *, name: str) -> TeamPublic:
    """The team with this name, created if it does not exist yet."""
    with write_transaction(engine) as conn:
        return _ensure_team(conn, name)


def list_teams(engine: Engine) -> list[TeamPublic]:
    with read_transaction(engine) as conn:
        rows = conn.execute(select(TEAM).order_by(TEAM.c.name)).all()
    return [TeamPublic.model_validate(dict(r._mapping)) for r in rows]


def _teams_of(conn: Connection, operator_ids: Iterable[int]) -> dict[int, list[str]]:
    ids = list(operator_ids)
    teams: dict[int, list[str]] = {i: [] for i in ids}
    if not ids:
        return teams
    rows = conn.execute(
        select(OPERATOR_TEAM.c.operator_id, TEAM.c.name)
        .join(TEAM, TEAM.c.id == OPERATOR_TEAM.c.team_id)
        .where(OPERATOR_TEAM.c.operator_id.in_(ids))
        .order_by(TEAM.c.name)
    ).all()
    for operator_id, name in rows:
        teams[operator_id].append(name)
    return teams


_OPERATOR_PUBLIC_COLUMNS = [c for c in OPERATOR.c if c.name != "password_hash"]


def _load_operators(conn: Connection, *where: ColumnElement[bool]) -> list[OperatorPublic]:
    rows = conn.execute(select(*_OPERATOR_PUBLIC_COLUMNS).where(*where).order_by(OPERATOR.c.id)).all()
    teams = _teams_of(conn, (r.id for r in rows))
    return [OperatorPublic.model_validate({**r._mapping, "teams": teams[r.id]}) for r in rows]


def create_operator(
    engine: Engine,
    *,
    email: str,
    name: str,
    password_hash: str,
    role: str = "operator",
    teams: Sequence[str] = (),
    capacity: int = 3,
    title: str = "",
    now: float,
) -> OperatorPublic:
    """A new operator account; emails are stored lower-cased and must be unique."""
    _check(role, OPERATOR_ROLES, "role")
    if capacity < 0:
        raise ValueError("capacity cannot be negative")
    email = _normalize_email(email)
    values = {
        "email": email,
        "name": name,
        "title": title,
        "role": role,
        "capacity": capacity,
        "active": True,
        "password_hash": password_hash,
        "created_at": now,
    }
    with write_transaction(engine) as conn:
        operator_id = _insert_if_absent(conn, OPERATOR, values, ["email"])
        if operator_id is None:
            raise DuplicateEmail(email)
        for team_name in dict.fromkeys(teams):
            team = _ensure_team(conn, team_name)
            link = {"operator_id": operator_id, "team_id": team.id}
            _insert_if_absent(conn, OPERATOR_TEAM, link, ["operator_id", "team_id"])
        return _load_operators(conn, OPERATOR.c.id == operator_id)[0]


def get_operator(engine: Engine, *, operator_id: int) -> OperatorPublic | None:
    with read_transaction(engine) as conn:
        found = _load_operators(conn, OPERATOR.c.id == operator_id)
    return found[0] if found else None


def get_operator_by_email(engine: Engine, *, email: str) -> OperatorCredentials | None:
    """The operator with the password hash, for login; the email match ignores case."""
    with read_transaction(engine) as conn:
        row = conn.execute(select(OPERATOR).where(OPERATOR.c.email == _normalize_email(email))).one_or_none()
        if row is None:
            return None
        teams = _teams_of(conn, [row.id])[row.id]
    return OperatorCredentials.model_validate({**row._mapping, "teams": teams})


def list_operators(engine: Engine, *, active_only: bool = False) -> list[OperatorPublic]:
    """All operators ordered by id, each with its team names."""
    where = [OPERATOR.c.active.is_(True)] if active_only else []
    with read_transaction(engine) as conn:
        return _load_operators(conn, *where)


def set_operator_active(engine: Engine, *, operator_id: int, active: bool) -> OperatorPublic:
    """Enable or disable a login; raises UnknownOperator."""
    with write_transaction(engine) as conn:
        updated = conn.execute(update(OPERATOR).where(OPERATOR.c.id == operator_id).values(active=active))
        if updated.rowcount == 0:
            raise UnknownOperator(f"no operator {operator_id}")
        return _load_operators(conn, OPERATOR.c.id == operator_id)[0]


def operator_teams(engine: Engine, *, operator_id: int) -> list[str]:
    """Team names of one operator, sorted; empty for an unknown operator."""
    with read_transaction(engine) as conn:
        return _teams_of(conn, [operator_id])[operator_id]


# --- customers and visitors --------------------------------------------------


def _customer(conn: Connection, **where: Any) -> CustomerPublic | None:
    clauses = [CUSTOMER.c[k] == v for k, v in where.items()]
    row = conn.execute(select(CUSTOMER).where(*clauses)).one_or_none()
    return None if row is None else CustomerPublic.model_validate(dict(row._mapping))


def get_or_create_customer_by_external_id(
    engine: Engine,
    *,
    external_id: str,
    name: str | None,
    email: str | None,
    locale: str | None,
    now: float,
) -> CustomerPublic:
    """The shop's customer, created on first sight; fresh name/email/locale win."""
    values = {
        "external_id": external_id,
        "name": name,
        "email": email,
        "locale": locale,
        "first_seen": now,
        "last_seen": now,
        "created_at": now,
    }
    with write_transaction(engine) as conn:
        if _insert_if_absent(conn, CUSTOMER, values, ["external_id"]) is None:
            fresh = {"name": name, "email": email, "locale": locale}
            changes: dict[str, Any] = {k: v for k, v in fresh.items() if v is not None}
            changes["last_seen"] = now
            conn.execute(update(CUSTOMER).where(CUSTOMER.c.external_id == external_id).values(**changes))
        found = _customer(conn, external_id=external_id)
    assert found is not None
    return found


def get_customer(engine: Engine, *, customer_id: int) -> CustomerPublic | None:
    with read_transaction(engine) as conn:
        return _customer(conn, id=customer_id)


def _visitor(conn: Connection, visitor_id: str) -> VisitorPublic | None:
    row = conn.execute(select(VISITOR).where(VISITOR.c.id == visitor_id)).one_or_none()
    return None if row is None else VisitorPublic.model_validate(dict(row._mapping))


def create_visitor(
    engine: Engine,
    *,
    visitor_id: str,
    locale: str | None,
    customer_id: int | None = None,
    now: float,
) -> VisitorPublic:
    """Insert a visitor; if the id already exists, the stored visitor is returned as is."""
    values = {
        "id": visitor_id,
        "customer_id": customer_id,
        "locale": locale,
        "created_at": now,
        "last_seen": now,
    }
    with write_transaction(engine) as conn:
        _insert_if_absent(conn, VISITOR, values, ["id"])
        found = _visitor(conn, visitor_id)
    assert found is not None
    return found


def get_visitor(engine: Engine, *, visitor_id: str) -> VisitorPublic | None:
    with read_transaction(engine) as conn:
        return _visitor(conn, visitor_id)


def touch_visitor(
    engine: Engine,
    *,
    visitor_id: str,
    now: float,
    customer_id: int | None = None,
    locale: str | None = None,
) -> VisitorPublic:
    """Mark a visitor seen; link a customer / update the locale when given (never unlinks)."""
    changes: dict[str, Any] = {"last_seen": now}
    if customer_id is not None:
        changes["customer_id"] = customer_id
    if locale is not None:
        changes["locale"] = locale
    with write_transaction(engine) as conn:
        updated = conn.execute(update(VISITOR).where(VISITOR.c.id == visitor_id).values(**changes))
        if updated.rowcount == 0:
            raise UnknownVisitor(f"no visitor {visitor_id!r}")
        found = _visitor(conn, visitor_id)
    assert found is not None
    return found


# --- conversations -----------------------------------------------------------


def _conversation(conn: Connection, *where: ColumnElement[bool]) -> ConversationPublic | None:
    row = conn.execute(
        select(CONVERSATION)
        .where(*where)
        .order_by(CONVERSATION.c.created_at.desc(), CONVERSATION.c.id.desc())
        .limit(1)
    ).one_or_none()
    return None if row is None else ConversationPublic.model_validate(dict(row._mapping))


def _append_event(
    conn: Connection,
    *,
    conversation_id: int,
    kind: str,
    state: str,
    operator_id: int | None,
    data: Mapping[str, Any] | None,
    now: float,
) -> None:
    conn.execute(
        EVENT.insert().values(
            conversation_id=conversation_id,
            kind=kind,
            state=state,
            operator_id=operator_id,
            data=json.dumps(dict(data or {}), separators=(",", ":")),
            ts=now,
        )
    )


def _open(
    conn: Connection,
    *,
    visitor_id: str,
    customer_id: int | None,
    locale: str | None,
    team: str | None,
    now: float,
) -> ConversationPublic:
    conversation_id = conn.execute(
        CONVERSATION.insert()
        .values(
            visitor_id=visitor_id,
            customer_id=customer_id,
            state="waiting",
            team=team,
            locale=locale,
            created_at=now,
            last_seq=0,
        )
        .returning(CONVERSATION.c.id)
    ).scalar_one()
    data = {"team": team} if team else None
    _append_event(
        conn,
        conversation_id=conversation_id,
        kind="opened",
        state="waiting",
        operator_id=None,
        data=data,
        now=now,
    )
    found = _conversation(conn, CONVERSATION.c.id == conversation_id)
    assert found is not None
    return found


def open_conversation(
    engine: Engine,
    *,
    visitor_id: str,
    customer_id: int | None,
    locale: str | None,
    team: str | None = None,
    now: float,
) -> ConversationPublic:
    """A new waiting conversation, with its "opened" event."""
    with write_transaction(engine) as conn:
        return _open(conn, visitor_id=visitor_id, customer_id=customer_id, locale=locale, team=team, now=now)


def get_or_open_conversation(
    engine: Engine,
    *,
    visitor_id: str,
    customer_id: int | None,
    locale: str | None,
    team: str | None = None,
    now: float,
) -> tuple[ConversationPublic, bool]:
    """The visitor's open conversation, or a new one; True when it was just opened.

    Check and insert share one write transaction, so two tabs sending a first
    message at once still end up in one conversation.
    """
    with write_transaction(engine) as conn:
        found = _conversation(
            conn, CONVERSATION.c.visitor_id == visitor_id, CONVERSATION.c.state.in_(OPEN_STATES)
        )
        if found is not None:
            return found, False
        opened = _open(
            conn, visitor_id=visitor_id, customer_id=customer_id, locale=locale, team=team, now=now
        )
        return opened, True


def get_open_conversation_for_visitor(engine: Engine, *, visitor_id: str) -> ConversationPublic | None:
    """The visitor's newest conversation that is not closed."""
    with read_transaction(engine) as conn:
        return _conversation(
            conn, CONVERSATION.c.visitor_id == visitor_id, CONVERSATION.c.state.in_(OPEN_STATES)
        )


def get_conversation(engine: Engine, *, conversation_id: int) -> ConversationPublic | None:
    with read_transaction(engine) as conn:
        return _conversation(conn, CONVERSATION.c.id == conversation_id)


def set_conversation_state(
    engine: Engine,
    *,
    conversation_id: int,
    state: str,
    operator_id: int | None,
    now: float,
    event_kind: str,
    data: Mapping[str, Any] | None = None,
) -> ConversationPublic:
    """Change state and operator and log the event, in one transaction.

    "assigned" stamps assigned_at; "waiting" clears it (requeued); "closed"
    stamps closed_at and, when `operator_id` is None, keeps the operator who
    had it so history still shows who handled the chat.
    """
    _check(state, CONVERSATION_STATES, "state")
    changes: dict[str, Any] = {"state": state, "operator_id": operator_id}
    if state == "assigned":
        changes["assigned_at"] = now
    elif state == "waiting":
        changes["assigned_at"] = None
    elif state == "closed":
        changes["closed_at"] = now
        if operator_id is None:
            del changes["operator_id"]
    with write_transaction(engine) as conn:
        updated = conn.execute(
            update(CONVERSATION).where(CONVERSATION.c.id == conversation_id).values(**changes)
        )
        if updated.rowcount == 0:
            raise UnknownConversation(f"no conversation {conversation_id}")
        _append_event(
            conn,
            conversation_id=conversation_id,
            kind=event_kind,
            state=state,
            operator_id=operator_id,
            data=data,
            now=now,
        )
        found = _conversation(conn, CONVERSATION.c.id == conversation_id)
    assert found is not None
    return found


def list_open_conversations(engine: Engine) -> list[ConversationPublic]:
    """Every conversation not closed, oldest first: rebuilds queues after a restart."""
    with read_transaction(engine) as conn:
        rows = conn.execute(
            select(CONVERSATION)
            .where(CONVERSATION.c.state.in_(OPEN_STATES))
            .order_by(CONVERSATION.c.created_at, CONVERSATION.c.id)
        ).all()
    return [ConversationPublic.model_validate(dict(r._mapping)) for r in rows]


def list_conversation_events(engine: Engine, *, conversation_id: int) -> list[ConversationEventPublic]:
    """The conversation's event log, oldest first."""
    with read_transaction(engine) as conn:
        rows = conn.execute(
            select(EVENT).where(EVENT.c.conversation_id == conversation_id).order_by(EVENT.c.id)
        ).all()
    return [ConversationEventPublic.model_validate(dict(r._mapping)) for r in rows]


def last_operator_for_customer_or_visitor(
    engine: Engine, *, visitor_id: str, customer_id: int | None
) -> int | None:
    """Who was last assigned a conversation of this customer (or visitor): sticky routing.

    Reads the event log rather than Conversation.operator_id, so a transfer or
    requeue in between does not hide the operator who actually talked to them.
    """
    who = CONVERSATION.c.visitor_id == visitor_id
    if customer_id is not None:
        who = or_(who, CONVERSATION.c.customer_id == customer_id)
    with read_transaction(engine) as conn:
        return conn.execute(
            select(EVENT.c.operator_id)
            .join(CONVERSATION, CONVERSATION.c.id == EVENT.c.conversation_id)
            .where(who, EVENT.c.state == "assigned", EVENT.c.operator_id.is_not(None))
            .order_by(EVENT.c.ts.desc(), EVENT.c.id.desc())
            .limit(1)
        ).scalar_one_or_none()


# --- messages ----------------------------------------------------------------

_MESSAGE_COLUMNS = (
    MESSAGE.c.id,
    MESSAGE.c.conversation_id,
    MESSAGE.c.seq,
    MESSAGE.c.sender,
    MESSAGE.c.sender_id,
    MESSAGE.c.client_id,
    MESSAGE.c.text,
    MESSAGE.c.ts,
    MESSAGE.c.author_name,
    MESSAGE.c.author_title,
)
_DedupKey = tuple[str, str, str]


def _stored(row: Sequence[Any], duplicate: bool) -> StoredMessage:
    """A message row in `_MESSAGE_COLUMNS` order (an SQLAlchemy Row or a driver tuple)."""
    mid, cid, seq, sender, sender_id, client_id, text, ts, author_name, author_title = row
    return StoredMessage(
        mid, cid, seq, sender, sender_id, client_id, text, ts, author_name, author_title, duplicate
    )


_MESSAGE_FIELDS = ", ".join(column.name for column in _MESSAGE_COLUMNS)
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
            known[key] = _stored(row, duplicate=True)
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
        _check(m.sender, SENDERS, "sender")
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


def messages_after(
    engine: Engine, *, conversation_id: int, after_seq: int, limit: int = 1000
) -> list[StoredMessage]:
    """Messages with seq > after_seq, in seq order: resume replay and operator backlog."""
    with read_transaction(engine) as conn:
        rows = conn.execute(
            select(*_MESSAGE_COLUMNS)
            .where(MESSAGE.c.conversation_id == conversation_id, MESSAGE.c.seq > after_seq)
            .order_by(MESSAGE.c.seq)
            .limit(limit)
        ).all()
    return [_stored(row, duplicate=False) for row in rows]


# --- settings ----------------------------------------------------------------


def get_setting(engine: Engine, *, key: str) -> str | None:
    with read_transaction(engine) as conn:
        return conn.execute(select(SETTING.c.value).where(SETTING.c.key == key)).scalar_one_or_none()


def set_setting_if_absent(engine: Engine, *, key: str, value: str) -> str:
    """Store `value` unless the key exists; the value that won (first writer wins)."""
    with write_transaction(engine) as conn:
        _insert_if_absent(conn, SETTING, {"key": key, "value": value}, ["key"])
        return conn.execute(select(SETTING.c.value).where(SETTING.c.key == key)).scalar_one()


# --- reply libraries ---------------------------------------------------------
#
# The admin-edited replies: one row per reply with its current data, a version
# row for every change, and usage counters. Callers validate a reply
# (responses.library) before it gets here; these functions keep the rows
# consistent, each write in one transaction. `data` is the reply's JSON text.

# Kept with the section they serve.
from sqlalchemy import func  # noqa: E402

from .errors import NotFound, StorageError  # noqa: E402
from .models import (  # noqa: E402
    REPLY_ACTIONS,
    USAGE_KINDS,
    ReplyPublic,
    ReplyUsagePublic,
    ReplyVersionPublic,
)

REPLY: Table = _tables["reply"]
REPLY_VERSION: Table = _tables["reply_version"]
REPLY_USAGE: Table = _tables["reply_usage"]
_REPLY_KEY = ["library", "language", "response_id"]
_USAGE_KEY = ["library", "language", "response_id", "kind"]


class UnknownReply(NotFound):
    """No reply with this id in this language (or, for an edit, it is deleted)."""


class ReplyExists(StorageError):
    """A reply that is not deleted already has this id in this language."""


class ReplyVersionConflict(StorageError):
    """The reply changed since the version the caller edited."""

    def __init__(self, expected: int, current: int) -> None:
        super().__init__(f"the reply is at version {current}, not {expected}")
        self.expected, self.current = expected, current


@dataclasses.dataclass(frozen=True)
class NewReply:
    """One reply to seed or import: its language, id and JSON text."""

    language: str
    response_id: str
    data: str


def _replies(conn: Connection, *where: ColumnElement[bool]) -> list[ReplyPublic]:
    rows = conn.execute(
        select(REPLY).where(*where).order_by(REPLY.c.language, REPLY.c.position, REPLY.c.id)
    ).all()
    return [ReplyPublic.model_validate(dict(r._mapping)) for r in rows]


def _reply(conn: Connection, library: str, language: str, response_id: str) -> ReplyPublic | None:
    found = _replies(
        conn,
        REPLY.c.library == library,
        REPLY.c.language == language,
        REPLY.c.response_id == response_id,
    )
    return found[0] if found else None


def _record_version(
    conn: Connection,
    reply: ReplyPublic,
    *,
    data: str | None,
    action: str,
    operator_id: int | None,
    now: float,
) -> None:
    _check(action, REPLY_ACTIONS, "action")
    conn.execute(
        REPLY_VERSION.insert().values(
            library=reply.library,
            language=reply.language,
            response_id=reply.response_id,
            version=reply.version,
            data=data,
            action=action,
            operator_id=operator_id,
            ts=now,
        )
    )


def _next_position(conn: Connection, library: str) -> int:
    last = conn.execute(select(func.max(REPLY.c.position)).where(REPLY.c.library == library)).scalar()
    return 0 if last is None else int(last) + 1


def _insert_reply(
    conn: Connection,
    *,
    library: str,
    language: str,
    response_id: str,
    data: str,
    action: str,
    operator_id: int | None,
    position: int | None,
    now: float,
) -> ReplyPublic | None:
    """A new reply at version 1 with its version row; None if the key is taken."""
    values = {
        "library": library,
        "language": language,
        "response_id": response_id,
        "data": data,
        "version": 1,
        "deleted": False,
        "position": _next_position(conn, library) if position is None else position,
        "updated_at": now,
        "updated_by": operator_id,
    }
    if _insert_if_absent(conn, REPLY, values, _REPLY_KEY) is None:
        return None
    reply = _reply(conn, library, language, response_id)
    assert reply is not None
    _record_version(conn, reply, data=data, action=action, operator_id=operator_id, now=now)
    return reply


def _change_reply(
    conn: Connection,
    reply: ReplyPublic,
    *,
    data: str | None,
    deleted: bool,
    action: str,
    operator_id: int | None,
    now: float,
    expected_version: int | None = None,
    position: int | None = None,
) -> ReplyPublic:
    """The next version of an existing reply; `data` None keeps the stored data (a deletion)."""
    values: dict[str, Any] = {
        "version": REPLY.c.version + 1,
        "deleted": deleted,
        "updated_at": now,
        "updated_by": operator_id,
    }
    if data is not None:
        values["data"] = data
    if position is not None:
        values["position"] = position
    statement = update(REPLY).where(REPLY.c.id == reply.id)
    if expected_version is not None:
        statement = statement.where(REPLY.c.version == expected_version)
    version = conn.execute(statement.values(**values).returning(REPLY.c.version)).scalar_one_or_none()
    if version is None:
        assert expected_version is not None
        raise ReplyVersionConflict(expected_version, reply.version)
    changed = _reply(conn, reply.library, reply.language, reply.response_id)
    assert changed is not None
    _record_version(
        conn, changed, data=None if deleted else changed.data, action=action, operator_id=operator_id, now=now
    )
    return changed


def _live_reply(conn: Connection, library: str, language: str, response_id: str) -> ReplyPublic:
    reply = _reply(conn, library, language, response_id)
    if reply is None or reply.deleted:
        raise UnknownReply(f"no reply {response_id!r} in {language!r} of library {library!r}")
    return reply


def _same_data(a: str, b: str) -> bool:
    return bool(json.loads(a) == json.loads(b))


def list_replies(
    engine: Engine, *, library: str, language: str | None = None, include_deleted: bool = False
) -> list[ReplyPublic]:
    """A library's replies ordered by language, then library order."""
    where = [REPLY.c.library == library]
    if language is not None:
        where.append(REPLY.c.language == language)
    if not include_deleted:
        where.append(REPLY.c.deleted.is_(False))
    with read_transaction(engine) as conn:
        return _replies(conn, *where)


def get_reply(engine: Engine, *, library: str, language: str, response_id: str) -> ReplyPublic | None:
    """One reply, deleted or not (check `deleted`)."""
    with read_transaction(engine) as conn:
        return _reply(conn, library, language, response_id)


def reply_revision(engine: Engine, *, library: str) -> int:
    """A number that grows with every change to the library's replies (0 for none yet)."""
    with read_transaction(engine) as conn:
        last = conn.execute(
            select(func.max(REPLY_VERSION.c.id)).where(REPLY_VERSION.c.library == library)
        ).scalar()
    return 0 if last is None else int(last)


def seed_replies(engine: Engine, *, library: str, replies: Sequence[NewReply], now: float) -> int:
    """Fill a library that has no replies yet ("seed" versions); how many were stored.

    A no-op once the library has any reply, deleted ones included, so an admin's
    edits always win over the bundled files. Two servers seeding at once store
    each reply once.
    """
    with write_transaction(engine) as conn:
        if conn.execute(select(REPLY.c.id).where(REPLY.c.library == library).limit(1)).first():
            return 0
        stored = 0
        for position, new in enumerate(replies):
            reply = _insert_reply(
                conn,
                library=library,
                language=new.language,
                response_id=new.response_id,
                data=new.data,
                action="seed",
                operator_id=None,
                position=position,
                now=now,
            )
            stored += reply is not None
        return stored


def create_reply(
    engine: Engine,
    *,
    library: str,
    language: str,
    response_id: str,
    data: str,
    operator_id: int | None,
    now: float,
) -> ReplyPublic:
    """A new reply at the end of its language; a deleted one with this id comes back as the next version.

    Raises ReplyExists when a reply with this id is live in this language.
    """
    with write_transaction(engine) as conn:
        reply = _reply(conn, library, language, response_id)
        if reply is not None and not reply.deleted:
            raise ReplyExists(f"reply {response_id!r} already exists in {language!r}")
        if reply is not None:
            return _change_reply(
                conn, reply, data=data, deleted=False, action="create", operator_id=operator_id, now=now
            )
        created = _insert_reply(
            conn,
            library=library,
            language=language,
            response_id=response_id,
            data=data,
            action="create",
            operator_id=operator_id,
            position=None,
            now=now,
        )
        if created is None:
            raise ReplyExists(f"reply {response_id!r} already exists in {language!r}")
        return created


def update_reply(
    engine: Engine,
    *,
    library: str,
    language: str,
    response_id: str,
    data: str,
    operator_id: int | None,
    now: float,
    expected_version: int | None = None,
) -> ReplyPublic:
    """Store new data for a live reply; raises UnknownReply or ReplyVersionConflict."""
    with write_transaction(engine) as conn:
        reply = _live_reply(conn, library, language, response_id)
        return _change_reply(
            conn,
            reply,
            data=data,
            deleted=False,
            action="update",
            operator_id=operator_id,
            now=now,
            expected_version=expected_version,
        )


def delete_reply(
    engine: Engine,
    *,
    library: str,
    language: str,
    response_id: str,
    operator_id: int | None,
    now: float,
    expected_version: int | None = None,
) -> ReplyPublic:
    """Mark a live reply deleted (a version with no data); it can be restored later."""
    with write_transaction(engine) as conn:
        reply = _live_reply(conn, library, language, response_id)
        return _change_reply(
            conn,
            reply,
            data=None,
            deleted=True,
            action="delete",
            operator_id=operator_id,
            now=now,
            expected_version=expected_version,
        )


def restore_reply(
    engine: Engine,
    *,
    library: str,
    language: str,
    response_id: str,
    data: str,
    operator_id: int | None,
    now: float,
) -> ReplyPublic:
    """Bring back earlier data as a new "restore" version, undeleting the reply if needed."""
    with write_transaction(engine) as conn:
        reply = _reply(conn, library, language, response_id)
        if reply is None:
            raise UnknownReply(f"no reply {response_id!r} in {language!r} of library {library!r}")
        return _change_reply(
            conn, reply, data=data, deleted=False, action="restore", operator_id=operator_id, now=now
        )


def reply_versions(
    engine: Engine, *, library: str, language: str, response_id: str
) -> list[ReplyVersionPublic]:
    """Every version of one reply, oldest first."""
    with read_transaction(engine) as conn:
        rows = conn.execute(
            select(REPLY_VERSION)
            .where(
                REPLY_VERSION.c.library == library,
                REPLY_VERSION.c.language == language,
                REPLY_VERSION.c.response_id == response_id,
            )
            .order_by(REPLY_VERSION.c.version)
        ).all()
    return [ReplyVersionPublic.model_validate(dict(r._mapping)) for r in rows]


def get_reply_version(
    engine: Engine, *, library: str, language: str, response_id: str, version: int
) -> ReplyVersionPublic | None:
    with read_transaction(engine) as conn:
        row = conn.execute(
            select(REPLY_VERSION).where(
                REPLY_VERSION.c.library == library,
                REPLY_VERSION.c.language == language,
                REPLY_VERSION.c.response_id == response_id,
                REPLY_VERSION.c.version == version,
            )
        ).one_or_none()
    return None if row is None else ReplyVersionPublic.model_validate(dict(row._mapping))


def import_replies(
    engine: Engine,
    *,
    library: str,
    replies: Sequence[NewReply],
    replace: bool,
    languages: Sequence[str] | None = None,
    operator_id: int | None,
    now: float,
) -> dict[str, int]:
    """Store a whole imported document in one transaction; counts of what changed.

    New and deleted replies come (back) as "import" versions, changed ones get an
    "import" version, identical ones none. With `replace`, live replies missing
    from the document are deleted (only in `languages`, when given) and the
    document's order becomes the library order; otherwise new replies go last.
    """
    summary = {"created": 0, "updated": 0, "unchanged": 0, "deleted": 0}
    with write_transaction(engine) as conn:
        rows = {(r.language, r.response_id): r for r in _replies(conn, REPLY.c.library == library)}
        next_position = _next_position(conn, library)
        seen: set[tuple[str, str]] = set()
        for index, new in enumerate(replies):
            key = (new.language, new.response_id)
            if key in seen:
                raise ValueError(f"reply {new.response_id!r} appears twice in {new.language!r}")
            seen.add(key)
            reply = rows.get(key)
            position = index if replace else None
            common: dict[str, Any] = {"operator_id": operator_id, "now": now}
            if reply is None:
                if position is None:
                    position, next_position = next_position, next_position + 1
                _insert_reply(
                    conn,
                    library=library,
                    language=new.language,
                    response_id=new.response_id,
                    data=new.data,
                    action="import",
                    position=position,
                    **common,
                )
                summary["created"] += 1
            elif reply.deleted or not _same_data(reply.data, new.data):
                _change_reply(
                    conn, reply, data=new.data, deleted=False, action="import", position=position, **common
                )
                summary["created" if reply.deleted else "updated"] += 1
            else:
                if position is not None and position != reply.position:
                    conn.execute(update(REPLY).where(REPLY.c.id == reply.id).values(position=position))
                summary["unchanged"] += 1
        if replace:
            for key, reply in rows.items():
                if key in seen or reply.deleted or (languages is not None and key[0] not in languages):
                    continue
                _change_reply(
                    conn, reply, data=None, deleted=True, action="delete", operator_id=operator_id, now=now
                )
                summary["deleted"] += 1
    return summary


def increment_reply_usage(
    engine: Engine, *, library: str, counts: Mapping[tuple[str, str, str], int], now: float
) -> None:
    """Add to the usage counters, keyed (language, response_id, kind), in one upsert."""
    rows = []
    for (language, response_id, kind), count in counts.items():
        _check(kind, USAGE_KINDS, "usage kind")
        if count > 0:
            rows.append(
                {
                    "library": library,
                    "language": language,
                    "response_id": response_id,
                    "kind": kind,
                    "count": count,
                    "last_at": now,
                }
            )
    if not rows:
        return
    with write_transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            pg = pg_insert(REPLY_USAGE).values(rows)
            pg = pg.on_conflict_do_update(
                index_elements=_USAGE_KEY,
                set_={"count": REPLY_USAGE.c.count + pg.excluded.count, "last_at": pg.excluded.last_at},
            )
            conn.execute(pg)
        elif conn.dialect.name == "sqlite":
            lite = sqlite_insert(REPLY_USAGE).values(rows)
            lite = lite.on_conflict_do_update(
                index_elements=_USAGE_KEY,
                set_={"count": REPLY_USAGE.c.count + lite.excluded.count, "last_at": lite.excluded.last_at},
            )
            conn.execute(lite)
        else:
            for row in rows:
                key = [REPLY_USAGE.c[k] == row[k] for k in _USAGE_KEY]
                bumped = conn.execute(
                    update(REPLY_USAGE)
                    .where(*key)
                    .values(count=REPLY_USAGE.c.count + row["count"], last_at=now)
                )
                if bumped.rowcount == 0:
                    conn.execute(REPLY_USAGE.insert().values(**row))


def reply_usage(engine: Engine, *, library: str, language: str | None = None) -> list[ReplyUsagePublic]:
    """The usage counters of a library (or one language of it)."""
    where = [REPLY_USAGE.c.library == library]
    if language is not None:
        where.append(REPLY_USAGE.c.language == language)
    with read_transaction(engine) as conn:
        rows = conn.execute(
            select(REPLY_USAGE)
            .where(*where)
            .order_by(REPLY_USAGE.c.language, REPLY_USAGE.c.response_id, REPLY_USAGE.c.kind)
        ).all()
    return [ReplyUsagePublic.model_validate(dict(r._mapping)) for r in rows]


# --- customers, orders, context ----------------------------------------------
#
# The customer beside the chat. The shop's order feed upserts orders and cases
# (returns, complaints) by the shop's ids and keeps each customer's totals in
# `customer_profile`; operators edit the profile's tags, type and notes. The
# context reads are bounded (a fixed number of rows of each kind, whatever the
# history's length) and run in one snapshot. `viewer_id` None reads anything;
# an operator's id limits the read to customers and visitors whose
# conversations that operator holds or held, and anything else reads as absent.

from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402

from sqlalchemy import Integer, and_, cast, null, true, union_all  # noqa: E402

from .models import (  # noqa: E402
    CLOSED_CASE_STATUSES,
    CLOSED_ORDER_STATUSES,
    COSTLY_CASE_KINDS,
    ConversationRatingPublic,
    CustomerCasePublic,
    CustomerProfilePublic,
    ShopOrderPublic,
)

PROFILE: Table = _tables["customer_profile"]
SHOP_ORDER: Table = _tables["shop_order"]
CASE: Table = _tables["customer_case"]
VISITOR_PAGE: Table = _tables["visitor_page"]
RATING: Table = _tables["conversation_rating"]
SEGMENTS_SETTING = "customer_segments"
# How many of a conversation's first messages are read for its opening lines.
_OPENING_SEQS = 8


class UnknownCustomer(NotFound):
    pass


class ProfileVersionConflict(StorageError):
    """The profile changed since the version the operator edited."""

    def __init__(self, expected: int, current: int) -> None:
        super().__init__(f"the profile is at version {current}, not {expected}")
        self.expected, self.current = expected, current


@dataclasses.dataclass(frozen=True)
class FeedResult:
    """What a feed push did: "created", "updated" or "stale" (older than what is stored)."""

    outcome: str
    customer_id: int
    row: ShopOrderPublic | CustomerCasePublic


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


@contextmanager
def _reader(engine: Engine) -> Iterator[Connection]:
    """Reads beside the chat: a snapshot on SQLite; on PostgreSQL plain autocommit reads.

    PostgreSQL's READ COMMITTED gives every statement its own snapshot inside a
    transaction too, so BEGIN and ROLLBACK would only add two round trips to each context.
    """
    if engine.dialect.name != "postgresql":
        with read_transaction(engine) as conn:
            yield conn
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        yield conn


def put_setting(engine: Engine, *, key: str, value: str) -> None:
    """Store a setting, replacing what was there (caches such as the segment cut-offs)."""
    with write_transaction(engine) as conn:
        if _insert_if_absent(conn, SETTING, {"key": key, "value": value}, ["key"]) is None:
            conn.execute(update(SETTING).where(SETTING.c.key == key).values(value=value))


def merge_visitor_history(engine: Engine, *, visitor_id: str, customer_id: int, now: float) -> int:
    """Link a visitor to a customer and hand the customer the visitor's anonymous conversations.

    Conversations that already belong to a customer keep theirs. Returns how many moved.
    """
    with write_transaction(engine) as conn:
        linked = conn.execute(
            update(VISITOR).where(VISITOR.c.id == visitor_id).values(customer_id=customer_id, last_seen=now)
        )
        if linked.rowcount == 0:
            raise UnknownVisitor(f"no visitor {visitor_id!r}")
        moved = conn.execute(
            update(CONVERSATION)
            .where(CONVERSATION.c.visitor_id == visitor_id, CONVERSATION.c.customer_id.is_(None))
            .values(customer_id=customer_id)
        )
        if moved.rowcount:
            _refresh_ratings(conn, customer_id)
        return int(moved.rowcount)


def _feed_customer(
    conn: Connection, external_id: str, details: Mapping[str, str | None] | None, now: float
) -> int:
    """The customer with this shop id, created on first mention; the feed never moves last_seen."""
    values = {
        "external_id": external_id,
        "name": None,
        "email": None,
        "locale": None,
        "first_seen": now,
        "last_seen": now,
        "created_at": now,
    }
    fresh = {k: v for k, v in (details or {}).items() if k in ("name", "email", "locale") and v}
    values.update(fresh)
    created = _insert_if_absent(conn, CUSTOMER, values, ["external_id"])
    if created is not None:
        return int(created)
    if fresh:
        conn.execute(update(CUSTOMER).where(CUSTOMER.c.external_id == external_id).values(**fresh))
    return int(conn.execute(select(CUSTOMER.c.id).where(CUSTOMER.c.external_id == external_id)).scalar_one())


def _ensure_profile(conn: Connection, customer_id: int) -> None:
    _insert_if_absent(
        conn,
        PROFILE,
        {
            "customer_id": customer_id,
            "tags": "[]",
            "comm_type": None,
            "notes": "",
            "version": 0,
            "order_count": 0,
            "order_total": 0.0,
            "case_count": 0,
            "rating_count": 0,
            "rating_total": 0,
        },
        ["customer_id"],
    )


def _refresh_ratings(conn: Connection, customer_id: int) -> None:
    """Recount the customer's ratings into the profile, so reading the context never scans them."""
    count, total = conn.execute(
        select(func.count(RATING.c.score), func.coalesce(func.sum(RATING.c.score), 0))
        .select_from(RATING)
        .join(CONVERSATION, CONVERSATION.c.id == RATING.c.conversation_id)
        .where(CONVERSATION.c.customer_id == customer_id)
    ).one()
    _ensure_profile(conn, customer_id)
    conn.execute(
        update(PROFILE)
        .where(PROFILE.c.customer_id == customer_id)
        .values(rating_count=count, rating_total=int(total))
    )


def _refresh_stats(conn: Connection, customer_ids: Iterable[int]) -> None:
    """Recount a customer's orders, order value and costly cases from the rows (idempotent)."""
    for customer_id in set(customer_ids):
        count, total = conn.execute(
            select(func.count(), func.coalesce(func.sum(SHOP_ORDER.c.total), 0.0)).where(
                SHOP_ORDER.c.customer_id == customer_id,
                SHOP_ORDER.c.status.not_in(CLOSED_ORDER_STATUSES),
            )
        ).one()
        cases = conn.execute(
            select(func.count()).where(CASE.c.customer_id == customer_id, CASE.c.kind.in_(COSTLY_CASE_KINDS))
        ).scalar_one()
        _ensure_profile(conn, customer_id)
        conn.execute(
            update(PROFILE)
            .where(PROFILE.c.customer_id == customer_id)
            .values(order_count=count, order_total=float(total), case_count=cases)
        )


def _is_stale(stored: float | None, incoming: float | None) -> bool:
    return stored is not None and incoming is not None and incoming < stored


def upsert_order(
    engine: Engine,
    *,
    order_id: str,
    external_customer_id: str,
    status: str,
    total: float,
    currency: str,
    placed_at: float | None,
    items: str,
    source_updated_at: float | None = None,
    customer: Mapping[str, str | None] | None = None,
    now: float,
) -> FeedResult:
    """Store the shop's order by its id: the first push inserts, every later one updates.

    A push carrying an `updated_at` older than the stored one changes nothing ("stale").
    The customer is created from the shop's id when the chat has not met them yet.
    """
    with write_transaction(engine) as conn:
        customer_id = _feed_customer(conn, external_customer_id, customer, now)
        values: dict[str, Any] = {
            "order_id": order_id,
            "customer_id": customer_id,
            "status": status,
            "total": total,
            "currency": currency,
            "placed_at": now if placed_at is None else placed_at,
            "items": items,
            "source_updated_at": source_updated_at,
            "created_at": now,
            "updated_at": now,
        }
        outcome = "created"
        if _insert_if_absent(conn, SHOP_ORDER, values, ["order_id"]) is None:
            stored = conn.execute(select(SHOP_ORDER).where(SHOP_ORDER.c.order_id == order_id)).one()
            if _is_stale(stored.source_updated_at, source_updated_at):
                return FeedResult(
                    "stale", stored.customer_id, ShopOrderPublic.model_validate(dict(stored._mapping))
                )
            changes = {k: v for k, v in values.items() if k not in ("order_id", "created_at")}
            if placed_at is None:
                del changes["placed_at"]
            if source_updated_at is None:
                del changes["source_updated_at"]
            conn.execute(update(SHOP_ORDER).where(SHOP_ORDER.c.id == stored.id).values(**changes))
            outcome = "updated"
            _refresh_stats(conn, [stored.customer_id, customer_id])
        else:
            _refresh_stats(conn, [customer_id])
        row = conn.execute(select(SHOP_ORDER).where(SHOP_ORDER.c.order_id == order_id)).one()
    return FeedResult(outcome, customer_id, ShopOrderPublic.model_validate(dict(row._mapping)))


def upsert_case(
    engine: Engine,
    *,
    kind: str,
    case_id: str,
    external_customer_id: str,
    status: str,
    text: str,
    order_id: str | None = None,
    source_updated_at: float | None = None,
    now: float,
) -> FeedResult:
    """Store a return, complaint or other case by (kind, the shop's id); repeats update it."""
    is_open = status not in CLOSED_CASE_STATUSES
    with write_transaction(engine) as conn:
        customer_id = _feed_customer(conn, external_customer_id, None, now)
        values: dict[str, Any] = {
            "kind": kind,
            "case_id": case_id,
            "customer_id": customer_id,
            "status": status,
            "is_open": is_open,
            "text": text,
            "order_id": order_id,
            "source_updated_at": source_updated_at,
            "created_at": now,
            "updated_at": now,
        }
        outcome = "created"
        key = (CASE.c.kind == kind, CASE.c.case_id == case_id)
        if _insert_if_absent(conn, CASE, values, ["kind", "case_id"]) is None:
            stored = conn.execute(select(CASE).where(*key)).one()
            if _is_stale(stored.source_updated_at, source_updated_at):
                return FeedResult(
                    "stale", stored.customer_id, CustomerCasePublic.model_validate(dict(stored._mapping))
                )
            changes = {k: v for k, v in values.items() if k not in ("kind", "case_id", "created_at")}
            if source_updated_at is None:
                del changes["source_updated_at"]
            if order_id is None:
                del changes["order_id"]
            conn.execute(update(CASE).where(CASE.c.id == stored.id).values(**changes))
            outcome = "updated"
            _refresh_stats(conn, [stored.customer_id, customer_id])
        else:
            _refresh_stats(conn, [customer_id])
        row = conn.execute(select(CASE).where(*key)).one()
    return FeedResult(outcome, customer_id, CustomerCasePublic.model_validate(dict(row._mapping)))


def get_customer_profile(engine: Engine, *, customer_id: int) -> CustomerProfilePublic | None:
    with _reader(engine) as conn:
        row = conn.execute(select(PROFILE).where(PROFILE.c.customer_id == customer_id)).one_or_none()
    return None if row is None else CustomerProfilePublic.model_validate(dict(row._mapping))


def update_customer_profile(
    engine: Engine,
    *,
    customer_id: int,
    changes: Mapping[str, Any],
    operator_id: int | None,
    expected_version: int | None = None,
    now: float,
) -> CustomerProfilePublic:
    """Change some of tags (JSON text), comm_type and notes; bumps the version.

    Raises UnknownCustomer, or ProfileVersionConflict when `expected_version` is stale.
    """
    unknown = set(changes) - {"tags", "comm_type", "notes"}
    if unknown:
        raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
    with write_transaction(engine) as conn:
        if conn.execute(select(CUSTOMER.c.id).where(CUSTOMER.c.id == customer_id)).first() is None:
            raise UnknownCustomer(f"no customer {customer_id}")
        _ensure_profile(conn, customer_id)
        statement = update(PROFILE).where(PROFILE.c.customer_id == customer_id)
        if expected_version is not None:
            statement = statement.where(PROFILE.c.version == expected_version)
        done = conn.execute(
            statement.values(**changes, version=PROFILE.c.version + 1, updated_at=now, updated_by=operator_id)
        )
        row = conn.execute(select(PROFILE).where(PROFILE.c.customer_id == customer_id)).one()
        if done.rowcount == 0:
            assert expected_version is not None
            raise ProfileVersionConflict(expected_version, row.version)
    return CustomerProfilePublic.model_validate(dict(row._mapping))


def set_visitor_page(engine: Engine, *, visitor_id: str, url: str, title: str | None, now: float) -> None:
    """Remember the page the visitor is on (one row per visitor, replaced)."""
    values = {"visitor_id": visitor_id, "url": url, "title": title, "ts": now}
    with write_transaction(engine) as conn:
        if _insert_if_absent(conn, VISITOR_PAGE, values, ["visitor_id"]) is None:
            conn.execute(
                update(VISITOR_PAGE)
                .where(VISITOR_PAGE.c.visitor_id == visitor_id)
                .values(url=url, title=title, ts=now)
            )


def rate_conversation(
    engine: Engine,
    *,
    conversation_id: int,
    visitor_id: str,
    score: int,
    comment: str | None,
    now: float,
    nps: int | None = None,
) -> ConversationRatingPublic | None:
    """The visitor's rating of their own conversation (a new rating replaces the old); None if not theirs."""
    values = {"conversation_id": conversation_id, "score": score, "comment": comment, "nps": nps, "ts": now}
    with write_transaction(engine) as conn:
        owner = conn.execute(
            select(CONVERSATION.c.visitor_id, CONVERSATION.c.customer_id).where(
                CONVERSATION.c.id == conversation_id
            )
        ).one_or_none()
        if owner is None or owner.visitor_id != visitor_id:
            return None
        if _insert_if_absent(conn, RATING, values, ["conversation_id"]) is None:
            conn.execute(
                update(RATING)
                .where(RATING.c.conversation_id == conversation_id)
                .values(score=score, comment=comment, nps=nps, ts=now)
            )
        if owner.customer_id is not None:
            _refresh_ratings(conn, owner.customer_id)
    return ConversationRatingPublic.model_validate(values)


def order_totals(engine: Engine) -> list[float]:
    """Every customer's order value above zero, largest first: the input of the Pareto cut-offs."""
    with _reader(engine) as conn:
        return list(
            conn.execute(
                select(PROFILE.c.order_total)
                .where(PROFILE.c.order_total > 0)
                .order_by(PROFILE.c.order_total.desc())
            ).scalars()
        )


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
    with _reader(engine) as conn:
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
        orders=order_rows,
        open_cases=case_rows,
        page=page if page["url"] is not None else None,
        segments=found["_segments"],
    )


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
    with _reader(engine) as conn:
        if conn.execute(owner).first() is None or not _may_view(conn, who, viewer_id):
            return None
        listed = _conversation_list(conn, who, exclude=None, before=before, limit=limit)
        handled, ratings, openings = _conversation_details(conn, listed)
    return listed, handled, ratings, openings


def can_view_customer(engine: Engine, *, customer_id: int, viewer_id: int | None) -> bool:
    """The customer exists and the viewer may see them (None sees everyone)."""
    with _reader(engine) as conn:
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
    with _reader(engine) as conn:
        row = conn.execute(
            select(*_CONVERSATION_COLUMNS)
            .select_from(_CONVERSATIONS_RATED)
            .where(CONVERSATION.c.id == conversation_id, who)
        ).one_or_none()
        if row is None or not _may_view(conn, who, viewer_id):
            return None
        handled, ratings, openings = _conversation_details(conn, [dict(row._mapping)])
        messages = conn.execute(
            select(*_MESSAGE_COLUMNS)
            .where(MESSAGE.c.conversation_id == conversation_id, MESSAGE.c.seq > after_seq)
            .order_by(MESSAGE.c.seq)
            .limit(limit)
        ).all()
    return TranscriptRows(
        dict(row._mapping),
        handled[conversation_id],
        ratings.get(conversation_id),
        openings[conversation_id],
        [_stored(m, duplicate=False) for m in messages],
    )


# --- transfers and promises --------------------------------------------------
#
# Transfers change state through set_conversation_state; these add the events
# that change no state (an offer, a left message), the team a transfer moves a
# chat to, and the wait promises. Promise writes come in batches from the hub:
# `write_promises` applies them in order in one transaction.

from .models import PROMISE_KINDS, PROMISE_OUTCOMES, WaitPromisePublic  # noqa: E402

WAIT_PROMISE: Table = _tables["wait_promise"]
LEFT_MESSAGE_EVENT = "left_message"
ANSWER_SEEN_EVENT = "answer_seen"


def append_conversation_event(
    engine: Engine,
    *,
    conversation_id: int,
    kind: str,
    now: float,
    data: Mapping[str, Any] | None = None,
    operator_id: int | None = None,
) -> None:
    """Log an event that changes neither state nor operator (`state` stays NULL)."""
    with write_transaction(engine) as conn:
        conn.execute(
            EVENT.insert().values(
                conversation_id=conversation_id,
                kind=kind,
                state=None,
                operator_id=operator_id,
                data=json.dumps(dict(data or {}), separators=(",", ":")),
                ts=now,
            )
        )


def set_conversation_team(engine: Engine, *, conversation_id: int, team: str | None) -> None:
    """A transfer to a team moves the chat to that team (routing after a requeue follows it)."""
    with write_transaction(engine) as conn:
        updated = conn.execute(
            update(CONVERSATION).where(CONVERSATION.c.id == conversation_id).values(team=team)
        )
        if updated.rowcount == 0:
            raise UnknownConversation(f"no conversation {conversation_id}")


def left_message_conversations(engine: Engine) -> set[int]:
    """Open conversations whose visitor left a message instead of waiting (restored on start)."""
    with read_transaction(engine) as conn:
        rows = conn.execute(
            select(EVENT.c.conversation_id)
            .join(CONVERSATION, CONVERSATION.c.id == EVENT.c.conversation_id)
            .where(EVENT.c.kind == LEFT_MESSAGE_EVENT, CONVERSATION.c.state.in_(OPEN_STATES))
            .distinct()
        ).all()
    return {r.conversation_id for r in rows}


def reset_interrupted_transfers(engine: Engine, *, now: float) -> list[int]:
    """After a restart no offer is pending: transferring chats go back to their operator."""
    with write_transaction(engine) as conn:
        rows = conn.execute(
            select(CONVERSATION.c.id, CONVERSATION.c.operator_id).where(
                CONVERSATION.c.state == "transferring"
            )
        ).all()
        for row in rows:
            conn.execute(update(CONVERSATION).where(CONVERSATION.c.id == row.id).values(state="assigned"))
            _append_event(
                conn,
                conversation_id=row.id,
                kind="transfer_interrupted",
                state="assigned",
                operator_id=row.operator_id,
                data={"reason": "restart"},
                now=now,
            )
    return [r.id for r in rows]


def unseen_answer(engine: Engine, *, visitor_id: str) -> tuple[int, int] | None:
    """(conversation_id, last operator seq) of the visitor's newest left message answered since
    they last saw it, or None. "Seen" is an ``answer_seen`` event recording the seq shown."""
    with read_transaction(engine) as conn:
        left = conn.execute(
            select(EVENT.c.conversation_id)
            .join(CONVERSATION, CONVERSATION.c.id == EVENT.c.conversation_id)
            .where(CONVERSATION.c.visitor_id == visitor_id, EVENT.c.kind == LEFT_MESSAGE_EVENT)
            .order_by(EVENT.c.conversation_id.desc())
            .distinct()
            .limit(5)
        ).all()
        for row in left:
            cid = row.conversation_id
            answered = conn.execute(
                select(func.max(MESSAGE.c.seq)).where(
                    MESSAGE.c.conversation_id == cid, MESSAGE.c.sender == "operator"
                )
            ).scalar_one_or_none()
            if answered is None:
                continue
            seen = 0
            for (data,) in conn.execute(
                select(EVENT.c.data).where(EVENT.c.conversation_id == cid, EVENT.c.kind == ANSWER_SEEN_EVENT)
            ).all():
                try:
                    seen = max(seen, int(json.loads(data).get("seq", 0)))
                except (ValueError, TypeError, AttributeError):
                    continue
            if answered > seen:
                return cid, int(answered)
    return None


def write_promises(engine: Engine, *, ops: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
    """Apply ("made", row) and ("settled", {key, outcome, settled_at, waited_s}) in order."""
    if not ops:
        return
    with write_transaction(engine) as conn:
        for op, values in ops:
            if op == "made":
                _check(values["kind"], PROMISE_KINDS, "promise kind")
                conn.execute(WAIT_PROMISE.insert().values(**values))
            elif op == "settled":
                _check(values["outcome"], PROMISE_OUTCOMES, "promise outcome")
                conn.execute(
                    update(WAIT_PROMISE)
                    .where(WAIT_PROMISE.c.key == values["key"], WAIT_PROMISE.c.outcome.is_(None))
                    .values(
                        outcome=values["outcome"],
                        settled_at=values["settled_at"],
                        waited_s=values["waited_s"],
                    )
                )
            else:
                raise ValueError(f"unknown promise operation {op!r}")


def interrupt_open_promises(engine: Engine, *, now: float) -> int:
    """On start: promises a previous run left open can no longer be kept or revised."""
    with write_transaction(engine) as conn:
        result = conn.execute(
            update(WAIT_PROMISE)
            .where(WAIT_PROMISE.c.outcome.is_(None))
            .values(outcome="interrupted", settled_at=now)
        )
    return int(result.rowcount or 0)


def list_promises(engine: Engine, *, conversation_id: int) -> list[WaitPromisePublic]:
    """The conversation's promises, oldest first."""
    with read_transaction(engine) as conn:
        rows = conn.execute(
            select(WAIT_PROMISE)
            .where(WAIT_PROMISE.c.conversation_id == conversation_id)
            .order_by(WAIT_PROMISE.c.id)
        ).all()
    return [WaitPromisePublic.model_validate(dict(r._mapping)) for r in rows]


# --- operator admin ----------------------------------------------------------


class LastAdmin(StorageError):
    """The change would leave no active admin account, and nobody could manage the others."""


class TeamExists(StorageError):
    def __init__(self, name: str) -> None:
        super().__init__(f"a team named {name!r} already exists")
        self.name = name


class UnknownTeam(NotFound):
    pass


class TeamInUse(StorageError):
    """A team still has members; move them first."""

    def __init__(self, name: str, members: int) -> None:
        super().__init__(f"team {name!r} still has {members} member(s)")
        self.name, self.members = name, members


def _active_admins(conn: Connection, *, excluding: int) -> int:
    count = conn.execute(
        select(func.count())
        .select_from(OPERATOR)
        .where(OPERATOR.c.role == "admin", OPERATOR.c.active.is_(True), OPERATOR.c.id != excluding)
    ).scalar_one()
    return int(count)


def _set_teams(conn: Connection, operator_id: int, teams: Sequence[str]) -> None:
    conn.execute(OPERATOR_TEAM.delete().where(OPERATOR_TEAM.c.operator_id == operator_id))
    for team_name in dict.fromkeys(t.strip() for t in teams):
        team = _ensure_team(conn, team_name)
        link = {"operator_id": operator_id, "team_id": team.id}
        _insert_if_absent(conn, OPERATOR_TEAM, link, ["operator_id", "team_id"])


def update_operator(
    engine: Engine,
    *,
    operator_id: int,
    email: str | None = None,
    name: str | None = None,
    title: str | None = None,
    role: str | None = None,
    capacity: int | None = None,
    active: bool | None = None,
    teams: Sequence[str] | None = None,
    password_hash: str | None = None,
) -> OperatorPublic:
    """Change an account; only the given fields change (``teams`` replaces the whole set).

    Raises UnknownOperator, DuplicateEmail, or LastAdmin when the change would leave no active
    admin. Teams that do not exist yet are created.
    """
    if role is not None:
        _check(role, OPERATOR_ROLES, "role")
    if capacity is not None and capacity < 0:
        raise ValueError("capacity cannot be negative")
    values: dict[str, Any] = {
        key: value
        for key, value in (
            ("name", name),
            ("title", title),
            ("role", role),
            ("capacity", capacity),
            ("active", active),
            ("password_hash", password_hash),
        )
        if value is not None
    }
    if email is not None:
        values["email"] = _normalize_email(email)
    with write_transaction(engine) as conn:
        found = _load_operators(conn, OPERATOR.c.id == operator_id)
        if not found:
            raise UnknownOperator(f"no operator {operator_id}")
        current = found[0]
        stays_admin = values.get("role", current.role) == "admin" and values.get("active", current.active)
        if current.role == "admin" and current.active and not stays_admin:
            if _active_admins(conn, excluding=operator_id) == 0:
                raise LastAdmin("this is the last active admin account")
        if "email" in values:
            taken = conn.execute(
                select(OPERATOR.c.id).where(OPERATOR.c.email == values["email"], OPERATOR.c.id != operator_id)
            ).first()
            if taken is not None:
                raise DuplicateEmail(values["email"])
        if values:
            conn.execute(update(OPERATOR).where(OPERATOR.c.id == operator_id).values(**values))
        if teams is not None:
            _set_teams(conn, operator_id, teams)
        return _load_operators(conn, OPERATOR.c.id == operator_id)[0]


def list_teams_with_members(engine: Engine) -> list[dict[str, Any]]:
    """Every team by name, with its members' ids (active accounts first, then by id)."""
    with read_transaction(engine) as conn:
        teams = conn.execute(select(TEAM.c.id, TEAM.c.name).order_by(TEAM.c.name)).all()
        links = conn.execute(
            select(OPERATOR_TEAM.c.team_id, OPERATOR.c.id, OPERATOR.c.active)
            .join(OPERATOR, OPERATOR.c.id == OPERATOR_TEAM.c.operator_id)
            .order_by(OPERATOR.c.active.desc(), OPERATOR.c.id)
        ).all()
    members: dict[int, list[int]] = {t.id: [] for t in teams}
    active: dict[int, int] = {t.id: 0 for t in teams}
    for team_id, operator_id, is_active in links:
        members[team_id].append(operator_id)
        active[team_id] += 1 if is_active else 0
    return [
        {"id": t.id, "name": t.name, "members": members[t.id], "active_members": active[t.id]} for t in teams
    ]


def create_team(engine: Engine, *, name: str) -> TeamPublic:
    """A new team; raises TeamExists when the name is taken (names compare exactly)."""
    name = name.strip()
    if not name:
        raise ValueError("a team needs a name")
    with write_transaction(engine) as conn:
        if _insert_if_absent(conn, TEAM, {"name": name}, ["name"]) is None:
            raise TeamExists(name)
        row = conn.execute(select(TEAM).where(TEAM.c.name == name)).one()
    return TeamPublic.model_validate(dict(row._mapping))


def delete_team(engine: Engine, *, team_id: int) -> None:
    """Remove a team that has no members; raises UnknownTeam or TeamInUse."""
    with write_transaction(engine) as conn:
        row = conn.execute(select(TEAM.c.name).where(TEAM.c.id == team_id)).one_or_none()
        if row is None:
            raise UnknownTeam(f"no team {team_id}")
        members = conn.execute(
            select(func.count()).select_from(OPERATOR_TEAM).where(OPERATOR_TEAM.c.team_id == team_id)
        ).scalar_one()
        if members:
            raise TeamInUse(row.name, int(members))
        conn.execute(TEAM.delete().where(TEAM.c.id == team_id))
