"""Hostile input on every REST route: whatever arrives, the answer is below 500 and nothing is logged.

One real server (uvicorn in a thread, a seeded SQLite database) serves the whole module. For each
route of ``app.routes`` Hypothesis sends bodies (random bytes, random JSON, objects with the route's
real field names holding every kind of JSON value, and the classic traps: lone surrogates, huge
numbers, deep nesting, duplicate keys, NaN), Authorization headers of any shape and path and query
parameters of any shape, with and without valid tokens. Every answer must be below 500; an ``/api``
4xx must be ``{"error": {"code", ...}}``; and the ``chatserver`` and ``uvicorn.error`` loggers must
record nothing at ERROR or above. A route missing from ``ROUTES`` fails the coverage test.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from starlette.routing import Route

from chatserver.app import create_app
from chatserver.settings import Settings
from responses import devset

from .conftest import run_server

FEED_KEY = "feed-key-for-fuzzing"
METRICS_TOKEN = "metrics-token-for-fuzzing"
IDENTITY_SECRET = "identity-secret-for-fuzzing"
EXAMPLES = int(os.environ.get("CHAT_FUZZ_EXAMPLES", "60"))  # more for a longer hunt


@dataclasses.dataclass(frozen=True)
class Spec:
    """What the fuzzer knows of one route: body field names and query parameter names."""

    fields: tuple[str, ...] = ()
    query: tuple[str, ...] = ()
    body: bool = True
    token: str = "admin"  # the token that gets past this route's guard


_OPERATOR_FIELDS = ("email", "name", "password", "title", "role", "capacity", "teams", "active")
_REPLY_FIELDS = ("id", "situation", "language", "title", "shortcut", "text", "slots", "tags", "version")
_ORDER_FIELDS = (
    "external_customer_id",
    "status",
    "total",
    "currency",
    "placed_at",
    "updated_at",
    "items",
    "customer",
)
_EVENT_FIELDS = ("kind", "id", "external_customer_id", "status", "text", "order_id", "updated_at")
_LIB = "/api/admin/libraries/{library}"
_REPLY = _LIB + "/{language}/responses/{response_id}"
_CUSTOMER = "/api/customers/{customer_id}"
_VISITOR = "/api/visitors/{visitor_id}"
_PAGE = ("before", "limit")
_TRANSCRIPT = ("after_seq", "limit")
_REPORT_QUERY = ("from", "to", "team", "operator_id")

# (method, path) -> what the fuzzer sends. Every route of the app must be here.
ROUTES: dict[tuple[str, str], Spec] = {
    ("GET", "/healthz"): Spec(),
    ("GET", "/readyz"): Spec(),
    ("POST", "/api/visitor/sessions"): Spec(("visitor_id", "locale", "identity")),
    ("POST", "/api/operators/login"): Spec(("email", "password")),
    ("POST", "/api/admin/operators/{operator_id:int}/deactivate"): Spec(),
    ("GET", "/api/customer-types"): Spec(),
    ("GET", _CUSTOMER): Spec(),
    ("PATCH", _CUSTOMER): Spec(("tags", "type", "notes", "version")),
    ("GET", _CUSTOMER + "/conversations"): Spec(query=_PAGE),
    ("GET", _CUSTOMER + "/conversations/{conversation_id:int}/messages"): Spec(query=_TRANSCRIPT),
    ("GET", _VISITOR): Spec(),
    ("GET", _VISITOR + "/conversations"): Spec(query=_PAGE),
    ("GET", _VISITOR + "/conversations/{conversation_id:int}/messages"): Spec(query=_TRANSCRIPT),
    ("PUT", "/api/feed/orders/{order_id:path}"): Spec(_ORDER_FIELDS, token="feed"),
    ("POST", "/api/feed/events"): Spec(_EVENT_FIELDS, token="feed"),
    ("POST", "/api/visitor/conversations/{conversation_id:int}/rating"): Spec(
        ("score", "nps", "comment"), token="visitor"
    ),
    ("GET", "/api/admin/variables"): Spec(),
    ("GET", "/api/admin/libraries"): Spec(),
    ("GET", _LIB + "/export"): Spec(),
    ("POST", _LIB + "/import"): Spec(("library", "languages", "responses", "format"), query=("mode",)),
    ("GET", _LIB + "/usage"): Spec(),
    ("POST", _LIB + "/{language}/preview"): Spec(("text", "slots", "context")),
    ("GET", _LIB + "/{language}/responses"): Spec(query=("q", "situation")),
    ("POST", _LIB + "/{language}/responses"): Spec(_REPLY_FIELDS),
    ("GET", _REPLY): Spec(),
    ("PUT", _REPLY): Spec(_REPLY_FIELDS),
    ("DELETE", _REPLY): Spec(query=("version",)),
    ("GET", _REPLY + "/versions"): Spec(),
    ("POST", _REPLY + "/versions/{version:int}/restore"): Spec(),
    ("GET", "/api/admin/operators"): Spec(),
    ("GET", "/api/admin/blocks"): Spec(),
    ("DELETE", "/api/admin/blocks/{block_id:int}"): Spec(),
    ("GET", "/api/admin/cool_downs"): Spec(),
    ("DELETE", "/api/admin/cool_downs/{visitor_id}"): Spec(),
    ("GET", "/api/admin/abuse_audit"): Spec(query=("visitor_id", "limit")),
    ("POST", "/api/admin/operators"): Spec(_OPERATOR_FIELDS),
    ("GET", "/api/admin/operators/{operator_id:int}"): Spec(),
    ("PATCH", "/api/admin/operators/{operator_id:int}"): Spec(_OPERATOR_FIELDS),
    ("GET", "/api/admin/teams"): Spec(),
    ("POST", "/api/admin/teams"): Spec(("name",)),
    ("DELETE", "/api/admin/teams/{team_id:int}"): Spec(),
    ("GET", "/console"): Spec(body=False),
    ("GET", "/console/"): Spec(body=False),
    ("GET", "/console/{name:path}"): Spec(body=False),
    ("GET", "/admin"): Spec(body=False),
    ("GET", "/admin/"): Spec(body=False),
    ("GET", "/admin/{name:path}"): Spec(body=False),
    ("GET", "/api/queue"): Spec(),
    ("GET", "/api/directory"): Spec(),
    ("GET", "/api/admin/hold-messages"): Spec(),
    ("PUT", "/api/admin/hold-messages"): Spec(("queue", "queue_offline", "transfer")),
    ("DELETE", "/api/admin/hold-messages"): Spec(),
    ("GET", "/widget.js"): Spec(body=False),
    ("GET", "/metrics"): Spec(body=False, token="metrics"),
    ("POST", "/api/admin/assistant/retrain"): Spec(),
    ("GET", "/api/admin/assistant/report"): Spec(),
    ("GET", "/api/admin/ideas"): Spec(query=("status",)),
    ("PATCH", "/api/admin/ideas/{idea_id:int}"): Spec(("status",)),
    ("GET", "/api/supervision/chats"): Spec(),
    ("GET", "/api/admin/reports"): Spec(query=_REPORT_QUERY),
    ("GET", "/api/admin/reports/{table}.csv"): Spec(query=_REPORT_QUERY),
}


def app_routes() -> set[tuple[str, str]]:
    """Every (method, path) the app answers over HTTP (HEAD goes with GET)."""
    found = set()
    for route in create_app(Settings()).routes:
        if isinstance(route, Route):
            found |= {(method, route.path) for method in route.methods or () if method != "HEAD"}
    return found


def test_every_route_is_fuzzed() -> None:
    assert app_routes() == set(ROUTES)


# --- the server ---------------------------------------------------------------------------------


class ErrorLog(logging.Handler):
    """Keeps every record at ERROR or above of the loggers it is attached to."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def take(self) -> list[str]:
        taken, self.records = self.records, []
        return [self.format(r) for r in taken]


@dataclasses.dataclass
class Target:
    http: httpx.Client
    log: ErrorLog
    tokens: dict[str, str]
    ids: dict[str, list[Any]]  # path parameter -> values that name something real
    protected: set[int]  # operator ids the fuzzer must not switch off (it signs in as them)


async def _seed(server: Any) -> tuple[dict[str, str], dict[str, list[Any]], set[int]]:
    # A retraining the fuzzer sets off trains on a small part of the dev set: a second, not a minute.
    server.state.learning.base_items = devset.load("train")[:40]
    admin_id, admin = await server.add_operator("Admin", role="admin")
    operator_id, operator = await server.add_operator("Olga")
    victim_id, _ = await server.add_operator("Victor", teams=("billing",))
    http, auth = server.http, {"Authorization": f"Bearer {admin}"}
    feed = {"Authorization": f"Bearer {FEED_KEY}"}
    order = {"external_customer_id": "cust-1", "status": "paid", "total": 120.5, "items": []}
    placed = await http.put("/api/feed/orders/ord-1", json=order, headers=feed)
    assert placed.status_code == 201, placed.text
    customer_id = placed.json()["customer_id"]
    client, session = await server.visitor()
    await client.say("hello, my parcel is late")
    await client.close()
    await server.settle()
    visitor_id = session["visitor_id"]
    listed = await http.get(f"/api/visitors/{visitor_id}/conversations", headers=auth)
    conversation_ids = [c["id"] for c in listed.json()["conversations"]]
    library = (await http.get("/api/admin/libraries", headers=auth)).json()["libraries"][0]
    replies = await http.get(f"/api/admin/libraries/{library['name']}/en/responses", headers=auth)
    team = await http.post("/api/admin/teams", json={"name": "empty"}, headers=auth)
    tokens = {
        "admin": admin,
        "operator": operator,
        "visitor": session["token"],
        "feed": FEED_KEY,
        "metrics": METRICS_TOKEN,
    }
    ids = {
        "operator_id": [admin_id, operator_id, victim_id],
        "team_id": [team.json()["id"]],
        "customer_id": [customer_id],
        "visitor_id": [visitor_id],
        "conversation_id": conversation_ids,
        "order_id": ["ord-1"],
        "library": [library["name"]],
        "language": list(library["languages"]),
        "response_id": [r["id"] for r in replies.json()["responses"][:3]],
        "version": [1],
        "name": ["console.js", "admin.js"],
        "table": ["conversations_by_day", "comments", "replies"],
    }
    return tokens, ids, {admin_id, operator_id}


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    folder: Path = tmp_path_factory.mktemp("fuzz")
    settings_ = Settings(
        database_url=f"sqlite:///{folder}/chat.db",
        order_feed_key=FEED_KEY,
        metrics_token=METRICS_TOKEN,
        identity_secret=IDENTITY_SECRET,
        suggestions=False,
    )
    started = threading.Event()
    stop = threading.Event()
    seeded: dict[str, Any] = {}

    async def serve() -> None:
        async with run_server(settings_) as server:
            seeded["base_url"] = server.base_url
            seeded["seed"] = await _seed(server)
            started.set()
            while not stop.is_set():
                await asyncio.sleep(0.05)

    def run() -> None:
        try:
            asyncio.run(serve())
        except BaseException as exc:  # the test thread reports it
            seeded["error"] = exc
            started.set()

    thread = threading.Thread(target=run, name="fuzz-server", daemon=True)
    thread.start()
    assert started.wait(60), "the server did not start"
    if "error" in seeded:
        raise seeded["error"]
    log = ErrorLog()
    loggers = [logging.getLogger(name) for name in ("chatserver", "uvicorn.error", "uvicorn.asgi")]
    for logger in loggers:
        logger.addHandler(log)
    tokens, ids, protected = seeded["seed"]
    try:
        with httpx.Client(base_url=seeded["base_url"], timeout=30) as http:
            yield Target(http, log, tokens, ids, protected)
    finally:
        for logger in loggers:
            logger.removeHandler(log)
        stop.set()
        thread.join(30)


# --- strategies ---------------------------------------------------------------------------------

# Every code point, lone surrogates included: json.dumps writes them as "\ud800" escapes.
any_text = st.text(st.characters(codec=None, categories=None), max_size=40)
long_text = st.integers(min_value=200, max_value=70_000).map(lambda n: "x" * n)
numbers = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.sampled_from([0, -1, 2**31, 2**63, 2**64, -(2**63) - 1, 10**300]),
    st.floats(allow_nan=False, allow_infinity=False),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, any_text, long_text)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(any_text, inner, max_size=4)),
    max_leaves=12,
)


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


# Bodies JSON encoders would never write, each a known trap.
raw_traps = st.sampled_from(
    [
        b"{",
        b'{"a": 1, "a": 2}',
        b'{"text": NaN}',
        b'{"total": Infinity, "score": -Infinity}',
        b'{"total": 1e400}',
        b'{"version": ' + b"9" * 5000 + b"}",
        b'{"capacity": ' + b"9" * 40 + b"}",
        b'{"text": "\\ud800"}',
        b'{"\\udfff": 1}',
        b'{"name": "a\\u0000b"}',
        b"[" * 5000 + b"]" * 5000,
        b'{"a":' * 100 + b"1" + b"}" * 100,
        b"\xff\xfe{}",
        b'{"name": "\xc3\x28"}',
        b"\x00" * 10,
        b"null",
        b"[]",
        b'"text"',
        b"12",
    ]
)


def bodies(spec: Spec) -> st.SearchStrategy[bytes | None]:
    objects = st.dictionaries(
        st.sampled_from(spec.fields) if spec.fields else any_text, json_values, max_size=6
    )
    return st.one_of(
        objects.map(_dumps),
        raw_traps,
        st.binary(max_size=200),
        json_values.map(_dumps),
        st.none(),
    )


def path_values(name: str, target: Target) -> st.SearchStrategy[str]:
    real = target.ids.get(name, [])
    if name == "operator_id":  # never switch off the accounts the fuzzer signs in as
        real = [i for i in real if i not in target.protected]
    ints = st.integers(min_value=0, max_value=2**70).filter(lambda i: i not in target.protected)
    hostile = st.one_of(
        ints.map(str),
        st.sampled_from(["0", "9" * 19, "9" * 40, "-1", "1e3", "abc", "%00", "..", "x" * 300]),
        any_text.filter(bool),
    )
    if not real:
        return hostile
    return st.sampled_from(["real", "real", "hostile"]).flatmap(
        lambda kind: st.sampled_from(real).map(str) if kind == "real" else hostile
    )


def headers(target: Target, token: str) -> st.SearchStrategy[dict[bytes, bytes]]:
    tokens = target.tokens
    valid = st.sampled_from(sorted(tokens.values()))
    forged = valid.map(lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"))
    # Any bytes HTTP lets through in a header value (control characters never reach the server).
    latin = st.binary(max_size=300).map(lambda b: bytes(c for c in b if c == 9 or 32 <= c != 127))
    hostile = st.one_of(
        forged.map(lambda t: f"Bearer {t}"),
        st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=100).map(
            lambda t: f"Bearer {t}"
        ),
        latin.map(lambda b: b"Bearer " + b),
        latin,
        st.integers(min_value=5000, max_value=20_000).map(lambda n: "Bearer " + "A" * n + "." + "B" * 32),
        st.sampled_from(["Bearer a.b", "Bearer ...", "Basic dXNlcjpwYXNz", "Bearer \u00e9t\u00e9.x"]),
    )
    # Mostly the token that passes the route's guard, so the fuzzing reaches what lies behind it.
    kinds = [token] * 4 + ["admin", "operator", "visitor", "feed", "hostile", "hostile", "hostile", "none"]

    def header(kind: str) -> st.SearchStrategy[dict[bytes, bytes]]:
        if kind == "none":
            return st.just({})
        value = hostile if kind == "hostile" else st.just(f"Bearer {tokens[kind]}")
        return value.map(lambda v: {b"Authorization": _header_value(v)})

    return st.sampled_from(kinds).flatmap(header)


def _header_value(value: str | bytes) -> bytes:
    """Header bytes as sent; HTTP forbids leading and trailing blanks (the client refuses them)."""
    raw = value.encode("latin-1") if isinstance(value, str) else value
    return raw.strip(b" \t")


def queries(spec: Spec) -> st.SearchStrategy[dict[str, str]]:
    if not spec.query:
        return st.just({})
    value = st.one_of(
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.sampled_from(["", "0", "1", "abc", "1.5", "9" * 30, "replace", "merge"]),
        any_text,
    )
    return st.dictionaries(st.sampled_from(spec.query), value, max_size=len(spec.query))


def _path(template: str, values: dict[str, str]) -> str:
    path = template
    for name, value in values.items():
        placeholder = next(p for p in (f"{{{name}}}", f"{{{name}:int}}", f"{{{name}:path}}") if p in template)
        path = path.replace(placeholder, urllib.parse.quote(value.encode("utf-8", "surrogatepass"), safe=""))
    return path


_PARAM_NAMES = (
    "operator_id",
    "team_id",
    "customer_id",
    "visitor_id",
    "conversation_id",
    "order_id",
    "library",
    "language",
    "response_id",
    "version",
    "name",
)


def _params(template: str) -> list[str]:
    return [n for n in _PARAM_NAMES if any(f"{{{n}{s}}}" in template for s in ("", ":int", ":path"))]


def check(response: httpx.Response, path: str, log: ErrorLog) -> None:
    where = f"{response.request.method} {path} -> {response.status_code} {response.text[:300]!r}"
    assert response.status_code < 500, where
    if path.startswith("/api") and 400 <= response.status_code < 500:
        body = response.json()
        assert isinstance(body["error"]["code"], str) and body["error"]["code"], where
    logged = log.take()
    assert logged == [], f"{where}\n" + "\n".join(logged)


@contextlib.contextmanager
def _quiet_log(log: ErrorLog) -> Iterator[None]:
    log.take()  # what earlier tests left is theirs
    yield
    assert log.take() == []


@pytest.mark.parametrize("route", sorted(ROUTES), ids=lambda r: f"{r[0]} {r[1]}")
def test_hostile_input(target: Target, route: tuple[str, str]) -> None:
    method, template = route
    spec = ROUTES[route]
    names = _params(template)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        path=st.fixed_dictionaries({n: path_values(n, target) for n in names}),
        query=queries(spec),
        header=headers(target, spec.token),
        body=bodies(spec) if spec.body else st.none(),
    )
    def hit(path: dict[str, str], query: dict[str, str], header: dict[str, Any], body: bytes | None) -> None:
        url = _path(template, path)
        response = target.http.request(method, url, params=query, headers=header, content=body)
        event(f"status {response.status_code}")
        event(f"status {response.status_code}")
        check(response, url, target.log)

    with _quiet_log(target.log):
        hit()
