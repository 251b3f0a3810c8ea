"""Every storage test runs on SQLite (a fresh file) and on the real PostgreSQL.

PostgreSQL tests get a private schema, dropped afterwards, so they never touch
what other suites keep in the shared database. CHAT_TEST_POSTGRES_URL points
them elsewhere; set it to an empty string to leave PostgreSQL out.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator

import psycopg
import pytest
from sqlalchemy.engine import Engine

from chatserver.storage.db import create_db_engine, migrate
from chatserver.storage.writer import MessageWriter

PG_URL = os.environ.get("CHAT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[psycopg.Connection[tuple[object, ...]] | None]:
    if not PG_URL:
        yield None
        return
    try:
        conn = psycopg.connect(PG_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL at {PG_URL} is not reachable ({exc}); set CHAT_TEST_POSTGRES_URL")
    with conn:
        yield conn


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(
    request: pytest.FixtureRequest,
    tmp_path: os.PathLike[str],
    pg_admin: psycopg.Connection[tuple[object, ...]] | None,
) -> Iterator[str]:
    """The URL of an empty database."""
    if request.param == "sqlite":
        yield f"sqlite:///{os.path.join(tmp_path, 'chat.db')}"
        return
    if pg_admin is None:
        pytest.skip("CHAT_TEST_POSTGRES_URL is empty")
    schema = f"storage_test_{uuid.uuid4().hex[:16]}"
    pg_admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        pg_admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated database."""
    engine = create_db_engine(db_url)
    migrate(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
async def writer(engine: Engine) -> AsyncIterator[MessageWriter]:
    """A running writer on the test database, stopped (its queue drained) afterwards."""
    writer = MessageWriter(engine, max_batch=64)
    await writer.start()
    try:
        yield writer
    finally:
        await writer.stop()


@pytest.fixture
def dialect(engine: Engine) -> str:
    return engine.dialect.name
