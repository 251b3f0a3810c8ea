"""How long the team lead's report takes on a big database.

Fills a fresh database (SQLite by default; ``--url postgresql://...`` for PostgreSQL, into a
schema of its own that is dropped afterwards) with ~50,000 conversations over 180 days and
1,000,000 messages, with their events, ratings, wait promises and situation feedback, bulk
inserted with Core executemany; then times ``repository.report`` (the endpoint's data function)
for the last 7 and the last 90 days, each a few times, and prints the figures.

    python -m bench.reports [--conversations 50000] [--messages-per 20] [--url URL]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from chatserver.storage import repository as repo
from chatserver.storage.db import create_db_engine, migrate

DAY = 86400
SPAN_DAYS = 180
BATCH = 20_000
TEAMS = ("sales", "support", "billing")
SITUATIONS = ("order_status", "refund", "delivery", "payment", "greeting")


def _insert(engine: Engine, table: Any, rows: list[dict[str, Any]]) -> None:
    """executemany in big batches; every row given every column (NULL where it has none)."""
    names = [c.name for c in table.columns if any(c.name in r for r in rows[:1000])]
    with engine.begin() as conn:
        for start in range(0, len(rows), BATCH):
            conn.execute(table.insert(), [{n: r.get(n) for n in names} for r in rows[start : start + BATCH]])


def fill(
    engine: Engine, *, conversations: int, messages_per: int, end: float, seed: int = 7
) -> dict[str, int]:
    rnd = random.Random(seed)
    start = end - SPAN_DAYS * DAY
    _insert(engine, repo.TEAM, [{"name": t} for t in TEAMS])
    operators = [
        {
            "email": f"op{i}@bench.example",
            "name": f"Operator {i}",
            "title": "",
            "role": "operator",
            "capacity": 3,
            "active": True,
            "password_hash": "x",
            "created_at": start,
        }
        for i in range(1, 31)
    ]
    _insert(engine, repo.OPERATOR, operators)
    visitors, convs, events, messages, ratings, promises, feedback = [], [], [], [], [], [], []
    for cid in range(1, conversations + 1):
        created = start + rnd.random() * SPAN_DAYS * DAY
        vid = f"v{cid}"
        visitors.append({"id": vid, "created_at": created, "last_seen": created})
        served = rnd.random() < 0.9
        op = rnd.randint(1, 30) if served else None
        assigned = created + rnd.expovariate(1 / 60) if served else None
        closed = (assigned or created) + (rnd.expovariate(1 / 600) if served else rnd.uniform(30, 300))
        state = "closed" if closed < end else ("assigned" if served else "waiting")
        convs.append(
            {
                "id": cid,
                "visitor_id": vid,
                "state": state,
                "operator_id": op,
                "team": rnd.choice(TEAMS),
                "locale": "en",
                "created_at": created,
                "assigned_at": assigned,
                "closed_at": closed if state == "closed" else None,
                "last_seq": messages_per,
            }
        )
        events.append(
            {"conversation_id": cid, "kind": "opened", "state": "waiting", "data": "{}", "ts": created}
        )
        if assigned is not None:
            events.append(
                {
                    "conversation_id": cid,
                    "kind": "assigned",
                    "state": "assigned",
                    "operator_id": op,
                    "data": "{}",
                    "ts": assigned,
                }
            )
        if rnd.random() < 0.05:
            events.append(
                {
                    "conversation_id": cid,
                    "kind": "transfer_requested",
                    "state": "transferring",
                    "operator_id": op,
                    "data": '{"reason":"specialist","benefit":"faster"}',
                    "ts": created + 200,
                }
            )
        if rnd.random() < 0.1:
            events.append(
                {"conversation_id": cid, "kind": "silence_nudge", "data": "{}", "ts": created + 300}
            )
        if state == "closed":
            events.append(
                {
                    "conversation_id": cid,
                    "kind": "closed",
                    "state": "closed",
                    "operator_id": op,
                    "data": "{}",
                    "ts": closed,
                }
            )
        ts = created
        for seq in range(1, messages_per + 1):
            sender = "visitor" if seq == 1 or not served or (seq % 2 and seq > 1) else "operator"
            ts = max(ts + rnd.uniform(1, 40), assigned + 1 if sender == "operator" and assigned else ts)
            messages.append(
                {
                    "conversation_id": cid,
                    "seq": seq,
                    "sender": sender,
                    "sender_id": str(op or vid),
                    "client_id": uuid.uuid4().hex,
                    "text": "a message of some ordinary length here",
                    "ts": ts,
                }
            )
        if rnd.random() < 0.3:
            ratings.append(
                {
                    "conversation_id": cid,
                    "score": rnd.randint(1, 5),
                    "nps": rnd.choice([None, *range(11)]),
                    "comment": rnd.choice([None, None, "thanks", "slow"]),
                    "ts": closed,
                }
            )
        high = rnd.randint(30, 180)
        promises.append(
            {
                "key": uuid.uuid4().hex,
                "conversation_id": cid,
                "kind": "queue",
                "made_at": created,
                "position": 1,
                "estimate_s": high // 2,
                "low_s": high // 4,
                "high_s": high,
                "deadline": created + high,
                "wait_started_at": created,
                "outcome": "kept" if served else "left",
                "settled_at": assigned if served else closed,
                "waited_s": (assigned or closed) - created,
            }
        )
        if rnd.random() < 0.2:
            recognized = rnd.choice(SITUATIONS)
            feedback.append(
                {
                    "conversation_id": cid,
                    "seq": 1,
                    "language": "en",
                    "messages_json": "[]",
                    "recognized": recognized,
                    "score": 0.8,
                    "corrected": recognized if rnd.random() < 0.8 else rnd.choice(SITUATIONS),
                    "source": "picked",
                    "operator_id": op,
                    "created_at": created + 30,
                }
            )
    for table, rows in (
        (repo.VISITOR, visitors),
        (repo.CONVERSATION, convs),
        (repo.EVENT, events),
        (repo.MESSAGE, messages),
        (repo.RATING, ratings),
        (repo.WAIT_PROMISE, promises),
        (repo.SITUATION_FEEDBACK, feedback),
    ):
        _insert(engine, table, rows)
    usage = {("en", f"reply-{i}", k): rnd.randint(1, 500) for i in range(200) for k in repo.USAGE_KINDS}
    repo.increment_reply_usage(engine, library="default", counts=usage, now=end)
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("ANALYZE"))
        else:
            conn.execute(text("ANALYZE"))
    return {
        "conversations": len(convs),
        "messages": len(messages),
        "events": len(events),
        "ratings": len(ratings),
        "promises": len(promises),
        "feedback": len(feedback),
    }


@contextmanager
def database(url: str | None) -> Iterator[Engine]:
    if url is None:
        with tempfile.TemporaryDirectory() as folder:
            engine = create_db_engine(f"sqlite:///{os.path.join(folder, 'bench.db')}")
            try:
                yield engine
            finally:
                engine.dispose()
        return
    schema = f"bench_reports_{uuid.uuid4().hex[:8]}"
    admin = create_db_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_db_engine(f"{url}?options=-csearch_path%3D{schema}")
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--conversations", type=int, default=50_000)
    parser.add_argument("--messages-per", type=int, default=20)
    parser.add_argument("--url", default=None, help="a PostgreSQL URL (default: a fresh SQLite file)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    end = float(int(time.time()))
    with database(args.url) as engine:
        migrate(engine)
        began = time.perf_counter()
        counts = fill(engine, conversations=args.conversations, messages_per=args.messages_per, end=end)
        print(f"{engine.dialect.name}: filled in {time.perf_counter() - began:.1f} s: {counts}")
        for days in (7, 90):
            scope = repo.ReportScope(end - days * DAY, end, end)
            times = []
            for _ in range(args.runs):
                t = time.perf_counter()
                result = repo.report(engine, scope=scope)
                times.append(time.perf_counter() - t)
            conv = result["conversations"]
            print(
                f"  {days:>2} days: {conv['total']:>6} conversations, report in "
                f"median {statistics.median(times) * 1000:.0f} ms (min {min(times) * 1000:.0f}, "
                f"max {max(times) * 1000:.0f}) over {args.runs} runs; "
                f"first response p50 {conv['first_response_p50_s']} s, wait p90 {conv['wait_p90_s']} s, "
                f"nps {result['satisfaction']['nps']}, coverage {result['wait_honesty']['coverage']}"
            )
            for table in repo.REPORT_TABLES:
                t = time.perf_counter()
                repo.report_table(engine, table=table, scope=scope)
                print(f"      {table}.csv: {(time.perf_counter() - t) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
