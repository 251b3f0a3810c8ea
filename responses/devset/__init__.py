"""Loader for the labelled situation dev set (JSONL files in this folder)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent


@dataclass(frozen=True, slots=True)
class Item:
    """One labelled conversation: recent visitor messages, newest last."""

    id: str
    lang: str
    messages: tuple[str, ...]
    label: str | None
    split: str


def load(split: str | None = None) -> list[Item]:
    """All items, or those of one split ("train" or "heldout")."""
    items = []
    for path in sorted(HERE.glob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            item = Item(row["id"], row["lang"], tuple(row["messages"]), row["label"], row["split"])
            if split is None or item.split == split:
                items.append(item)
    return items
