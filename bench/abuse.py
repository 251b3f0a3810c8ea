"""Other chats' latency while one socket abuses the server, next to the same with no abuser.

Starts the real server (``_relay_server.start_real``: fresh SQLite, an operator through the
CLI), opens ``--chats`` chats served by one operator, and has each visitor send a message every
``--interval`` s; latency is visitor send -> operator receives the ``message`` frame. Three
phases of ``--duration`` s each:

* baseline: nothing else;
* flood: one more visitor socket sends message frames as fast as its socket takes them; when
  the server closes it (1008) it reconnects at once with a new session and goes on;
* slow reader: one more visitor stops reading its socket while a second socket of the operator
  sends it 4,000-character replies as fast as they are acked.

The server runs the ``chatserver`` next to the Python running the bench, importing the package
the way that Python does (set ``PYTHONPATH`` to a checkout to bench that checkout).

Usage: ``.venv/bin/python bench/abuse.py [--chats 50] [--duration 8] [--interval 0.1]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _relay_net import WSClient, http_json, ws_connect
from _relay_procstats import rss_mb
from _relay_server import ORIGIN, PASSWORD, Target, operator_accounts, start_real, stop


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--chats", type=int, default=50)
    ap.add_argument("--duration", type=float, default=8.0)
    ap.add_argument("--interval", type=float, default=0.1, help="seconds between a visitor's messages")
    ap.add_argument("--chatserver", default=str(Path(sys.executable).parent / "chatserver"))
    ap.add_argument("--capacity", type=int, default=200)
    ap.add_argument("--start-timeout", type=float, default=30.0)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--origin", default=None)
    return ap.parse_args()


class Bench:
    def __init__(self, t: Target) -> None:
        self.t = t
        self.latencies: list[float] = []
        self.assigned: asyncio.Queue[int] = asyncio.Queue()
        self.token = ""
        self.closes: list[tuple[str, int, str]] = []

    async def socket(self, path: str, on_message: Any, role: str) -> WSClient:
        def on_close(code: int, reason: str) -> None:
            self.closes.append((role, code, reason))

        return await ws_connect(self.t.host, self.t.port, path, on_message, on_close, origin=self.t.origin)

    async def operator(self, on_message: Any) -> WSClient:
        ws = await self.socket("/ws/operator", on_message, "operator")
        ws.send(json.dumps({"type": "hello", "token": self.token}))
        ws.send(json.dumps({"type": "status", "status": "online"}))
        return ws

    def on_operator(self, raw: str) -> None:
        frame = json.loads(raw)
        if frame.get("type") == "assigned":
            self.assigned.put_nowait(frame["conversation_id"])
        elif frame.get("type") == "message" and frame.get("sender") == "visitor":
            text = frame.get("text", "")
            if text.startswith("t="):
                self.latencies.append(time.perf_counter() - float(text[2:]))

    async def visitor(self, on_message: Any = None) -> tuple[WSClient, int]:
        status, data = await http_json(
            self.t.host, self.t.port, "POST", "/api/visitor/sessions", {}, origin=self.t.origin
        )
        assert status == 201, data
        ws = await self.socket("/ws/visitor", on_message or (lambda raw: None), "visitor")
        ws.send(json.dumps({"type": "hello", "token": data["token"]}))
        ws.send(json.dumps({"type": "message", "client_id": "open", "text": "hello"}))
        return ws, await asyncio.wait_for(self.assigned.get(), 10)


SENT = [0]  # client_ids stay unique across phases (a repeated one is acked and not stored again)


async def paced(chats: list[WSClient], interval: float, until: float) -> None:
    while time.perf_counter() < until:
        SENT[0] += 1
        for ws in chats:
            ws.send(
                json.dumps(
                    {"type": "message", "client_id": f"m-{SENT[0]}", "text": f"t={time.perf_counter()}"}
                )
            )
        await asyncio.sleep(interval)


async def flooder(bench: Bench, until: float, counts: dict[str, int]) -> None:
    while time.perf_counter() < until:
        ws, _ = await bench.visitor()
        counts["sockets"] += 1
        n = 0
        while not ws.closed and time.perf_counter() < until:
            for _ in range(64):
                n += 1
                ws.send(json.dumps({"type": "message", "client_id": f"f-{n}", "text": "spam"}))
            counts["frames"] += 64
            await asyncio.sleep(0)
            while ws.write_buffer > 256 * 1024 and not ws.closed:
                await asyncio.sleep(0.001)
        ws.abort()


PUMPS = 10  # operator sockets pumping replies, each under its own frame limit


async def slow_reader(bench: Bench, until: float, counts: dict[str, int]) -> None:
    stuck, cid = await bench.visitor()
    assert stuck._transport is not None
    stuck._transport.pause_reading()  # reads nothing from here on
    text = "a long answer " * 285

    async def pump(k: int) -> None:
        answers: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        def on_pump(raw: str) -> None:
            frame = json.loads(raw)
            if frame.get("type") in ("ack", "error"):
                answers.put_nowait(frame)

        ws = await bench.operator(on_pump)
        n = 0
        while time.perf_counter() < until and not ws.closed:
            for _ in range(4):
                n += 1
                ws.send(
                    json.dumps(
                        {"type": "message", "conversation_id": cid, "client_id": f"p{k}-{n}", "text": text}
                    )
                )
            wait = 0.0
            for _ in range(4):
                try:
                    answer = await asyncio.wait_for(answers.get(), 10)
                except TimeoutError:  # this pump's own socket was closed (its queue was full too)
                    counts["pumps_closed"] = counts.get("pumps_closed", 0) + 1
                    ws.close()
                    return
                if answer.get("code") == "rate_limited":
                    wait = max(wait, answer["retry_after_ms"] / 1000)
                elif answer["type"] == "ack":
                    counts["frames"] += 1
            await asyncio.sleep(wait)
        ws.close()

    await asyncio.gather(*(pump(k) for k in range(PUMPS)))
    stuck._transport.resume_reading()  # read again: the close is behind what was on its way
    for _ in range(600):
        if stuck.closed:
            break
        await asyncio.sleep(0.01)
    counts["closed"] = stuck.close_code
    stuck.abort()


def figures(label: str, latencies: list[float], extra: str) -> None:
    ms = sorted(x * 1000 for x in latencies)
    if not ms:
        print(f"{label:<12} no messages  {extra}")
        return
    p50 = statistics.median(ms)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    print(
        f"{label:<12} {len(ms):>6} msgs  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  max {ms[-1]:7.1f} ms  {extra}"
    )


async def amain() -> None:
    args = parse_args()
    # The frame limit is what the flood meets: keep it on (other public limits stay off).
    os.environ.setdefault("CHAT_WS_FRAMES_PER_S", "20")
    started: list[Target] = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            t = await start_real(args, Path(tmp), 1, started)
            t.origin = t.origin or ORIGIN
            bench = Bench(t)
            op = operator_accounts(1)[0]
            status, data = await http_json(
                t.host, t.port, "POST", "/api/operators/login", {"email": op["email"], "password": PASSWORD}
            )
            assert status == 200, data
            bench.token = data["token"]
            await bench.operator(bench.on_operator)
            chats = [(await bench.visitor())[0] for _ in range(args.chats)]
            print(f"{args.chats} chats, one message each every {args.interval} s, {args.duration} s a phase")
            for phase in ("baseline", "flood", "slow reader"):
                bench.latencies = []
                counts = {"sockets": 0, "frames": 0, "closed": 0}
                until = time.perf_counter() + args.duration
                jobs = [paced(chats, args.interval, until)]
                if phase == "flood":
                    jobs.append(flooder(bench, until, counts))
                elif phase == "slow reader":
                    jobs.append(slow_reader(bench, until, counts))
                await asyncio.gather(*jobs)
                await asyncio.sleep(0.5)
                rss = rss_mb(t.pid)
                extra = f"server RSS {rss:.0f} MB" if rss is not None else ""
                if phase == "flood":
                    extra += f"; flooder sent {counts['frames']} frames over {counts['sockets']} sockets"
                if phase == "slow reader":
                    closed = counts["closed"] or "nothing"
                    extra += f"; {counts['frames']} large replies pumped, reader closed with {closed}"
                    if counts.get("pumps_closed"):
                        extra += f"; {counts['pumps_closed']} pump sockets closed as slow too"
                figures(phase, bench.latencies, extra)
            print("closes seen:", sorted(set(bench.closes)))
        finally:
            for target in started:
                stop(target)
                if target.log is not None:
                    log = target.log.read_text()
                    print(
                        "server log lines with ERROR or Traceback:",
                        log.count("ERROR") + log.count("Traceback"),
                    )


if __name__ == "__main__":
    asyncio.run(amain())
