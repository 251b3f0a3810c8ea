"""SQLite's WAL is checkpointed beside the writer, never inside a commit, and does not grow without end."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from chatserver.storage import writer as writer_module
from chatserver.storage.db import checkpoint_wal, create_db_engine, migrate
from chatserver.storage.writer import MessageWriter

from .helpers import new_conversation, visitor_says


def rows_in_main_file(path: Path) -> int:
    """Messages in the database file itself, ignoring the WAL (what a checkpoint has copied)."""
    with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as conn:
        return int(conn.execute("SELECT count(*) FROM message").fetchone()[0])


async def store_batches(writer: MessageWriter, conversation: object, batches: int, size: int = 50) -> None:
    for b in range(batches):
        await asyncio.gather(
            *(writer.store(visitor_says(conversation, f"b{b}-{i}", "x" * 200)) for i in range(size))  # type: ignore[arg-type]
        )


@pytest.mark.parametrize("background", [False, True])
async def test_commits_leave_checkpoints_to_the_background_checkpointer(
    tmp_path: Path, background: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "chat.db"
    engine = create_db_engine(f"sqlite:///{path}", background_checkpoints=True)
    migrate(engine)
    checkpoint_wal(engine)
    conversation = new_conversation(engine)
    checkpointed = threading.Event()

    def checkpoint_and_tell(engine: Engine, *, restart: bool = False) -> int:
        pages = checkpoint_wal(engine, restart=restart)
        if rows_in_main_file(path) > 0:  # safe: only this thread writes the main file
            checkpointed.set()
        return pages

    monkeypatch.setattr(writer_module, "checkpoint_wal", checkpoint_and_tell)
    writer = MessageWriter(engine, checkpoint_every_s=0.0 if background else None)
    await writer.start()
    try:
        await store_batches(writer, conversation, 20)
        if background:
            # Checkpoints start after commits and run beside the writer: the batches keep them going.
            while not checkpointed.is_set():
                await store_batches(writer, conversation, 1)
                await asyncio.to_thread(checkpointed.wait, 0.05)
    finally:
        await writer.stop()
    copied = rows_in_main_file(path)
    engine.dispose()
    if background:
        assert copied > 0
    else:
        assert copied == 0  # no commit checkpointed by itself


async def test_a_long_wal_gets_a_restart_checkpoint_from_the_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under steady writes a PASSIVE checkpoint never lets the WAL start afresh; past the limit
    the writer itself runs a RESTART one, in order with its batches."""
    calls: list[bool] = []

    def recording_checkpoint(engine: Engine, *, restart: bool = False) -> int:
        calls.append(restart)
        return checkpoint_wal(engine, restart=restart)

    monkeypatch.setattr(writer_module, "checkpoint_wal", recording_checkpoint)
    monkeypatch.setattr(writer_module, "RESTART_WAL_PAGES", 5)
    path = tmp_path / "chat.db"
    engine = create_db_engine(f"sqlite:///{path}", background_checkpoints=True)
    migrate(engine)
    conversation = new_conversation(engine)
    writer = MessageWriter(engine, checkpoint_every_s=0.0)
    await writer.start()
    try:
        await store_batches(writer, conversation, 20)
    finally:
        await writer.stop()
    assert False in calls  # passive ones beside the writer
    assert True in calls  # and a restart once the WAL passed the limit
    engine.dispose()
