"""The waiting line: first come, first served, with requeued chats put back at the front."""

from __future__ import annotations

from collections.abc import Callable, Iterator


class WaitingQueue:
    """Conversation ids in the order they will be served.

    A plain list: queues are short (tens, not millions) and positions must be exact.
    """

    def __init__(self) -> None:
        self._ids: list[int] = []

    def __len__(self) -> int:
        return len(self._ids)

    def __iter__(self) -> Iterator[int]:
        return iter(self._ids)

    def __contains__(self, conversation_id: object) -> bool:
        return conversation_id in self._ids

    def push_back(self, conversation_id: int) -> None:
        self._ids.append(conversation_id)

    def push_front(self, conversation_ids: list[int]) -> None:
        """Put chats that lost their operator ahead of everyone, keeping their own order."""
        self._ids[0:0] = [c for c in conversation_ids if c not in self._ids]

    def insert_before_first(self, conversation_id: int, accept: Callable[[int], bool]) -> int:
        """Put the chat just ahead of the first chat ``accept`` allows (at the back if none); its index."""
        for index, other in enumerate(self._ids):
            if accept(other):
                self._ids.insert(index, conversation_id)
                return index
        self._ids.append(conversation_id)
        return len(self._ids) - 1

    def remove(self, conversation_id: int) -> None:
        if conversation_id in self._ids:
            self._ids.remove(conversation_id)

    def first(self, accept: Callable[[int], bool]) -> int | None:
        """The longest-waiting chat that ``accept`` allows (e.g. that this operator's teams may take)."""
        for conversation_id in self._ids:
            if accept(conversation_id):
                return conversation_id
        return None
