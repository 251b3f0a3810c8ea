"""How busy the event loop is: the time it spends outside ``epoll_wait``.

The server's loop is an ordinary ``SelectorEventLoop`` whose selector adds up the time it
waits for events (uvicorn builds it from `timed_event_loop`, see ``uvicorn_config``).
Busy time is wall time minus that. Background work (suggestions) uses it to stay out of
the chat's way: a thread's CPU clock would not see the time the loop waits for the GIL.
"""

from __future__ import annotations

import asyncio
import selectors
import time
import weakref
from collections.abc import Callable
from typing import Any

_selectors: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _TimedSelector] = weakref.WeakKeyDictionary()


class _TimedSelector(selectors.DefaultSelector):  # type: ignore[misc, valid-type]
    def __init__(self) -> None:
        super().__init__()
        self.waited_s = 0.0

    def select(self, timeout: float | None = None) -> Any:
        started = time.perf_counter()
        try:
            return super().select(timeout)
        finally:
            self.waited_s += time.perf_counter() - started


def timed_event_loop() -> asyncio.AbstractEventLoop:
    """A loop factory for uvicorn (``loop=`` takes an import string of it)."""
    selector = _TimedSelector()
    loop = asyncio.SelectorEventLoop(selector)
    _selectors[loop] = selector
    return loop


def busy_clock(loop: asyncio.AbstractEventLoop) -> Callable[[], float]:
    """Seconds the loop has been busy, cumulative; on a loop not made here, its thread's CPU time."""
    selector = _selectors.get(loop)
    if selector is None:
        return time.thread_time

    def busy() -> float:
        return time.perf_counter() - selector.waited_s

    return busy
