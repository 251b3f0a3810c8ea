"""The operators this process knows: their public name and title, and their open sockets.

Names and titles are read once and cached, because every operator message carries them and
every assignment and transfer shows them; a deactivated operator is dropped from the cache.
"""

from __future__ import annotations

from typing import Any

from chatserver.core import texts
from chatserver.storage import repository as repo
from chatserver.storage.writer import MessageWriter

from .outbox import Outbox

OperatorInfo = dict[str, Any]  # {"id", "name", "title"}


class OperatorDirectory:
    """Public operator info (cached) and the sockets each operator has open in this process."""

    def __init__(self, writer: MessageWriter) -> None:
        self._writer = writer
        self._info: dict[int, OperatorInfo] = {}
        self._outboxes: dict[int, set[Outbox]] = {}

    # ------------------------------------------------------------------ public info

    async def public(self, operator_id: int) -> OperatorInfo:
        """``{"id", "name", "title"}``, read from storage the first time (blank for an unknown id)."""
        info = self._info.get(operator_id)
        if info is None:
            op = await self._writer.read(repo.get_operator, operator_id=operator_id)
            info = {"id": operator_id, "name": op.name if op else "", "title": op.title if op else ""}
            self._info[operator_id] = info
        return info

    def cached(self, operator_id: int) -> OperatorInfo | None:
        """The info if it is known here already (the hot path never waits for a read)."""
        return self._info.get(operator_id)

    def remember(self, operator: Any) -> None:
        """An operator signed in: their account is the freshest info there is."""
        self._info[operator.id] = {"id": operator.id, "name": operator.name, "title": operator.title}

    def drop(self, operator_id: int) -> None:
        self._info.pop(operator_id, None)

    # ------------------------------------------------------------------ how a transfer target is named

    async def target_for_operators(self, to_operator_id: int | None, to_team: str | None) -> dict[str, Any]:
        """The target as the operators see it."""
        if to_operator_id is not None:
            info = await self.public(to_operator_id)
            return {"operator_id": to_operator_id, "name": info["name"], "title": info["title"]}
        return {"team": to_team}

    async def target_for_visitor(self, to_operator_id: int | None, to_team: str | None) -> dict[str, Any]:
        """The target as the visitor sees it: a person's name and title, or the team."""
        if to_operator_id is not None:
            info = await self.public(to_operator_id)
            return {"name": info["name"], "title": info["title"]}
        return {"team": to_team}

    async def target_phrase(self, locale: str | None, to_operator_id: int | None, to_team: str | None) -> str:
        """The target in a sentence the server writes to the visitor."""
        if to_operator_id is not None:
            info = await self.public(to_operator_id)
            return texts.target_phrase(locale, name=info["name"], title=info["title"])
        return texts.target_phrase(locale, team=to_team)

    # ------------------------------------------------------------------ sockets

    def operator_ids(self) -> list[int]:
        """The operators with at least one socket in this process."""
        return list(self._outboxes)

    def outboxes(self, operator_id: int) -> list[Outbox]:
        """The operator's sockets in this process now (a copy)."""
        return list(self._outboxes.get(operator_id, ()))

    def connected(self, operator_id: int, outbox: Outbox) -> bool:
        """Add a socket; True when it is the operator's first one here."""
        first = not self._outboxes.get(operator_id)
        self._outboxes.setdefault(operator_id, set()).add(outbox)
        return first

    def disconnected(self, operator_id: int, outbox: Outbox) -> bool:
        """Remove a socket; True when it was the operator's last one here."""
        outboxes = self._outboxes.get(operator_id, set())
        outboxes.discard(outbox)
        if not outboxes:
            self._outboxes.pop(operator_id, None)
            return True
        return False

    def disconnect_all(self, operator_id: int) -> None:
        self._outboxes.pop(operator_id, None)
