"""The closed-loop phase of bench/relay.py: chats that wait on each other, as people chat.

Each visitor sends one message; the operator who receives it answers at once; the visitor
sends its next message only when that answer arrives. Nothing is paced: the throughput is
what the round trip allows, so the latency of every hop (the ack waiting on a commit, a
frame waiting for a send loop) shows up directly as fewer messages per second.

The visitor message carries ``bench <chat> <n> <send ns>``; the operator answers
``re <chat> <n>``; the visitor that sent message ``n`` times the round trip when ``re ... n``
comes back on its own socket. A chat is *stalled* when its round trip has taken over 1 s.
"""

from __future__ import annotations

import asyncio
import json
import time
from array import array
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

    from _relay_client import Worker
    from _relay_peers import Operator, Visitor

time_ns = time.time_ns
STALL_NS = 1_000_000_000


def operator_answer(o: Operator, conv: Any, chat: int, n: int) -> None:
    """The operator answers visitor message ``n`` of ``chat`` at once."""
    w = o.w
    k = w.op_sent = w.op_sent + 1
    o.ws.send(
        f'{{"type":"message","conversation_id":{json.dumps(conv)},'
        f'"client_id":"{w.run:08x}-op{o.index}-{k:x}","text":"re {chat} {n}"}}'
    )


def visitor_answered(v: Visitor, text: str) -> None:
    """An operator's message reached the visitor: time the round trip, send the next."""
    if not text.startswith("re "):
        return
    parts = text.split(" ", 3)
    try:
        n = int(parts[2])
    except (IndexError, ValueError):
        return
    w = v.w
    if n != v.next_n - 1 or n <= v.answered:
        return
    v.answered = n
    if n < 1:
        return  # the warm-up message that opened the chat
    now = time_ns()
    sent = v.times[n]
    if sent >= w.t0_ns:
        w.rtt.append(now - sent)
        if now < w.t1_ns:
            w.rt_window += 1
            v.win_acks += 1
    if now < w.t1_ns:
        v.send_next()


def check(w: Worker, live: list[Visitor], now: int) -> None:
    """Stalled chats and the oldest round trip still open."""
    stalled_now = 0
    for v in live:
        n = v.next_n - 1
        if n >= 1 and v.answered < n:
            age = now - v.times[n]
            if age > w.oldest_ns:
                w.oldest_ns = age
            if age > STALL_NS:
                stalled_now += 1
                w.stalled.add(v.chat)
    if stalled_now > w.max_stalled_at_once:
        w.max_stalled_at_once = stalled_now


async def window(w: Worker, t0: float, cpu_s: Any) -> None:
    """Start every chat's loop at ``t0``, stop sending at the end, wait for the last answers."""
    duration = float(w.cfg["duration"])
    w.t0_ns = int(t0 * 1e9)
    w.t1_ns = w.t0_ns + int(duration * 1e9)
    live = [v for v in w.visitors if v.assigned]
    await asyncio.sleep(max(0.0, t0 - time.time()))
    cpu0 = cpu_s()

    async def monitor() -> None:
        while True:
            await asyncio.sleep(0.1)
            check(w, live, time_ns())

    mon = asyncio.create_task(monitor())
    for v in live:
        v.send_next()
    await asyncio.sleep(max(0.0, w.t1_ns / 1e9 - time.time()))
    w.cpu_window = cpu_s() - cpu0
    deadline = time.time() + float(w.cfg.get("drain", 5))
    while time.time() < deadline and any(v.answered < v.next_n - 1 for v in live):
        await asyncio.sleep(0.05)
    mon.cancel()
    check(w, live, time_ns())


def report(res: dict[str, Any], args: argparse.Namespace, out: Any, pct: Any, ms: Any) -> None:
    """The closed-loop figures of one target (the common lines are printed by the caller)."""
    tag = f"closed loop [{res['target']}]"
    rtt = res["rtt"]
    d = args.duration
    out(
        f"{tag}: {res['chats']} chats, {res['rt_window'] / d:.0f} round trips/s = "
        f"{2 * res['rt_window'] / d:.0f} msg/s; round trip p50 {ms(pct(rtt, 50))}, "
        f"p99 {ms(pct(rtt, 99))}, max {ms(pct(rtt, 100))}; visitor->operator p50 "
        f"{ms(pct(res['lat'], 50))}, p99 {ms(pct(res['lat'], 99))}; send->ack p99 "
        f"{ms(pct(res['ack'], 99))}; errors {sum(res.get('errors', {}).values())}, stalled chats "
        f"{res['stalled']}, oldest in flight {ms(res['oldest_ns'] / 1e6)}"
    )
    cpu = res.get("server_cpu")
    if cpu is not None and res["rt_window"]:
        out(f"{tag}: server CPU per chat message {cpu * d / (2 * res['rt_window']) * 1e6:.0f} us")
    acks = res["chat_acks"]
    if acks:
        out(
            f"{tag}: routed {res['routed']}/{res['chats']}, round trips per chat in window: min "
            f"{acks[0]}, median {acks[len(acks) // 2]}, max {acks[-1]}; chats with none "
            f"{sum(1 for a in acks if a == 0)}; seq gaps {res['seq_gaps']}, duplicates "
            f"{res['seq_dups'] + res['dup_msgs']}"
        )


def ratio(real: dict[str, Any], bare: dict[str, Any], args: argparse.Namespace, out: Any, pct: Any) -> None:
    """Real against bare relay, same run, same client code."""
    r, b = real["rt_window"], bare["rt_window"]
    out(
        f"closed loop: real / bare relay throughput ratio {r / b if b else float('nan'):.2f} "
        f"({2 * r / args.duration:.0f} / {2 * b / args.duration:.0f} msg/s); round trip p99 "
        f"{pct(real['rtt'], 99):.1f} / {pct(bare['rtt'], 99):.1f} ms"
    )


def samples(w: Worker) -> array[int]:
    """The round-trip samples of a worker (written beside the others)."""
    return w.rtt
