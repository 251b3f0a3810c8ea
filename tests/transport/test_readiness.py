"""``/readyz`` is false while the database does not answer; ``/healthz`` is liveness only."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from chatserver.storage import repository as repo

from .conftest import ServerFactory


async def test_readyz_is_503_while_the_database_fails_and_recovers_after(
    start_server: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await start_server()
    server.state.hub.database.every_s = 0.0  # check on every request here
    assert (await server.http.get("/readyz")).status_code == 200
    real = repo.ping_database

    def unreachable(engine: Any) -> None:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(repo, "ping_database", unreachable)
    answer = await server.http.get("/readyz")
    assert answer.status_code == 503 and answer.json()["ready"] is False
    assert (await server.http.get("/healthz")).status_code == 200
    monkeypatch.setattr(repo, "ping_database", real)
    assert (await server.http.get("/readyz")).status_code == 200


async def test_a_database_that_hangs_is_not_ready_within_the_timeout(
    start_server: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await start_server(db_ping_timeout_s=0.2)
    server.state.hub.database.every_s = 0.0
    release = threading.Event()
    calls = 0

    def hangs(engine: Any) -> None:
        nonlocal calls
        calls += 1
        release.wait(10)

    monkeypatch.setattr(repo, "ping_database", hangs)
    try:
        started = time.monotonic()
        assert (await server.http.get("/readyz")).status_code == 503
        assert time.monotonic() - started < 1.0
        assert (await server.http.get("/readyz")).status_code == 503
        assert calls == 1  # no second ping while the first still hangs
    finally:
        release.set()


async def test_the_database_is_pinged_at_most_once_a_second(
    start_server: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await start_server()
    calls = 0
    real = repo.ping_database

    def counted(engine: Any) -> None:
        nonlocal calls
        calls += 1
        real(engine)

    monkeypatch.setattr(repo, "ping_database", counted)
    server.state.hub.database._checked_at = None
    for _ in range(20):
        assert (await server.http.get("/readyz")).status_code == 200
    assert calls == 1
