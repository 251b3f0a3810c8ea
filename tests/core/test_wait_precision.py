"""Waits of a fraction of a second and a change of pace seen early: the release model against exact
figures, ranges to the millisecond beside the whole-second promise, and the chats in progress
telling a slowdown before any of them finishes (ages passed in by hand, no clock)."""

from __future__ import annotations

import math

import pytest

from chatserver.core.estimates import MIN_PROMISE_S, floored
from chatserver.core.pace import MIN_AGES, older_than, slowdown_z, slowed
from chatserver.core.wait_time import LogNormal, ReleaseModel, estimate_wait, poisson_mean_for


def solve(f: object, target: float, lo: float, hi: float) -> float:
    """Where the increasing ``f`` reaches ``target`` (bisection)."""
    for _ in range(100):
        mid = (lo + hi) / 2
        if f(mid) < target:  # type: ignore[operator]
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def at_least(k: int, n: int, q: float) -> float:
    """P(a binomial count of n trials with chance q is k or more)."""
    return 1.0 - sum(math.comb(n, j) * q**j * (1 - q) ** (n - j) for j in range(k))


@pytest.mark.parametrize("p", [0.12, 0.5, 0.925])
def test_the_next_release_of_many_slots_matches_the_exact_minimum(p: float) -> None:
    handle = LogNormal.with_mean(8.0, 0.6)
    model = ReleaseModel([0.0] * 60, handle)
    exact = solve(lambda t: 1 - (1 - handle.cdf(t)) ** 60, p, 0.0, 60.0)
    # The low end used to come out at a third of this: read off a probability that levels off.
    assert model.quantile(1, p) == pytest.approx(exact, rel=0.05)


@pytest.mark.parametrize(("k", "p"), [(2, 0.12), (3, 0.5), (5, 0.925)])
def test_the_next_few_releases_count_each_busy_slot_once(k: int, p: float) -> None:
    handle = LogNormal.with_mean(8.0, 0.6)
    model = ReleaseModel([0.0] * 60, handle)
    # So soon, refills are negligible: the k-th release is when k of the 60 chats have ended.
    exact = solve(lambda t: at_least(k, 60, handle.cdf(t)), p, 0.0, 60.0)
    assert model.quantile(k, p) == pytest.approx(exact, rel=0.05)


def test_poisson_means() -> None:
    assert poisson_mean_for(1, 0.5) == pytest.approx(math.log(2))
    x = poisson_mean_for(3, 0.9)
    assert 1 - math.exp(-x) * (1 + x + x * x / 2) == pytest.approx(0.9, abs=1e-9)


def test_a_sub_second_wait_is_told_to_the_millisecond_and_promised_in_whole_seconds() -> None:
    # 60 slots busy with chats of 8 s on average, of every age: the next one frees within a second.
    ages = [i / 4 for i in range(60)]
    told = estimate_wait(position=1, free_slots=0, serving_capacity=60, handle_s=8, ages=ages)
    assert told.low_ms is not None and told.high_ms is not None
    assert 0 < told.low_ms < told.high_ms < 1000  # a calibrated range of a fraction of a second
    assert told.low is not None and told.high is not None
    assert told.low * 1000 <= told.low_ms and told.high_ms <= told.high * 1000  # rounded outwards
    promised = floored(told)
    assert promised.high == MIN_PROMISE_S  # the promise keeps its floor
    assert (promised.low_ms, promised.high_ms) == (told.low_ms, told.high_ms)
    long = estimate_wait(position=5, free_slots=0, serving_capacity=2, handle_s=100)
    assert long.low is not None and long.high is not None and long.low_ms is not None
    assert long.low * 1000 <= long.low_ms < long.high_ms <= long.high * 1000  # type: ignore[operator]
    assert estimate_wait(position=1, free_slots=0, serving_capacity=0, handle_s=8).high_ms is None


def equilibrium_ages(handle: LogNormal, n: int) -> list[float]:
    """Ages spread as those of n continuously busy slots would be (evenly over their quantiles)."""
    top = 50 * handle.mean
    return [solve(lambda a: 1 - older_than(handle, a), (i + 0.5) / n, 0.0, top) for i in range(n)]


def test_the_ages_of_chats_in_progress_show_a_slowdown_before_any_finishes() -> None:
    handle = LogNormal(math.log(200.0), 0.6, 0.2)  # a history just restarted: unsure of its centre
    steady = equilibrium_ages(handle, 60)
    assert abs(slowdown_z(handle, steady)) < 1
    assert slowed(handle, steady) is handle
    doubled = equilibrium_ages(LogNormal(handle.mu + math.log(2.0), 0.6), 60)
    assert slowdown_z(handle, doubled) > 3
    slower = slowed(handle, doubled)
    assert 1.4 * handle.mean < slower.mean < 2.1 * handle.mean
    assert slower.mu_sd >= handle.mu_sd  # no surer of its centre than before: the change is recent
    # A long, steady history is moved less by the same ages.
    sure = LogNormal(handle.mu, 0.6, 0.03)
    assert handle.mean < slowed(sure, doubled).mean < slower.mean


def test_a_few_old_chats_or_one_very_long_one_are_not_a_change_of_pace() -> None:
    handle = LogNormal(math.log(200.0), 0.6, 0.2)
    assert slowed(handle, [5000.0] * (MIN_AGES - 1)) is handle
    ages = equilibrium_ages(handle, 40)
    ages[-1] = 100 * handle.mean  # one chat that has run for hours
    assert slowed(handle, ages) is handle
    # A faster pace (young ages) is left to the finished chats.
    assert slowed(handle, [a / 3 for a in equilibrium_ages(handle, 60)]) is handle
