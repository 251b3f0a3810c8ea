"""Wait-estimate simulation: the sans-I/O core driven with a fake clock.

Visitors arrive as a Poisson stream; operators serve up to ``capacity`` chats each; a chat holds
its slot for a log-normal handle time; a share of chats is transferred to a smaller "billing"
team part-way through (colleagues accept after a log-normal delay, or let the offer lapse).
Visitors write during the chat and operators reply after a log-normal delay, so the silence
rule (nudge, one holding line) and hold messages run as they would in the server.

For each load it prints:

* ``MAE``: the mean absolute error of every wait estimate a visitor was shown (the first one and
  every update), against the wait that was actually left at that moment; as seconds and as a
  share of the mean wait. ``first`` is the same for the first estimate of each wait only.
* ``p90 err``: the 90th percentile of those absolute errors.
* ``overran``: the share of waits that lasted longer than the first promise (the upper end of
  the first range shown); ``told first`` whether every wait that outlived a promise had a new
  estimate before that promise's deadline (and how many promises were broken unannounced).
* ``longest silence``: the longest time a visitor with an unanswered message was told nothing
  at all (no reply, hold message, holding line or system line). The simulated operators do not
  react to nudges, so after the one holding line a gap lasts until the slowest reply; the line
  below the table gives the longest wait for a first response, which the rules bound.

``--oracle N`` also scores the best possible first estimate of each queue wait (the median of N
sampled futures, knowing the true handle-time distribution and every chat's age), to show how
much of the error any estimator would have.

Run: ``python bench/waitsim.py`` for the grid of ``bench/_waitsim_grid.py`` (team sizes 1x1,
4x3 and 20x3, handle times of 240 s and 8 s, loads 0.5 / 0.8 / 0.95, a change of pace halfway,
each cell scored against the oracle; several minutes), ``--quick`` for a short look, ``--cells
1x1`` for some teams only; ``--classic`` for the table of ``docs/etiquette.md`` (one team with
transfers; ``--oracle 200`` takes longer, ``--chats 2000`` for a quick look). The figures are
deterministic for a given ``--seed``.
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import statistics
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chatserver.core import events as ev  # noqa: E402
from chatserver.core.effects import (  # noqa: E402
    Assign,
    CancelTimer,
    Closed,
    Effect,
    HoldingLine,
    HoldMessage,
    LateNotice,
    PromiseMade,
    PromiseSettled,
    QueueUpdate,
    Refused,
    StartTimer,
    TransferCompleted,
    TransferMoved,
    TransferOffered,
    TransferReturned,
    TransferStarted,
)
from chatserver.core.engine import Engine  # noqa: E402

BILLING = "billing"


@dataclass
class Params:
    load: float
    chats: int = 6000
    operators: int = 4
    billing_operators: int = 2
    capacity: int = 3
    handle_s: float = 240.0
    handle_sigma: float = 0.6
    transfer_share: float = 0.1
    accept_mean_s: float = 10.0
    accept_sigma: float = 0.7
    ignore_offer_share: float = 0.1
    visitor_gap_s: float = 60.0
    reply_mean_s: float = 25.0
    reply_sigma: float = 0.9
    hold_interval_s: float = 45.0
    silence_s: float = 60.0
    seed: int = 1
    warmup_share: float = 0.1
    oracle_samples: int = 0
    # Halfway through, handle times are multiplied by this and arrivals slowed by as much (same load).
    pace_change: float = 1.0
    # What the server is configured to assume before it has seen any chats (None: the true mean).
    default_handle_s: float | None = None


@dataclass
class Wait:
    kind: str
    started: float
    ended: float | None = None
    outcome: str | None = None  # served | returned | left
    shown: list[tuple[float, int]] = field(default_factory=list)
    first_range: tuple[float, float] | None = None  # seconds, to the millisecond as told


@dataclass
class Chat:
    cid: int
    arrived: float
    transfer_at: float | None
    operator: int | None = None
    wait: Wait | None = None
    gap_open_at: float | None = None  # first unanswered visitor message
    silence_from: float | None = None  # last thing said to the visitor while the gap is open
    unheard: bool = False  # the gap's first message has had no response of any kind yet
    reply_token: int = 0
    close_token: int = 0
    remaining_s: float = 0.0
    assigned_at: float = 0.0
    handle_mean: float = 0.0
    transferred: bool = False
    closed: bool = False


def lognormal(rng: random.Random, mean: float, sigma: float) -> float:
    mu = math.log(mean) - sigma**2 / 2
    return rng.lognormvariate(mu, sigma)


class Simulation:
    def __init__(self, p: Params) -> None:
        self.p = p
        self.rng = random.Random(p.seed)
        self.engine = Engine(
            default_capacity=p.capacity,
            default_handle_s=p.default_handle_s or p.handle_s,
            hold_interval_s=p.hold_interval_s,
            silence_s=p.silence_s,
        )
        self.now = 0.0
        self._heap: list[tuple[float, int, str, Any]] = []
        self._seq = 0
        self._timers: dict[str, int] = {}
        self.chats: dict[int, Chat] = {}
        self.waits: list[tuple[Chat, Wait]] = []
        self.promises: dict[int, dict[str, Any]] = {}
        self.silences: list[float] = []
        self.first_silences: list[float] = []
        self.nudges = 0
        self.holding_lines = 0
        self.hold_messages = 0
        self.late_notices = 0
        self.refusals: dict[str, int] = {}
        self.oracle_samples = p.oracle_samples
        self.oracle: dict[int, float] = {}
        self.rng_oracle = random.Random(p.seed + 1)
        self.change_at = math.inf
        self.oracle_range = (0.0, 0.0)
        self.oracle_ranges: dict[int, tuple[float, float]] = {}

    def handle_mean(self) -> float:
        return self.p.handle_s * (self.p.pace_change if self.now >= self.change_at else 1.0)

    # ------------------------------------------------------------------ plumbing

    def at(self, t: float, kind: str, payload: Any = None) -> int:
        self._seq += 1
        heapq.heappush(self._heap, (t, self._seq, kind, payload))
        return self._seq

    def feed(self, event: ev.Event) -> list[Effect]:
        effects = self.engine.receive(event, self.now)
        self.apply(effects)
        return effects

    def apply(self, effects: Iterable[Effect]) -> None:
        for e in effects:
            if isinstance(e, StartTimer):
                self._timers[e.key] = self.at(e.deadline, "timer", e.key)
            elif isinstance(e, CancelTimer):
                self._timers.pop(e.key, None)
            elif isinstance(e, Assign):
                self.on_assigned(self.chats[e.conversation_id], e.operator_id)
            elif isinstance(e, QueueUpdate):
                wait = self.chats[e.conversation_id].wait
                if self.oracle_samples and wait is not None and wait.kind == "queue" and not wait.shown:
                    self.oracle[id(wait)] = self.oracle_first(e.conversation_id, e.position)
                    self.oracle_ranges[id(wait)] = self.oracle_range
                if wait is not None and not wait.shown and e.low_ms is not None and e.high_ms is not None:
                    wait.first_range = (e.low_ms / 1000, e.high_ms / 1000)
                self.shown(e.conversation_id, e.estimated_wait_s)
            elif isinstance(e, TransferStarted):
                chat = self.chats[e.conversation_id]
                chat.wait = Wait("transfer", self.now)
                self.waits.append((chat, chat.wait))
                self.shown(e.conversation_id, e.estimated_wait_s)
                self.said(chat)
            elif isinstance(e, TransferMoved):
                self.shown(e.conversation_id, e.estimated_wait_s)
                self.said(self.chats[e.conversation_id])
            elif isinstance(e, TransferOffered):
                if self.rng.random() >= self.p.ignore_offer_share:
                    delay = lognormal(self.rng, self.p.accept_mean_s, self.p.accept_sigma)
                    self.at(self.now + delay, "accept", (e.conversation_id, e.to_operator_id))
            elif isinstance(e, TransferCompleted):
                self.on_transfer_done(self.chats[e.conversation_id], e.to_operator_id, "served")
            elif isinstance(e, TransferReturned):
                self.on_transfer_done(self.chats[e.conversation_id], e.operator_id, "returned")
            elif isinstance(e, HoldMessage):
                self.hold_messages += 1
                self.said(self.chats[e.conversation_id])
            elif isinstance(e, LateNotice):
                self.late_notices += 1
                self.said(self.chats[e.conversation_id])
            elif isinstance(e, HoldingLine):
                self.holding_lines += 1
                self.said(self.chats[e.conversation_id])
            elif isinstance(e, PromiseMade):
                self.promises[e.promise_id] = {
                    "cid": e.conversation_id,
                    "made": e.made_at,
                    "deadline": e.deadline,
                    "outcome": None,
                    "settled": None,
                }
            elif isinstance(e, PromiseSettled):
                self.promises[e.promise_id].update(outcome=e.outcome, settled=e.at)
            elif isinstance(e, Refused):
                self.refusals[e.code] = self.refusals.get(e.code, 0) + 1
            elif isinstance(e, Closed):
                pass
            elif type(e).__name__ == "SilenceNudge":
                self.nudges += 1

    def shown(self, cid: int, estimate: int | None) -> None:
        chat = self.chats[cid]
        if chat.wait is not None and chat.wait.ended is None and estimate is not None:
            chat.wait.shown.append((self.now, estimate))

    # ------------------------------------------------------------------ visitors and silence

    def said(self, chat: Chat) -> None:
        """Something reached the visitor: a silence (if their message was waiting) ends here."""
        if chat.silence_from is not None:
            self.heard(chat)
            chat.silence_from = self.now

    def heard(self, chat: Chat) -> None:
        assert chat.silence_from is not None
        self.silences.append(self.now - chat.silence_from)
        if chat.unheard:
            self.first_silences.append(self.now - chat.silence_from)
            chat.unheard = False

    def visitor_writes(self, chat: Chat) -> None:
        self.feed(ev.VisitorMessaged(chat.cid))
        if chat.gap_open_at is None:
            chat.gap_open_at = self.now
            chat.silence_from = self.now
            chat.unheard = True
            self.schedule_reply(chat)

    def schedule_reply(self, chat: Chat) -> None:
        if chat.operator is None or chat.gap_open_at is None:
            return
        chat.reply_token += 1
        delay = lognormal(self.rng, self.p.reply_mean_s, self.p.reply_sigma)
        self.at(self.now + delay, "reply", (chat.cid, chat.reply_token))

    def operator_replies(self, chat: Chat) -> None:
        self.feed(ev.OperatorReplied(chat.cid))
        if chat.silence_from is not None:
            self.heard(chat)
        chat.gap_open_at = None
        chat.silence_from = None
        self.at(self.now + self.rng.expovariate(1 / self.p.visitor_gap_s), "visitor", chat.cid)

    # ------------------------------------------------------------------ chat lifecycle

    def arrive(self, cid: int) -> None:
        transfer_at = None
        if self.rng.random() < self.p.transfer_share:
            transfer_at = self.rng.uniform(0.2, 0.8)
        chat = Chat(cid, self.now, transfer_at)
        self.chats[cid] = chat
        chat.wait = Wait("queue", self.now)
        self.feed(ev.ConversationOpened(cid, f"v{cid}"))
        if chat.operator is None:
            self.waits.append((chat, chat.wait))
        self.visitor_writes(chat)

    def on_assigned(self, chat: Chat, operator: int) -> None:
        chat.operator = operator
        chat.assigned_at = self.now
        chat.handle_mean = self.handle_mean()
        if chat.wait is not None and chat.wait.ended is None:
            chat.wait.ended, chat.wait.outcome = self.now, "served"
        chat.wait = None
        handle = lognormal(self.rng, chat.handle_mean, self.p.handle_sigma)
        if chat.transfer_at is not None and not chat.transferred:
            self.at(self.now + handle * chat.transfer_at, "transfer", chat.cid)
            chat.remaining_s = handle * (1 - chat.transfer_at)
        else:
            chat.close_token += 1
            self.at(self.now + handle, "close", (chat.cid, chat.close_token))
        self.said(chat)  # "assigned": the visitor sees who is with them
        self.schedule_reply(chat)

    def request_transfer(self, chat: Chat) -> None:
        chat.transferred = True
        request = ev.TransferRequested(
            chat.cid, chat.operator or 0, "Billing can change invoices", "Fixed today", to_team=BILLING
        )
        effects = self.feed(request)
        if any(isinstance(e, Refused) for e in effects):
            # The operator reads the alternatives and chooses to queue for billing anyway.
            self.feed(
                ev.TransferRequested(
                    chat.cid, chat.operator or 0, request.reason, request.benefit, to_team=BILLING, queue=True
                )
            )

    def on_transfer_done(self, chat: Chat, operator: int, outcome: str) -> None:
        if chat.wait is not None and chat.wait.ended is None:
            chat.wait.ended, chat.wait.outcome = self.now, outcome
        chat.wait = None
        self.said(chat)
        chat.operator = operator
        rest = chat.remaining_s
        if outcome == "served":
            rest = lognormal(self.rng, self.handle_mean(), self.p.handle_sigma)
        chat.close_token += 1
        self.at(self.now + rest, "close", (chat.cid, chat.close_token))
        self.schedule_reply(chat)

    # ------------------------------------------------------------------ run

    def run(self) -> None:
        p = self.p
        slots = p.operators * p.capacity
        work_per_chat = p.handle_s * (1 + p.transfer_share)  # a transferred chat holds a second slot
        rate = p.load * slots / work_per_chat
        for op in range(1, p.operators + 1):
            teams = frozenset({BILLING}) if op <= p.billing_operators else frozenset()
            self.feed(ev.OperatorConnected(op, teams, p.capacity))
            self.feed(ev.OperatorStatusChanged(op, "online"))
        t = 0.0
        for cid in range(1, p.chats + 1):
            if cid == p.chats // 2 and p.pace_change != 1.0:
                self.change_at = t
                rate /= p.pace_change
            t += self.rng.expovariate(rate)
            self.at(t, "arrive", cid)
        while self._heap:
            self.now, _seq, kind, payload = heapq.heappop(self._heap)
            if kind == "timer":
                if self._timers.get(payload) == _seq:
                    del self._timers[payload]
                    self.feed(ev.TimerFired(payload))
            elif kind == "arrive":
                self.arrive(payload)
            elif kind == "close":
                cid, token = payload
                chat = self.chats[cid]
                if token == chat.close_token and not chat.closed and chat.wait is None:
                    chat.closed = True
                    if chat.silence_from is not None:
                        self.heard(chat)
                    chat.silence_from = chat.gap_open_at = None
                    self.feed(ev.ConversationClosed(cid))
            elif kind == "transfer":
                chat = self.chats[payload]
                if not chat.closed:
                    self.request_transfer(chat)
            elif kind == "accept":
                cid, op = payload
                if self.engine.offer_of(cid) == op:
                    self.feed(ev.TransferAccepted(cid, op))
            elif kind == "reply":
                cid, token = payload
                chat = self.chats[cid]
                if not chat.closed and token == chat.reply_token and chat.gap_open_at is not None:
                    if self.engine.conversations.get(cid) is not None and chat.operator is not None:
                        self.operator_replies(chat)
            elif kind == "visitor":
                chat = self.chats[payload]
                if not chat.closed:
                    self.visitor_writes(chat)

    # ------------------------------------------------------------------ oracle

    def oracle_first(self, cid: int, position: int) -> float:
        """The best any estimator could say at this moment (for comparison only).

        It knows what no server knows for sure: the exact handle-time distribution. With it and
        the age of every chat in service it samples when slots will free (with refills) and takes
        the median of the ``position``-th release: the estimate with the least mean absolute
        error. Approximate: treats every slot as able to take this chat.
        """
        p = self.p
        sigma = p.handle_sigma
        mu = math.log(self.handle_mean()) - sigma**2 / 2
        busy = [
            (self.now - c.assigned_at, math.log(c.handle_mean) - sigma**2 / 2)
            for c in self.chats.values()
            if c.operator is not None and not c.closed
        ]
        unit = statistics.NormalDist()
        # Each chat's handle time is known to exceed its age: invert the conditional distribution.
        floors = [(age, m, unit.cdf((math.log(max(age, 1e-9)) - m) / sigma)) for age, m in busy]
        samples = []
        for _ in range(self.oracle_samples):
            releases = []
            for age, m, floor in floors:
                u = floor + (1 - floor) * self.rng_oracle.random()
                z = unit.inv_cdf(min(max(u, 1e-12), 1 - 1e-12))
                releases.append(max(math.exp(m + sigma * z) - age, 0.0))
            heapq.heapify(releases)
            t = 0.0
            for _ in range(position):
                if not releases:
                    break
                t = heapq.heappop(releases)
                heapq.heappush(releases, t + self.rng_oracle.lognormvariate(mu, p.handle_sigma))
            samples.append(t)
        samples.sort()
        n = len(samples)
        self.oracle_range = (samples[int(0.12 * n)], samples[min(int(0.925 * n), n - 1)])
        return samples[n // 2]

    # ------------------------------------------------------------------ figures

    def report(self) -> dict[str, Any]:
        skip = self.p.chats * self.p.warmup_share
        owners = {id(w): chat.cid for chat, w in self.waits}
        served = [w for chat, w in self.waits if chat.cid > skip and w.outcome == "served" and w.shown]
        errors = sorted(abs(est - (w.ended - t)) for w in served for t, est in w.shown)  # type: ignore[operator]
        first = [abs(w.shown[0][1] - (w.ended - w.started)) for w in served]  # type: ignore[operator]
        mean_wait = statistics.mean(w.ended - w.started for w in served) if served else 0.0  # type: ignore[operator]
        by_cid: dict[int, list[dict[str, Any]]] = {}
        for promise in self.promises.values():
            by_cid.setdefault(promise["cid"], []).append(promise)
        overran = announced = 0
        for w in served:
            made = [pr for pr in by_cid.get(owners[id(w)], []) if w.started <= pr["made"] <= w.ended]  # type: ignore[operator]
            if not made:
                continue
            first_promise = min(made, key=lambda pr: pr["made"])
            if w.ended > first_promise["deadline"]:  # type: ignore[operator]
                overran += 1
                revised = first_promise["outcome"] in ("revised", "revised_late")
                if revised and first_promise["settled"] <= first_promise["deadline"]:
                    announced += 1
        oracle = [
            abs(est - (w.ended - w.started))  # type: ignore[operator]
            for w in served
            if (est := self.oracle.get(id(w))) is not None
        ]
        silences = sorted(self.silences)
        return {
            "load": self.p.load,
            "waits": len(served),
            "queue_waits": sum(1 for w in served if w.kind == "queue"),
            "transfer_waits": sum(1 for w in served if w.kind == "transfer"),
            "estimates": len(errors),
            "mean_wait": mean_wait,
            "mae": statistics.mean(errors) if errors else 0.0,
            "mae_first": statistics.mean(first) if first else 0.0,
            "mae_oracle": statistics.mean(oracle) if oracle else None,
            "mean_queue_wait": statistics.mean(
                w.ended - w.started  # type: ignore[operator]
                for w in served
                if id(w) in self.oracle
            )
            if oracle
            else None,
            "mae_first_queue": statistics.mean(
                abs(w.shown[0][1] - (w.ended - w.started))  # type: ignore[operator]
                for w in served
                if id(w) in self.oracle
            )
            if oracle
            else None,
            "p90": errors[int(0.9 * (len(errors) - 1))] if errors else 0.0,
            "overran": overran / len(served) if served else 0.0,
            "overran_n": overran,
            "announced": announced,
            "broken": sum(1 for pr in self.promises.values() if pr["outcome"] == "broken"),
            "late_notices": self.late_notices,
            "longest_silence": silences[-1] if silences else 0.0,
            "longest_first_silence": max(self.first_silences, default=0.0),
            "p99_silence": silences[int(0.99 * (len(silences) - 1))] if silences else 0.0,
            "nudges": self.nudges,
            "holding_lines": self.holding_lines,
            "hold_messages": self.hold_messages,
            "returned": sum(1 for c, w in self.waits if c.cid > skip and w.outcome == "returned"),
        }


def simulate(p: Params) -> dict[str, Any]:
    sim = Simulation(p)
    sim.run()
    return sim.report()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--loads", default="0.5,0.8,0.95")
    parser.add_argument("--chats", type=int, default=6000, help="chats per load (the first 10%% warm up)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--operators", type=int, default=4)
    parser.add_argument("--capacity", type=int, default=3)
    parser.add_argument("--sigma", type=float, default=0.6, help="log-normal sigma of handle times")
    parser.add_argument("--transfers", type=float, default=0.1, help="share of chats transferred")
    parser.add_argument(
        "--oracle",
        type=int,
        default=0,
        metavar="N",
        help="also score the best possible first estimate of each queue wait (N samples each; slow)",
    )
    parser.add_argument(
        "--classic", action="store_true", help="the table of docs/etiquette.md instead of the grid"
    )
    parser.add_argument("--quick", action="store_true", help="the grid with fewer chats and oracle samples")
    parser.add_argument("--pace", type=float, default=2.0, help="grid: handle-time factor from halfway")
    parser.add_argument("--cells", default="", help="grid: only teams like 1x1,4x3 (default all)")
    args = parser.parse_args(argv)
    if not args.classic:
        from _waitsim_grid import run_grid

        chats = 800 if args.quick else (args.chats if args.chats != 6000 else 3000)
        samples = args.oracle or (40 if args.quick else 100)
        loads = tuple(float(x) for x in args.loads.split(","))
        cells = run_grid(
            chats=chats, oracle=samples, seed=args.seed, pace=args.pace, loads=loads, only=args.cells
        )
        return 0 if all(all(c.passes().values()) for c in cells) else 1  # n/a cells pass
    print(
        f"{args.operators} operators x {args.capacity} chats; handle time log-normal, mean 240 s, sigma "
        f"{args.sigma}; {args.transfers:.0%} of chats transferred to a 2-person team; {args.chats} chats "
        f"per load; seed {args.seed}"
    )
    print(
        f"{'load':>5} {'waits':>6} {'mean wait':>9} {'MAE (all shown)':>16} {'first':>6} {'p90 err':>8} "
        f"{'overran':>8} {'told first':>11} {'longest silence':>16}"
    )
    rows = []
    for load in (float(x) for x in args.loads.split(",")):
        params = Params(
            load=load,
            chats=args.chats,
            seed=args.seed,
            operators=args.operators,
            capacity=args.capacity,
            handle_sigma=args.sigma,
            transfer_share=args.transfers,
            oracle_samples=args.oracle,
        )
        r = simulate(params)
        rows.append(r)
        mean = r["mean_wait"] or 1.0
        told = "yes" if r["announced"] == r["overran_n"] and r["broken"] == 0 else "NO"
        share, first = r["mae"] / mean, r["mae_first"] / mean
        print(
            f"{load:>5.2f} {r['waits']:>6} {r['mean_wait']:>8.0f}s {r['mae']:>6.0f}s = {share:>4.0%} "
            f"{first:>8.0%} {r['p90']:>7.0f}s {r['overran']:>8.1%} "
            f"{told:>4} {r['announced']:>3}/{r['overran_n']:<3} {r['longest_silence']:>15.0f}s"
        )
    print()
    for r in rows:
        line = (
            f"load {r['load']:.2f}: {r['queue_waits']} queue and {r['transfer_waits']} transfer waits, "
            f"{r['estimates']} estimates shown; {r['late_notices']} late notices; promises broken without "
            f"notice: {r['broken']}; transfers returned to the original operator: {r['returned']}; "
            f"hold messages {r['hold_messages']}, nudges {r['nudges']}, holding lines {r['holding_lines']}; "
            f"longest wait for a first response {r['longest_first_silence']:.0f}s, p99 silence "
            f"{r['p99_silence']:.0f}s"
        )
        if r["mae_oracle"] is not None:
            mean = r["mean_queue_wait"] or 1.0
            line += (
                f"; first estimate of queue waits (mean {mean:.0f}s): ours off by "
                f"{r['mae_first_queue']:.0f}s "
                f"({r['mae_first_queue'] / mean:.0%}), the best possible by {r['mae_oracle']:.0f}s "
                f"({r['mae_oracle'] / mean:.0%})"
            )
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
