"""A slowdown seen in the ages of the chats still running, before any of them has finished.

`HandleTime` learns only from finished chats, and right after the pace slows down the chats that
finish are the short ones: the model lags by about a handle time while the promises it makes run
out. The chats in progress say it sooner: on a team whose slots are kept busy, the age of the chat
in a slot at any moment follows the *equilibrium* distribution of the handle time (density
``S(a) / mean``, with ``S`` the chance a chat lasts longer than ``a``), so each age is a censored
observation: "this chat has lasted at least that long". When the ages are too old for the model
(a one-sided test on ``-log P(age > a)``, exponential with mean 1 under the model, capped so that
one chat of a rare length is not a change of pace) the centre of the log-normal moves towards the
one at which the ages are as old as expected, weighed against how sure the finished chats'
history is. Slots that were idle before their chat make ages younger, never older, so a quiet
team cannot set this off; a faster pace is left to the finished chats (they show it first).
Pure functions of the model and the ages: no clock, no state.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .wait_time import LogNormal

# The ages must be this many standard errors too old before the model is corrected.
SLOW_Z = 3.0
# Fewer busy slots than this say too little (one old chat is no change of pace).
MIN_AGES = 8
# The largest slowdown fitted at once (the finished chats catch up with anything bigger).
MAX_FACTOR = 4.0
# Each chat's surprise counts up to this much (a chance of e^-4, about one chat in 55).
CAP = 4.0
# The mean and variance of an exponential capped at CAP.
_MEAN = 1.0 - math.exp(-CAP)
_VAR = 2.0 - 2.0 * math.exp(-CAP) * (1.0 + CAP) - _MEAN**2

_SQRT2 = math.sqrt(2.0)


def _phi_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / _SQRT2)


def older_than(handle: LogNormal, age: float) -> float:
    """The chance that the chat in a continuously busy slot has run longer than ``age``."""
    if age <= 0:
        return 1.0
    s = handle.sigma
    log_age = math.log(age)
    upper = _phi_cdf((handle.mu + s * s - log_age) / s)
    lower = age / handle.mean * _phi_cdf((handle.mu - log_age) / s)
    return max(upper - lower, 1e-300)


def _surprise(handle: LogNormal, age: float) -> float:
    """``-log P(age > a)``, capped at ``CAP``: exponential (mean 1) under the model, so one chat of
    a rare length cannot pass for a change of pace however long it runs."""
    return min(-math.log(older_than(handle, age)), CAP)


def slowdown_z(handle: LogNormal, ages: Sequence[float]) -> float:
    """How many standard errors too old the ages are for ``handle`` (0 for too few of them)."""
    if len(ages) < MIN_AGES:
        return 0.0
    total = sum(_surprise(handle, a) for a in ages)
    return (total - len(ages) * _MEAN) / math.sqrt(len(ages) * _VAR)


def fit_centre(handle: LogNormal, ages: Sequence[float]) -> tuple[float, float]:
    """The centre ``mu`` (no lower than the model's, at most ``MAX_FACTOR`` slower) at which the
    ages are as old as expected (their capped surprise at its mean), and its standard error."""
    n = len(ages)

    def excess(mu: float) -> float:
        shifted = LogNormal(mu, handle.sigma)
        return sum(_surprise(shifted, a) for a in ages) - n * _MEAN

    lo, hi = handle.mu, handle.mu + math.log(MAX_FACTOR)
    if excess(lo) <= 0:
        return lo, handle.mu_sd
    if excess(hi) >= 0:
        return hi, handle.sigma
    for _ in range(30):
        mid = (lo + hi) / 2
        if excess(mid) > 0:
            lo = mid
        else:
            hi = mid
    mu = (lo + hi) / 2
    # The delta method: the statistic's spread over how fast it moves with the centre.
    h = 0.01
    slope = (excess(mu - h) - excess(mu + h)) / (2 * h)
    se = math.sqrt(n * _VAR) / slope if slope > 0 else handle.sigma
    return mu, se


def slowed(handle: LogNormal, ages: Sequence[float]) -> LogNormal:
    """``handle``, or its slower version when the chats in progress are clearly too old for it."""
    if slowdown_z(handle, ages) <= SLOW_Z:
        return handle
    fitted, se = fit_centre(handle, ages)
    if fitted <= handle.mu:
        return handle
    # Both are estimates of the same centre: weighed by how sure each is (a model just restarted
    # after a change knows little; a long steady history outweighs a few dozen ages).
    own = max(handle.mu_sd, 1e-3) ** -2
    seen = se**-2
    mu = (own * handle.mu + seen * fitted) / (own + seen)
    return LogNormal(mu, handle.sigma, max(handle.mu_sd, (own + seen) ** -0.5))
