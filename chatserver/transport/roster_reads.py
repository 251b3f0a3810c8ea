"""What the REST routes read of the operators this process routes: presence, free slots, who is online.

Each read is one small function over ``engine.roster`` so that it can be answered by the core
itself later without touching the routes that show it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Presence", "connected_here", "free_slots", "operators_online", "presence_of", "waiting_by_team"]


@dataclass(frozen=True, slots=True)
class Presence:
    """An operator as this process sees them; ``offline`` with no chats when it has not seen them."""

    connected: bool
    status: str
    chats: int
    free_slots: int

    def as_json(self) -> dict[str, Any]:
        return {"connected": self.connected, "status": self.status, "chats": self.chats}


def free_slots(seen: Any) -> int:
    """Chats an operator could still take: capacity less their chats and the offers they hold."""
    return max(seen.capacity - len(seen.chats) - len(getattr(seen, "offers", ())), 0)


def presence_of(engine: Any, operator_id: int) -> Presence:
    seen = engine.roster.get(operator_id)
    connected = bool(seen and seen.connected)
    status = seen.status if seen is not None and connected else "offline"
    return Presence(
        connected=connected,
        status=status,
        chats=len(seen.chats) if seen else 0,
        free_slots=free_slots(seen) if seen is not None and status == "online" else 0,
    )


def connected_here(engine: Any, operator_id: int) -> bool:
    """Whether the operator has a socket on this process (routing then knows their settings)."""
    seen = engine.roster.get(operator_id)
    return seen is not None and bool(seen.connected)


def operators_online(engine: Any) -> int:
    return sum(1 for op in engine.roster if op.connected and op.status == "online")


def waiting_by_team(engine: Any) -> dict[str | None, int]:
    """How many chats wait in the queue for each team (None: any operator)."""
    counts: dict[str | None, int] = {}
    for cid in engine.queue:
        conv = engine.conversations.get(cid)
        if conv is not None:
            counts[conv.team] = counts.get(conv.team, 0) + 1
    return counts
