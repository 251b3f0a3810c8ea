"""Client worker process of bench/relay.py (one of ``--client-procs``).

Driven over stdin/stdout by the parent: the first stdin line is the JSON config,
then the parent sends ``open``, ``go <t0>`` and ``finish``; the worker answers
with JSON event lines (``ops_ready``, ``ready``, ``drained``, ``done``).

Chats are identified by a global index. The operator side of a chat may live
in another worker (the server picks the operator), so "highest message number
received per chat" is kept in a shared int64 array (an mmap'ed file) written by
whichever worker receives the message and read by the worker that sent it; that
is how stalled chats and the oldest message in flight are counted.
"""

from __future__ import annotations

import asyncio
import json
import mmap
import resource
import sys
import time
from array import array
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from _relay_closed import window as closed_window
from _relay_net import LoginFailed, http_json, login_operator
from _relay_peers import Operator, Visitor

loads = json.loads
time_ns = time.time_ns


def emit(event: str, **fields: Any) -> None:
    """Send one event line to the parent."""
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


def cpu_s() -> float:
    """User+system CPU seconds used by this process."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class Worker:
    """All chats, sockets and figures of this process."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        self.cfg = cfg
        self.host: str = cfg["host"]
        self.port: int = cfg["port"]
        self.real: bool = cfg["mode"] == "real"
        self.phase: str = cfg["phase"]
        self.origin: str | None = cfg.get("origin")
        self.compression: bool = bool(cfg.get("compression"))
        self.src: list[str] = cfg.get("src_addrs") or []
        self.sem = asyncio.Semaphore(cfg.get("connect_concurrency", 100))
        self.deadline = time.time() + float(cfg.get("setup_timeout", 60))
        self.visitors: list[Visitor] = []
        self.operators: list[Operator] = []
        self.t0_ns = 1 << 62
        self.t1_ns = 1 << 62
        self.saturating = self.phase == "saturate"
        self.closed = self.phase == "closed"
        self.rtt = array("q")  # closed loop: round trips
        self.rt_window = 0
        self.op_sent = 0
        self.inflight: int = cfg.get("inflight", 4)
        fill = max(0, cfg.get("text_bytes", 100) - 48)
        self.pad = "x" * fill
        self.run: int = cfg["run"]
        self.chats_total: int = cfg["chats_total"]
        self._shm_file = open(cfg["shm"], "r+b")  # noqa: SIM115 - kept open for the mmap
        self._mm = mmap.mmap(self._shm_file.fileno(), 8 * self.chats_total)
        self.recv = memoryview(self._mm).cast("q")
        # figures
        self.lat = array("q")
        self.ack_lat = array("q")
        self.hs_lat = array("q")
        self.sent_window = 0
        self.acks_window = 0
        self.recv_window = 0
        self.delivered = 0
        self.dup_msgs = 0
        self.seq_gaps = 0
        self.seq_dups = 0
        self.errors: Counter[str] = Counter()
        self.samples: list[str] = []
        self.frames: Counter[str] = Counter()
        self.unexpected_closes = 0
        self.closed_frames = 0
        self.stalled: set[int] = set()
        self.max_stalled_at_once = 0
        self.oldest_ns = 0
        self.write_backlog = 0
        self.cpu_window = 0.0
        self.holding = False
        self.deflate_sockets = 0
        self.cross: set[int] = set()  # chats whose visitor is another worker's

    # -- bookkeeping ------------------------------------------------------
    def error(self, kind: str, detail: str) -> None:
        """Count an error and keep a few samples verbatim."""
        self.errors[kind] += 1
        if len(self.samples) < 8:
            self.samples.append(f"{kind}: {detail[:300]}")

    def late(self) -> bool:
        """Past the setup deadline: count the socket as not opened."""
        if time.time() < self.deadline:
            return False
        self.errors["not_opened_setup_timeout"] += 1
        return True

    def src_for(self, i: int) -> str | None:
        """Loopback source address for the i-th socket of this worker."""
        return self.src[i % len(self.src)] if self.src else None

    # -- operators --------------------------------------------------------
    async def login(self, op: dict[str, Any]) -> str | None:
        """Operator token (synthetic for the bare relay)."""
        if not self.real:
            return f"o:{op['index']}"
        try:
            return await login_operator(self.host, self.port, op, origin=self.origin)
        except LoginFailed as exc:
            self.error("login", str(exc))
            return None

    async def connect_operators(self) -> None:
        """Log in and connect this worker's operator sockets (online unless idle)."""
        ops = self.cfg["operators"]
        tokens = [await self.login(op) for op in ops]
        live = [(op, t) for op, t in zip(ops, tokens, strict=True) if t]
        count = self.cfg.get("op_sockets", len(ops))
        if not live:
            return

        async def one(i: int) -> None:
            op, token = live[i % len(live)]
            o = Operator(self, op["index"])
            async with self.sem:
                if self.late():
                    return
                if not await o.connect(token, i):
                    return
            self.operators.append(o)
            if self.phase != "idle":
                o.ws.send('{"type":"status","status":"online"}')

        await asyncio.gather(*(one(i) for i in range(count)))

    # -- visitors ---------------------------------------------------------
    async def session(self, i: int) -> str | None:
        """Visitor token (synthetic for the bare relay)."""
        if not self.real:
            return f"v:{i}"
        try:
            status, body = await http_json(
                self.host,
                self.port,
                "POST",
                "/api/visitor/sessions",
                {},
                origin=self.origin,
                local_addr=self.src_for(i),
            )
        except (OSError, TimeoutError) as exc:
            self.error("session", repr(exc))
            return None
        if status != 201 or not isinstance(body, dict) or "token" not in body:
            self.error("session", f"HTTP {status} {body}")
            return None
        return str(body["token"])

    async def open_chats(self, route_cmd: Callable[[], Awaitable[Any]] | None = None) -> int:
        """Connect visitors; outside the idle phase also open and route each chat.

        With ``sync_route`` every visitor connects first; after ``connected`` the worker waits
        for the parent's ``route`` (``route_cmd``) and then sends all first messages at once.
        """
        lo, hi = self.cfg["chat_lo"], self.cfg["chat_hi"]
        timeout = self.cfg.get("setup_timeout", 60)
        sync = bool(self.cfg.get("sync_route")) and self.phase != "idle"

        async def one(chat: int) -> None:
            async with self.sem:
                if self.late():
                    return
                token = await self.session(chat)
                if token is None:
                    return
                v = Visitor(self, chat)
                if not await v.connect(token, chat):
                    return
            self.visitors.append(v)
            if self.phase != "idle" and not sync:
                v.wait_for("assigned")
                v.send_next()  # message 0 opens the chat (warm-up, not measured)

        await asyncio.gather(*(one(c) for c in range(lo, hi)))
        if sync:
            emit("connected", visitors=len(self.visitors))
            if route_cmd is not None:
                await route_cmd()
            for v in self.visitors:
                v.wait_for("assigned")
                v.send_next()
        if self.phase == "idle":
            return len(self.visitors)
        waits = [v.waiter for v in self.visitors if v.waiter is not None]
        if waits:
            await asyncio.wait(waits, timeout=timeout)
        routed = 0
        for v in self.visitors:
            if v.assigned:
                routed += 1
            else:
                self.error("unassigned", f"chat {v.chat} not assigned after {timeout}s")
        return routed

    def routing(self) -> dict[str, Any]:
        """When first messages went out and chats were assigned (for the parent)."""
        firsts = [v.times[0] for v in self.visitors if v.times]
        done = [v for v in self.visitors if v.assigned_ns and v.times]
        return {
            "first_send_ns": min(firsts) if firsts else 0,
            "last_assigned_ns": max((v.assigned_ns for v in done), default=0),
            "route_ns": [v.assigned_ns - v.times[0] for v in done],
        }

    # -- measured window --------------------------------------------------
    async def window(self, t0: float) -> None:
        """Send for the configured duration, then drain; monitor in-flight age."""
        duration = float(self.cfg["duration"])
        self.t0_ns = int(t0 * 1e9)
        self.t1_ns = self.t0_ns + int(duration * 1e9)
        live = [v for v in self.visitors if v.assigned]
        await asyncio.sleep(max(0.0, t0 - time.time()))
        cpu0 = cpu_s()
        mon = asyncio.create_task(self.monitor(live))
        if self.saturating:
            for v in live:
                for _ in range(self.inflight):
                    v.send_next()
            await asyncio.sleep(max(0.0, self.t1_ns / 1e9 - time.time()))
        else:
            await self.pace(live, float(self.cfg["rate"]))
        self.cpu_window = cpu_s() - cpu0
        deadline = time.time() + float(self.cfg.get("drain", 5))
        while time.time() < deadline:
            if all(self.recv[v.chat] >= v.next_n - 1 for v in live):
                break
            await asyncio.sleep(0.05)
        mon.cancel()
        self.check_inflight(live, time_ns())

    async def pace(self, live: list[Visitor], rate: float) -> None:
        """Open-loop sender: ``rate`` msgs/s over this worker's chats, round robin."""
        if not live or rate <= 0:
            await asyncio.sleep(max(0.0, self.t1_ns / 1e9 - time.time()))
            return
        t0 = self.t0_ns / 1e9
        t1 = self.t1_ns / 1e9
        sent = 0
        k = 0
        n = len(live)
        while True:
            now = time.time()
            if now >= t1:
                break
            due = int((now - t0) * rate) - sent
            for _ in range(due):
                live[k].send_next()
                k += 1
                if k == n:
                    k = 0
            sent += due
            await asyncio.sleep(0.002)

    async def monitor(self, live: list[Visitor]) -> None:
        """Every 100 ms: age of the oldest undelivered message per chat."""
        while True:
            await asyncio.sleep(0.1)
            self.check_inflight(live, time_ns())
            self.write_backlog = max(self.write_backlog, sum(v.ws.write_buffer for v in live))

    def check_inflight(self, live: list[Visitor], now: int) -> None:
        """Update the stalled-chat set and the oldest-in-flight age."""
        recv = self.recv
        stalled_now = 0
        for v in live:
            first = recv[v.chat] + 1
            if first < 1:
                first = 1
            if first < v.next_n:
                age = now - v.times[first]
                if age > self.oldest_ns:
                    self.oldest_ns = age
                if age > 1_000_000_000:
                    stalled_now += 1
                    self.stalled.add(v.chat)
        if stalled_now > self.max_stalled_at_once:
            self.max_stalled_at_once = stalled_now

    async def finish(self) -> None:
        """Operators close their chats; then every socket closes."""
        if self.phase != "idle":
            for o in self.operators:
                for conv in o.convs:
                    o.ws.send(json.dumps({"type": "close", "conversation_id": conv}))
            deadline = time.time() + 2.0
            while time.time() < deadline and self.closed_frames < len(self.visitors):
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)
        self.holding = False
        for v in self.visitors:
            v.ws.close()
        for o in self.operators:
            o.ws.close()
        await asyncio.sleep(0.2)
        for v in self.visitors:
            v.ws.abort()
        for o in self.operators:
            o.ws.abort()

    def summary(self) -> dict[str, Any]:
        """Counters for the parent (latency samples go to files)."""
        prefix = self.cfg["results"]
        self.lat.tofile(open(prefix + ".lat", "wb"))  # noqa: SIM115
        self.ack_lat.tofile(open(prefix + ".ack", "wb"))  # noqa: SIM115
        self.hs_lat.tofile(open(prefix + ".hs", "wb"))  # noqa: SIM115
        self.rtt.tofile(open(prefix + ".rtt", "wb"))  # noqa: SIM115
        sent = sum(max(0, v.next_n - 1) for v in self.visitors if v.assigned)
        lost = sum(max(0, v.next_n - 1 - max(self.recv[v.chat], 0)) for v in self.visitors if v.assigned)
        return {
            "visitors": len(self.visitors),
            "operators": len(self.operators),
            "sent": sent,
            "sent_window": self.sent_window,
            "acks_window": self.acks_window,
            "rt_window": self.rt_window,
            "recv_window": self.recv_window,
            "delivered": self.delivered,
            "lost": lost,
            "dup_msgs": self.dup_msgs,
            "seq_gaps": self.seq_gaps,
            "seq_dups": self.seq_dups,
            "errors": dict(self.errors),
            "samples": self.samples,
            "frames": dict(self.frames),
            "unexpected_closes": self.unexpected_closes,
            "closed_frames": self.closed_frames,
            "stalled": len(self.stalled),
            "max_stalled_at_once": self.max_stalled_at_once,
            "oldest_ns": self.oldest_ns,
            "cpu_window": self.cpu_window,
            "cpu_total": cpu_s(),
            "write_backlog": self.write_backlog,
            "deflate_sockets": self.deflate_sockets,
            "cross_chats": len(self.cross),
            "chat_acks": [v.win_acks for v in self.visitors if v.assigned],
        }


async def amain() -> None:
    """Follow the parent's commands."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    async def command() -> list[str]:
        line = await reader.readline()
        if not line:
            raise SystemExit("parent went away")
        return line.decode().split()

    cfg = json.loads(await reader.readline())
    w = Worker(cfg)
    w.holding = True
    await w.connect_operators()
    emit("ops_ready", operators=len(w.operators))
    await command()  # open
    routed = await w.open_chats(command)
    emit("ready", visitors=len(w.visitors), routed=routed, operators=len(w.operators), **w.routing())
    cmd = await command()  # go <t0>
    if w.phase == "idle":
        cpu0 = cpu_s()
        await command()  # finish
        w.cpu_window = cpu_s() - cpu0
        open_now = sum(not p.ws.closed for p in [*w.visitors, *w.operators])
        w.holding = False
        summary = w.summary()
        summary["open_at_end"] = open_now
        await w.finish()
        emit("done", **summary)
        return
    if w.closed:
        await closed_window(w, float(cmd[1]), cpu_s)
    else:
        await w.window(float(cmd[1]))
    emit("drained")
    await command()  # finish
    w.holding = False
    await w.finish()
    emit("done", **w.summary())


def main() -> None:
    """Raise the open-files limit and run."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(amain())


if __name__ == "__main__":
    main()
