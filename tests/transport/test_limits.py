"""Abuse limits: the bookkeeping on its own, then each limit over a real server.

Distinct client addresses on loopback come from ``X-Forwarded-For`` with the trust setting on.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from chatserver.settings import Settings, SettingsError
from chatserver.storage import repository as repo
from chatserver.transport.auth import hash_password
from chatserver.transport.limits import FailureLockout, RateLimiter, SocketCounter, client_ip

from .conftest import Server, ServerFactory

# ---------------------------------------------------------------------------- the bookkeeping


def test_rate_limiter_allows_a_burst_then_refills_at_the_rate() -> None:
    limiter = RateLimiter(3, 60.0)
    assert [limiter.take("a", 0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a", 0.0) == pytest.approx(20.0)
    assert limiter.take("b", 0.0) == 0.0  # another key is not affected
    assert limiter.take("a", 19.0) == pytest.approx(1.0)  # refused takes count nothing
    assert limiter.take("a", 20.0) == 0.0
    assert limiter.take("a", 20.0) > 0


def test_rate_limiter_memory_is_bounded_and_zero_means_no_limit() -> None:
    limiter = RateLimiter(1, 60.0, max_keys=100)
    for n in range(1000):
        limiter.take(f"ip-{n}", float(n))
    assert len(limiter) == 100
    unlimited = RateLimiter(0, 60.0)
    assert all(unlimited.take("a", 0.0) == 0.0 for _ in range(1000))
    assert len(unlimited) == 0


def test_lockout_doubles_after_the_free_failures_and_a_success_clears_it() -> None:
    lockout = FailureLockout(free_failures=2, base_s=10.0, max_s=100.0)
    assert lockout.failed("k", 0.0) == 0.0
    assert lockout.failed("k", 0.0) == 0.0
    assert lockout.locked("k", 0.0) == 0.0
    assert lockout.failed("k", 0.0) == 10.0
    assert lockout.locked("k", 4.0) == pytest.approx(6.0)
    assert lockout.failed("k", 10.0) == 20.0
    assert lockout.failed("k", 30.0) == 40.0
    assert lockout.failed("k", 70.0) == 80.0
    assert lockout.failed("k", 150.0) == 100.0  # capped
    assert lockout.locked("other", 150.0) == 0.0
    lockout.succeeded("k")
    assert lockout.locked("k", 150.0) == 0.0
    assert lockout.failed("k", 150.0) == 0.0  # free again


def test_lockout_is_forgotten_after_max_s_without_failures_and_is_bounded() -> None:
    lockout = FailureLockout(free_failures=0, base_s=1.0, max_s=50.0, max_keys=10)
    lockout.failed("k", 0.0)
    lockout.failed("k", 1.0)
    assert lockout.locked("k", 2.0) == pytest.approx(1.0)
    assert lockout.failed("k", 60.0) == 1.0  # the streak was forgotten: the first delay again
    for n in range(100):
        lockout.failed(f"k{n}", 100.0)
    assert len(lockout) == 10


def test_socket_counter_refuses_past_the_limit_and_frees_on_release() -> None:
    sockets = SocketCounter(2)
    assert sockets.acquire("a") and sockets.acquire("a")
    assert not sockets.acquire("a")
    assert sockets.acquire("b")
    sockets.release("a")
    assert sockets.acquire("a")
    sockets.release("a")
    sockets.release("a")
    assert sockets.count("a") == 0


def test_client_ip_trusts_only_the_last_forwarded_entry_and_only_when_asked() -> None:
    scope: dict[str, Any] = {
        "client": ("127.0.0.1", 5000),
        "headers": [(b"x-forwarded-for", b"6.6.6.6, 10.0.0.7")],
    }
    assert client_ip(scope, trust_forwarded_for=False) == "127.0.0.1"
    assert client_ip(scope, trust_forwarded_for=True) == "10.0.0.7"
    scope["headers"] = [(b"x-forwarded-for", b"not an address")]
    assert client_ip(scope, trust_forwarded_for=True) == "127.0.0.1"


def test_limit_settings_are_read_from_the_environment_and_checked() -> None:
    settings = Settings.from_env(
        {
            "CHAT_VISITOR_SESSIONS_PER_MINUTE": "7",
            "CHAT_TRUST_FORWARDED_FOR": "yes",
            "CHAT_SOCKETS_PER_IP": "0",
        }
    )
    assert (settings.visitor_sessions_per_minute, settings.trust_forwarded_for) == (7, True)
    assert settings.sockets_per_ip == 0
    with pytest.raises(SettingsError, match="CHAT_LOGIN_LOCKOUT_S"):
        Settings.from_env({"CHAT_LOGIN_LOCKOUT_S": "soon"})
    with pytest.raises(SettingsError, match="CHAT_SOCKETS_PER_VISITOR"):
        Settings.from_env({"CHAT_SOCKETS_PER_VISITOR": "-1"})


# ---------------------------------------------------------------------------- visitor sessions


def from_ip(ip: str) -> dict[str, str]:
    return {"X-Forwarded-For": ip}


async def test_visitor_sessions_per_address_get_429_with_retry_after(start_server: ServerFactory) -> None:
    server = await start_server(visitor_sessions_per_minute=3, trust_forwarded_for=True)
    for _ in range(3):
        ok = await server.http.post("/api/visitor/sessions", json={}, headers=from_ip("10.0.0.1"))
        assert ok.status_code == 201
    refused = await server.http.post("/api/visitor/sessions", json={}, headers=from_ip("10.0.0.1"))
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "rate_limited" and error["retry_after_s"] == 20
    assert refused.headers["Retry-After"] == "20"
    other = await server.http.post("/api/visitor/sessions", json={}, headers=from_ip("10.0.0.2"))
    assert other.status_code == 201


async def test_forwarded_for_is_ignored_unless_trusted(start_server: ServerFactory) -> None:
    server = await start_server(visitor_sessions_per_minute=1)
    assert (await server.http.post("/api/visitor/sessions", json={}, headers=from_ip("10.0.0.1"))).is_success
    refused = await server.http.post("/api/visitor/sessions", json={}, headers=from_ip("10.0.0.2"))
    assert refused.status_code == 429  # the same loopback address, whatever the header says


# ---------------------------------------------------------------------------- operator logins


async def make_operator(server: Server, password: str = "right") -> str:
    email = f"op-{uuid.uuid4().hex[:6]}@test.example"
    await server.state.writer.run(
        repo.create_operator,
        email=email,
        name="Op",
        title="",
        role="operator",
        teams=(),
        password_hash=hash_password(password),
        now=time.time(),
    )
    return email


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


async def login(
    server: Server, email: str, password: str, ip: str = "10.0.0.1"
) -> tuple[int, dict[str, Any]]:
    response = await server.http.post(
        "/api/operators/login", json={"email": email, "password": password}, headers=from_ip(ip)
    )
    return response.status_code, response.json()


async def test_login_failures_lock_the_account_with_doubling_delays(start_server: ServerFactory) -> None:
    server = await start_server(
        login_free_failures=2, login_lockout_s=30.0, login_ip_free_failures=1000, trust_forwarded_for=True
    )
    clock = Clock()
    server.state.clock = clock
    email, bystander = await make_operator(server), await make_operator(server)
    for _ in range(3):
        assert (await login(server, email, "guess"))[0] == 401
    # Locked now: even the right password is refused, and so from another address.
    for ip in ("10.0.0.1", "10.0.0.9"):
        status, body = await login(server, email, "right", ip)
        assert status == 429 and body["error"]["code"] == "rate_limited"
        assert body["error"]["retry_after_s"] == 30
    assert (await login(server, bystander, "right"))[0] == 200  # another account signs in
    clock.now += 30
    assert (await login(server, email, "guess"))[0] == 401
    status, body = await login(server, email, "right")
    assert status == 429 and body["error"]["retry_after_s"] == 60  # doubled
    clock.now += 60
    assert (await login(server, email, "right"))[0] == 200
    # The success cleared the streak: failures are free again.
    assert (await login(server, email, "guess"))[0] == 401
    assert (await login(server, email, "right"))[0] == 200


async def test_login_failures_from_one_address_lock_that_address_only(start_server: ServerFactory) -> None:
    server = await start_server(
        login_free_failures=1000, login_ip_free_failures=2, login_lockout_s=10.0, trust_forwarded_for=True
    )
    email = await make_operator(server)
    for n in range(3):  # guessing across accounts, each new
        assert (await login(server, f"nobody{n}@test.example", "guess", "10.0.0.1"))[0] == 401
    status, body = await login(server, email, "right", "10.0.0.1")
    assert status == 429 and body["error"]["retry_after_s"] == 10
    assert (await login(server, email, "right", "10.0.0.2"))[0] == 200


# ---------------------------------------------------------------------------- websockets


async def open_socket(server: Server, path: str, ip: str = "10.0.0.1") -> ClientConnection:
    return await connect(server.ws_url + path, additional_headers=from_ip(ip), open_timeout=5)


async def hello(ws: ClientConnection, token: str) -> dict[str, Any]:
    await ws.send(json.dumps({"type": "hello", "token": token}))
    frame: dict[str, Any] = json.loads(await ws.recv())
    return frame


async def close_code(ws: ClientConnection) -> int | None:
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await ws.recv()
    return closed.value.rcvd.code if closed.value.rcvd else None


async def test_sockets_per_visitor_over_the_limit_close_with_4429(start_server: ServerFactory) -> None:
    server = await start_server(sockets_per_visitor=2)
    session = await server.visitor_session()
    token = session["token"]
    first, second = await open_socket(server, "/ws/visitor"), await open_socket(server, "/ws/visitor")
    assert (await hello(first, token))["type"] == "welcome"
    assert (await hello(second, token))["type"] == "welcome"
    third = await open_socket(server, "/ws/visitor")
    await third.send(json.dumps({"type": "hello", "token": token}))
    assert await close_code(third) == 4429
    other = await open_socket(server, "/ws/visitor")  # another visitor is not affected
    assert (await hello(other, (await server.visitor_session())["token"]))["type"] == "welcome"
    await first.close()
    counted = server.state.limits.sockets_per_visitor
    for _ in range(100):  # the closed socket is counted out once its session has ended
        if counted.count(session["visitor_id"]) == 1:
            break
        await asyncio.sleep(0.02)
    again = await open_socket(server, "/ws/visitor")
    assert (await hello(again, token))["type"] == "welcome"


async def test_sockets_per_address_over_the_limit_close_with_4429_before_hello(
    start_server: ServerFactory,
) -> None:
    server = await start_server(sockets_per_ip=2, trust_forwarded_for=True)
    token = (await server.visitor_session())["token"]
    kept = [await open_socket(server, "/ws/visitor", "10.0.0.1") for _ in range(2)]
    refused = await open_socket(server, "/ws/visitor", "10.0.0.1")
    assert await close_code(refused) == 4429
    elsewhere = await open_socket(server, "/ws/visitor", "10.0.0.2")
    assert (await hello(elsewhere, token))["type"] == "welcome"
    for ws in kept:
        await ws.close()


async def test_sockets_per_operator_over_the_limit_close_with_4429(start_server: ServerFactory) -> None:
    server = await start_server(sockets_per_operator=1)
    _oid, token = await server.add_operator("Anna")
    first = await open_socket(server, "/ws/operator")
    assert (await hello(first, token))["type"] == "welcome"
    second = await open_socket(server, "/ws/operator")
    await second.send(json.dumps({"type": "hello", "token": token}))
    assert await close_code(second) == 4429
    _other, other_token = await server.add_operator("Tomas")
    third = await open_socket(server, "/ws/operator")
    assert (await hello(third, other_token))["type"] == "welcome"
