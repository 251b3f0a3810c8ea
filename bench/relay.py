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
* ``--closed [C]``: C chats (default 200) in a closed loop: the operator answers each
  visitor message when it arrives, the visitor sends the next when the answer arrives
  (bench/_relay_closed.py); round trips/s, round-trip latency, stalled chats.
* ``--flash``: a flash crowd instead of the phases above: ``--chats`` visitors arrive within
  ``--flash-window`` s, each through the whole visitor path (session, socket, hello, first
  message), and the time until each (and every one) is routed is printed
  (bench/_relay_flash.py).
* ``--idle N``: N idle chats (N visitor + N operator sockets) held for
  ``--duration`` s; sockets held, errors, server RSS.

By default the bench starts both servers itself on free ports (the real one with
a fresh SQLite database and operators created with ``chatserver operator add``)
and stops them at the end. ``--url`` targets a running server instead; its
operator accounts are ``bench-op-<k>@bench.example`` / ``bench-password``
(created through the CLI when ``CHAT_DATABASE_URL`` or ``--database-url`` is
set, else they must exist). ``--bare-only`` runs the bare relay alone.

The parts beside this script: ``_relay_server.py`` starts and stops the servers,
``_relay_phase.py`` runs a phase through the client workers (``_relay_client.py``) and
merges their figures, ``_relay_report.py`` prints them, ``_relay_procstats.py`` reads CPU
and memory from /proc.

Usage: ``.venv/bin/python bench/relay.py [--chats 1000] [--rate 2000]
[--duration 10] [--saturate [--inflight 4]] [--idle N] [--client-procs P]``
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import resource
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from _relay_closed import ratio as closed_ratio
from _relay_flash import add_flash_args, flash_phase
from _relay_phase import run_phase
from _relay_procstats import nofile_limit
from _relay_report import out, pct, report
from _relay_server import ORIGIN, Target, attach_real, start_bare, start_real, stop


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
    ap.add_argument(
        "--closed", type=int, nargs="?", const=200, default=0, metavar="C", help="closed loop of C chats"
    )
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
    add_flash_args(ap)
    return ap.parse_args(argv)


async def amain(args: argparse.Namespace) -> int:
    """Start servers, run the phases, print, stop servers."""
    phases = ([] if args.no_paced else ["paced"]) + (["saturate"] if args.saturate else [])
    phases += ["closed"] if args.closed > 0 else []
    if args.idle > 0:
        phases.append("idle")
    if args.flash:
        phases = ["flash"]
    if not phases:
        out("nothing to run (all phases disabled)")
        return 2
    busiest = max(args.chats if set(phases) - {"closed"} else 0, args.closed)
    n_ops = args.operators or max(1, math.ceil(busiest / args.capacity))
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
            if phase == "flash":
                await flash_phase(targets, args, tmp)
                continue
            results: dict[str, dict[str, Any]] = {}
            for t in targets:
                procs = idle_procs if phase == "idle" else base
                results[t.mode] = res = await run_phase(t, phase, args, tmp, procs)
                report(res, args)
                if "failure" in res:
                    args.keep = True
            real, bare = results.get("real"), results.get("bare")
            if phase == "closed" and real and bare and "failure" not in real | bare:
                closed_ratio(real, bare, args, out, pct)
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
    return asyncio.run(amain(args))


if __name__ == "__main__":
    sys.exit(main())
