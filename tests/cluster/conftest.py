"""The server as several real processes: ``chatserver serve`` each, one PostgreSQL database, one Redis.

Fixtures:

- ``private_redis``: a `RedisServer` of our own on a free port (no persistence), which a test
  may stop, start again on the same port, or restart; ``private_redis.url`` is its URL.
- ``pg_database``: the URL of an empty PostgreSQL database made for this test, dropped after it.
  CHAT_TEST_POSTGRES_URL names the server (as for the storage tests); empty skips these tests.
- ``start_cluster``: ``await start_cluster(n, **env)`` starts n processes on that database and
  that Redis, sharing one CHAT_SECRET_KEY, each on a free port, and returns a `Cluster`.
- ``cluster``: two such processes.

Each process runs this checkout's code (PYTHONPATH points at it) in the test's tmp_path, and
writes its output to ``node<i>.stdout`` / ``node<i>.stderr`` there.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
import redis
from sqlalchemy.engine import make_url

from tests.storage.conftest import PG_URL
from tests.transport.conftest import Endpoint, free_port

REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0
CLI_TIMEOUT_S = 30.0
PASSWORD = "pw"


class RedisServer:
    """A ``redis-server`` of the test's own; its data lives only as long as the process."""

    def __init__(self, binary: str, port: int, log: Path) -> None:
        self.binary = binary
        self.port = port
        self.log = log
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start on the same port as before; return once it answers PING."""
        assert self.process is None, "redis-server is already running"
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
                + ["--save", "", "--appendonly", "no", "--daemonize", "no"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 10
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop(kill=True)
                output = self.log.read_text(errors="replace")[-2000:]
                pytest.fail(f"redis-server on port {self.port} did not start:\n{output}")
            time.sleep(0.02)

    def stop(self, *, kill: bool = False) -> None:
        """Stop it (SIGKILL with ``kill``); everything it held is gone."""
        process, self.process = self.process, None
        if process is None:
            return
        if kill:
            process.kill()
        else:
            process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def restart(self, *, kill: bool = False) -> None:
        self.stop(kill=kill)
        self.start()

    def _answers(self) -> bool:
        try:
            with redis.Redis(port=self.port, socket_timeout=0.5, socket_connect_timeout=0.5) as client:
                return bool(client.ping())
        except (redis.RedisError, OSError):
            return False


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not on PATH")
    server = RedisServer(binary, free_port(), tmp_path / "redis.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_database() -> Iterator[str]:
    """The URL of an empty database of this test's own, on the suite's PostgreSQL server."""
    if not PG_URL:
        pytest.skip("CHAT_TEST_POSTGRES_URL is empty")
    try:
        admin = psycopg.connect(PG_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL at {PG_URL} is not reachable ({exc}); set CHAT_TEST_POSTGRES_URL")
    name = f"cluster_{uuid.uuid4().hex[:16]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        finally:
            # FORCE: a process killed mid-test may have left connections behind.
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclasses.dataclass
class Operator:
    id: int
    email: str
    name: str


@dataclasses.dataclass
class Node:
    """One ``chatserver serve`` process, on a port it keeps across restarts."""

    index: int
    port: int
    stdout: Path
    stderr: Path
    process: subprocess.Popen[bytes] | None = None
    endpoint: Endpoint | None = None
    log_offset: int = 0  # where this start's stderr begins
    starts: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        """What the current (or last) start wrote to stderr."""
        with self.stderr.open("rb") as file:
            file.seek(self.log_offset)
            return file.read().decode(errors="replace")


class Cluster:
    """N server processes sharing one database, one Redis and one secret key."""

    def __init__(self, env: dict[str, str], workdir: Path, count: int) -> None:
        self.env = env
        self.workdir = workdir
        self._stale: list[Endpoint] = []
        self.nodes = [
            Node(i, free_port(), workdir / f"node{i}.stdout", workdir / f"node{i}.stderr")
            for i in range(count)
        ]

    def __len__(self) -> int:
        return len(self.nodes)

    def __getitem__(self, index: int) -> Endpoint:
        """The HTTP and websocket helpers of process ``index`` (it must be running)."""
        endpoint = self.nodes[index].endpoint
        assert endpoint is not None, f"process {index} is not running"
        return endpoint

    async def start(self, index: int) -> Endpoint:
        """Start process ``index`` (again) on its port; return once ``/healthz`` answers."""
        node = self.nodes[index]
        assert node.process is None, f"process {index} is already running"
        self._spawn(node)
        await self._ready(node)
        return self[index]

    async def start_all(self) -> None:
        """Start every process at once, then wait for all of them."""
        for node in self.nodes:
            self._spawn(node)
        await asyncio.gather(*(self._ready(node) for node in self.nodes))

    def kill9(self, index: int) -> None:
        """SIGKILL process ``index``: no shutdown, no goodbyes, like a crashed machine."""
        node = self.nodes[index]
        process, node.process = node.process, None
        assert process is not None, f"process {index} is not running"
        process.send_signal(signal.SIGKILL)
        process.wait()
        self._drop_endpoint(node)

    async def stop(self, index: int) -> int:
        """SIGTERM process ``index`` (SIGKILL if it has not exited after STOP_TIMEOUT_S); its exit code."""
        node = self.nodes[index]
        process, node.process = node.process, None
        if process is None:
            return 0
        if process.poll() is None:
            process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while process.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        if process.poll() is None:
            process.kill()
            process.wait()
        await self._close_endpoint(node)
        return process.returncode

    async def close(self) -> None:
        for node in self.nodes:
            await self.stop(node.index)
        for endpoint in self._stale:
            await endpoint.http.aclose()
        self._stale.clear()

    async def add_operator(
        self, name: str, *, capacity: int = 3, teams: tuple[str, ...] = (), role: str = "operator"
    ) -> Operator:
        """Create an account with ``chatserver operator add`` against the shared database."""
        email = f"{name.lower()}-{uuid.uuid4().hex[:6]}@test.example"
        args = ["operator", "add", "--email", email, "--name", name, "--password", PASSWORD]
        args += ["--role", role, "--capacity", str(capacity), "--title", "Customer care"]
        for team in teams:
            args += ["--team", team]
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "chatserver",
            *args,
            env=self.env,
            cwd=self.workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), CLI_TIMEOUT_S)
        assert process.returncode == 0, f"chatserver operator add failed:\n{err.decode(errors='replace')}"
        return Operator(int(out.decode().strip()), email, name)

    async def sign_in(self, operator: Operator, on: int) -> str:
        """Log ``operator`` in at process ``on``; their token."""
        return await self[on].login(operator.email, PASSWORD)

    def _spawn(self, node: Node) -> None:
        node.starts += 1
        node.log_offset = node.stderr.stat().st_size if node.stderr.exists() else 0
        with node.stdout.open("ab") as out, node.stderr.open("ab") as err:
            node.process = subprocess.Popen(
                [sys.executable, "-m", "chatserver", "serve"]
                + ["--host", "127.0.0.1", "--port", str(node.port)],
                env=self.env,
                cwd=self.workdir,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
            )

    async def _ready(self, node: Node) -> None:
        process = node.process
        assert process is not None
        deadline = time.monotonic() + READY_TIMEOUT_S
        async with httpx.AsyncClient(base_url=node.base_url, timeout=1.0) as probe:
            while True:
                if process.poll() is not None:
                    pytest.fail(
                        f"process {node.index} (port {node.port}) exited with {process.returncode} "
                        f"before it was ready:\n{node.output()[-4000:]}"
                    )
                with contextlib.suppress(httpx.TransportError):
                    if (await probe.get("/healthz")).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    await self.stop(node.index)
                    pytest.fail(
                        f"process {node.index} (port {node.port}) was not ready within "
                        f"{READY_TIMEOUT_S:.0f} s:\n{node.output()[-4000:]}"
                    )
                await asyncio.sleep(0.05)
        node.endpoint = Endpoint(
            node.base_url, f"ws://127.0.0.1:{node.port}", httpx.AsyncClient(base_url=node.base_url)
        )

    def _drop_endpoint(self, node: Node) -> None:
        # kill9 cannot await: its HTTP client is closed with the cluster.
        endpoint, node.endpoint = node.endpoint, None
        if endpoint is not None:
            self._stale.append(endpoint)

    async def _close_endpoint(self, node: Node) -> None:
        endpoint, node.endpoint = node.endpoint, None
        if endpoint is not None:
            await endpoint.http.aclose()


ClusterFactory = Callable[..., Awaitable[Cluster]]


def server_env(database_url: str, redis_url: str, **overrides: str) -> dict[str, str]:
    """The environment of every process: no CHAT_* from outside, this checkout's code first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAT_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    env["CHAT_DATABASE_URL"] = database_url
    env["CHAT_REDIS_URL"] = redis_url
    env["CHAT_SECRET_KEY"] = secrets.token_hex(32)
    env.update(overrides)
    return env


@pytest.fixture
async def start_cluster(
    tmp_path: Path, pg_database: str, private_redis: RedisServer
) -> AsyncIterator[ClusterFactory]:
    """``await start_cluster(n, CHAT_X="…")``: n running processes; all of them stopped afterwards."""
    clusters: list[Cluster] = []

    async def start(count: int = 2, **env: str) -> Cluster:
        workdir = tmp_path / f"cluster{len(clusters)}" if clusters else tmp_path
        workdir.mkdir(exist_ok=True)
        cluster = Cluster(server_env(pg_database, private_redis.url, **env), workdir, count)
        clusters.append(cluster)
        await cluster.start_all()
        return cluster

    try:
        yield start
    finally:
        for cluster in clusters:
            await cluster.close()


@pytest.fixture
async def cluster(start_cluster: ClusterFactory) -> Cluster:
    """Two processes, 0 and 1, on one database and one Redis."""
    return await start_cluster(2)
