"""Small helpers the core tests share: put an operator online, pick effects, read a refusal."""

from __future__ import annotations

from typing import TypeVar

from chatserver.core import events as ev
from chatserver.core.effects import Effect, Refused
from chatserver.core.engine import Engine

T = TypeVar("T")


def online(
    engine: Engine, oid: int, now: float, *, capacity: int = 3, teams: frozenset[str] = frozenset()
) -> None:
    engine.receive(ev.OperatorConnected(oid, teams, capacity), now)
    engine.receive(ev.OperatorStatusChanged(oid, "online"), now)


def of(effects: list[Effect], kind: type[T]) -> list[T]:
    return [e for e in effects if isinstance(e, kind)]


def refusal(effects: list[Effect]) -> Refused:
    """The core's answer to a request it refused: only the refusal, nothing else."""
    assert [type(e) for e in effects] == [Refused], effects
    first = effects[0]
    assert isinstance(first, Refused)
    return first
