"""The wait estimate: how long until a chat at this position is picked up.

Simple and honest for now: chats ahead of you are served at the rate the serving operators
free their slots, which is their total capacity divided by the typical handle time. With
nobody serving there is no estimate at all (None), never an invented one.
"""

from __future__ import annotations

import math


class HandleTime:
    """An exponentially weighted average of how long a chat takes, per team, starting from a default."""

    def __init__(self, default_s: float, *, weight: float = 0.2) -> None:
        self._default = default_s
        self._weight = weight
        self._by_team: dict[str | None, float] = {}

    def observe(self, team: str | None, duration_s: float) -> None:
        current = self._by_team.get(team, self._default)
        self._by_team[team] = current + self._weight * (max(duration_s, 1.0) - current)

    def typical(self, team: str | None) -> float:
        return self._by_team.get(team, self._by_team.get(None, self._default))


def estimate_wait_s(*, position: int, free_slots: int, serving_capacity: int, handle_s: float) -> int | None:
    """Seconds until a chat at ``position`` (1 = next) gets an operator, or None if nobody serves."""
    if serving_capacity <= 0:
        return None
    ahead = position - 1 - free_slots
    if ahead < 0:
        return 0
    # Each slot frees on average every handle_s; with C slots one frees every handle_s / C,
    # and on average the first one frees after half of that.
    per_slot = handle_s / serving_capacity
    return int(math.ceil(per_slot * (ahead + 0.5)))
