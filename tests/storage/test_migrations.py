"""The server migrates its database on start: from empty, and again on every restart."""

from __future__ import annotations

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import chatserver.storage.models  # noqa: F401
from chatserver.storage.db import alembic_config, create_db_engine, migrate

TABLES = {
    "team",
    "operator",
    "operator_team",
    "customer",
    "visitor",
    "conversation",
    "conversation_event",
    "message",
    "setting",
}


def _head() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_migrate_creates_the_schema_on_an_empty_database(
    db_url: str, tmp_path: os.PathLike[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no alembic.ini anywhere near the cwd
    engine = create_db_engine(db_url)
    try:
        assert not set(inspect(engine).get_table_names()) & TABLES
        migrate(engine)
        assert TABLES <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migrate_again_on_restart_changes_nothing(db_url: str) -> None:
    for _restart in range(3):
        engine = create_db_engine(db_url)
        try:
            migrate(engine)
            with engine.connect() as conn:
                assert MigrationContext.configure(conn).get_current_revision() == _head()
        finally:
            engine.dispose()


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_sqlite_runs_in_wal_with_foreign_keys_and_full_sync(tmp_path: os.PathLike[str]) -> None:
    engine = create_db_engine(f"sqlite:///{os.path.join(tmp_path, 'chat.db')}")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
            assert conn.execute(text("PRAGMA busy_timeout")).scalar_one() >= 1000
    finally:
        engine.dispose()


def test_plain_postgresql_urls_use_psycopg_3() -> None:
    engine = create_db_engine("postgresql://user@db.invalid:5432/chat")
    assert engine.url.drivername == "postgresql+psycopg"
    engine = create_db_engine("postgres://user@db.invalid:5432/chat")
    assert engine.url.drivername == "postgresql+psycopg"
