"""Fit the shipped weights on the dev set's TRAIN split only.

Run ``python -m responses.recognize.train``. Multinomial logistic regression in pure
Python (AdaGrad), with a stronger L2 penalty on text features than on cue features,
so the model leans on the hand-written lexicons and generalises beyond the training
messages. The regularisation strengths and the "none" threshold are chosen by 5-fold
cross-validation inside the train split; the held-out split is never read here.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from collections.abc import Sequence
from pathlib import Path

from responses.devset import Item, load

from .features import Features, extract, is_cue_feature
from .model import NONE, Model, to_json

SITUATIONS = (
    "cannot_do", "defect", "out_of_stock", "pointless_suggestion",
    "dont_know", "hater", "transfer", "ending",
)  # fmt: skip
CLASSES = (*SITUATIONS, NONE)
DECAY = 0.7  # how much an older message still counts once newer ones say nothing
EPOCHS = 25
MIN_DF = 2
TOLERANCE = 0.005  # cross-validation noise on ~500 items
OUT = Path(__file__).with_name("weights.json")


def fit(
    data: Sequence[tuple[Features, int]], lam_text: float, lam_cue: float, seed: int = 0
) -> dict[str, list[float]]:
    """Softmax regression by AdaGrad SGD; returns feature → per-class weights."""
    k_classes = len(CLASSES)
    weights: dict[str, list[float]] = {}
    accum: dict[str, list[float]] = {}
    order = list(range(len(data)))
    rng = random.Random(seed)
    rate = 0.5
    for _ in range(EPOCHS):
        rng.shuffle(order)
        for i in order:
            feats, target = data[i]
            logits = [0.0] * k_classes
            for name, value in feats.items():
                row = weights.get(name)
                if row is not None:
                    for k in range(k_classes):
                        logits[k] += row[k] * value
            top = max(logits)
            exps = [math.exp(v - top) for v in logits]
            total = sum(exps)
            error = [e / total for e in exps]
            error[target] -= 1.0
            for name, value in feats.items():
                row = weights.setdefault(name, [0.0] * k_classes)
                acc = accum.setdefault(name, [1e-8] * k_classes)
                lam = lam_cue if is_cue_feature(name) else lam_text
                for k in range(k_classes):
                    grad = error[k] * value + lam * row[k]
                    acc[k] += grad * grad
                    row[k] -= rate * grad / math.sqrt(acc[k])
    return weights


def examples(items: Sequence[Item], min_df: int = MIN_DF) -> list[tuple[Features, int]]:
    """Each conversation's newest message with the conversation's label.

    Text features seen in fewer than ``min_df`` training messages are dropped: they
    can only memorise, and they would bloat the shipped file.
    """
    data = [(extract(it.messages[-1]), CLASSES.index(it.label or NONE)) for it in items]
    df: dict[str, int] = {}
    for feats, _ in data:
        for name in feats:
            df[name] = df.get(name, 0) + 1
    return [
        ({n: v for n, v in feats.items() if is_cue_feature(n) or df[n] >= min_df}, y) for feats, y in data
    ]


def decide(scores: dict[str, float], threshold: float) -> str | None:
    best = max(SITUATIONS, key=lambda s: scores[s])
    return best if scores[best] >= threshold else None


def macro_f1(gold: Sequence[str | None], pred: Sequence[str | None]) -> float:
    f1s = []
    for cls in (*SITUATIONS, None):
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == cls and p == cls)
        fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != cls and p == cls)
        fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == cls and p != cls)
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(f1s) / len(f1s)


def prune(weights: dict[str, list[float]], floor: float = 0.002) -> dict[str, tuple[float, ...]]:
    """Drop features whose weights are all negligible; round the rest."""
    return {
        name: tuple(round(w, 3) for w in row)
        for name, row in weights.items()
        if max(abs(w) for w in row) >= floor
    }


def cross_validate(
    items: Sequence[Item], lam_text: float, lam_cue: float, folds: int = 5
) -> list[dict[str, float]]:
    """Out-of-fold conversation scores for every train item."""
    shuffled = list(range(len(items)))
    random.Random(13).shuffle(shuffled)
    scores: list[dict[str, float]] = [{} for _ in items]
    for fold in range(folds):
        test = set(shuffled[fold::folds])
        train_items = [it for i, it in enumerate(items) if i not in test]
        model = Model(CLASSES, prune(fit(examples(train_items, MIN_DF), lam_text, lam_cue)), 0.0, DECAY)
        for i in test:
            scores[i] = model.conversation(items[i].messages)
    return scores


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="skip the grid search")
    args = parser.parse_args(argv)
    items = load("train")
    gold = [it.label for it in items]
    grid = (
        [(0.003, 0.0003)]
        if args.quick
        else [(lt, lc) for lt in (0.001, 0.003, 0.01, 0.03) for lc in (0.0001, 0.001, 0.003)]
    )
    thresholds = [t / 100 for t in range(15, 70, 5)]
    results = []
    for lam_text, lam_cue in grid:
        oof = cross_validate(items, lam_text, lam_cue)
        f1, threshold = max((macro_f1(gold, [decide(s, t) for s in oof]), t) for t in thresholds)
        results.append((f1, lam_text, lam_cue, threshold))
        print(f"lam_text={lam_text} lam_cue={lam_cue}: cv macro-F1 {f1:.4f} at {threshold}", file=sys.stderr)
    # Within noise of the best, prefer the most regularised text features: they memorise.
    top = max(r[0] for r in results)
    f1, lam_text, lam_cue, threshold = max(
        (r for r in results if r[0] >= top - TOLERANCE), key=lambda r: (r[1], -r[2])
    )
    weights = prune(fit(examples(items), lam_text, lam_cue))
    model = Model(CLASSES, weights, threshold, DECAY)
    OUT.write_text(to_json(model), "utf-8")
    print(
        f"cv macro-F1 {f1:.3f}; lam_text={lam_text} lam_cue={lam_cue} threshold={threshold}; "
        f"{len(weights)} features → {OUT.name} ({OUT.stat().st_size // 1024} KiB)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
