"""Engine construction, transaction helpers and programmatic migrations.

SQLite settings (measured on the 2-core target, MessageWriter with 1,000
concurrent senders, see the storage tests for the durability contract):

- WAL, so the reader threads never block the single writer.
- ``synchronous=FULL``: the WAL is fsynced at every commit, so an acked
  message survives power loss, not only a process crash. Group commit makes
  the fsync cost per batch, not per message: FULL and NORMAL both measured
  ~18,000 msgs/s on a quiet machine (~40 us CPU per message, store_messages
  itself ~15 us) and 9,000-12,500 while other loads shared the cores, with
  no difference beyond run-to-run noise. NORMAL would buy nothing worth the
  weaker guarantee.
- The WAL is checkpointed beside the writer (`checkpoint_wal`), never inside a
  commit: SQLite's automatic checkpoint made one commit in a thousand pages take
  50-250 ms, and every ack in that batch waited for it.
- Transactions begin explicitly (the driver's own implicit BEGIN is turned
  off): reads run in one snapshot, and writes start with ``BEGIN IMMEDIATE``
  so a second process (the CLI adding an operator while the server runs)
  waits on ``busy_timeout`` instead of failing mid-transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.pool import StaticPool

DEFAULT_DATABASE_URL = "sqlite:///./chat.db"
SQLITE_SYNCHRONOUS = "FULL"
SQLITE_BUSY_TIMEOUT_MS = 10_000
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Arbitrary constant: serializes migrations when several servers start at once.
_PG_MIGRATION_LOCK = 0x6368_6174  # "chat"
_WRITE_OPTION = "chatserver_write"


def create_db_engine(url: str, *, background_checkpoints: bool = False) -> Engine:
    """An Engine for any SQLAlchemy URL, tuned for SQLite or PostgreSQL.

    ``background_checkpoints``: SQLite never checkpoints its WAL inside a commit; whoever
    asks for this calls `checkpoint_wal` from a thread of its own (the server's writer does).
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed, background_checkpoints=background_checkpoints)
    if backend in ("postgresql", "postgres"):
        if parsed.drivername in ("postgresql", "postgres"):
            # Plain URLs would pick psycopg2, which is not installed.
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(
            parsed,
            pool_size=10,
            max_overflow=10,
            pool_pre_ping=True,
            pool_recycle=1800,
        )
    return create_engine(parsed, pool_pre_ping=True)


def _sqlite_engine(url: URL, *, background_checkpoints: bool) -> Engine:
    memory = url.database in (None, "", ":memory:")
    kwargs: dict[str, Any] = {
        "connect_args": {
            "check_same_thread": False,
            "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
        }
    }
    if memory:
        # One shared connection, or each thread would see its own empty database.
        kwargs["poolclass"] = StaticPool
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            if background_checkpoints:
                cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(_WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One write transaction, committed on normal exit, rolled back on error."""
    with engine.connect() as conn:
        conn.execution_options(**{_WRITE_OPTION: True})
        with conn.begin():
            yield conn


@contextmanager
def driver_write_transaction(engine: Engine) -> Iterator[Any]:
    """A write transaction on the driver's own cursor, for the message hot path.

    SQLAlchemy's statement machinery costs ~150 us of Python per statement, and
    in the writer thread that Python holds the GIL the event loop needs; the
    driver's cursor costs a few microseconds. Same BEGIN IMMEDIATE, same commit.
    The driver's own exceptions come through unwrapped (see `driver_errors`).
    """
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute("BEGIN IMMEDIATE")
        try:
            yield cursor
            raw.commit()
        except BaseException:
            raw.rollback()
            raise
        finally:
            cursor.close()
    finally:
        raw.close()


def checkpoint_wal(engine: Engine, *, restart: bool = False) -> int:
    """Copy committed WAL pages into the SQLite database file, beside the writer, not in its way.

    SQLite's automatic checkpoint runs inside whichever commit crosses 1,000 WAL pages:
    measured, that commit took 50 ms alone and 250 ms beside the event loop, and every
    ack in its batch waited for it. A PASSIVE checkpoint takes no write lock, so commits
    go on meanwhile. But only a checkpoint that finds the WAL fully copied lets the next
    commit start it afresh, which under steady writes a PASSIVE one rarely does: a
    ``restart`` checkpoint (run by the writer, between batches) waits for that.
    Returns the WAL's length in pages. PostgreSQL and in-memory SQLite have nothing to do.
    """
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return 0
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(f"PRAGMA wal_checkpoint({'RESTART' if restart else 'PASSIVE'})")
        row = cursor.fetchone()
        cursor.close()
    finally:
        raw.close()
    return int(row[1]) if row else 0  # (busy, pages in the WAL, pages copied)


def driver_integrity_error(engine: Engine) -> type[Exception]:
    """The driver's IntegrityError class, as raised through `driver_write_transaction`."""
    error: type[Exception] = engine.dialect.loaded_dbapi.IntegrityError
    return error


# The connection of the `shared_read_transaction` open in this thread, if any.
_shared_reads = threading.local()


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A read-only snapshot; never commits anything.

    Inside `shared_read_transaction` on the same engine it is that transaction, so a batch of
    reads pays for one connection checkout, one BEGIN and one rollback.
    """
    if in_shared_reads(engine):
        yield _shared_reads.conn
        return
    with engine.connect() as conn:
        with conn.begin() as tx:
            yield conn
            tx.rollback()


def in_shared_reads(engine: Engine) -> bool:
    """Whether this thread is inside a `shared_read_transaction` on this engine."""
    shared: Connection | None = getattr(_shared_reads, "conn", None)
    return shared is not None and shared.engine is engine


@contextmanager
def shared_read_transaction(engine: Engine) -> Iterator[Callable[[], None]]:
    """One read transaction that every `read_transaction` in this thread joins until exit.

    Yields ``restart``: after a failed statement, PostgreSQL refuses the rest of the
    transaction, so the caller ends it and begins a fresh one for the reads still to run.
    """
    with engine.connect() as conn:
        tx = conn.begin()

        def restart() -> None:
            nonlocal tx
            tx.rollback()
            tx = conn.begin()

        _shared_reads.conn = conn
        try:
            yield restart
        finally:
            _shared_reads.conn = None
            tx.rollback()


def alembic_config(url: str | None = None) -> Config:
    """Alembic settings built in code, so no alembic.ini is needed at the cwd."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(engine: Engine) -> None:
    """Upgrade the database to the newest schema; a no-op when already there."""
    cfg = alembic_config()
    with engine.connect() as conn:
        conn.execution_options(**{_WRITE_OPTION: True})
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
