"""Rebuild the shipped ``learned_model.npz`` from the dev set's train split.

Run ``python -m responses.recognize.learned``. The "unsure" threshold is calibrated on
out-of-fold predictions by writer (train without writer B, score B; the same for C), then
the model is fitted on the whole train split. Deterministic: same data, same file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from responses.devset import Item, load

from . import FILE, NONE, Config, train_model


def calibrate(pairs: Sequence[tuple[float, bool]]) -> float:
    """The top-probability threshold that best separates right answers from wrong ones.

    ``pairs`` are out-of-fold (top probability, was it right); below the threshold a
    recognition is "unsure". Chosen to maximise right-and-sure plus wrong-and-unsure.
    """
    best_t, best = 0.5, -1
    for step in range(20, 91):
        t = step / 100
        kept = sum(1 for p, ok in pairs if (p >= t) == ok)
        if kept > best:
            best_t, best = t, kept
    return best_t


def writer_folds(items: Sequence[Item]) -> list[tuple[list[Item], list[Item]]]:
    """Train on everything but one independent writer, validate on that writer."""
    return [
        ([it for it in items if not it.id.startswith(w)], [it for it in items if it.id.startswith(w)])
        for w in ("wb-", "wc-")
    ]


def main() -> int:
    items = load("train")
    config = Config()
    pairs: list[tuple[float, bool]] = []
    for train, test in writer_folds(items):
        model = train_model(train, config=config)
        for item in test:
            label, p = max(model.scores(item.messages).items(), key=lambda kv: kv[1])
            pairs.append((p, label == (item.label or NONE)))
    unsure = calibrate(pairs)
    model = train_model(items, config=replace(config, unsure=unsure))
    out = Path(__file__).parents[1] / FILE
    out.write_bytes(model.to_bytes())
    size = out.stat().st_size // 1024
    print(f"unsure below {unsure}; {len(model.vocabulary)} terms -> {out.name} ({size} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
