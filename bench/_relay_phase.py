"""One bench phase against one server: client worker processes, their figures merged.

The load comes from separate client processes (``_relay_client.py``) so the server's core is
not shared with the load generator; this module drives them through a line protocol on
stdin/stdout and pools what they measured.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import sys
import time
from array import array
from pathlib import Path
from typing import Any

from _relay_procstats import cpu_seconds, machine_busy, rss_mb
from _relay_server import Target, tail

HERE = Path(__file__).resolve().parent
CLIENT = HERE / "_relay_client.py"


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


def pids_of(t: Target) -> list[int]:
    """The server processes measured for a target."""
    return t.pids or ([t.pid] if t.pid is not None else [])


def cpu_of(t: Target) -> float | None:
    """CPU seconds of all of a target's processes."""
    vals = [cpu_seconds(p) for p in pids_of(t)]
    return None if not vals or None in vals else sum(v or 0.0 for v in vals)


def rss_of(t: Target) -> float | None:
    """Resident memory of all of a target's processes, in MB."""
    vals = [rss_mb(p) for p in pids_of(t)]
    return None if not vals or None in vals else sum(v or 0.0 for v in vals)


def split(n: int, parts: int) -> list[tuple[int, int]]:
    """Contiguous [lo, hi) ranges of ``range(n)``."""
    bounds = [n * i // parts for i in range(parts + 1)]
    return list(zip(bounds[:-1], bounds[1:], strict=True))


async def run_phase(t: Target, phase: str, args: argparse.Namespace, tmp: Path, procs: int) -> dict[str, Any]:
    """Run one phase against one target; return merged figures."""
    chats = {"idle": args.idle, "closed": getattr(args, "closed", 0)}.get(phase, args.chats)
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
    res["rss_before"] = rss_of(t)
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
                "port": t.ports[p % len(t.ports)] if t.ports else t.port,
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
                "sync_route": bool(getattr(args, "sync_route", False)),
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
        if getattr(args, "sync_route", False):
            # every visitor connected first; then all first messages at once, so the
            # routing time is measured apart from the connects
            await all_expect(clients, "connected", setup + 30)
            for c in clients:
                c.send("route")
        ready = await all_expect(clients, "ready", 2 * setup + 60)
        res["setup_s"] = time.time() - opened
        res["visitors"] = sum(e["visitors"] for e in ready)
        res["routed"] = sum(e["routed"] for e in ready)
        firsts = [e["first_send_ns"] for e in ready if e.get("first_send_ns")]
        lasts = [e["last_assigned_ns"] for e in ready if e.get("last_assigned_ns")]
        if firsts and lasts:
            res["route_wall_s"] = (max(lasts) - min(firsts)) / 1e9
        res["route_lat"] = sorted(x for e in ready for x in e.get("route_ns", []))
        t0 = time.time() + 0.5
        for c in clients:
            c.send(f"go {t0}")
        await asyncio.sleep(max(0.0, t0 - time.time()))
        cpu0 = cpu_of(t)
        busy0 = machine_busy()
        if phase == "idle":
            peak = rss_of(t) or 0.0
            end = t0 + args.duration
            while time.time() < end:
                await asyncio.sleep(min(1.0, max(0.0, end - time.time())))
                peak = max(peak, rss_of(t) or 0.0)
            res["rss_held"] = rss_of(t)
            res["rss_peak"] = peak
        else:
            await asyncio.sleep(max(0.0, t0 + args.duration - time.time()))
        cpu1 = cpu_of(t)
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
        "max_stalled_at_once deflate_sockets cross_chats rt_window"
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
    for kind in ("lat", "ack", "hs", "rtt"):
        pooled = array("q")
        for p in range(len(done)):
            pooled.extend(load(tmp / f"res-{phase}-{mode}-{p}.{kind}"))
        res[kind] = sorted(pooled)
    if res["lat"]:  # a delivered message was in flight for its whole latency
        res["oldest_ns"] = max(res["oldest_ns"], res["lat"][-1])
