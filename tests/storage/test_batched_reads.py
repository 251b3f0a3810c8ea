"""Reads asked for together share a transaction, and each caller still gets only its own answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine

from chatserver.storage import repository as repo
from chatserver.storage.db import read_transaction
from chatserver.storage.writer import MessageWriter

from .helpers import NOW


@pytest.fixture
async def writer(engine: Engine) -> AsyncIterator[MessageWriter]:
    writer = MessageWriter(engine, max_batch=64)
    await writer.start()
    try:
        yield writer
    finally:
        await writer.stop()


def _count_transactions(engine: Engine) -> list[int]:
    begun = [0]

    @event.listens_for(engine, "begin")
    def _begun(conn: Connection) -> None:
        begun[0] += 1

    return begun


def _broken_read(engine: Engine) -> int:
    """A statement the database refuses; on PostgreSQL it spoils the transaction it ran in."""
    with read_transaction(engine) as conn:
        return int(conn.execute(text("SELECT * FROM no_such_table")).scalar_one())


async def test_a_crowd_of_reads_gets_each_answer_in_a_few_transactions(
    engine: Engine, writer: MessageWriter
) -> None:
    for n in range(100):
        repo.create_visitor(engine, visitor_id=f"v{n}", locale="de" if n % 2 else "fr", now=NOW)
    begun = _count_transactions(engine)
    found = await asyncio.gather(*(writer.read(repo.get_visitor, visitor_id=f"v{n}") for n in range(100)))
    assert [(v.id, v.locale) for v in found if v is not None] == [
        (f"v{n}", "de" if n % 2 else "fr") for n in range(100)
    ]
    assert begun[0] <= 4  # 100 reads, at most 64 to a batch: two batches, not 100 transactions


async def test_a_failing_read_fails_only_its_caller(engine: Engine, writer: MessageWriter) -> None:
    repo.create_visitor(engine, visitor_id="before", locale="en", now=NOW)
    repo.create_visitor(engine, visitor_id="after", locale="en", now=NOW)
    before, broken, after = await asyncio.gather(
        writer.read(repo.get_visitor, visitor_id="before"),
        writer.read(_broken_read),
        writer.read(repo.get_visitor, visitor_id="after"),
        return_exceptions=True,
    )
    assert isinstance(broken, Exception) and "no_such_table" in str(broken)
    assert getattr(before, "id", None) == "before" and getattr(after, "id", None) == "after"


async def test_a_read_sees_what_was_committed_before_it_was_asked(
    engine: Engine, writer: MessageWriter
) -> None:
    assert await writer.read(repo.get_visitor, visitor_id="late") is None
    await writer.run(repo.create_visitor, visitor_id="late", locale="en", now=NOW)
    seen = await writer.read(repo.get_visitor, visitor_id="late")
    assert seen is not None and seen.id == "late"


async def test_a_cancelled_reader_leaves_the_others_their_answers(
    engine: Engine, writer: MessageWriter
) -> None:
    repo.create_visitor(engine, visitor_id="kept", locale="en", now=NOW)
    impatient = asyncio.ensure_future(writer.read(repo.get_visitor, visitor_id="kept"))
    patient = asyncio.ensure_future(writer.read(repo.get_visitor, visitor_id="kept"))
    await asyncio.sleep(0)
    impatient.cancel()
    kept = await patient
    assert kept is not None and kept.id == "kept"
