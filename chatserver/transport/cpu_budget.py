"""How much of the event loop's time background work (suggestions) may take, window by window.

Sans-I/O: the caller passes the wall clock and the loop's busy clock (`loop_load`). Two limits:
at most ``share`` of each window, and never so much that the loop, counting what the chat
itself used in the last window, is busier than ``ceiling``. When the chat alone keeps the
loop that busy, background work waits: the chat always comes first.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class CpuBudget:
    share: float
    ceiling: float = 0.6
    window_s: float = 0.1
    _start: float | None = None
    _start_busy: float = 0.0
    _spent: float = 0.0
    _allowed: float = 0.0

    def allowance(self, now: float, busy: float) -> float:
        """Seconds of background work still allowed in the current window (0: wait for the next)."""
        if self._start is None or now - self._start >= self.window_s:
            if self._start is None:
                chat_busy = 0.0
            else:
                elapsed = now - self._start
                chat_busy = max(0.0, (busy - self._start_busy - self._spent) / elapsed)
            self._allowed = self.window_s * max(0.0, min(self.share, self.ceiling - chat_busy))
            self._start, self._start_busy, self._spent = now, busy, 0.0
        left = self._allowed - self._spent
        return left if left > 1e-6 else 0.0

    def spend(self, seconds: float) -> None:
        self._spent += seconds

    def until_next_window(self, now: float) -> float:
        return 0.0 if self._start is None else max(0.0, self._start + self.window_s - now)
