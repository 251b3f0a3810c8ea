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

from sqlalchemy import ColumnElement, Table, case, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

from .db import read_transaction, write_transaction
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
_INSERT_MESSAGES = MESSAGE.insert().returning(MESSAGE.c.id, MESSAGE.c.conversation_id, MESSAGE.c.seq)
_DedupKey = tuple[str, str, str]


def _stored(row: Row[*tuple[Any, ...]], duplicate: bool) -> StoredMessage:
    return StoredMessage(
        row.id,
        row.conversation_id,
        row.seq,
        row.sender,
        row.sender_id,
        row.client_id,
        row.text,
        row.ts,
        row.author_name,
        row.author_title,
        duplicate,
    )


def _known_messages(conn: Connection, keys: set[_DedupKey]) -> dict[_DedupKey, StoredMessage]:
    """Already stored messages among `keys`, in one indexed query."""
    client_ids = list({k[2] for k in keys})
    rows = conn.execute(select(*_MESSAGE_COLUMNS).where(MESSAGE.c.client_id.in_(client_ids))).all()
    known: dict[_DedupKey, StoredMessage] = {}
    for row in rows:
        key = (row.sender, row.sender_id, row.client_id)
        if key in keys:
            known[key] = _stored(row, duplicate=True)
    return known


def _reserve_seqs(conn: Connection, counts: dict[int, int]) -> dict[int, int]:
    """Bump last_seq by each conversation's count in one UPDATE; the first seq of each.

    The UPDATE's row locks serialize two processes writing one conversation
    on PostgreSQL; locking in id order first keeps them from deadlocking.
    """
    ids = sorted(counts)
    if conn.dialect.name == "postgresql":
        conn.execute(
            select(CONVERSATION.c.id)
            .where(CONVERSATION.c.id.in_(ids))
            .order_by(CONVERSATION.c.id)
            .with_for_update()
        )
    by_count: dict[int, list[int]] = {}
    for conversation_id in ids:
        by_count.setdefault(counts[conversation_id], []).append(conversation_id)
    common = max(by_count, key=lambda k: len(by_count[k]))
    increment: ColumnElement[int] = literal(common)
    if len(by_count) > 1:
        whens = [(CONVERSATION.c.id.in_(cids), k) for k, cids in by_count.items() if k != common]
        increment = case(*whens, else_=common)
    rows = conn.execute(
        update(CONVERSATION)
        .where(CONVERSATION.c.id.in_(ids))
        .values(last_seq=CONVERSATION.c.last_seq + increment)
        .returning(CONVERSATION.c.id, CONVERSATION.c.last_seq)
    ).all()
    first = {cid: last - counts[cid] + 1 for cid, last in rows}
    missing = set(ids) - first.keys()
    if missing:
        raise UnknownConversation(f"no conversation {', '.join(map(str, sorted(missing)))}")
    return first


def _insert_new(conn: Connection, new: Sequence[NewMessage]) -> list[StoredMessage]:
    """Give `new` consecutive seqs per conversation and insert them in one statement."""
    counts: dict[int, int] = {}
    for m in new:
        counts[m.conversation_id] = counts.get(m.conversation_id, 0) + 1
    next_seq = _reserve_seqs(conn, counts)
    seqs: list[int] = []
    rows: list[dict[str, Any]] = []
    for m in new:
        seq = next_seq[m.conversation_id]
        next_seq[m.conversation_id] = seq + 1
        seqs.append(seq)
        rows.append(
            {
                "conversation_id": m.conversation_id,
                "seq": seq,
                "sender": m.sender,
                "sender_id": m.sender_id,
                "client_id": m.client_id,
                "text": m.text,
                "ts": m.ts,
                "author_name": m.author_name,
                "author_title": m.author_title,
            }
        )
    ids = {(c, s): mid for mid, c, s in conn.execute(_INSERT_MESSAGES, rows)}
    return [
        StoredMessage(
            ids[(m.conversation_id, seq)],
            m.conversation_id,
            seq,
            m.sender,
            m.sender_id,
            m.client_id,
            m.text,
            m.ts,
            m.author_name,
            m.author_title,
            False,
        )
        for m, seq in zip(new, seqs, strict=True)
    ]


def _store_batch(conn: Connection, messages: Sequence[NewMessage]) -> list[StoredMessage]:
    keys = {(m.sender, m.sender_id, m.client_id) for m in messages if m.client_id is not None}
    known = _known_messages(conn, keys) if keys else {}
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
        stored = _insert_new(conn, [messages[i] for i in fresh])
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
    """
    if not messages:
        return []
    for attempt in range(1, _STORE_ATTEMPTS + 1):
        try:
            with write_transaction(engine) as conn:
                return _store_batch(conn, messages)
        except IntegrityError:
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
