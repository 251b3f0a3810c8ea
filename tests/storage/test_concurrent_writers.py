"""Two server processes writing one conversation on PostgreSQL keep seqs gap-free.

Each "process" is a thread with its own Engine (its own connections), which is
what matters to the database: the seq reservation's row lock must serialize them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy.engine import Engine

from chatserver.storage import repository as repo
from chatserver.storage.db import create_db_engine
from chatserver.storage.records import NewMessage, StoredMessage

from .helpers import NOW, new_conversation

BATCHES = 40
BATCH = 25


def _in_two_processes(db_url: str, work: Callable[[Engine, int], list[StoredMessage]]) -> list[StoredMessage]:
    barrier = threading.Barrier(2)

    def process(n: int) -> list[StoredMessage]:
        engine = create_db_engine(db_url)
        try:
            barrier.wait()
            return work(engine, n)
        finally:
            engine.dispose()

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(process, [0, 1]))
    return results[0] + results[1]


# Two server processes on one database only happen on PostgreSQL (SQLite serves one process),
# so these tests take just that database from the storage suite's parametrized fixture.
pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


@pytest.fixture
def postgres(db_url: str) -> str:
    return db_url


def test_concurrent_batches_for_one_conversation_keep_seqs_gap_free(postgres: str, engine: Engine) -> None:
    conv, other = new_conversation(engine), new_conversation(engine)

    def work(e: Engine, n: int) -> list[StoredMessage]:
        stored: list[StoredMessage] = []
        for b in range(BATCHES):
            batch = [NewMessage(conv.id, "visitor", f"p{n}", f"{n}-{b}-{i}", "hi", NOW) for i in range(BATCH)]
            # Opposite conversation order in the two processes: must not deadlock.
            extra = NewMessage(other.id, "visitor", f"p{n}", f"{n}-{b}-x", "hi", NOW)
            batch = [extra, *batch] if n == 0 else [*batch, extra]
            stored.extend(repo.store_messages(e, messages=batch))
        return stored

    stored = _in_two_processes(postgres, work)
    total = 2 * BATCHES * BATCH
    mine = [m for m in stored if m.conversation_id == conv.id]
    assert sorted(m.seq for m in mine) == list(range(1, total + 1))
    replay = repo.messages_after(engine, conversation_id=conv.id, after_seq=0, limit=total + 10)
    assert [m.seq for m in replay] == list(range(1, total + 1))
    assert {m.message_id for m in replay} == {m.message_id for m in mine}
    assert [m.seq for m in repo.messages_after(engine, conversation_id=other.id, after_seq=0)] == list(
        range(1, 2 * BATCHES + 1)
    )


def test_the_same_client_id_from_two_processes_is_stored_once(postgres: str, engine: Engine) -> None:
    conv = new_conversation(engine)

    def work(e: Engine, _n: int) -> list[StoredMessage]:
        stored: list[StoredMessage] = []
        for b in range(BATCHES):
            batch = [NewMessage(conv.id, "visitor", "v", f"{b}-{i}", "hi", NOW) for i in range(5)]
            stored.extend(repo.store_messages(e, messages=batch))
        return stored

    stored = _in_two_processes(postgres, work)
    by_client: dict[str | None, set[tuple[int, int]]] = {}
    for m in stored:
        by_client.setdefault(m.client_id, set()).add((m.message_id, m.seq))
    assert all(len(ids) == 1 for ids in by_client.values())  # both were told the same
    assert sum(not m.duplicate for m in stored) == BATCHES * 5
    replay = repo.messages_after(engine, conversation_id=conv.id, after_seq=0)
    assert [m.seq for m in replay] == list(range(1, BATCHES * 5 + 1))
