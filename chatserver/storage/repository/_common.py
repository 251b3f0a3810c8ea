"""Helpers the repository modules share.

Conflict-free inserts, value checks, the reader beside the chat, and the
message row shape that the hot path and the transcripts both read.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from ..db import in_shared_reads, read_transaction
from ..records import StoredMessage
from .tables import MESSAGE


def insert_if_absent(
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


def normalize_email(email: str) -> str:
    """Emails are stored and compared lower-cased, without surrounding blanks."""
    return email.strip().lower()


def check_allowed(value: str, allowed: Sequence[str], what: str) -> None:
    """A ValueError naming the allowed values, unless `value` is one of them."""
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}, not {value!r}")


# A message row in StoredMessage's field order: the hot path and the transcripts read these.
MESSAGE_COLUMNS = (
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


def stored_message(row: Sequence[Any], duplicate: bool) -> StoredMessage:
    """A message row in `MESSAGE_COLUMNS` order (an SQLAlchemy Row or a driver tuple)."""
    mid, cid, seq, sender, sender_id, client_id, text, ts, author_name, author_title = row
    return StoredMessage(
        mid, cid, seq, sender, sender_id, client_id, text, ts, author_name, author_title, duplicate
    )


@contextmanager
def context_reader(engine: Engine) -> Iterator[Connection]:
    """Reads beside the chat: a snapshot on SQLite; on PostgreSQL plain autocommit reads.

    PostgreSQL's READ COMMITTED gives every statement its own snapshot inside a
    transaction too, so BEGIN and ROLLBACK would only add two round trips to each context;
    in a batch of reads (`shared_read_transaction`) they are paid once for the batch.
    """
    if engine.dialect.name != "postgresql" or in_shared_reads(engine):
        with read_transaction(engine) as conn:
            yield conn
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        yield conn
