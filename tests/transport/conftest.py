"""A real uvicorn server on a free port, and websocket clients that speak the contract."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect

from chatserver.app import create_app
from chatserver.settings import Settings
from chatserver.storage import repository as repo
from chatserver.transport.auth import hash_password
from chatserver.transport.state import ServerState
from chatserver.transport.ws_protocol import uvicorn_config

FRAME_TIMEOUT = 5.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Client:
    """One websocket client; frames it did not ask for yet are kept, in order, for later."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.seen: list[dict[str, Any]] = []
        self._unread: list[dict[str, Any]] = []

    async def send(self, frame: dict[str, Any] | str) -> None:
        await self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def next(self, timeout: float = FRAME_TIMEOUT) -> dict[str, Any]:
        if self._unread:
            return self._unread.pop(0)
        frame = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        self.seen.append(frame)
        return frame

    async def expect(self, kind: str, timeout: float = FRAME_TIMEOUT, **fields: Any) -> dict[str, Any]:
        """The first frame of this type (and these field values), read or still to come."""
        for index, frame in enumerate(self._unread):
            if frame.get("type") == kind and all(frame.get(k) == v for k, v in fields.items()):
                return self._unread.pop(index)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {kind} {fields} frame; unread: {self._unread}")
            try:
                frame = json.loads(await asyncio.wait_for(self.ws.recv(), remaining))
            except TimeoutError:
                raise AssertionError(f"no {kind} {fields} frame; unread: {self._unread}") from None
            self.seen.append(frame)
            if frame.get("type") == kind and all(frame.get(k) == v for k, v in fields.items()):
                return frame
            self._unread.append(frame)

    def unread(self, kind: str) -> list[dict[str, Any]]:
        return [frame for frame in self._unread if frame.get("type") == kind]

    async def say(self, text: str, client_id: str | None = None, **extra: Any) -> dict[str, Any]:
        client_id = client_id or uuid.uuid4().hex
        await self.send({"type": "message", "client_id": client_id, "text": text, **extra})
        return await self.expect("ack", client_id=client_id)

    async def close(self) -> None:
        await self.ws.close()


@dataclasses.dataclass
class Endpoint:
    """A server reached only over HTTP and websockets at a base URL: in this process or another."""

    base_url: str
    ws_url: str
    http: httpx.AsyncClient

    async def login(self, email: str, password: str) -> str:
        """Sign an operator in over HTTP; their token."""
        response = await self.http.post("/api/operators/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        token: str = response.json()["token"]
        return token

    async def visitor_session(self, **body: Any) -> dict[str, Any]:
        response = await self.http.post("/api/visitor/sessions", json=body)
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()
        return data

    async def connect(self, path: str, token: str | None, **hello: Any) -> Client:
        ws = await connect(self.ws_url + path, max_size=None, open_timeout=5)
        client = Client(ws)
        if token is not None:
            await client.send({"type": "hello", "token": token, **hello})
            await client.expect("welcome")
        return client

    async def visitor(self, **session: Any) -> tuple[Client, dict[str, Any]]:
        data = await self.visitor_session(**session)
        return await self.connect("/ws/visitor", data["token"]), data

    async def operator(self, token: str, status: str | None = "online") -> Client:
        client = await self.connect("/ws/operator", token)
        if status is not None:
            await client.send({"type": "status", "status": status})
            await client.expect("status")
        return client


@dataclasses.dataclass
class Server(Endpoint):
    """A server running in this test's event loop: its app and state are at hand."""

    app: Any

    @property
    def state(self) -> ServerState:
        state: ServerState = self.app.state.chat
        return state

    async def add_operator(
        self, name: str, *, capacity: int = 3, teams: tuple[str, ...] = (), role: str = "operator"
    ) -> tuple[int, str]:
        """Create an account through the repository and log it in over HTTP; (id, token)."""
        email = f"{name.lower()}-{uuid.uuid4().hex[:6]}@test.example"
        operator = await self.state.writer.run(
            repo.create_operator,
            email=email,
            name=name,
            title="Customer care",
            role=role,
            capacity=capacity,
            teams=teams,
            password_hash=hash_password("pw"),
            now=time.time(),
        )
        return operator.id, await self.login(email, "pw")

    async def settle(self) -> None:
        await self.state.hub.settle()


ServerFactory = Callable[..., Awaitable[Server]]


@contextlib.asynccontextmanager
async def run_server(
    settings: Settings, clock: Callable[[], float] | None = None, *, ws: type | None = None
) -> AsyncIterator[Server]:
    """Like uvicorn's own test helper: serve on a free port in this loop, stop cleanly.

    ``ws`` replaces the websocket protocol class (a subclass of the shipped one that records).
    """
    port = free_port()
    app = create_app(settings) if clock is None else create_app(settings, clock=clock)
    config = uvicorn_config(
        app, host="127.0.0.1", port=port, max_frame_bytes=settings.max_frame_bytes, log_level="warning"
    )
    if ws is not None:
        config.ws = ws
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        try:
            yield Server(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", http, app)
        finally:
            server.should_exit = True
            await task


@pytest.fixture
async def start_server(tmp_path: Path) -> AsyncIterator[ServerFactory]:
    """Start a server with settings overrides; each test gets a fresh SQLite database."""
    stack = contextlib.AsyncExitStack()
    count = 0

    async def start(clock: Callable[[], float] | None = None, **overrides: Any) -> Server:
        nonlocal count
        count += 1
        overrides.setdefault("database_url", f"sqlite:///{tmp_path}/chat{count}.db")
        return await stack.enter_async_context(run_server(Settings(**overrides), clock))

    async with stack:
        yield start


@pytest.fixture
async def server(start_server: ServerFactory) -> Server:
    return await start_server()
