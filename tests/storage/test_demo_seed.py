"""``chatserver serve --demo`` seeds a customer with orders and past chats, and a week of history."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import text

from chatserver.cli import create_demo_accounts, seed_demo
from chatserver.demo import CUSTOMER_ID, HISTORY_CHATS
from chatserver.settings import Settings
from chatserver.storage.db import create_db_engine


def count(engine: object, sql: str) -> int:
    with engine.connect() as conn:  # type: ignore[attr-defined]
        return int(conn.execute(text(sql)).scalar_one())


def test_demo_seeding_writes_a_week_of_history_once(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/demo.db")
    create_demo_accounts(settings)
    started = time.perf_counter()
    seeded = seed_demo(settings)
    assert time.perf_counter() - started < 5  # ~1.5 s here; generous for a loaded machine
    assert seeded.conversations == HISTORY_CHATS
    again = seed_demo(settings)
    assert again.conversations == 0

    engine = create_db_engine(settings.database_url)
    try:
        week_ago = time.time() - 7 * 86_400 - 3600
        assert count(engine, "SELECT count(*) FROM conversation") == HISTORY_CHATS
        assert (
            count(
                engine,
                f"SELECT count(*) FROM conversation WHERE state = 'closed' AND created_at > {week_ago}",
            )
            == HISTORY_CHATS
        )
        assert count(engine, "SELECT count(DISTINCT operator_id) FROM conversation") == 2
        assert (
            count(engine, "SELECT count(*) FROM conversation WHERE assigned_at > created_at") == HISTORY_CHATS
        )
        assert count(engine, "SELECT count(*) FROM message") == seeded.messages > 3 * HISTORY_CHATS
        assert (
            0
            < seeded.ratings
            == count(engine, "SELECT count(*) FROM conversation_rating WHERE nps IS NOT NULL")
        )
        assert count(engine, "SELECT count(*) FROM conversation_rating WHERE comment IS NOT NULL") > 10
        assert (
            count(engine, "SELECT count(*) FROM conversation_event WHERE kind = 'transferred'")
            == seeded.transfers
            > 0
        )
        assert (
            count(engine, "SELECT count(*) FROM wait_promise WHERE outcome IS NOT NULL")
            == seeded.promises
            > 0
        )
        assert count(engine, "SELECT count(*) FROM reply_usage") > 0
        customer = f"(SELECT id FROM customer WHERE external_id = '{CUSTOMER_ID}')"
        assert count(engine, f"SELECT count(*) FROM shop_order WHERE customer_id = {customer}") == 4
        assert count(engine, f"SELECT count(*) FROM customer_case WHERE customer_id = {customer}") == 2
        assert count(engine, f"SELECT count(*) FROM conversation WHERE customer_id = {customer}") == 3
    finally:
        engine.dispose()
