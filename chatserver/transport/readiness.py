"""Whether this process's database answers, for ``/readyz``: at most one ``SELECT 1`` a second.

Between checks the last answer stands. A check that takes longer than ``timeout_s`` counts as
a failure; while it still hangs no second one is started (a dead database must not take every
reader thread), so the probe stays false until it comes back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from chatserver.storage import repository as repo
from chatserver.storage.writer import MessageWriter

log = logging.getLogger("chatserver.readiness")


class DatabaseProbe:
    def __init__(
        self, writer: MessageWriter, clock: Callable[[], float], *, timeout_s: float, every_s: float = 1.0
    ) -> None:
        self._writer = writer
        self._clock = clock
        self.timeout_s = timeout_s
        self.every_s = every_s
        self._checked_at: float | None = None
        self._ok = True
        self._pending: asyncio.Future[None] | None = None

    async def check(self) -> bool:
        """True while the database answered the latest ``SELECT 1`` in time."""
        now = self._clock()
        if self._checked_at is not None and 0 <= now - self._checked_at < self.every_s:
            return self._ok
        self._checked_at = now
        if self._pending is None or self._pending.done():
            self._pending = asyncio.ensure_future(self._writer.read(repo.ping_database))
            self._pending.add_done_callback(_retrieve)
        try:
            await asyncio.wait_for(asyncio.shield(self._pending), self.timeout_s)
        except Exception as exc:
            if self._ok:
                log.warning("the database does not answer: %r", exc)
            self._ok = False
        else:
            self._ok = True
        return self._ok


def _retrieve(future: asyncio.Future[None]) -> None:
    """A ping that ended after its check gave up: its error was reported already."""
    if not future.cancelled():
        future.exception()
