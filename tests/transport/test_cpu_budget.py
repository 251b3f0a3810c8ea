"""CpuBudget: background work gets its share of an idle loop and nothing from a busy one."""

from __future__ import annotations

import pytest

from chatserver.transport.cpu_budget import CpuBudget


def test_an_idle_loop_gives_the_share_of_each_window() -> None:
    budget = CpuBudget(share=0.2, window_s=0.1)
    assert budget.allowance(now=0.0, busy=0.0) == pytest.approx(0.02)
    budget.spend(0.015)
    assert budget.allowance(now=0.05, busy=0.015) == pytest.approx(0.005)
    budget.spend(0.005)
    assert budget.allowance(now=0.06, busy=0.02) == 0.0
    assert budget.until_next_window(0.06) == pytest.approx(0.04)
    # Next window: the chat itself used nothing (all CPU was the background work's).
    assert budget.allowance(now=0.1, busy=0.02) == pytest.approx(0.02)


def test_a_loop_the_chat_keeps_busy_leaves_only_what_is_under_the_ceiling() -> None:
    budget = CpuBudget(share=0.2, ceiling=0.8, window_s=0.1)
    budget.allowance(now=0.0, busy=0.0)
    # The chat used 70 ms of the 100 ms window: 10 ms left under the 80 % ceiling.
    assert budget.allowance(now=0.1, busy=0.07) == pytest.approx(0.01)
    # The chat used 85 ms of the next one: nothing for background work.
    assert budget.allowance(now=0.2, busy=0.155) == 0.0
    # Background time spent is not counted as the chat's.
    budget2 = CpuBudget(share=0.2, ceiling=0.8, window_s=0.1)
    budget2.allowance(now=0.0, busy=0.0)
    budget2.spend(0.02)
    assert budget2.allowance(now=0.1, busy=0.07) == pytest.approx(0.02)  # chat 50 ms: full share
