"""The one order in which every server process feeds its core the same events.

Each process keeps a full copy of the routing state (a replica of the sans-I/O core): every
event goes into one log and every process applies the log's entries in the same order, with
the time stamped in the entry, so every copy takes the same decisions. Reads (positions,
presence, who holds a chat) are then local and never wait for another process.

With one process the log is `LocalLog`: an entry is applied the moment it is appended, which
is exactly a direct call into the core. `RedisLog` (in ``redis_core_log``) shares it through a
Redis stream. The driver (``core_driver``) is the same for both.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from chatserver.core import events as ev


@dataclass(frozen=True, slots=True)
class Entry:
    """One event in the log.

    ``ticket`` (non-zero) marks a request whose origin waits for the core's answer (a refusal
    or none); ``deadline`` is the deadline a ``TimerFired`` was armed for, so a timer fired
    twice (by two leaders in turn) is applied once.
    """

    event: ev.Event
    now: float
    origin: str
    ticket: int = 0
    deadline: float | None = None


Deliver = Callable[[Entry], None]


class CoreLog(ABC):
    """Appends entries and hands each to ``deliver`` in the log's order, in this process."""

    #: True when other processes share the log (then one of them, the leader, runs timers
    #: and writes the decisions to storage).
    shared: bool = False

    def __init__(self) -> None:
        self._deliver: Deliver | None = None

    def bind(self, deliver: Deliver) -> None:
        self._deliver = deliver

    @abstractmethod
    def append(self, entry: Entry) -> None:
        """Add an entry; it is delivered here (and in every process) once it is in the log."""

    async def start(self) -> None:  # noqa: B027 - nothing to start for a log in this process
        """Begin delivering (after the state this process starts from is in place)."""

    async def stop(self) -> None:  # noqa: B027
        """Stop delivering; entries appended but not yet in the log may be lost."""


class LocalLog(CoreLog):
    """One process: an appended entry is delivered at once, before ``append`` returns."""

    def append(self, entry: Entry) -> None:
        assert self._deliver is not None, "bind() first"
        self._deliver(entry)
