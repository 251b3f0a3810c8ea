"""Servers under test for the relay bench: start, attach to, health-check and stop them.

The real server gets a fresh SQLite database and its operators through the same CLI an admin
uses (``chatserver operator add``), so the bench exercises the product as shipped; the bare
relay (``_relay_bare.py``) is the floor it is compared against.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from _relay_net import http_json
from _relay_report import out

HERE = Path(__file__).resolve().parent
BARE = HERE / "_relay_bare.py"
PASSWORD = "bench-password"
ORIGIN = "http://bench.localhost"


@dataclass
class Target:
    """A server under test."""

    label: str
    mode: str  # "real" or "bare"
    host: str
    port: int
    pid: int | None
    proc: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    origin: str | None = None
    operators: list[dict[str, Any]] = field(default_factory=list)
    # several processes behind one target (bench/cluster.py): client worker p talks to
    # ports[p % len(ports)]; CPU and RSS are summed over pids
    ports: list[int] = field(default_factory=list)
    pids: list[int] = field(default_factory=list)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tail(path: Path | None, lines: int = 25) -> str:
    """Last lines of a log file."""
    if path is None or not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


async def wait_healthy(t: Target, timeout: float, port: int | None = None) -> None:
    """Poll ``GET /healthz`` until 200, the process dies, or ``timeout``."""
    deadline = time.time() + timeout
    last = ""
    while time.time() < deadline:
        if t.proc is not None and t.proc.poll() is not None:
            raise RuntimeError(f"{t.label} exited with code {t.proc.returncode}; log:\n{tail(t.log)}")
        try:
            status, body = await http_json(t.host, port or t.port, "GET", "/healthz", timeout=2)
            if status == 200:
                return
            last = f"HTTP {status} {body}"
        except (OSError, TimeoutError) as exc:
            last = repr(exc)
        await asyncio.sleep(0.2)
    raise RuntimeError(f"{t.label}: /healthz not ready after {timeout}s ({last})")


def operator_accounts(n: int) -> list[dict[str, Any]]:
    """The bench's operator accounts."""
    return [{"index": k, "email": f"bench-op-{k}@bench.example", "password": PASSWORD} for k in range(n)]


async def create_operators(
    exe: str, env: dict[str, str], ops: list[dict[str, Any]], capacity: int, cwd: Path
) -> None:
    """``chatserver operator add`` for each account (duplicates are fine)."""

    async def add(op: dict[str, Any]) -> None:
        proc = await asyncio.create_subprocess_exec(
            exe,
            "operator",
            "add",
            "--email",
            op["email"],
            "--name",
            f"Bench Operator {op['index']}",
            "--password",
            op["password"],
            "--capacity",
            str(capacity),
            env=env,
            cwd=cwd,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(proc.communicate(), 120)
        if proc.returncode != 0:
            msg = (stderr or stdout).decode(errors="replace").strip()
            if "exist" in msg.lower() or "duplicate" in msg.lower():
                return
            raise RuntimeError(f"operator add {op['email']} exited {proc.returncode}: {msg}")

    if not ops:
        return
    await add(ops[0])  # the first one may create the schema
    sem = asyncio.Semaphore(4)

    async def limited(op: dict[str, Any]) -> None:
        async with sem:
            await add(op)

    await asyncio.gather(*(limited(op) for op in ops[1:]))


# Every bench client comes from 127.0.0.1, and a bench sends far faster than a person: the
# limits for the public would measure themselves, so a bench server runs without them unless
# the environment sets them (bench/abuse.py keeps the frame limit, which it measures).
UNLIMITED = {
    "CHAT_VISITOR_SESSIONS_PER_MINUTE": "0",
    "CHAT_SOCKETS_PER_IP": "0",
    "CHAT_SOCKETS_PER_OPERATOR": "0",
    "CHAT_SOCKETS_PER_VISITOR": "0",
    "CHAT_WS_FRAMES_PER_S": "0",
}


def bench_env(base: dict[str, str]) -> dict[str, str]:
    """``base`` with the public limits off where it does not set them."""
    return {**UNLIMITED, **base}


async def start_real(args: argparse.Namespace, tmp: Path, n_ops: int, started: list[Target]) -> Target:
    """Create operators, start ``chatserver serve``, wait for /healthz."""
    exe = args.chatserver
    env = bench_env(dict(os.environ))
    env["CHAT_DATABASE_URL"] = args.database_url or f"sqlite:///{tmp / 'chat.db'}"
    env.setdefault("CHAT_ALLOWED_ORIGINS", ORIGIN)
    env.pop("CHAT_REDIS_URL", None)
    ops = operator_accounts(n_ops)
    t0 = time.time()
    await create_operators(exe, env, ops, args.capacity, tmp)
    out(f"setup: {n_ops} operators (capacity {args.capacity}) created in {time.time() - t0:.1f} s")
    port = free_port()
    log = tmp / "chatserver.log"
    proc = subprocess.Popen(
        [exe, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tmp,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    t = Target("real", "real", "127.0.0.1", port, proc.pid, proc, log, args.origin or ORIGIN)
    t.operators = ops
    started.append(t)
    await wait_healthy(t, args.start_timeout)
    return t


async def attach_real(args: argparse.Namespace, tmp: Path, n_ops: int) -> Target:
    """Target a running server (``--url``)."""
    parts = urlsplit(args.url if "//" in args.url else f"//{args.url}")
    host = parts.hostname or "127.0.0.1"
    addr = ipaddress.ip_address(socket.gethostbyname(host))
    if not addr.is_loopback:
        raise RuntimeError(f"--url must point at 127.0.0.0/8, not {addr}")
    port = parts.port or 80
    ops = operator_accounts(n_ops)
    db = args.database_url or os.environ.get("CHAT_DATABASE_URL")
    if db:
        env = dict(os.environ, CHAT_DATABASE_URL=db)
        await create_operators(args.chatserver, env, ops, args.capacity, tmp)
        out(f"setup: {n_ops} operator accounts ensured through the CLI")
    t = Target("real", "real", str(addr), port, args.server_pid, origin=args.origin)
    t.operators = ops
    await wait_healthy(t, args.start_timeout)
    return t


async def start_bare(args: argparse.Namespace, tmp: Path, n_ops: int, started: list[Target]) -> Target:
    """Start the bare websockets relay."""
    port = free_port()
    log = tmp / "bare.log"
    proc = subprocess.Popen(
        [
            sys.executable,
            str(BARE),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--capacity",
            str(args.capacity),
        ],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    t = Target("bare relay", "bare", "127.0.0.1", port, proc.pid, proc, log, args.origin)
    t.operators = operator_accounts(n_ops)
    started.append(t)
    await wait_healthy(t, 20)
    return t


def stop(t: Target) -> None:
    """Stop a server this bench started (SIGTERM: graceful for uvicorn; then SIGKILL)."""
    proc = t.proc
    if proc is None or proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        proc.send_signal(sig)
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue
