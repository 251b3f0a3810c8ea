"""The abusive visitor's standing (docs/playbook.md#hater): who is in a cool-down, until when.

Held in the core so that every process of a service, which all feed their core the same log,
refuses the same visitor's messages until the same moment, and so that the standing travels in
the core's snapshots to a process that joins. A block is not held here: it lives in the database
(every new session and hello reads it); the core only hears of it to shut the visitor's open
sockets in every process (the ``ShutOut`` effect).
"""

from __future__ import annotations


class CoolDowns:
    """Visitor id -> the time (unix seconds) they may write again; expired entries are dropped."""

    __slots__ = ("_until",)

    def __init__(self) -> None:
        self._until: dict[str, float] = {}

    def start(self, visitor_id: str, until: float, now: float) -> None:
        """A cool-down until ``until``; expired ones are forgotten on the way (the map stays small)."""
        for vid in [vid for vid, end in self._until.items() if end <= now]:
            del self._until[vid]
        if until > now:
            self._until[visitor_id] = until

    def end(self, visitor_id: str) -> bool:
        """An admin ended the cool-down early; True if one was on."""
        return self._until.pop(visitor_id, None) is not None

    def until(self, visitor_id: str, now: float) -> float | None:
        """When the visitor may write again, while a cool-down is on (a read: nothing changes)."""
        end = self._until.get(visitor_id)
        return end if end is not None and end > now else None

    def in_force(self, now: float) -> dict[str, float]:
        return {vid: end for vid, end in self._until.items() if end > now}
