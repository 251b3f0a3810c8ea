"""Which local sockets watch which chat, so that a supervisor's watch view learns the chat ended.

Watching listens to the chat's ``conv:<id>`` channel, but ``closed`` goes to the visitor's and the
holder's own channels, and the channel is dropped when the chat closes: without this registry a
watcher would simply stop hearing anything. Every process keeps its own sockets' watches, and
the ``Closed`` effect's local part runs on every process, so each tells its own watchers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from chatserver.core.effects import Closed

from . import frames as f
from .outbox import Outbox

ClosedApplier = Callable[[Closed], Awaitable[None]]


class Watchers:
    """conversation id -> the sockets watching it, each with the account it belongs to."""

    def __init__(self) -> None:
        self._by_chat: dict[int, dict[Outbox, int]] = {}

    def add(self, conversation_id: int, outbox: Outbox, operator_id: int) -> None:
        self._by_chat.setdefault(conversation_id, {})[outbox] = operator_id

    def remove(self, conversation_id: int, outbox: Outbox) -> None:
        watching = self._by_chat.get(conversation_id)
        if watching is not None:
            watching.pop(outbox, None)
            if not watching:
                del self._by_chat[conversation_id]

    def forget(self, outbox: Outbox) -> None:
        """The socket went away: it watches nothing any more."""
        for cid in [cid for cid, watching in self._by_chat.items() if outbox in watching]:
            self.remove(cid, outbox)

    def watching(self, conversation_id: int) -> int:
        """How many local sockets watch the chat (for tests and the live list)."""
        return len(self._by_chat.get(conversation_id, ()))

    def ended(self, effect: Closed) -> None:
        """Tell every watcher the chat closed; the holder's consoles hear it on their own channel."""
        watching = self._by_chat.pop(effect.conversation_id, {})
        closed = f.encode(f.closed_frame(effect.conversation_id))
        for outbox, operator_id in watching.items():
            if operator_id != effect.operator_id:
                outbox.put(closed)

    def then(self, applier: ClosedApplier) -> ClosedApplier:
        """``applier`` (the local part of ``Closed``), after the watchers are told."""

        async def closed_here(effect: Closed) -> None:
            self.ended(effect)
            await applier(effect)

        return closed_here
