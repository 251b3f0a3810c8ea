"""The wait estimate: how long until a chat at this position is picked up, as seconds and a range.

The model is the one a dispatcher would use on a whiteboard, fed with live figures:

* the chats ahead that compete for the same operators (``position``, 1 = next), minus the
  eligible slots that are free right now: ``k`` slot releases must happen before it is our turn;
* the serving strength: the total capacity ``C`` of the eligible operators who are online;
* the recent handle time per team ``H`` (the mean of the last few hundred chats, starting from
  a configured default), so slots free at a rate of ``C / H``;
* arrivals that go ahead of people already waiting (chats put back at the front, transfers),
  measured as a rate, which slows the line down for everyone behind them.

Slot releases from many concurrent chats behave like a Poisson stream whatever the shape of a
single chat's length, so the wait for the k-th release is an Erlang (gamma) variable. The point
estimate is ``(k - 1/2) / rate``; the range is the Erlang 10th and 90th percentiles. The upper
end is what the visitor is promised. With nobody serving there is no estimate (None), never an
invented one.

``bench/waitsim.py`` measures the error of these figures against a simulated service.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

LOW_QUANTILE = 0.10
HIGH_QUANTILE = 0.90
POINT_OFFSET = 0.5


@dataclass(frozen=True, slots=True)
class Estimate:
    """Seconds until served and the range around it; all None when nobody could serve the chat."""

    seconds: int | None
    low: int | None = None
    high: int | None = None

    @property
    def known(self) -> bool:
        return self.seconds is not None


NO_ESTIMATE = Estimate(None, None, None)


class HandleTime:
    """How long a chat holds an operator's slot, per team: the mean of the recent ones.

    Starts from a default worth ``prior_weight`` chats, so one odd chat cannot swing the
    estimate, and forgets everything older than the last ``window`` chats.
    """

    def __init__(self, default_s: float, *, window: int = 200, prior_weight: int = 5) -> None:
        self._default = default_s
        self._window = window
        self._prior = prior_weight
        self._recent: dict[str | None, deque[float]] = {}
        self._sums: dict[str | None, float] = {}

    def observe(self, team: str | None, duration_s: float) -> None:
        duration_s = max(duration_s, 1.0)
        for key in {team, None}:
            recent = self._recent.setdefault(key, deque())
            recent.append(duration_s)
            self._sums[key] = self._sums.get(key, 0.0) + duration_s
            if len(recent) > self._window:
                self._sums[key] -= recent.popleft()

    def count(self, team: str | None) -> int:
        return len(self._recent.get(team, ()))

    def typical(self, team: str | None) -> float:
        """The team's recent mean; a team with no history of its own borrows everyone's."""
        key = team if self._recent.get(team) else None
        n = len(self._recent.get(key, ()))
        if n == 0:
            return self._default
        return (self._sums[key] + self._default * self._prior) / (n + self._prior)


class RecentDelays:
    """How long something recent took (operators accepting a transfer), per key: the median."""

    def __init__(self, default_s: float, *, window: int = 50) -> None:
        self._default = default_s
        self._window = window
        self._recent: dict[str | None, deque[float]] = {}

    def observe(self, key: str | None, delay_s: float) -> None:
        recent = self._recent.setdefault(key, deque(maxlen=self._window))
        recent.append(max(delay_s, 0.0))

    def typical(self, key: str | None) -> float:
        recent = self._recent.get(key) or self._recent.get(None)
        if not recent:
            return self._default
        ordered = sorted(recent)
        return ordered[len(ordered) // 2]


class RateMeter:
    """Events per second over roughly the last ``horizon_s``, decaying smoothly (no stored history)."""

    def __init__(self, horizon_s: float = 1800.0) -> None:
        self._horizon = horizon_s
        self._level = 0.0
        self._at: float | None = None

    def _decay(self, now: float) -> None:
        if self._at is not None and now > self._at:
            self._level *= math.exp(-(now - self._at) / self._horizon)
        self._at = now if self._at is None else max(self._at, now)

    def hit(self, now: float, count: int = 1) -> None:
        self._decay(now)
        self._level += count

    def rate(self, now: float) -> float:
        self._decay(now)
        return self._level / self._horizon


def erlang_cdf(k: int, x: float) -> float:
    """P(Gamma(k, 1) <= x) for a whole k >= 1."""
    if x <= 0:
        return 0.0
    if k > 60:
        # Wilson–Hilferty: accurate to a fraction of a percent here, and O(1).
        z = ((x / k) ** (1 / 3) - (1 - 1 / (9 * k))) / math.sqrt(1 / (9 * k))
        return 0.5 * math.erfc(-z / math.sqrt(2))
    term = math.exp(-x)
    total = term
    for j in range(1, k):
        term *= x / j
        total += term
    return max(0.0, 1.0 - total)


def erlang_quantile(k: int, p: float) -> float:
    """The p-quantile of Gamma(k, 1) by bisection."""
    lo, hi = 0.0, k + 10.0 * math.sqrt(k) + 10.0
    for _ in range(48):
        mid = (lo + hi) / 2
        if erlang_cdf(k, mid) >= p:
            hi = mid
        else:
            lo = mid
    return hi


def estimate_wait(
    *,
    position: int,
    free_slots: int,
    serving_capacity: int,
    handle_s: float,
    cut_in_rate: float = 0.0,
    extra_s: float = 0.0,
    extra_high_s: float | None = None,
) -> Estimate:
    """The wait of a chat at ``position`` (1 = next) among chats competing for the same operators.

    ``extra_s`` is added once the chat's turn comes (a transfer still has to be accepted);
    ``extra_high_s`` is the upper end of that extra time (defaults to ``extra_s``).
    """
    if serving_capacity <= 0:
        return NO_ESTIMATE
    extra_high = extra_s if extra_high_s is None else extra_high_s
    k = position - free_slots
    if k <= 0:
        return Estimate(int(math.ceil(extra_s)), 0, int(math.ceil(extra_high)))
    rate = serving_capacity / max(handle_s, 1.0)
    # Chats that go ahead of this one use up releases too; never let them stall the estimate.
    rate = max(rate - cut_in_rate, rate / 2)
    seconds = (k - POINT_OFFSET) / rate + extra_s
    low = erlang_quantile(k, LOW_QUANTILE) / rate
    high = erlang_quantile(k, HIGH_QUANTILE) / rate + extra_high
    return Estimate(int(math.ceil(seconds)), int(low), int(math.ceil(max(high, seconds))))


def estimate_wait_s(*, position: int, free_slots: int, serving_capacity: int, handle_s: float) -> int | None:
    """Seconds until a chat at ``position`` (1 = next) gets an operator, or None if nobody serves."""
    return estimate_wait(
        position=position, free_slots=free_slots, serving_capacity=serving_capacity, handle_s=handle_s
    ).seconds


def meaningfully_different(old: Estimate, new: Estimate) -> bool:
    """Worth telling the visitor: known/unknown flipped, or the figure moved by 15 s and 20 %."""
    if old.seconds is None or new.seconds is None:
        return (old.seconds is None) != (new.seconds is None)
    change = abs(new.seconds - old.seconds)
    return change >= 15 and change >= 0.2 * max(old.seconds, 1)
