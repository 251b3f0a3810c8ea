"""Throughput and latency of the chat relay, against a bare ``websockets`` relay.

Runs N concurrent chats (one visitor socket per chat; operators with
``--capacity`` chats each) through the real server and through a bare relay
(bench/_relay_bare.py: decode, stamp, re-encode, forward; no persistence) with
the same client code, in separate client processes, and prints figures.

Phases (each bounded in time):

* paced (default; ``--no-paced`` skips it): ``--rate`` msgs/s in total, open
  loop, for ``--duration`` s. Latency is visitor send -> operator receives the
  ``message`` frame (wall clock embedded in the text). A chat is *stalled* when
  one of its messages has been in flight for more than 1 s.
* ``--saturate``: every visitor keeps ``--inflight`` unacked messages in flight;
  persisted msgs/s = acks/s; the same load on the bare relay gives the ratio.
* ``--idle N``: N idle chats (N visitor + N operator sockets) held for
  ``--duration`` s; sockets held, errors, server RSS.

By default the bench starts both servers itself on free ports (the real one with
a fresh SQLite database and operators created with ``chatserver operator add``)
and stops them at the end. ``--url`` targets a running server instead; its
operator accounts are ``bench-op-<k>@bench.example`` / ``bench-password``
(created through the CLI when ``CHAT_DATABASE_URL`` or ``--database-url`` is
set, else they must exist). ``--bare-only`` runs the bare relay alone.

Usage: ``.venv/bin/python bench/relay.py [--chats 1000] [--rate 2000]
[--duration 10] [--saturate [--inflight 4]] [--idle N] [--client-procs P]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import math
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
CLIENT = HERE / "_relay_client.py"
BARE = HERE / "_relay_bare.py"
PASSWORD = "bench-password"
ORIGIN = "http://bench.localhost"
CLK = os.sysconf("SC_CLK_TCK")


def out(line: str) -> None:
    """Print one result line now."""
    print(line, flush=True)


# -- process statistics ------------------------------------------------------
def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    return found


def cpu_seconds(pid: int | None) -> float | None:
    """User+system CPU seconds of a process tree."""
    if pid is None:
        return None
    total = 0
    for p in tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLK


def machine_busy() -> float:
    """CPU seconds spent busy by all cores since boot (from /proc/stat)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    ticks = [int(x) for x in fields]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
    return (sum(ticks[:8]) - idle) / CLK


def rss_mb(pid: int | None) -> float | None:
    """Resident memory (VmRSS) of a process tree, in MB."""
    if pid is None:
        return None
    kb = 0
    for p in tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    kb += int(line.split()[1])
        except OSError:
            continue
    return kb / 1024


def nofile_limit(pid: int | None) -> int | None:
    """Soft open-files limit of a process."""
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
            if line.startswith("Max open files"):
                return int(line.split()[3])
    except (OSError, ValueError):
        pass
    return None


def pct(sorted_ns: array[int] | list[int], q: float) -> float:
    """Percentile ``q`` (0..100) of sorted nanosecond samples, in ms."""
    if not sorted_ns:
        return float("nan")
    i = min(len(sorted_ns) - 1, max(0, math.ceil(q / 100 * len(sorted_ns)) - 1))
    return sorted_ns[i] / 1e6


def ms(v: float) -> str:
    """A millisecond figure with sensible precision."""
    if v != v:
        return "n/a"
    return f"{v:.1f} ms" if v < 100 else f"{v:.0f} ms"


# -- servers -------------------------------------------------------------------
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


async def wait_healthy(t: Target, timeout: float) -> None:
    """Poll ``GET /healthz`` until 200, the process dies, or ``timeout``."""
    from _relay_net import http_json

    deadline = time.time() + timeout
    last = ""
    while time.time() < deadline:
        if t.proc is not None and t.proc.poll() is not None:
            raise RuntimeError(f"{t.label} exited with code {t.proc.returncode}; log:\n{tail(t.log)}")
        try:
            status, body = await http_json(t.host, t.port, "GET", "/healthz", timeout=2)
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


async def start_real(args: argparse.Namespace, tmp: Path, n_ops: int, started: list[Target]) -> Target:
    """Create operators, start ``chatserver serve``, wait for /healthz."""
    exe = args.chatserver
    env = dict(os.environ)
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


# -- client processes ------------------------------------------------------------
class Client:
    """One client worker process and its event stream."""

    def __init__(self, proc: asyncio.subprocess.Process, index: int) -> None:
        self.proc = proc
        self.index = index
        self.last: dict[str, Any] = {}

    def send(self, line: str) -> None:
        """One command line to the worker."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")

    async def expect(self, event: str) -> dict[str, Any]:
        """Read events until ``event`` arrives."""
        assert self.proc.stdout is not None
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                raise RuntimeError(
                    f"client {self.index} exited (code {await self.proc.wait()}) "
                    f"while the bench waited for {event!r}"
                )
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if msg.get("event") == event:
                self.last = msg
                return msg


async def all_expect(clients: list[Client], event: str, timeout: float) -> list[dict[str, Any]]:
    """Wait for ``event`` from every worker, at most ``timeout`` s."""
    try:
        return await asyncio.wait_for(asyncio.gather(*(c.expect(event) for c in clients)), timeout)
    except TimeoutError:
        raise RuntimeError(f"client workers did not report {event!r} within {timeout:.0f}s") from None


def split(n: int, parts: int) -> list[tuple[int, int]]:
    """Contiguous [lo, hi) ranges of ``range(n)``."""
    bounds = [n * i // parts for i in range(parts + 1)]
    return list(zip(bounds[:-1], bounds[1:], strict=True))


async def run_phase(t: Target, phase: str, args: argparse.Namespace, tmp: Path, procs: int) -> dict[str, Any]:
    """Run one phase against one target; return merged figures."""
    chats = args.idle if phase == "idle" else args.chats
    ops = t.operators
    shm_dir = Path("/dev/shm") if Path("/dev/shm").is_dir() else tmp
    shm = shm_dir / f"relaybench-{os.getpid()}-{phase}-{t.mode}"
    with shm.open("wb") as f:
        array("q", [-1] * max(1, chats)).tofile(f)
    src: list[str] = []
    if phase == "idle" and 2 * chats > 8000:  # ~14k connects per source address fit
        src = [f"127.0.0.{j + 1}" for j in range(math.ceil(2 * chats / 8000))]
    run_id = random.getrandbits(32)
    res: dict[str, Any] = {"phase": phase, "target": t.label, "chats": chats, "procs": procs}
    res["rss_before"] = rss_mb(t.pid)
    res["src_addrs"] = len(src) or 1
    ranges = split(chats, procs)
    op_socket_ranges = split(chats, procs)
    clients: list[Client] = []
    setup = args.setup_timeout or 60 + 2 * chats / 100  # default: at least 100 sockets/s
    try:
        for p in range(procs):
            mine = [op for op in ops if op["index"] % procs == p]
            if phase == "idle":
                mine = mine or [ops[p % len(ops)]]
                op_sockets = op_socket_ranges[p][1] - op_socket_ranges[p][0]
            else:
                op_sockets = len(mine)
            lo, hi = ranges[p]
            cfg = {
                "mode": t.mode,
                "phase": phase,
                "host": t.host,
                "port": t.port,
                "origin": t.origin,
                "compression": args.compression,
                "chat_lo": lo,
                "chat_hi": hi,
                "chats_total": max(1, chats),
                "operators": mine,
                "op_sockets": op_sockets,
                "rate": args.rate * (hi - lo) / max(1, chats),
                "duration": args.duration,
                "inflight": args.inflight,
                "text_bytes": args.text_bytes,
                "drain": args.drain,
                "shm": str(shm),
                "run": run_id,
                "src_addrs": src,
                "results": str(tmp / f"res-{phase}-{t.mode}-{p}"),
                "setup_timeout": setup,
                "connect_concurrency": 100,
            }
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                str(CLIENT),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=(tmp / f"client-{phase}-{t.mode}-{p}.log").open("wb"),
            )
            c = Client(proc, p)
            c.send(json.dumps(cfg))
            clients.append(c)
        ops_ready = await all_expect(clients, "ops_ready", setup + 30)
        res["operators_connected"] = sum(e["operators"] for e in ops_ready)
        opened = time.time()
        for c in clients:
            c.send("open")
        ready = await all_expect(clients, "ready", 2 * setup + 60)
        res["setup_s"] = time.time() - opened
        res["visitors"] = sum(e["visitors"] for e in ready)
        res["routed"] = sum(e["routed"] for e in ready)
        t0 = time.time() + 0.5
        for c in clients:
            c.send(f"go {t0}")
        await asyncio.sleep(max(0.0, t0 - time.time()))
        cpu0 = cpu_seconds(t.pid)
        busy0 = machine_busy()
        if phase == "idle":
            peak = rss_mb(t.pid) or 0.0
            end = t0 + args.duration
            while time.time() < end:
                await asyncio.sleep(min(1.0, max(0.0, end - time.time())))
                peak = max(peak, rss_mb(t.pid) or 0.0)
            res["rss_held"] = rss_mb(t.pid)
            res["rss_peak"] = peak
        else:
            await asyncio.sleep(max(0.0, t0 + args.duration - time.time()))
        cpu1 = cpu_seconds(t.pid)
        res["machine_cpu"] = (machine_busy() - busy0) / args.duration
        if cpu0 is not None and cpu1 is not None:
            res["server_cpu"] = (cpu1 - cpu0) / args.duration
        if phase != "idle":
            await all_expect(clients, "drained", args.drain + 30)
        for c in clients:
            c.send("finish")
        done = await all_expect(clients, "done", 30)
        merge(res, done, tmp, phase, t.mode)
    except RuntimeError as exc:
        res["failure"] = str(exc)
    finally:
        for c in clients:
            if c.proc.returncode is None:
                try:
                    await asyncio.wait_for(c.proc.wait(), 5)
                except TimeoutError:
                    c.proc.kill()
                    await c.proc.wait()
        with contextlib.suppress(OSError):
            shm.unlink()
        if "failure" in res:
            res["client_logs"] = [tail(tmp / f"client-{phase}-{t.mode}-{p}.log", 10) for p in range(procs)]
    return res


def load(path: Path) -> array[int]:
    """A file of int64 samples."""
    a = array("q")
    if path.exists():
        a.frombytes(path.read_bytes())
    return a


def merge(res: dict[str, Any], done: list[dict[str, Any]], tmp: Path, phase: str, mode: str) -> None:
    """Sum worker counters and pool their latency samples."""
    keys = (
        "visitors sent sent_window acks_window recv_window delivered lost dup_msgs seq_gaps "
        "seq_dups unexpected_closes closed_frames stalled oldest_ns write_backlog "
        "max_stalled_at_once deflate_sockets"
    ).split()
    for k in keys:
        vals = [d.get(k, 0) for d in done]
        res[k] = max(vals) if k == "oldest_ns" else sum(vals)
    res["open_at_end"] = sum(d.get("open_at_end", 0) for d in done)
    res["operators_at_end"] = sum(d.get("operators", 0) for d in done)
    errors: dict[str, int] = {}
    frames: dict[str, int] = {}
    samples: list[str] = []
    for d in done:
        for k, v in d["errors"].items():
            errors[k] = errors.get(k, 0) + v
        for k, v in d["frames"].items():
            frames[k] = frames.get(k, 0) + v
        samples += d["samples"]
    res["errors"] = errors
    res["frames"] = frames
    res["samples"] = samples[:8]
    res["client_cpu"] = [d["cpu_window"] for d in done]
    res["chat_acks"] = sorted(a for d in done for a in d.get("chat_acks", []))
    for kind in ("lat", "ack", "hs"):
        pooled = array("q")
        for p in range(len(done)):
            pooled.extend(load(tmp / f"res-{phase}-{mode}-{p}.{kind}"))
        res[kind] = sorted(pooled)
    if res["lat"]:  # a delivered message was in flight for its whole latency
        res["oldest_ns"] = max(res["oldest_ns"], res["lat"][-1])


# -- report ----------------------------------------------------------------------
def cpu_line(res: dict[str, Any], duration: float) -> str:
    """Server and client CPU use during the measured window."""
    server = res.get("server_cpu")
    s = "n/a (pass --server-pid)" if server is None else f"{server * 100:.0f}% of a core"
    each = [c / duration * 100 for c in res.get("client_cpu", [])]
    busy = "; client-bound" if each and max(each) > 90 else ""
    if server is not None and server > 0.9:
        busy += "; server-bound"
    per = " + ".join(f"{e:.0f}%" for e in each)
    machine = res.get("machine_cpu")
    others = ""
    if machine is not None:
        rest = machine * 100 - sum(each) - (server or 0) * 100
        who = "everything else on the machine" if server is not None else "rest of machine (server too)"
        others = f", {who} {max(0.0, rest):.0f}%"
    return (
        f"CPU during window (100% = one core; {os.cpu_count()} cores): server {s}, "
        f"clients {sum(each):.0f}% ({len(each)} procs: {per}){others}{busy}"
    )


def error_count(res: dict[str, Any]) -> int:
    """All errors a phase saw."""
    return sum(res.get("errors", {}).values())


def report(res: dict[str, Any], args: argparse.Namespace) -> None:
    """Print the figures of one phase run."""
    name = {"paced": "paced", "saturate": "saturated", "idle": "idle"}[res["phase"]]
    tag = f"{name} [{res['target']}]"
    if "failure" in res:
        out(f"{tag}: FAILED: {res['failure']}")
        for log in res.get("client_logs", []):
            if log:
                out("  client log: " + log.replace("\n", "\n  client log: "))
        return
    d = args.duration
    if res["phase"] == "idle":
        sockets = 2 * res["chats"]
        rss = res.get("rss_held")
        before = res.get("rss_before")
        if rss is None:
            mem = "server RSS n/a (pass --server-pid)"
        else:
            grow = rss - (before or 0)
            per = grow * 1024 / max(1, res["open_at_end"])
            mem = (
                f"server RSS {rss:.1f} MB (was {before:.1f} MB before: +{grow:.1f} MB, "
                f"{per:.1f} KiB per socket; peak {res['rss_peak']:.1f} MB)"
            )
        out(
            f"{tag}: {res['chats']} chats, sockets held {res['open_at_end']}/{sockets}, "
            f"errors {error_count(res)}, {mem}"
        )
        hs = res["hs"]
        out(
            f"{tag}: connect+hello->welcome p50 {ms(pct(hs, 50))}, p99 {ms(pct(hs, 99))}, "
            f"max {ms(pct(hs, 100))}; closed by server while held {res['unexpected_closes']}; "
            f"{res['procs']} client procs, {res['src_addrs']} source addresses; "
            f"opened in {res['setup_s']:.1f} s"
        )
    else:
        lat = res["lat"]
        common = (
            f"p50 {ms(pct(lat, 50))}, p99 {ms(pct(lat, 99))}, errors {error_count(res)}, "
            f"stalled chats {res['stalled']}, oldest in flight {ms(res['oldest_ns'] / 1e6)}"
        )
        if res["phase"] == "paced":
            out(
                f"{tag}: {res['chats']} chats, target {args.rate:.0f} msg/s, achieved "
                f"{res['recv_window'] / d:.0f} msg/s, {common}"
            )
        else:
            out(
                f"{tag}: {res['chats']} chats, inflight {args.inflight}, persisted "
                f"{res['acks_window'] / d:.0f} msg/s (acks), delivered "
                f"{res['recv_window'] / d:.0f} msg/s, {common}"
            )
        ack = res["ack"]
        out(
            f"{tag}: routed {res['routed']}/{res['chats']} chats (setup {res['setup_s']:.1f} s), "
            f"sent {res['sent']}, "
            f"delivered {res['delivered']}, lost {res['lost']}, acked "
            f"{res['acks_window'] / d:.0f} msg/s (send->ack p50 {ms(pct(ack, 50))}, "
            f"p99 {ms(pct(ack, 99))}), p99.9 {ms(pct(lat, 99.9))}, max {ms(pct(lat, 100))}, "
            f"most chats stalled at once {res['max_stalled_at_once']}, seq gaps "
            f"{res['seq_gaps']}, duplicates {res['seq_dups'] + res['dup_msgs']}"
        )
        acks = res["chat_acks"]
        if acks:
            out(
                f"{tag}: acks per chat in window (fairness): min {acks[0]}, "
                f"p10 {acks[len(acks) // 10]}, median {acks[len(acks) // 2]}, max {acks[-1]}; "
                f"chats with no ack {sum(1 for a in acks if a == 0)}"
            )
    if args.compression:
        out(f"{tag}: permessage-deflate offered on every socket, accepted on {res['deflate_sockets']}")
    out(f"{tag}: {cpu_line(res, d)}")
    if res.get("errors"):
        out(f"{tag}: errors by kind: {json.dumps(res['errors'], sort_keys=True)}")
        for s in res.get("samples", []):
            out(f"{tag}:   e.g. {s}")
    if args.verbose or res.get("errors"):
        out(f"{tag}: frames seen (besides ack/message): {json.dumps(res['frames'], sort_keys=True)}")


# -- main ------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line flags."""
    ap = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    ap.add_argument("--chats", type=int, default=1000, help="concurrent chats (paced, saturated)")
    ap.add_argument("--rate", type=float, default=2000, help="paced phase: total msgs/s")
    ap.add_argument("--duration", type=float, default=10, help="seconds measured per phase")
    ap.add_argument("--no-paced", action="store_true", help="skip the paced phase")
    ap.add_argument("--saturate", action="store_true", help="run the saturation phase")
    ap.add_argument("--inflight", type=int, default=4, help="saturated: unacked msgs per visitor")
    ap.add_argument("--idle", type=int, default=0, metavar="N", help="hold N idle chats")
    ap.add_argument(
        "--client-procs",
        type=int,
        default=None,
        help="client processes (default 1 for paced/saturated; idle: at least 2)",
    )
    ap.add_argument("--capacity", type=int, default=50, help="chats per operator")
    ap.add_argument("--operators", type=int, default=None, help="default chats/capacity")
    ap.add_argument("--url", help="target a running server (http://127.0.0.1:PORT)")
    ap.add_argument("--server-pid", type=int, help="with --url: pid for CPU and RSS figures")
    ap.add_argument("--database-url", help="real server database (default: fresh temp SQLite)")
    ap.add_argument("--bare-only", action="store_true", help="run the bare relay only")
    ap.add_argument("--no-bare", action="store_true", help="skip the bare relay")
    ap.add_argument("--compression", action="store_true", help="offer permessage-deflate")
    ap.add_argument("--origin", help=f"Origin header (default {ORIGIN} for a started server)")
    ap.add_argument("--text-bytes", type=int, default=100, help="message text size")
    ap.add_argument("--drain", type=float, default=5, help="max seconds to wait for in-flight")
    ap.add_argument(
        "--setup-timeout",
        type=float,
        default=None,
        help="max seconds to open (and route) the chats; default 60 + 1 s per 50 chats",
    )
    ap.add_argument("--start-timeout", type=float, default=60, help="max seconds for /healthz")
    ap.add_argument(
        "--chatserver",
        default=str(Path(sys.executable).parent / "chatserver"),
        help="chatserver executable",
    )
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (logs, database)")
    ap.add_argument("--verbose", action="store_true", help="also print the frames seen")
    return ap.parse_args(argv)


async def amain(args: argparse.Namespace) -> int:
    """Start servers, run the phases, print, stop servers."""
    phases = ([] if args.no_paced else ["paced"]) + (["saturate"] if args.saturate else [])
    if args.idle > 0:
        phases.append("idle")
    if not phases:
        out("nothing to run (all phases disabled)")
        return 2
    n_ops = args.operators or max(1, math.ceil(args.chats / args.capacity))
    base = args.client_procs or 1
    idle_procs = max(args.client_procs or 2, math.ceil(2 * args.idle / 9000))
    tmp = Path(tempfile.mkdtemp(prefix="relaybench-"))
    targets: list[Target] = []
    rc = 0
    try:
        if not args.bare_only:
            if args.url:
                targets.append(await attach_real(args, tmp, n_ops))
            else:
                await start_real(args, tmp, n_ops, targets)
        if not args.no_bare or args.bare_only:
            await start_bare(args, tmp, n_ops, targets)
        out(
            f"setup: targets {', '.join(f'{t.label} on {t.host}:{t.port}' for t in targets)}; "
            f"{n_ops} operators x capacity {args.capacity}; {os.cpu_count()} CPUs"
        )
        for t in targets:
            limit = nofile_limit(t.pid)
            if "idle" in phases and limit is not None and 2 * args.idle + 100 > limit:
                out(
                    f"warning: {t.label} may open at most {limit} files; "
                    f"{2 * args.idle} idle sockets will not all fit"
                )
        for phase in phases:
            results: dict[str, dict[str, Any]] = {}
            for t in targets:
                procs = idle_procs if phase == "idle" else base
                results[t.mode] = res = await run_phase(t, phase, args, tmp, procs)
                report(res, args)
                if "failure" in res:
                    args.keep = True
            real, bare = results.get("real"), results.get("bare")
            if phase == "saturate" and real and bare and "failure" not in real | bare:
                r, b = real["acks_window"], bare["acks_window"]
                ratio = r / b if b else float("nan")
                out(
                    f"saturated: real / bare relay throughput ratio {ratio:.2f} "
                    f"({r / args.duration:.0f} / {b / args.duration:.0f} msg/s, same client code)"
                )
    except RuntimeError as exc:
        out(f"error: {exc}")
        rc = 1
    finally:
        for t in targets:
            stop(t)
        if args.keep or rc:
            out(f"logs and database kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return rc


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = parse_args(argv)
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    sys.path.insert(0, str(HERE))
    return asyncio.run(amain(args))


if __name__ == "__main__":
    sys.exit(main())
