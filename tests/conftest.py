"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis

# A second checkout running its suite at the same time sets CHAT_TEST_REDIS_DB to another number.
# Each pytest-xdist worker flushes and uses a database of its own: gw0 db 15, gw1 db 14, ...
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
_TEST_DB = int(os.environ.get("CHAT_TEST_REDIS_DB", str(15 - _WORKER)))
_LOCAL = f"redis://127.0.0.1:6379/{_TEST_DB}"


def _answers(url: str) -> bool:
    try:
        with redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5) as client:
            return bool(client.ping())
    except (redis.RedisError, OSError):
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A flushed Redis database: the local server's db 15, or a private server we start.

    The suite never skips for want of Redis; it fails if it cannot start one.
    """
    server: subprocess.Popen[bytes] | None = None
    url = _LOCAL
    if not _answers(url):
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("no Redis at 127.0.0.1:6379 and no redis-server binary to start one")
        port = _free_port()
        server = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL,
        )
        url = f"redis://127.0.0.1:{port}/{_TEST_DB}"
        deadline = time.monotonic() + 10
        while not _answers(url):
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"redis-server on port {port} did not start")
            time.sleep(0.05)
    with redis.Redis.from_url(url) as client:
        client.flushdb()
    try:
        yield url
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
