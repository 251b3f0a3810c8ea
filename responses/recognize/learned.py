"""STAND-IN for the learned situation model: the interface only, kept tiny on purpose.

The real module (a model trained on the dev set) replaces this file; until then the server's
"learn from the operators" code is written and tested against this interface:

- ``train_model(items, *, seed=0) -> SituationModel``
- ``SituationModel.scores(messages) -> dict[str, float]`` (the eight situations and ``none``)
- ``SituationModel.to_bytes()`` / ``SituationModel.from_bytes(data)``
- ``use_model(model | None)``: ``recognize()`` uses that model (``None``: the shipped one)

This stand-in scores with the shipped linear model, except that a conversation whose newest
message it was trained on gets that item's label (a memory of the training items). It is not
meant to be accurate.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from responses.devset import Item

from . import model as shipped
from .model import NONE

LABELS: tuple[str, ...] = (
    "cannot_do",
    "defect",
    "out_of_stock",
    "pointless_suggestion",
    "dont_know",
    "hater",
    "transfer",
    "ending",
    NONE,
)


def _key(messages: Sequence[str]) -> str:
    texts = [m for m in messages if m and m.strip()]
    return " ".join(texts[-1].casefold().split()) if texts else ""


@dataclass(frozen=True)
class SituationModel:
    """Newest message (folded) -> label, over the shipped model's scores."""

    memory: dict[str, str]

    def scores(self, messages: Sequence[str]) -> dict[str, float]:
        label = self.memory.get(_key(messages))
        if label is not None:
            return {name: 1.0 if name == label else 0.0 for name in LABELS}
        texts = [m for m in messages if m and m.strip()]
        if not texts:
            return {name: 1.0 if name == NONE else 0.0 for name in LABELS}
        return shipped.load().conversation(texts)

    def to_bytes(self) -> bytes:
        return json.dumps({"memory": self.memory}, ensure_ascii=False, sort_keys=True).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> SituationModel:
        return cls(dict(json.loads(data.decode("utf-8"))["memory"]))


def train_model(items: Sequence[Item], *, seed: int = 0) -> SituationModel:
    """Remember each item's label by its newest message (later items win)."""
    return SituationModel({_key(item.messages): item.label or NONE for item in items if _key(item.messages)})


@dataclass(frozen=True)
class _Adapter:
    """What ``recognize()`` reads from ``load()``: ``conversation`` and ``threshold``."""

    model: SituationModel
    threshold: float

    def conversation(self, messages: Sequence[str]) -> dict[str, float]:
        return self.model.scores(messages)


def use_model(model: SituationModel | None) -> None:
    """Make ``recognize()`` (and so the suggestions) use ``model``; ``None`` restores the shipped one."""
    import responses.recognize as package

    target: Any = package
    if model is None:
        target.load = shipped.load
    else:
        adapter = _Adapter(model, shipped.load().threshold)
        target.load = lambda: adapter
