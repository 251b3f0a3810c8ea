"""Chat routing and relay through 1, 2 and 3 server processes sharing PostgreSQL and Redis.

For each process count the bench creates a fresh PostgreSQL database (``bench_<hex>``,
dropped at the end), empties its private ``redis-server`` (started on a free port with
``--save "" --appendonly no``), creates the operators with ``chatserver operator add``,
starts the ``chatserver serve`` processes one after another (same ``CHAT_SECRET_KEY``, so a
token verifies on any of them) and runs the same load against them:

* setup: every visitor connects first; then all send their first message at once, and the
  bench times until every visitor has its ``assigned`` frame (wall time, and per chat
  first message -> assigned). Client worker ``p`` talks to process ``p % N`` for its
  visitors and its operators (operators dealt round robin over the workers), so with N
  processes about (N-1)/N of the chats join a visitor and an operator on different
  processes.
* paced: ``--rate`` msgs/s in total for ``--duration`` s, the same for every process count;
  delivered msgs/s, visitor send -> operator receive p50/p99, stalled chats (a message in
  flight for more than 1 s).

It ends with one row per process count, and the count of ERROR/Traceback lines in each
server log. Figures are printed, never asserted.

The parts come from the relay bench: ``_relay_server.py`` (operators through the CLI,
health checks, stopping), ``_relay_phase.py`` (client workers, merged figures),
``_relay_report.py`` (the per-phase lines).

Usage: ``PYTHONPATH=. .venv/bin/python bench/cluster.py [--chats 200] [--rate 500]
[--duration 10] [--processes 1,2,3]``
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
import redis
from _relay_phase import run_phase
from _relay_report import ms, out, pct, report
from _relay_server import (
    ORIGIN,
    Target,
    bench_env,
    create_operators,
    free_port,
    operator_accounts,
    stop,
    tail,
    wait_healthy,
)
from sqlalchemy.engine import make_url

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/test"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line flags."""
    ap = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    ap.add_argument("--chats", type=int, default=200, help="concurrent chats")
    ap.add_argument("--rate", type=float, default=500, help="paced phase: total msgs/s")
    ap.add_argument("--duration", type=float, default=10, help="seconds of the paced phase")
    ap.add_argument("--processes", default="1,2,3", help="server process counts to compare")
    ap.add_argument("--capacity", type=int, default=50, help="chats per operator")
    ap.add_argument(
        "--operators",
        type=int,
        default=None,
        help="operator accounts (default: enough capacity, rounded up to a multiple of every count)",
    )
    ap.add_argument("--database-url", default=DEFAULT_DB, help="PostgreSQL server (databases made on it)")
    ap.add_argument("--redis-server", default="redis-server", help="redis-server executable")
    ap.add_argument("--text-bytes", type=int, default=100, help="message text size")
    ap.add_argument("--drain", type=float, default=5, help="max seconds to wait for in-flight")
    ap.add_argument("--setup-timeout", type=float, default=None, help="max seconds to open the chats")
    ap.add_argument("--start-timeout", type=float, default=60, help="max seconds for /healthz")
    ap.add_argument(
        "--chatserver",
        default=str(Path(sys.executable).parent / "chatserver"),
        help="chatserver executable",
    )
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (logs)")
    ap.add_argument("--verbose", action="store_true", help="also print the frames seen")
    args = ap.parse_args(argv)
    # what run_phase and report read besides the above
    args.sync_route = True
    args.compression = False
    args.inflight = 4
    args.origin = ORIGIN
    return args


def counts(spec: str) -> list[int]:
    """``"1,2,3"`` -> ``[1, 2, 3]``."""
    return [int(x) for x in spec.split(",") if x.strip()]


class Redis:
    """The bench's own redis-server on a free port, nothing saved."""

    def __init__(self, exe: str, tmp: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = tmp / "redis.log"
        self.proc = subprocess.Popen(
            [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=tmp,
        )
        self.client = redis.Redis(host="127.0.0.1", port=self.port)
        deadline = time.time() + 10
        while True:
            try:
                self.client.ping()
                break
            except redis.ConnectionError:
                if self.proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"redis-server did not start; log:\n{tail(self.log)}") from None
                time.sleep(0.05)

    def flush(self) -> None:
        """Forget the previous run's stream, leases and channels."""
        self.client.flushall()

    def stop(self) -> None:
        """Stop it."""
        self.client.close()
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def admin_conninfo(url: str) -> str:
    """libpq connection string for the server's maintenance connection."""
    u = make_url(url).set(drivername="postgresql")
    return u.render_as_string(hide_password=False)


def create_database(base: str) -> str:
    """A fresh database on the server of ``base``; its URL."""
    name = f"bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin_conninfo(base), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(base).set(database=name).render_as_string(hide_password=False)


def drop_database(base: str, url: str) -> None:
    """Drop a database this bench made (closing whatever still holds it)."""
    name = make_url(url).database
    with psycopg.connect(admin_conninfo(base), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_env(db_url: str, redis_url: str, secret: str) -> dict[str, str]:
    """Environment of every server process and CLI call: this worktree's code, shared stores."""
    env = bench_env(dict(os.environ))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env["CHAT_DATABASE_URL"] = db_url
    env["CHAT_REDIS_URL"] = redis_url
    env["CHAT_SECRET_KEY"] = secret
    env.setdefault("CHAT_ALLOWED_ORIGINS", ORIGIN)
    return env


def log_problems(path: Path) -> tuple[int, list[str]]:
    """ERROR / Traceback lines of a server log, and a few of them."""
    if not path.exists():
        return 0, []
    bad = [
        line
        for line in path.read_text(errors="replace").splitlines()
        if "ERROR" in line or "Traceback" in line or "CRITICAL" in line
    ]
    return len(bad), bad[:3]


async def start_cluster(
    args: argparse.Namespace, n: int, env: dict[str, str], tmp: Path, ops: list[dict[str, Any]]
) -> Target:
    """Start ``n`` ``chatserver serve`` processes one after another; wait for each /healthz."""
    t = Target(f"{n} proc", "real", "127.0.0.1", 0, None, origin=ORIGIN)
    t.operators = ops
    for k in range(n):
        port = free_port()
        log = tmp / f"server-{n}-{k}.log"
        proc = subprocess.Popen(
            [args.chatserver, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=tmp,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        t.procs.append(proc)
        t.ports.append(port)
        t.pids.append(proc.pid)
        if k == 0:
            t.port, t.pid, t.proc, t.log = port, proc.pid, proc, log
        one = Target(f"{n} proc #{k}", "real", "127.0.0.1", port, proc.pid, proc, log)
        await wait_healthy(one, args.start_timeout)
    return t


def stop_cluster(t: Target) -> None:
    """SIGTERM (then SIGKILL) every process of the cluster."""
    for k, proc in enumerate(t.procs):
        stop(Target(f"{t.label} #{k}", "real", t.host, t.ports[k], proc.pid, proc))


async def run_count(args: argparse.Namespace, n: int, rds: Redis, tmp: Path, n_ops: int) -> dict[str, Any]:
    """One process count: fresh database and Redis, servers, the phase, the figures."""
    rds.flush()
    db = create_database(args.database_url)
    env = server_env(db, rds.url, secrets.token_hex(32))
    row: dict[str, Any] = {"n": n}
    t: Target | None = None
    try:
        ops = operator_accounts(n_ops)
        t0 = time.time()
        await create_operators(args.chatserver, env, ops, args.capacity, tmp)
        t1 = time.time()
        t = await start_cluster(args, n, env, tmp, ops)
        out(
            f"[{n} proc] database {make_url(db).database}; {n_ops} operators (capacity "
            f"{args.capacity}) created in {t1 - t0:.1f} s; {n} servers healthy in "
            f"{time.time() - t1:.1f} s on ports {', '.join(map(str, t.ports))}"
        )
        res = await run_phase(t, "paced", args, tmp, n)
        row["res"] = res
        report(res, args)
        if "failure" not in res:
            rl = res.get("route_lat", [])
            out(
                f"[{n} proc] setup: {res['routed']}/{res['chats']} chats routed in "
                f"{res.get('route_wall_s', float('nan')):.2f} s (all first messages -> last "
                f"assigned); per chat first message -> assigned p50 {ms(pct(rl, 50))}, "
                f"p99 {ms(pct(rl, 99))}, max {ms(pct(rl, 100))}; {res['cross_chats']} chats had "
                f"their visitor and operator on different processes"
            )
    finally:
        if t is not None:
            stop_cluster(t)
        drop_database(args.database_url, db)
    problems = []
    for k in range(n):
        count, first = log_problems(tmp / f"server-{n}-{k}.log")
        problems.append(count)
        for line in first:
            out(f"[{n} proc] server #{k} log: {line[:300]}")
    row["log_problems"] = problems
    return row


def closing_table(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    """One line per process count."""
    out("")
    out(
        f"summary: {args.chats} chats, paced {args.rate:.0f} msg/s for {args.duration:.0f} s, "
        f"{os.cpu_count()} CPUs"
    )
    head = (
        f"{'procs':>5} | {'route all':>9} | {'route p50':>9} | {'route p99':>9} | {'msg/s':>6} | "
        f"{'p50':>8} | {'p99':>8} | {'stalled':>7} | {'lost':>5} | {'errors':>6} | "
        f"{'srv CPU':>7} | {'cross':>5} | log errors"
    )
    out(head)
    out("-" * len(head))
    for row in rows:
        res = row.get("res")
        logs = "+".join(str(c) for c in row.get("log_problems", [])) or "-"
        if res is None or "failure" in res:
            why = (res or {}).get("failure", "did not run")
            out(f"{row['n']:>5} | FAILED: {why[:100]} | log errors {logs}")
            continue
        rl, lat = res.get("route_lat", []), res["lat"]
        cpu = res.get("server_cpu")
        out(
            f"{row['n']:>5} | {res.get('route_wall_s', float('nan')):>7.2f} s | "
            f"{ms(pct(rl, 50)):>9} | {ms(pct(rl, 99)):>9} | {res['recv_window'] / args.duration:>6.0f} | "
            f"{ms(pct(lat, 50)):>8} | {ms(pct(lat, 99)):>8} | {res['stalled']:>7} | "
            f"{res['lost']:>5} | {sum(res.get('errors', {}).values()):>6} | "
            f"{'n/a' if cpu is None else f'{cpu * 100:.0f}%':>7} | {res['cross_chats']:>5} | {logs}"
        )
    out("(route all: every first message sent at once -> last assigned; p50/p99: visitor send ->")
    out(" operator receive; srv CPU: all server processes, 100% = one core; cross: chats whose")
    out(" visitor and operator were on different processes; log errors: ERROR lines per process)")


async def amain(args: argparse.Namespace) -> int:
    """Redis once; per process count a fresh database, the servers and the phase."""
    ns = counts(args.processes)
    if not ns:
        out("no process counts given")
        return 2
    step = math.lcm(*ns)
    n_ops = args.operators or step * math.ceil(max(1, math.ceil(args.chats / args.capacity)) / step)
    tmp = Path(tempfile.mkdtemp(prefix="clusterbench-"))
    rows: list[dict[str, Any]] = []
    rc = 0
    rds = Redis(args.redis_server, tmp)
    try:
        out(
            f"setup: redis-server on 127.0.0.1:{rds.port}; PostgreSQL {make_url(args.database_url).host}:"
            f"{make_url(args.database_url).port}; {args.chats} chats, {n_ops} operators x capacity "
            f"{args.capacity}; process counts {ns}"
        )
        for n in ns:
            try:
                rows.append(await run_count(args, n, rds, tmp, n_ops))
            except (RuntimeError, psycopg.Error) as exc:
                out(f"[{n} proc] error: {exc}")
                rows.append({"n": n})
                rc = 1
            if any("failure" in r.get("res", {}) for r in rows):
                args.keep = True
        closing_table(rows, args)
    finally:
        rds.stop()
        if args.keep or rc:
            out(f"logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return rc


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = parse_args(argv)
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return asyncio.run(amain(args))


if __name__ == "__main__":
    sys.exit(main())
