"""Segments A, B, C and D from what a customer's orders are worth (docs/playbook.md#segments).

A are the best customers, who bring most of the value; B the promising ones who could
become A; C the small, steady ones; D those who cost time and energy. The segment is
derived when the context is read, from three numbers the order feed keeps per customer
(value and count of orders that were not cancelled or refunded, and the number of returns
and complaints) and from cut-offs shared by every customer:

- **share** mode (the default, Pareto): rank customers by order value; those who together
  bring the first ``CHAT_SEGMENT_SHARES[0]`` of all value (0.8) are A, those who bring the
  value up to ``CHAT_SEGMENT_SHARES[1]`` (0.95) are B, everyone else who bought is C. The
  cut-offs are recomputed from the whole distribution at most every
  ``CHAT_SEGMENT_REFRESH_S`` seconds and kept in the ``setting`` table, so reading a context
  never scans the customers.
- **amount** mode (``CHAT_SEGMENT_AMOUNTS=a_min,b_min``): fixed order values instead.

D overrides B and C (never A): a customer with at least ``CHAT_SEGMENT_D_CASES`` returns
and complaints (3; 0 switches D off). A customer who has bought nothing and is not D has no
segment (``null``). Values are summed as the shop sends them: a shop selling in several
currencies should push totals in one currency.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from chatserver.settings import Settings
from chatserver.storage import repository as repo
from chatserver.storage.writer import MessageWriter

log = logging.getLogger("chatserver.customers")

SEGMENTS = ("A", "B", "C", "D")
SHARE, AMOUNT = "share", "amount"


@dataclass(frozen=True, slots=True)
class SegmentPolicy:
    mode: str  # SHARE | AMOUNT
    a: float  # share mode: cumulative value share of A; amount mode: least order value of A
    b: float  # share mode: cumulative value share of A and B; amount mode: least order value of B
    d_cases: int
    refresh_s: float

    @classmethod
    def from_settings(cls, settings: Settings) -> SegmentPolicy:
        if settings.segment_amounts is not None:
            a, b = settings.segment_amounts
            return cls(AMOUNT, a, b, settings.segment_d_cases, settings.segment_refresh_s)
        a, b = settings.segment_shares
        return cls(SHARE, a, b, settings.segment_d_cases, settings.segment_refresh_s)

    def params(self) -> dict[str, Any]:
        return {"mode": self.mode, "a": self.a, "b": self.b, "d_cases": self.d_cases}


@dataclass(frozen=True, slots=True)
class Cutoffs:
    a_min: float | None  # None: nobody is A (no order value yet)
    b_min: float | None
    d_cases: int
    computed_at: float
    params: dict[str, Any] = field(default_factory=dict)

    def to_text(self) -> str:
        return json.dumps(
            {
                "a_min": self.a_min,
                "b_min": self.b_min,
                "d_cases": self.d_cases,
                "computed_at": self.computed_at,
                "params": self.params,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_text(cls, text: str | None) -> Cutoffs | None:
        if not text:
            return None
        try:
            data = json.loads(text)
            return cls(
                data["a_min"], data["b_min"], int(data["d_cases"]), float(data["computed_at"]), data["params"]
            )
        except (ValueError, KeyError, TypeError):
            return None


def compute_cutoffs(policy: SegmentPolicy, totals_desc: Sequence[float], *, now: float) -> Cutoffs:
    """The cut-offs for this policy; `totals_desc` is every positive order value, largest first."""
    if policy.mode == AMOUNT:
        return Cutoffs(policy.a, policy.b, policy.d_cases, now, policy.params())
    grand = float(sum(totals_desc))
    a_min = b_min = None
    running = 0.0
    for total in totals_desc:
        # A customer belongs to a band while the value before them is still inside it.
        if running < policy.a * grand:
            a_min = total
        if running < policy.b * grand:
            b_min = total
        else:
            break
        running += total
    return Cutoffs(a_min, b_min, policy.d_cases, now, policy.params())


def classify(cutoffs: Cutoffs | None, *, order_total: float, case_count: int) -> str | None:
    """A, B, C, D or None (bought nothing and costs nothing yet)."""
    if cutoffs is None:
        return None
    if order_total > 0 and cutoffs.a_min is not None and order_total >= cutoffs.a_min:
        return "A"
    if cutoffs.d_cases > 0 and case_count >= cutoffs.d_cases:
        return "D"
    if order_total <= 0:
        return None
    if cutoffs.b_min is not None and order_total >= cutoffs.b_min:
        return "B"
    return "C"


class SegmentCutoffs:
    """Keeps the stored cut-offs fresh for one server process.

    The distribution is read in a reader thread (it touches every customer) and only the
    small result goes through the writer, so chat messages never wait for the scan.
    """

    def __init__(self, policy: SegmentPolicy, *, clock: Callable[[], float] = time.time) -> None:
        self.policy = policy
        self._clock = clock
        self._known: Cutoffs | None = None
        self._lock = asyncio.Lock()

    def _fresh(self, cutoffs: Cutoffs | None, now: float) -> bool:
        return (
            cutoffs is not None
            and cutoffs.params == self.policy.params()
            and now - cutoffs.computed_at < self.policy.refresh_s
        )

    async def ensure(self, writer: MessageWriter, *, force: bool = False) -> Cutoffs:
        """The current cut-offs, recomputed when stale, changed in the settings, or forced."""
        now = self._clock()
        if not force and self._fresh(self._known, now):
            assert self._known is not None
            return self._known
        async with self._lock:
            now = self._clock()
            if not force:
                stored = Cutoffs.from_text(await writer.read(repo.get_setting, key=repo.SEGMENTS_SETTING))
                if self._fresh(stored, now):
                    assert stored is not None
                    self._known = stored
                    return stored
            totals = await writer.read(repo.order_totals) if self.policy.mode == SHARE else []
            cutoffs = compute_cutoffs(self.policy, totals, now=now)
            await writer.run(repo.put_setting, key=repo.SEGMENTS_SETTING, value=cutoffs.to_text())
            self._known = cutoffs
            log.info("customer segments: A from %s, B from %s", cutoffs.a_min, cutoffs.b_min)
            return cutoffs


def refresh_cutoffs_now(engine: Any, policy: SegmentPolicy, *, now: float | None = None) -> Cutoffs:
    """Recompute and store the cut-offs synchronously (the benchmark and the CLI)."""
    now = time.time() if now is None else now
    totals = repo.order_totals(engine) if policy.mode == SHARE else []
    cutoffs = compute_cutoffs(policy, totals, now=now)
    repo.put_setting(engine, key=repo.SEGMENTS_SETTING, value=cutoffs.to_text())
    return cutoffs
