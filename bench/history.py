"""How long the context beside the chat takes with a big history, on SQLite and PostgreSQL.

Builds a data set with bulk inserts (SQLAlchemy Core executemany) into a freshly migrated
database: ``--customers`` customers (100,000) with a visitor each, ``--messages`` messages
(1,000,000) in conversations of about ten messages, one heavy customer with
``--heavy-conversations`` past conversations (1,000), two orders per customer on average,
returns and complaints, ratings, visitor pages and the segment cut-offs. Then it times the
functions the server itself calls, JSON encoding included:

* ``rest``: ``build_customer_context`` with an operator's access check
  (``GET /api/customers/{id}``), for the heavy customer;
* ``rest_all``: the same as a supervisor (no access check), for random customers;
* ``assigned``: ``conversation_context`` (the ``customer`` of the ``assigned`` frame) for a
  new conversation of the heavy customer, and for random conversations (customers and
  anonymous visitors);
* ``transcript``: ``transcript_page`` with 100 messages of a random past conversation.

SQLite uses a file in a temporary folder; PostgreSQL a fresh schema that is dropped at the end
(``--pg-url``, default ``CHAT_BENCH_POSTGRES_URL`` or ``postgresql://postgres@127.0.0.1:5432/test``).
PostgreSQL gets a ``VACUUM ANALYZE`` after the load, as autovacuum would do on its own
(statistics and the visibility map); SQLite gets nothing, like a server's database file.

Usage: ``.venv/bin/python bench/history.py [--db sqlite|postgresql|both] [--customers 100000]
[--messages 1000000] [--heavy-conversations 1000] [--runs 500]``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
from sqlalchemy import Table, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from sqlmodel import SQLModel  # noqa: E402

from chatserver.customers.context import build_customer_context, conversation_context  # noqa: E402
from chatserver.customers.segments import SegmentPolicy, refresh_cutoffs_now  # noqa: E402
from chatserver.storage import repository as repo  # noqa: E402
from chatserver.storage.db import create_db_engine, migrate, write_transaction  # noqa: E402
from chatserver.storage.models import ConversationPublic  # noqa: E402

PG_URL = os.environ.get("CHAT_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
T0 = 1_700_000_000.0
DAY = 86_400.0
OPERATORS = 50
CHUNK = 20_000
LINES = [
    "Hello, where is my parcel? It was supposed to arrive yesterday.",
    "The blender arrived with a cracked jug and it leaks everywhere.",
    "Do you have the red sneakers in size 42?",
    "I would like to return the jacket, it is too small.",
    "Can I change the delivery address of my order?",
    "You never answer my emails, this is ridiculous!",
    "Thank you, that solves it.",
    "Is there a discount for a second item?",
]
REPLIES = [
    "Let me check that for you.",
    "I'm so sorry about that, I will send a new one right away.",
    "Good news: they will be back next week. Shall I reserve a pair?",
    "Anything else I can help you with today?",
]
ORDER_STATUSES = ["paid", "shipped", "delivered", "delivered", "delivered", "cancelled"]


def _tables() -> dict[str, Table]:
    return dict(SQLModel.metadata.tables)


def _insert(engine: Engine, table: Table, rows: Iterator[dict[str, Any]]) -> int:
    """executemany in chunks, one transaction per chunk."""
    total = 0
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            with write_transaction(engine) as conn:
                conn.execute(table.insert(), chunk)
            total += len(chunk)
            chunk = []
    if chunk:
        with write_transaction(engine) as conn:
            conn.execute(table.insert(), chunk)
        total += len(chunk)
    return total


class DataSet:
    """What was built, so the timings can pick customers and conversations."""

    def __init__(self) -> None:
        self.heavy_customer = 0
        self.heavy_operator = 0
        self.customers_with_chats: list[int] = []
        self.conversations: list[tuple[int, str, int | None]] = []  # (id, visitor, customer)
        self.counts: dict[str, int] = {}


def build(engine: Engine, *, customers: int, messages: int, heavy: int, seed: int = 7) -> DataSet:
    rnd = random.Random(seed)
    t = _tables()
    data = DataSet()
    counts = data.counts
    counts["operator"] = _insert(
        engine,
        t["operator"],
        (
            {
                "id": i,
                "email": f"op{i}@bench.example",
                "name": f"Operator {i}",
                "title": "Customer care",
                "role": "operator",
                "capacity": 3,
                "active": True,
                "password_hash": "x",
                "created_at": T0,
            }
            for i in range(1, OPERATORS + 1)
        ),
    )
    counts["customer"] = _insert(
        engine,
        t["customer"],
        (
            {
                "id": i,
                "external_id": f"cust-{i}",
                "name": f"Customer {i}",
                "email": f"c{i}@shop.example",
                "locale": "pl",
                "first_seen": T0,
                "last_seen": T0 + i,
                "created_at": T0,
            }
            for i in range(1, customers + 1)
        ),
    )
    anonymous = max(customers // 10, 1)
    counts["visitor"] = _insert(
        engine,
        t["visitor"],
        (
            {
                "id": f"v{i}",
                "customer_id": i if i <= customers else None,
                "locale": "pl",
                "created_at": T0,
                "last_seen": T0 + i,
            }
            for i in range(1, customers + anonymous + 1)
        ),
    )
    # Conversations of about ten messages; the heavy customer (id 1) gets `heavy` of them.
    n_conversations = max(messages // 10, heavy + 1)
    data.heavy_customer = 1
    data.heavy_operator = 1
    owners: list[tuple[str, int | None]] = []
    for k in range(n_conversations):
        if k < heavy:
            owners.append(("v1", 1))
        elif rnd.random() < 0.1:
            a = customers + rnd.randint(1, anonymous)
            owners.append((f"v{a}", None))
        else:
            c = rnd.randint(2, customers) if customers > 1 else 1
            owners.append((f"v{c}", c))
    rnd.shuffle(owners)
    sizes = [rnd.randint(4, 16) for _ in range(n_conversations)]
    scale = messages / max(sum(sizes), 1)
    sizes = [max(2, round(s * scale)) for s in sizes]
    conv_rows: list[dict[str, Any]] = []
    handler: dict[int, int] = {}
    for k, ((visitor, customer), size) in enumerate(zip(owners, sizes, strict=True), start=1):
        created = T0 + k * 30.0
        op = data.heavy_operator if customer == 1 and rnd.random() < 0.5 else rnd.randint(1, OPERATORS)
        handler[k] = op
        conv_rows.append(
            {
                "id": k,
                "visitor_id": visitor,
                "customer_id": customer,
                "state": "closed",
                "operator_id": op,
                "team": None,
                "locale": "pl",
                "created_at": created,
                "assigned_at": created + 20,
                "closed_at": created + 600,
                "last_seq": size,
            }
        )
        data.conversations.append((k, visitor, customer))
    counts["conversation"] = _insert(engine, t["conversation"], iter(conv_rows))
    data.customers_with_chats = sorted({c for _k, _v, c in data.conversations if c is not None})

    def events() -> Iterator[dict[str, Any]]:
        for row in conv_rows:
            k, created, op = row["id"], row["created_at"], handler[row["id"]]
            yield {"conversation_id": k, "kind": "opened", "state": "waiting", "operator_id": None,
                   "data": "{}", "ts": created}  # fmt: skip
            yield {"conversation_id": k, "kind": "assigned", "state": "assigned", "operator_id": op,
                   "data": '{"sticky":false}', "ts": created + 20}  # fmt: skip
            yield {"conversation_id": k, "kind": "closed", "state": "closed", "operator_id": op,
                   "data": "{}", "ts": created + 600}  # fmt: skip

    counts["conversation_event"] = _insert(engine, t["conversation_event"], events())

    def message_rows() -> Iterator[dict[str, Any]]:
        for row in conv_rows:
            k, created, op = row["id"], row["created_at"], handler[row["id"]]
            for seq in range(1, row["last_seq"] + 1):
                visitor = seq % 2 == 1
                yield {
                    "conversation_id": k,
                    "seq": seq,
                    "sender": "visitor" if visitor else "operator",
                    "sender_id": row["visitor_id"] if visitor else str(op),
                    "client_id": f"{k}-{seq}",
                    # Visitor lines differ, so no cache helps more than it would in real life.
                    "text": f"{rnd.choice(LINES)} Order {k}-{seq}." if visitor else rnd.choice(REPLIES),
                    "ts": created + seq * 15,
                    "author_name": None if visitor else f"Operator {op}",
                    "author_title": None if visitor else "Customer care",
                }

    counts["message"] = _insert(engine, t["message"], message_rows())
    rating_rows = [
        {"conversation_id": row["id"], "score": rnd.randint(1, 5), "comment": None, "ts": row["closed_at"]}
        for row in conv_rows
        if rnd.random() < 0.3
    ]
    counts["conversation_rating"] = _insert(engine, t["conversation_rating"], iter(rating_rows))
    ratings: dict[int, list[int]] = {}
    for rating in rating_rows:
        owner = conv_rows[rating["conversation_id"] - 1]["customer_id"]
        if owner is not None:
            ratings.setdefault(owner, []).append(rating["score"])
    # Orders: two per customer on average, 200 for the heavy one; profiles carry the totals.
    totals: dict[int, list[float]] = {}
    order_rows: list[dict[str, Any]] = []
    for c in range(1, customers + 1):
        for _ in range(200 if c == 1 else rnd.choice((0, 1, 1, 2, 3, 5))):
            status = rnd.choice(ORDER_STATUSES)
            total = round(rnd.paretovariate(1.2) * 40, 2)
            placed = T0 + rnd.random() * 365 * DAY
            order_rows.append(
                {
                    "order_id": f"o-{len(order_rows) + 1}",
                    "customer_id": c,
                    "status": status,
                    "total": total,
                    "currency": "PLN",
                    "placed_at": placed,
                    "items": json.dumps([{"name": "Blender X2", "qty": 1, "price": total}]),
                    "source_updated_at": None,
                    "created_at": placed,
                    "updated_at": placed,
                }
            )
            if status != "cancelled":
                totals.setdefault(c, []).append(total)
    counts["shop_order"] = _insert(engine, t["shop_order"], iter(order_rows))
    cases: dict[int, int] = {}
    case_rows: list[dict[str, Any]] = []
    for c in [1] * 20 + [rnd.randint(1, customers) for _ in range(customers // 20)]:
        kind = rnd.choice(("return", "complaint", "question"))
        if kind != "question":
            cases[c] = cases.get(c, 0) + 1
        case_rows.append(
            {
                "kind": kind,
                "case_id": f"k-{len(case_rows) + 1}",
                "customer_id": c,
                "status": rnd.choice(("open", "resolved", "requested")),
                "is_open": rnd.random() < 0.5,
                "text": "The jug leaks",
                "order_id": None,
                "source_updated_at": None,
                "created_at": T0,
                "updated_at": T0 + rnd.random() * DAY,
            }
        )
    counts["customer_case"] = _insert(engine, t["customer_case"], iter(case_rows))
    counts["customer_profile"] = _insert(
        engine,
        t["customer_profile"],
        (
            {
                "customer_id": c,
                "tags": '["vip"]' if c == 1 else "[]",
                "comm_type": "accuser" if c == 1 else None,
                "notes": "Call back after 5 pm" if c == 1 else "",
                "version": 1 if c == 1 else 0,
                "updated_at": T0 if c == 1 else None,
                "updated_by": 1 if c == 1 else None,
                "order_count": len(totals.get(c, ())),
                "order_total": round(sum(totals.get(c, ())), 2),
                "case_count": cases.get(c, 0),
                "rating_count": len(ratings.get(c, ())),
                "rating_total": sum(ratings.get(c, ())),
            }
            for c in sorted(set(totals) | set(cases) | set(ratings))
        ),
    )
    counts["visitor_page"] = _insert(
        engine,
        t["visitor_page"],
        (
            {"visitor_id": f"v{i}", "url": f"https://shop.example/p/{i}", "title": "Product", "ts": T0 + i}
            for i in range(1, customers + anonymous + 1)
            if i == 1 or rnd.random() < 0.1
        ),
    )
    if engine.dialect.name == "postgresql":
        with write_transaction(engine) as conn:
            for table in ("operator", "customer", "conversation", "conversation_event", "message"):
                sequence = f"pg_get_serial_sequence('{table}', 'id')"
                conn.execute(text(f"SELECT setval({sequence}, (SELECT max(id) FROM {table}))"))
    if engine.dialect.name == "postgresql":
        # What autovacuum does after a big load: statistics and the visibility map.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    refresh_cutoffs_now(engine, SegmentPolicy("share", 0.8, 0.95, 3, 300.0), now=T0)
    return data


def _time(fn: Callable[[], Any], runs: int) -> tuple[list[float], int]:
    for _ in range(min(20, runs)):
        fn()
    samples: list[float] = []
    sizes: list[int] = []
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        payload = json.dumps(result, separators=(",", ":"), ensure_ascii=False)
        samples.append((time.perf_counter() - started) * 1000)
        sizes.append(len(payload))
    return samples, int(statistics.median(sizes))


def _p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(engine: Engine, data: DataSet, *, runs: int, seed: int = 11) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    heavy = data.heavy_customer
    # A new chat of the heavy customer, as the operator who gets it would see it.
    with write_transaction(engine) as conn:
        current_id = conn.execute(
            _tables()["conversation"]
            .insert()
            .values(
                visitor_id="v1",
                customer_id=heavy,
                state="assigned",
                operator_id=data.heavy_operator,
                created_at=T0 + 10 * 365 * DAY,
                last_seq=0,
            )
            .returning(_tables()["conversation"].c.id)
        ).scalar_one()
    current = repo.get_conversation(engine, conversation_id=current_id)
    assert current is not None
    convs = data.conversations

    def random_conversation() -> ConversationPublic:
        k, visitor, customer = rnd.choice(convs)
        return ConversationPublic(
            id=k, visitor_id=visitor, customer_id=customer, state="assigned", created_at=T0, last_seq=0
        )

    heavy_ids = [k for k, _v, c in convs if c == heavy]
    cases: list[tuple[str, Callable[[], Any]]] = [
        (
            "rest: heavy customer, operator's access check",
            lambda: build_customer_context(engine, customer_id=heavy, viewer_id=data.heavy_operator),
        ),
        ("rest: heavy customer, supervisor", lambda: build_customer_context(engine, customer_id=heavy)),
        (
            "rest: random customers, supervisor",
            lambda: build_customer_context(engine, customer_id=rnd.choice(data.customers_with_chats)),
        ),
        ("assigned: heavy customer's new chat", lambda: conversation_context(engine, conversation=current)),
        (
            "assigned: random conversations",
            lambda: conversation_context(engine, conversation=random_conversation()),
        ),
        (
            "transcript: heavy customer, 100 messages",
            lambda: _transcript(engine, rnd.choice(heavy_ids), heavy),
        ),
    ]
    results = []
    for name, fn in cases:
        samples, size = _time(fn, runs)
        results.append(
            {
                "case": name,
                "runs": runs,
                "p50_ms": statistics.median(samples),
                "p99_ms": _p(samples, 0.99),
                "max_ms": max(samples),
                "median_bytes": size,
            }
        )
    return results


def _transcript(engine: Engine, conversation_id: int, customer_id: int) -> dict[str, Any]:
    page = repo.transcript_page(engine, conversation_id=conversation_id, customer_id=customer_id, limit=100)
    assert page is not None
    return {"conversation": page.conversation, "messages": [m.text for m in page.messages]}


@contextmanager
def database(kind: str, pg_url: str) -> Iterator[Engine]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="bench-history-") as folder:
            engine = create_db_engine(f"sqlite:///{folder}/chat.db")
            try:
                migrate(engine)
                yield engine
            finally:
                engine.dispose()
        return
    schema = f"bench_history_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            sep = "&" if "?" in pg_url else "?"
            engine = create_db_engine(f"{pg_url}{sep}options=-csearch_path%3D{schema}")
            try:
                migrate(engine)
                yield engine
            finally:
                engine.dispose()
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


def run(kind: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    with database(kind, args.pg_url) as engine:
        started = time.perf_counter()
        data = build(engine, customers=args.customers, messages=args.messages, heavy=args.heavy_conversations)
        built = time.perf_counter() - started
        rows = ", ".join(f"{k} {v:,}" for k, v in data.counts.items())
        print(f"\n[{kind}] built in {built:.1f} s: {rows}", flush=True)
        load_before = os.getloadavg()[0]
        results = measure(engine, data, runs=args.runs)
        load_after = os.getloadavg()[0]
    cores = os.cpu_count()
    print(f"load average {load_before:.1f} before and {load_after:.1f} after timing, {cores} cores")
    # bytes: the median size of the JSON payload
    print(f"{'case':<46} {'runs':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'bytes':>7}")
    for r in results:
        print(
            f"{r['case']:<46} {r['runs']:>5} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} "
            f"{r['max_ms']:>8.2f} {r['median_bytes']:>7}"
        )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--heavy-conversations", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=500, help="timed calls per case")
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--budget-ms", type=float, default=50.0, help="exit 1 if a context p99 exceeds it")
    args = parser.parse_args(argv)
    if args.customers < 2 or args.messages < 20 or args.heavy_conversations < 1:
        parser.error("need at least 2 customers, 20 messages and 1 heavy conversation")
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    over = []
    for kind in kinds:
        for r in run(kind, args):
            if not r["case"].startswith("transcript") and r["p99_ms"] > args.budget_ms:
                over.append(f"{kind}: {r['case']} p99 {r['p99_ms']:.1f} ms")
    if over:
        print("\nover the budget of", args.budget_ms, "ms:", *over, sep="\n  ")
        return 1
    print(f"\nevery context p99 is under {args.budget_ms:g} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
