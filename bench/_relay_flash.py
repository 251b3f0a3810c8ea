"""Flash crowd for bench/relay.py: N visitors arriving within one second, each routed to an operator.

Every visitor takes the whole real path: ``POST /api/visitor/sessions`` as the widget does (the
bare relay has no sessions: its tokens are synthetic), the websocket, ``hello``, ``welcome``, the
first message. Arrivals are spread uniformly over ``--flash-window`` seconds. Enough operators
are online beforehand to take every chat. A visitor is *routed* when both sides know: the
visitor has its ``assigned`` frame and the operator has received the chat (its first message,
which follows the operator's ``assigned``). Per visitor the bench takes arrival -> routed; it
prints p50/p90/p99/max, the time from the first arrival until every chat is routed, failures,
and the chats still not routed after 1 s and 3 s (the stalls).

The operator side of a chat may be in another client worker, so each chat's "operator has it"
time is written into a shared int64 array (an mmap'ed file) by whichever worker sees it.

Run by relay.py with ``--flash``; the client workers are this file run as a script.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import mmap
import os
import random
import resource
import sys
import time
from array import array
from pathlib import Path
from typing import Any

from _relay_net import LoginFailed, WSClient, http_json, login_operator, ws_connect
from _relay_procstats import machine_busy
from _relay_report import ms, out, pct

HERE = Path(__file__).resolve().parent
time_ns = time.time_ns


def add_flash_args(ap: argparse.ArgumentParser) -> None:
    """The flash-crowd flags (``--chats`` is the crowd's size)."""
    ap.add_argument("--flash", action="store_true", help="flash crowd: --chats visitors arrive at once")
    ap.add_argument("--flash-window", type=float, default=1.0, help="flash: seconds the arrivals span")
    ap.add_argument("--flash-timeout", type=float, default=60.0, help="flash: max seconds to wait")


# ---------------------------------------------------------------------- the parent side


def _emit(event: str, **fields: Any) -> None:
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


async def _expect(proc: asyncio.subprocess.Process, event: str, timeout: float) -> dict[str, Any]:
    assert proc.stdout is not None

    async def read() -> dict[str, Any]:
        assert proc.stdout is not None
        while True:
            line = await proc.stdout.readline()
            if not line:
                raise RuntimeError(f"flash client exited (code {await proc.wait()}) awaiting {event!r}")
            with contextlib.suppress(ValueError):
                msg = json.loads(line)
                if msg.get("event") == event:
                    return dict(msg)

    try:
        return await asyncio.wait_for(read(), timeout)
    except TimeoutError:
        raise RuntimeError(f"flash client did not report {event!r} within {timeout:.0f} s") from None


async def run_flash(t: Any, args: argparse.Namespace, tmp: Path, procs: int) -> dict[str, Any]:
    """One flash crowd against one target; the merged figures."""
    from _relay_phase import cpu_of  # noqa: PLC0415 - _relay_phase imports the server module

    n = args.chats
    shm_dir = Path("/dev/shm") if Path("/dev/shm").is_dir() else tmp
    shm = shm_dir / f"relayflash-{os.getpid()}-{t.mode}"
    with shm.open("wb") as fh:
        array("q", [0] * max(1, n)).tofile(fh)
    res: dict[str, Any] = {"target": t.label, "chats": n, "procs": procs}
    clients: list[asyncio.subprocess.Process] = []
    try:
        for p in range(procs):
            cfg = {
                "real": t.mode == "real",
                "host": t.host,
                "port": t.ports[p % len(t.ports)] if t.ports else t.port,
                "origin": t.origin,
                "proc": p,
                "procs": procs,
                "chats": n,
                "window": args.flash_window,
                "timeout": args.flash_timeout,
                "operators": [op for op in t.operators if op["index"] % procs == p],
                "shm": str(shm),
                "run": random.getrandbits(32),
            }
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                str(HERE / "_relay_flash.py"),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=(tmp / f"flash-{t.mode}-{p}.log").open("wb"),
                limit=1 << 24,
            )
            assert proc.stdin is not None
            proc.stdin.write(json.dumps(cfg).encode() + b"\n")
            clients.append(proc)
        ready = await asyncio.gather(*(_expect(c, "ops_ready", 120) for c in clients))
        res["operators"] = sum(r["operators"] for r in ready)
        await asyncio.sleep(1.0)  # the operators' "online" reaches the core before anyone arrives
        t0 = time.time() + 0.5
        out(f"flash [{t.label}]: {n} visitors arrive from now on, within {args.flash_window:.1f} s")
        cpu0, busy0 = cpu_of(t), machine_busy()
        for c in clients:
            assert c.stdin is not None
            c.stdin.write(f"go {t0}\n".encode())
        done = await asyncio.gather(*(_expect(c, "done", args.flash_timeout + 60) for c in clients))
        span = time.time() - t0
        cpu1 = cpu_of(t)
        res["span_s"] = span
        res["machine_cpu"] = (machine_busy() - busy0) / span
        if cpu0 is not None and cpu1 is not None:
            res["server_cpu"] = (cpu1 - cpu0) / span
        res["client_cpu"] = [d["cpu"] / span for d in done]
        _merge(res, done, shm, int(t0 * 1e9))
        for c in clients:
            assert c.stdin is not None
            c.stdin.write(b"finish\n")
        await asyncio.gather(*(_expect(c, "bye", 30) for c in clients))
    except RuntimeError as exc:
        res["failure"] = str(exc)
    finally:
        for c in clients:
            if c.returncode is None:
                try:
                    await asyncio.wait_for(c.wait(), 5)
                except TimeoutError:
                    c.kill()
                    await c.wait()
        with contextlib.suppress(OSError):
            shm.unlink()
    return res


def _merge(res: dict[str, Any], done: list[dict[str, Any]], shm: Path, t0_ns: int) -> None:
    """Per visitor: arrival -> routed (both sides know); the stages; failures."""
    op_has = array("q")
    op_has.frombytes(shm.read_bytes())
    routed: list[int] = []
    stages: dict[str, list[int]] = {"session": [], "welcome": [], "assigned": [], "operator": []}
    failures: dict[str, int] = {}
    last = 0
    first_arrival = min((v[1] for d in done for v in d["visitors"]), default=t0_ns)
    for d in done:
        for kind, count in d["failures"].items():
            failures[kind] = failures.get(kind, 0) + count
        for chat, arrived, session, welcome, sent, assigned in d["visitors"]:
            op = op_has[chat]
            if session:
                stages["session"].append(session - arrived)
            if welcome:
                stages["welcome"].append(welcome - (session or arrived))
            if assigned and sent:
                stages["assigned"].append(assigned - sent)
            if op and sent:
                stages["operator"].append(op - sent)
            if not sent:
                continue
            if not assigned:
                failures["visitor_never_assigned"] = failures.get("visitor_never_assigned", 0) + 1
            elif not op:
                failures["operator_never_got_it"] = failures.get("operator_never_got_it", 0) + 1
            else:
                at = max(assigned, op)
                routed.append(at - arrived)
                last = max(last, at)
    res["routed"] = sorted(routed)
    res["stages"] = {k: sorted(v) for k, v in stages.items()}
    res["failures"] = failures
    res["all_routed_s"] = (last - first_arrival) / 1e9 if last and len(routed) == res["chats"] else None
    res["last_routed_s"] = (last - first_arrival) / 1e9 if last else None
    res["arrivals_s"] = (max((v[1] for d in done for v in d["visitors"]), default=0) - first_arrival) / 1e9
    res["samples"] = [s for d in done for s in d["samples"]][:6]


def report_flash(res: dict[str, Any]) -> None:
    """Print one flash crowd's figures."""
    tag = f"flash [{res['target']}]"
    if "failure" in res:
        out(f"{tag}: FAILED: {res['failure']}")
        return
    r, n = res["routed"], res["chats"]
    late1 = sum(1 for x in r if x > 1e9) + (n - len(r))
    late3 = sum(1 for x in r if x > 3e9) + (n - len(r))
    everyone = res["all_routed_s"]
    out(
        f"{tag}: {n} visitors arriving over {res['arrivals_s']:.2f} s, {res['operators']} operators: "
        f"routed {len(r)}/{n}; ALL routed "
        + (f"{everyone:.2f} s after the first arrival" if everyone is not None else "NO")
        + f" (last routed at {res['last_routed_s'] or 0:.2f} s)"
    )
    out(
        f"{tag}: arrival -> routed p50 {ms(pct(r, 50))}, p90 {ms(pct(r, 90))}, p99 {ms(pct(r, 99))}, "
        f"max {ms(pct(r, 100))}; not routed within 1 s: {late1}, within 3 s: {late3}; "
        f"failures {sum(res['failures'].values())} {json.dumps(res['failures'], sort_keys=True)}"
    )
    st = res["stages"]
    out(
        f"{tag}: stages p50/p99: session {ms(pct(st['session'], 50))}/{ms(pct(st['session'], 99))}, "
        f"ws+hello->welcome {ms(pct(st['welcome'], 50))}/{ms(pct(st['welcome'], 99))}, "
        f"message->visitor assigned {ms(pct(st['assigned'], 50))}/{ms(pct(st['assigned'], 99))}, "
        f"message->operator has it {ms(pct(st['operator'], 50))}/{ms(pct(st['operator'], 99))}"
    )
    server = res.get("server_cpu")
    each = [c * 100 for c in res["client_cpu"]]
    rest = (res.get("machine_cpu") or 0) * 100 - sum(each) - (server or 0) * 100
    out(
        f"{tag}: CPU over the {res['span_s']:.1f} s (100% = one core): server "
        + (f"{server * 100:.0f}%" if server is not None else "n/a")
        + f", clients {' + '.join(f'{e:.0f}%' for e in each)}"
        + f", everything else on the machine {max(0.0, rest):.0f}%"
        + ("; client-bound" if each and max(each) > 90 else "")
    )
    for s in res["samples"]:
        out(f"{tag}:   e.g. {s}")


async def flash_phase(targets: list[Any], args: argparse.Namespace, tmp: Path) -> None:
    """The flash crowd against every target in turn, then the comparison line."""
    procs = args.client_procs or 1
    results: dict[str, dict[str, Any]] = {}
    for t in targets:
        results[t.mode] = res = await run_flash(t, args, tmp, procs)
        report_flash(res)
        if "failure" in res:
            args.keep = True
    real, bare = results.get("real"), results.get("bare")
    if real and bare and "failure" not in real | bare:
        a, b = real["last_routed_s"], bare["last_routed_s"]
        out(
            f"flash: everyone routed after {a or 0:.2f} s (real) vs {b or 0:.2f} s (bare relay); "
            f"p99 {ms(pct(real['routed'], 99))} vs {ms(pct(bare['routed'], 99))}"
        )


# ---------------------------------------------------------------------- the client worker


class FlashWorker:
    """This worker's operators and its share of the crowd."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        self.cfg = cfg
        self.real: bool = cfg["real"]
        self.host: str = cfg["host"]
        self.port: int = cfg["port"]
        self.origin: str | None = cfg.get("origin")
        self.n: int = cfg["chats"]
        self._shm_file = open(cfg["shm"], "r+b")  # noqa: SIM115 - kept open for the mmap
        self._mm = mmap.mmap(self._shm_file.fileno(), 8 * max(1, self.n))
        self.op_has = memoryview(self._mm).cast("q")
        self.failures: dict[str, int] = {}
        self.samples: list[str] = []
        self.sockets: list[WSClient] = []
        # chat, arrived, session, welcome, sent, assigned (ns; 0 = never)
        self.rows: list[list[int]] = []
        self.pending = 0
        self.all_done = asyncio.Event()

    def fail(self, kind: str, detail: str) -> None:
        self.failures[kind] = self.failures.get(kind, 0) + 1
        if len(self.samples) < 4:
            self.samples.append(f"{kind}: {detail[:200]}")

    async def operators(self) -> int:
        """Log in and connect this worker's operators, online."""
        count = 0
        for op in self.cfg["operators"]:
            token = f"o:{op['index']}"
            if self.real:
                try:
                    token = await login_operator(self.host, self.port, op, origin=self.origin)
                except LoginFailed as exc:
                    self.fail("login", str(exc))
                    continue
            welcomed = asyncio.get_running_loop().create_future()

            def on_message(raw: str, welcomed: asyncio.Future[None] = welcomed) -> None:
                self.on_operator_frame(raw, welcomed)

            ws = await ws_connect(self.host, self.port, "/ws/operator", on_message, origin=self.origin)
            ws.send(json.dumps({"type": "hello", "token": token}))
            await asyncio.wait_for(welcomed, 15)
            ws.send('{"type":"status","status":"online"}')
            self.sockets.append(ws)
            count += 1
        return count

    def on_operator_frame(self, raw: str, welcomed: asyncio.Future[None]) -> None:
        """The first message of a chat: the operator has it."""
        frame = json.loads(raw)
        kind = frame.get("type")
        if kind == "welcome" and not welcomed.done():
            welcomed.set_result(None)
        text = frame.get("text") or ""
        if kind != "message" or not text.startswith("bench "):
            return
        chat = int(text.split(" ", 2)[1])
        if 0 <= chat < self.n and not self.op_has[chat]:
            self.op_has[chat] = time_ns()

    async def visitor(self, chat: int, row: list[int]) -> None:
        """One visitor's arrival: session, socket, hello, first message, then wait to be assigned."""
        row[1] = time_ns()
        try:
            token = f"v:{chat}"
            if self.real:
                status, body = await http_json(
                    self.host, self.port, "POST", "/api/visitor/sessions", {}, origin=self.origin
                )
                if status != 201:
                    self.fail("session", f"HTTP {status} {body}")
                    return
                token = body["token"]
            row[2] = time_ns()
            loop = asyncio.get_running_loop()
            welcomed, assigned = loop.create_future(), loop.create_future()

            def on_message(raw: str) -> None:
                kind = json.loads(raw).get("type")
                if kind == "welcome" and not welcomed.done():
                    row[3] = time_ns()
                    welcomed.set_result(None)
                elif kind == "assigned" and not assigned.done():
                    row[5] = time_ns()
                    assigned.set_result(None)

            ws = await ws_connect(self.host, self.port, "/ws/visitor", on_message, origin=self.origin)
            self.sockets.append(ws)
            ws.send(json.dumps({"type": "hello", "token": token}))
            await asyncio.wait_for(welcomed, self.cfg["timeout"])
            row[4] = time_ns()
            cid = f"{self.cfg['run']:08x}-{chat:08x}"
            ws.send(f'{{"type":"message","client_id":"{cid}","text":"bench {chat} 0 {row[4]}"}}')
            await asyncio.wait_for(assigned, self.cfg["timeout"])
        except (OSError, TimeoutError, ConnectionError) as exc:
            stage = ("session", "connect", "welcome", "assigned")[sum(1 for x in row[2:5] if x)]
            self.fail(f"visitor_{stage}", repr(exc))
        finally:
            self.pending -= 1
            if self.pending == 0:
                self.all_done.set()

    async def crowd(self, t0: float) -> None:
        """Every chat of this worker arrives at its slot in the window."""
        procs, p, window = self.cfg["procs"], self.cfg["proc"], float(self.cfg["window"])
        mine = list(range(p, self.n, procs))
        self.pending = len(mine)
        if not mine:
            return
        tasks = []
        for chat in mine:
            at = t0 + window * chat / self.n
            await asyncio.sleep(max(0.0, at - time.time()))
            row = [chat, 0, 0, 0, 0, 0]
            self.rows.append(row)
            tasks.append(asyncio.create_task(self.visitor(chat, row)))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.all_done.wait(), self.cfg["timeout"])
        # the operator side may still be on its way (its briefing follows the visitor's news)
        deadline = t0 + float(self.cfg["timeout"])
        while time.time() < deadline and any(r[5] and not self.op_has[r[0]] for r in self.rows):
            await asyncio.sleep(0.02)
        for task in tasks:
            task.cancel()


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def worker_main() -> None:
    """Follow the parent: config, ``go <t0>``, ``finish``."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    w = FlashWorker(json.loads(await reader.readline()))
    _emit("ops_ready", operators=await w.operators())
    t0 = float((await reader.readline()).split()[1])
    cpu0 = _cpu()
    await w.crowd(t0)
    _emit("done", visitors=w.rows, failures=w.failures, samples=w.samples, cpu=_cpu() - cpu0)
    await reader.readline()
    for ws in w.sockets:
        ws.abort()
    _emit("bye")


if __name__ == "__main__":
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(worker_main())
