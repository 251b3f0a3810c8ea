"""Printing the relay bench's figures: one phase's results as a few lines of text.

Besides percentiles it always prints stalled chats and the oldest message in flight, since
starvation does not show in percentiles (docs/performance.md#what-a-benchmark-must-count).
"""

from __future__ import annotations

import argparse
import json
import math
import os
from array import array
from typing import Any

from _relay_closed import report as closed_report


def out(line: str) -> None:
    """Print one result line now."""
    print(line, flush=True)


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
    name = {"paced": "paced", "saturate": "saturated", "idle": "idle", "closed": "closed loop"}[res["phase"]]
    tag = f"{name} [{res['target']}]"
    if "failure" in res:
        out(f"{tag}: FAILED: {res['failure']}")
        for log in res.get("client_logs", []):
            if log:
                out("  client log: " + log.replace("\n", "\n  client log: "))
        return
    d = args.duration
    if res["phase"] == "closed":
        closed_report(res, args, out, pct, ms)
    elif res["phase"] == "idle":
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
