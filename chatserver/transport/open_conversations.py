"""Which conversation each visitor has open in this process, and its language.

The core knows conversations by id; sockets know visitors. This index answers "which chat is
this visitor's" on the hot path without a database read, and keeps the visitor's locale for
the texts the server writes into the chat.
"""

from __future__ import annotations

from typing import Any

from chatserver.storage import repository as repo
from chatserver.storage.writer import MessageWriter

from .core_driver import Clock


class OpenConversations:
    """Open conversations by visitor, their locales, and the conversation events written for them."""

    def __init__(self, writer: MessageWriter, clock: Clock) -> None:
        self._writer = writer
        self._clock = clock
        self._by_visitor: dict[str, int] = {}
        self._locale: dict[int, str | None] = {}

    def of_visitor(self, visitor_id: str) -> int | None:
        return self._by_visitor.get(visitor_id)

    def locale(self, conversation_id: int) -> str | None:
        return self._locale.get(conversation_id)

    def opened(self, visitor_id: str, conversation_id: int, locale: str | None) -> None:
        self._by_visitor[visitor_id] = conversation_id
        self._locale[conversation_id] = locale

    def closed(self, visitor_id: str, conversation_id: int) -> None:
        if self._by_visitor.get(visitor_id) == conversation_id:
            del self._by_visitor[visitor_id]
        self._locale.pop(conversation_id, None)

    async def record_event(
        self, conversation_id: int, kind: str, data: dict[str, Any], operator_id: int | None = None
    ) -> None:
        """Append to the conversation's event log (what reports and the next visit read)."""
        await self._writer.run(
            repo.append_conversation_event,
            conversation_id=conversation_id,
            kind=kind,
            now=self._clock(),
            data=data,
            operator_id=operator_id,
        )
