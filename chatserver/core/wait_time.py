"""The wait estimate: how long until a chat at this position is picked up, as seconds and a range.

The model, fed with live figures on every queue change:

* the chats ahead that compete for the same operators (``position``, 1 = next), minus the
  eligible slots that are free right now: ``k`` slot releases must happen before it is our turn;
* every eligible slot with the age of the chat holding it (a free slot is about to take a chat
  from the line, so it counts as a chat of age 0);
* the team's handle-time distribution, a log-normal learned online from the chats it finished
  (`HandleTime`): an exponentially weighted mean and variance of log durations, with a prior from
  the configured default worth one chat that halves with every chat observed, and a forgetting
  factor so a change of pace is followed within a few dozen chats;
* arrivals that go ahead of people already waiting (chats put back at the front, transfers),
  measured as a rate, which slows the line down for everyone behind them.

`ReleaseModel` turns these into the distribution of the time of the ``k``-th slot release. A slot
held for ``a`` seconds frees after the residual life of a log-normal known to exceed ``a``, then
renews with fresh chats. On a small time grid it sums over the slots the mean and variance of the
number of releases by time ``t`` (exact for each slot's first release, the renewal approximation
for the ones after) and reads the k-th release's quantiles off a normal approximation with
continuity correction, extrapolated in closed form past the grid; the next release (``k = 1``) is
exact: the minimum of the residual lives. The point estimate is the median (the figure with the
least mean absolute error), the range its ``LOW_QUANTILE`` .. ``HIGH_QUANTILE`` quantiles; the
upper end is what the visitor is promised. With nobody serving there is no estimate (None), never
an invented one. Closed forms and table look-ups only: no sampling, no clock.

``bench/waitsim.py`` measures these figures against a simulated service and an oracle.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist

# The range shown: about 80 % of waits end inside it, under 10 % after it.
LOW_QUANTILE = 0.12
HIGH_QUANTILE = 0.925
# The spread of log handle times assumed before a team has finished a few chats.
DEFAULT_SIGMA = 0.6
# The release model's time grid: this many steps up to a high quantile of one handle time.
GRID_POINTS = 32
GRID_SPAN_Z = 2.6
# Ages beyond this many grid spans count as this old (the residual life barely changes there).
MAX_AGE_SPANS = 2
# Up to this many releases from a team of at least eight times as many slots, the releases are
# counted as a Poisson stream (the normal approximation is poor for so few); for the next release
# alone that is exact (the minimum of the residual lives) and used from four slots up.
POISSON_RELEASES = 8
FINE_POINTS = 24

_Z = {p: NormalDist().inv_cdf(p) for p in (LOW_QUANTILE, 0.5, HIGH_QUANTILE)}


@dataclass(frozen=True, slots=True)
class Estimate:
    """Seconds until served and the range around it; all None when nobody could serve the chat."""

    seconds: int | None
    low: int | None = None
    high: int | None = None
    # The range before it is rounded out to whole seconds: a wait of a fraction of a second can
    # only be given a calibrated range in finer units (``low_ms`` / ``high_ms`` on the wire).
    low_exact: float | None = None
    high_exact: float | None = None

    @property
    def known(self) -> bool:
        return self.seconds is not None

    @property
    def low_ms(self) -> int | None:
        """The low end in milliseconds (the whole-second one when no finer figure is known)."""
        value = self.low_exact if self.low_exact is not None else self.low
        return None if value is None or self.seconds is None else int(math.floor(value * 1000))

    @property
    def high_ms(self) -> int | None:
        """The high end in milliseconds: the calibrated range end, at most the promise (``high``)."""
        value = self.high_exact if self.high_exact is not None else self.high
        return None if value is None or self.seconds is None else int(math.ceil(value * 1000))


NO_ESTIMATE = Estimate(None, None, None)


@dataclass(frozen=True, slots=True)
class LogNormal:
    """A handle-time distribution: log durations are normal with mean ``mu`` and spread ``sigma``."""

    mu: float
    sigma: float
    # How uncertain ``mu`` itself is (the standard error of a short or fading history).
    mu_sd: float = 0.0

    @classmethod
    def with_mean(cls, mean_s: float, sigma: float = DEFAULT_SIGMA) -> LogNormal:
        return cls(math.log(max(mean_s, 1e-3)) - sigma**2 / 2, sigma)

    @property
    def mean(self) -> float:
        return math.exp(self.mu + self.sigma**2 / 2)

    def cdf(self, x: float) -> float:
        if x <= 0:
            return 0.0
        return 0.5 * math.erfc((self.mu - math.log(x)) / (self.sigma * math.sqrt(2.0)))


class _Stats:
    """Exponentially weighted mean and spread of log durations (West's update with forgetting)."""

    __slots__ = ("count", "mean", "spread", "squares", "weight")

    def __init__(self) -> None:
        self.count = 0
        self.weight = 0.0
        self.squares = 0.0
        self.mean = 0.0
        self.spread = 0.0

    def add(self, x: float, keep: float) -> None:
        self.count += 1
        self.weight = self.weight * keep + 1.0
        self.squares = self.squares * keep * keep + 1.0
        self.spread *= keep
        delta = x - self.mean
        self.mean += delta / self.weight
        self.spread += delta * (x - self.mean)

    def copy(self) -> _Stats:
        other = _Stats()
        other.count, other.weight, other.squares = self.count, self.weight, self.squares
        other.mean, other.spread = self.mean, self.spread
        return other


class HandleTime:
    """How long a chat holds an operator's slot, per team: a log-normal learned from finished chats.

    The configured default is a prior worth ``prior_weight`` chats for the centre, halving with each
    chat the team finishes (after three it weighs an eighth of a chat); the spread starts at
    ``DEFAULT_SIGMA`` worth ``spread_weight`` chats. Two histories are kept per team: a long one
    (older chats fade by ``1 - 1 / memory`` per chat: steady figures for a long line) and a short
    one (``1 - 1 / quick_memory``). When the short one has moved away from the long one by more
    than ``change_z`` standard errors the pace has changed (lunch rush, a new colleague): the long
    history restarts from the short one, so a new pace is followed within a couple of dozen chats.
    The figures carry the uncertainty of a short history: the spread is widened by
    ``sqrt(1 + 1 / n)`` and the model says how uncertain its centre is (``mu_sd``).
    """

    def __init__(
        self,
        default_s: float,
        *,
        memory: float = 200.0,
        quick_memory: float = 15.0,
        change_z: float = 3.0,
        prior_weight: float = 1.0,
        prior_fade: float = 0.5,
        spread_weight: float = 2.0,
    ) -> None:
        self._default = default_s
        self._prior = LogNormal.with_mean(default_s)
        self._keep = 1.0 - 1.0 / memory
        self._quick_keep = 1.0 - 1.0 / quick_memory
        self._change_z = change_z
        self._prior_weight = prior_weight
        self._fade = prior_fade
        self._spread_weight = spread_weight
        self._stats: dict[str | None, tuple[_Stats, _Stats]] = {}

    def observe(self, team: str | None, duration_s: float) -> None:
        x = math.log(max(duration_s, 0.5))
        for key in {team, None}:
            long, quick = self._stats.setdefault(key, (_Stats(), _Stats()))
            long.add(x, self._keep)
            quick.add(x, self._quick_keep)
            if quick.count >= 5 and self._moved(long, quick):
                self._stats[key] = (quick.copy(), quick)

    def _moved(self, long: _Stats, quick: _Stats) -> bool:
        var = (self._spread_weight * self._prior.sigma**2 + long.spread) / (
            self._spread_weight + max(long.weight - 1.0, 0.0)
        )
        se2 = var * (quick.squares / quick.weight**2 + long.squares / long.weight**2)
        return (quick.mean - long.mean) ** 2 > self._change_z**2 * se2

    def count(self, team: str | None) -> int:
        stats = self._stats.get(team)
        return stats[0].count if stats is not None else 0

    def model(self, team: str | None) -> LogNormal:
        """The team's distribution now; a team with no history of its own borrows everyone's."""
        both = self._stats.get(team) if self.count(team) else self._stats.get(None)
        if both is None or not both[0].count:
            return self._prior
        stats = both[0]
        prior = self._prior_weight * self._fade ** min(stats.count, 60)
        mu = (prior * self._prior.mu + stats.weight * stats.mean) / (prior + stats.weight)
        sw = self._spread_weight
        var = (sw * self._prior.sigma**2 + stats.spread) / (sw + max(stats.weight - 1.0, 0.0))
        n = stats.weight + prior
        # The standard error of an exponentially weighted mean: sigma^2 * sum(w^2) / sum(w)^2.
        mu_sd = math.sqrt(var * stats.squares) / (stats.weight + prior)
        return LogNormal(mu, math.sqrt(var * (1.0 + 1.0 / n)), mu_sd)

    def typical(self, team: str | None) -> float:
        """The team's mean handle time in seconds."""
        return self.model(team).mean


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


class ReleaseModel:
    """When the k-th of a set of busy slots frees, for every k at once (built once per queue change).

    ``ages`` are the ages of the chats holding the slots (0 for a slot about to take a chat from
    the line); ``handle`` the distribution of one chat's length; ``cut_in_rate`` chats per second
    that take a released slot before the line does.
    """

    def __init__(self, ages: Sequence[float], handle: LogNormal, cut_in_rate: float = 0.0) -> None:
        self.slots = len(ages)
        self.mu_sd = handle.mu_sd
        mean = handle.mean
        cv2 = math.exp(handle.sigma**2) - 1.0
        span = math.exp(handle.mu + GRID_SPAN_Z * handle.sigma)
        n = GRID_POINTS
        h = span / n
        self.step = h
        max_j = MAX_AGE_SPANS * n
        table = [handle.cdf(i * h) for i in range(n + max_j + 1)]
        shift = max(int(round(mean * (1.0 - cv2) / 2.0 / h)), 0)
        total_mean = [0.0] * (n + 1)
        first_mean = [0.0] * (n + 1)
        total_var = [0.0] * (n + 1)
        log_survival = [0.0] * (n + 1)
        self._groups = Counter(min(int(a / h + 0.5), max_j) for a in ages)
        self._handle = handle
        self._fine: tuple[float, list[float]] | None = None
        self._fine_pmf: list[list[float]] = []
        for j, count in self._groups.items():
            left = 1.0 - table[j]
            if left < 1e-12:
                q = [0.0] + [1.0] * n
            else:
                base = table[j]
                q = [(table[j + g] - base) / left for g in range(n + 1)]
            # I(t) = integral of q, J(t) = integral of I: moments of the renewals after the first.
            first = [0.0] * (n + 1)
            second = [0.0] * (n + 1)
            for g in range(1, n + 1):
                first[g] = first[g - 1] + h * (q[g - 1] + q[g]) / 2
                second[g] = second[g - 1] + h * (first[g - 1] + first[g]) / 2
            for g in range(n + 1):
                qg = q[g]
                late = g - shift
                b = first[late] / mean if late > 0 else 0.0
                c = 2.0 * second[late] / mean**2 if late > 0 else 0.0
                m = qg + b
                total_mean[g] += count * m
                first_mean[g] += count * qg
                total_var[g] += count * max(qg + 2 * b + c + cv2 * first[g] / mean - m * m, 0.0)
                log_survival[g] += count * (math.log(1.0 - qg) if qg < 1.0 else -745.0)
        rate = self.slots / mean
        self.rate = max(rate - cut_in_rate, rate / 2)
        self.var_rate = self.slots * cv2 / mean
        keep = [
            (1.0 - min(cut_in_rate * g * h, total_mean[g] / 2) / total_mean[g]) if total_mean[g] > 0 else 1.0
            for g in range(n + 1)
        ]
        self.mean = [total_mean[g] * keep[g] for g in range(n + 1)]
        self.var = total_var
        self.first_mean = [first_mean[g] * keep[g] for g in range(n + 1)]
        self.neg_log_survival = [-log_survival[g] * keep[g] for g in range(n + 1)]
        self._curves: dict[float, list[float]] = {}
        self._median: dict[int, float] = {}

    def _curve(self, z: float) -> list[float]:
        """mean(t) - z sd(t) on the grid, made non-decreasing: reaches k - 1/2 at the k-th release."""
        curve = self._curves.get(z)
        if curve is None:
            curve, top = [], -math.inf
            for m, v in zip(self.mean, self.var, strict=True):
                top = max(top, m - z * math.sqrt(v))
                curve.append(top)
            self._curves[z] = curve
        return curve

    def _solve(self, curve: Sequence[float], target: float, power: bool = False) -> float | None:
        """Where a non-decreasing grid curve reaches ``target`` (None: past the grid); a ``power``
        curve (positive, growing like a power of t, as the left tail of a log-normal) is
        interpolated as one."""
        g = bisect_left(curve, target)
        if g > len(curve) - 1:
            return None
        if g == 0:
            return 0.0
        lo, hi = curve[g - 1], curve[g]
        if power and g == 1 and len(curve) > 2 and 0 < hi < curve[2]:
            beta = math.log(curve[2] / hi) / math.log(2.0)
            return self.step * (target / hi) ** (1.0 / beta)
        if power and lo > 0 and hi > lo:
            frac = math.log(target / lo) / math.log(hi / lo)
            return (g - 1) * self.step * (g / (g - 1)) ** frac
        frac = (target - lo) / (hi - lo) if hi > lo else 1.0
        return (g - 1 + frac) * self.step

    def _fine_grid(self) -> tuple[float, list[float]]:
        """The expected number of first releases on a grid fine enough for the next few of many
        slots (refills are rare that soon): its step and values, from exact residual lives; and
        the exact distribution of that number below ``POISSON_RELEASES`` (each slot frees or not:
        a Poisson-binomial count, narrower than a Poisson one of the same mean)."""
        if self._fine is None:
            reach = min(float(2 * POISSON_RELEASES + 4), 0.75 * self.slots)
            end = self._solve(self.first_mean, reach) or len(self.mean) * self.step
            step = max(end / FINE_POINTS, 1e-6)
            handle, h = self._handle, self.step
            lam = [0.0] * (FINE_POINTS + 1)
            pmf = [[1.0] + [0.0] * (POISSON_RELEASES - 1) for _ in range(FINE_POINTS + 1)]
            for j, count in self._groups.items():
                age = j * h
                base = handle.cdf(age)
                left = 1.0 - base
                for g in range(1, FINE_POINTS + 1):
                    q = (handle.cdf(age + g * step) - base) / left if left > 1e-12 else 1.0
                    lam[g] += count * (-math.log(1.0 - q) if q < 1.0 else 745.0)
                    dist = pmf[g]
                    for _ in range(count):
                        for n in range(POISSON_RELEASES - 1, 0, -1):
                            dist[n] = dist[n] * (1.0 - q) + dist[n - 1] * q
                        dist[0] *= 1.0 - q
            self._fine = (step, lam)
            self._fine_pmf = pmf
        return self._fine

    def _poisson(self, k: int, p: float) -> float | None:
        """The p-quantile of the k-th release from the first releases of many slots.

        The next one (k = 1) is where their expected number (the summed hazards, growing like a
        power of t from 0) reaches ``-log(1 - p)``: exact. For k > 1 the probability that k or more
        have freed comes from the exact count; it levels off, so it is interpolated after mapping
        it to the Poisson mean with the same probability (which grows like the expected number)."""
        step, lam = self._fine_grid()
        if k == 1:
            coarse = self.step
            self.step = step
            try:
                return self._solve(lam, poisson_mean_for(1, p), power=True)
            finally:
                self.step = coarse
        curve = self._curves.get(-k)
        if curve is None:
            curve = [max(1.0 - sum(dist[:k]), 0.0) for dist in self._fine_pmf]
            for g in range(1, len(curve)):
                curve[g] = max(curve[g], curve[g - 1])
            self._curves[-k] = curve
        g = bisect_left(curve, p)
        if g > len(curve) - 1:
            return None
        if g == 0:
            return 0.0
        target = poisson_mean_for(k, p)
        hi = _poisson_mean(k, curve[g])
        if g == 1:
            nxt = _poisson_mean(k, curve[2]) if len(curve) > 2 else 0.0
            beta = math.log(nxt / hi) / math.log(2.0) if nxt > hi > 0 else 1.0
            return step * (target / hi) ** (1.0 / beta) if hi > 0 else step
        lo = _poisson_mean(k, curve[g - 1])
        if lo > 0 and hi > lo:
            frac = math.log(target / lo) / math.log(hi / lo)
            return (g - 1) * step * (g / (g - 1)) ** frac
        return g * step

    def quantile(self, k: int, p: float) -> float:
        """The p-quantile of the time until the k-th release from now (k >= 1), widened by the
        uncertainty of the handle-time scale itself (every release time scales with it)."""
        m = self._median.get(k)
        if m is None:
            m = self._median[k] = self._quantile(k, 0.5)
        if p == 0.5:
            return m
        q = self._quantile(k, p)
        if self.mu_sd <= 0:
            return q
        z = _Z.get(p) or NormalDist().inv_cdf(p)
        scale = m * (math.exp(z * self.mu_sd) - 1.0)
        return max(m + math.copysign(math.sqrt((q - m) ** 2 + scale**2), q - m), 0.0)

    def _quantile(self, k: int, p: float) -> float:
        if self.slots <= 0:
            return math.inf
        end = len(self.mean) - 1
        span = end * self.step
        if k == 1 and self.slots < 4:
            # Exact: the first release is the minimum of the residual lives.
            target = -math.log(1.0 - p)
            t = self._solve(self.neg_log_survival, target, power=True)
            if t is not None:
                return t
            return span + (target - self.neg_log_survival[end]) / self.rate
        if k == 1 and self.slots >= 4 or k <= POISSON_RELEASES and k * 8 <= self.slots:
            t = self._poisson(k, p)
            if t is not None:
                return t
        z = _Z.get(p)
        if z is None:
            z = _Z[p] = NormalDist().inv_cdf(p)
        target = k - 0.5
        t = self._solve(self._curve(z), target)
        if t is not None:
            return t
        # Past the grid every slot is renewing: mean grows by `rate`, variance by `var_rate` per second.
        # Solve m + rate x - z sqrt(v + var_rate x) = target for x with u = sqrt(v + var_rate x).
        m, v = self.mean[end], self.var[end]
        a = self.rate / self.var_rate if self.var_rate > 0 else 0.0
        if a <= 0:
            return span + max(target - m, 0.0) / self.rate
        const = m - a * v - target
        disc = z * z - 4 * a * const
        u = (z + math.sqrt(max(disc, 0.0))) / (2 * a)
        x = (u * u - v) / self.var_rate
        return span + max(x, 0.0)


def _poisson_mean(k: int, p: float) -> float:
    """The mean of a Poisson count that is k or more with probability p (bisection; exact for k = 1)."""
    p = min(max(p, 0.0), 1.0 - 1e-12)
    if k <= 1:
        return -math.log(1.0 - p)

    def at_least_k(x: float) -> float:
        term = total = math.exp(-x)
        for j in range(1, k):
            term *= x / j
            total += term
        return 1.0 - total

    lo, hi = 0.0, k + 10.0 * math.sqrt(k) + 40.0
    for _ in range(50):
        mid = (lo + hi) / 2
        if at_least_k(mid) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


@lru_cache(maxsize=256)
def poisson_mean_for(k: int, p: float) -> float:
    """`_poisson_mean` for the few quantiles asked for again and again."""
    return _poisson_mean(k, p)


def estimate_from(
    model: ReleaseModel | None,
    releases: int,
    *,
    extra_s: float = 0.0,
    extra_high_s: float | None = None,
) -> Estimate:
    """The figures for a chat that needs ``releases`` more slot releases (0 or less: a slot is free)."""
    if model is None or model.slots <= 0:
        return NO_ESTIMATE
    extra_high = extra_s if extra_high_s is None else extra_high_s
    if releases <= 0:
        return Estimate(int(math.ceil(extra_s)), 0, int(math.ceil(extra_high)), 0.0, extra_high)
    seconds = model.quantile(releases, 0.5) + extra_s
    low = model.quantile(releases, LOW_QUANTILE)
    high = max(model.quantile(releases, HIGH_QUANTILE) + extra_high, low)
    point = int(seconds + 0.5)  # whole seconds, to the nearest: the least error for a median
    # The whole-second range is the exact one rounded outwards: the promise covers all of it.
    return Estimate(point, min(math.floor(low), point), max(math.ceil(high), point), low, high)


def estimate_wait(
    *,
    position: int,
    free_slots: int,
    serving_capacity: int,
    handle_s: float | LogNormal,
    ages: Sequence[float] = (),
    cut_in_rate: float = 0.0,
    extra_s: float = 0.0,
    extra_high_s: float | None = None,
) -> Estimate:
    """The wait of a chat at ``position`` (1 = next) among chats competing for the same operators.

    ``ages`` are those of the chats in the busy slots (missing ones count as fresh); ``extra_s`` is
    added once the chat's turn comes (a transfer still has to be accepted); ``extra_high_s`` is
    the upper end of that extra time (defaults to ``extra_s``).
    """
    if serving_capacity <= 0:
        return NO_ESTIMATE
    handle = handle_s if isinstance(handle_s, LogNormal) else LogNormal.with_mean(max(handle_s, 1.0))
    busy = max(serving_capacity - free_slots, 0)
    slot_ages = list(ages[:busy]) + [0.0] * (serving_capacity - min(len(ages), busy))
    model = ReleaseModel(slot_ages, handle, cut_in_rate)
    return estimate_from(model, position - free_slots, extra_s=extra_s, extra_high_s=extra_high_s)


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
