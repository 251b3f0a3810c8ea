"""Frames per socket per second: a token bucket, and the point where a flood closes the socket.

Plain synchronous code: the caller passes ``now`` (monotonic seconds), so tests need no clock.
A socket may send ``burst`` frames at once and ``rate`` a second after that; a frame over the
limit is refused (the client gets ``rate_limited`` with ``retry_after_ms``). A socket that goes
on regardless, with more than ``2 × rate`` refused frames within one second (three times the
limit), is closed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

ACCEPT = 0
REFUSE = 1
CLOSE = 2

FLOOD_WINDOW_S = 1.0
FLOOD_FACTOR = 2  # refused frames a window may hold, per frame a second the limit allows


@dataclass(slots=True)
class FrameRate:
    """One socket's bucket; ``take`` says what to do with the frame that just came in."""

    rate: float
    burst: int
    tokens: float = -1.0
    last: float = 0.0
    window_start: float = -math.inf
    refused: int = 0

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = float(self.burst)

    @property
    def flood_limit(self) -> int:
        return max(1, math.ceil(FLOOD_FACTOR * self.rate * FLOOD_WINDOW_S))

    def take(self, now: float) -> int:
        """ACCEPT, REFUSE (over the limit) or CLOSE (a flood); ``retry_after_ms`` says how long to wait."""
        elapsed = now - self.last
        self.last = now
        if elapsed > 0:
            self.tokens = min(float(self.burst), self.tokens + elapsed * self.rate)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return ACCEPT
        if now - self.window_start >= FLOOD_WINDOW_S:
            self.window_start, self.refused = now, 0
        self.refused += 1
        return CLOSE if self.refused > self.flood_limit else REFUSE

    def retry_after_ms(self) -> int:
        """Until the next frame would be accepted."""
        return max(1, math.ceil((1.0 - self.tokens) / self.rate * 1000))
