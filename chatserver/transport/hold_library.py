"""The hold-message library: the wait-fillers a waiting visitor is sent, editable by admins.

An admin's edit is stored as a setting, so every server process serves the same library; each
process re-reads it at most every ``HOLD_LIBRARY_TTL_S``. An unusable stored library never
stops the chat: the default one is used instead.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

from chatserver.core import hold
from chatserver.storage import repository as repo
from chatserver.storage.writer import MessageWriter

from .core_driver import Clock

log = logging.getLogger("chatserver.etiquette")

HOLD_SETTING = "hold_messages"
DEFAULT_HOLD_FILE = Path(hold.__file__).with_name("hold_messages.json")
# Other server processes pick up an admin's edit of the hold library within this long.
HOLD_LIBRARY_TTL_S = 10.0


def default_hold_library() -> hold.HoldLibrary:
    return hold.validate(json.loads(DEFAULT_HOLD_FILE.read_text(encoding="utf-8")))


class HoldLibraryStore:
    """The library in use in this process, refreshed from storage now and then."""

    def __init__(self, writer: MessageWriter, clock: Clock) -> None:
        self._writer = writer
        self._clock = clock
        self.library: hold.HoldLibrary = default_hold_library()
        self._read_at = -math.inf

    async def refresh(self, *, force: bool = False) -> None:
        now = self._clock()
        if not force and now - self._read_at < HOLD_LIBRARY_TTL_S:
            return
        self._read_at = now
        raw = await self._writer.read(repo.get_setting, key=HOLD_SETTING)
        if raw is None:
            self.library = default_hold_library()
            return
        try:
            self.library = hold.validate(json.loads(raw))
        except (ValueError, hold.InvalidHoldLibrary):
            log.exception("the stored hold library is unusable; using the default one")
            self.library = default_hold_library()

    async def current(self) -> hold.HoldLibrary:
        """The library as stored now (for the admin page: never a stale copy)."""
        await self.refresh(force=True)
        return self.library

    async def replace(self, data: Any) -> hold.HoldLibrary:
        """Validate and store an admin's library (InvalidHoldLibrary says what is wrong)."""
        clean = hold.validate(data)
        await self._writer.run(
            repo.put_setting,
            key=HOLD_SETTING,
            value=json.dumps(clean, ensure_ascii=False, separators=(",", ":")),
        )
        self.library = clean
        self._read_at = self._clock()
        return clean

    async def reset(self) -> hold.HoldLibrary:
        return await self.replace(default_hold_library())
