"""Cross-validate situation-model candidates on the dev set's train split.

Folds by writer: train on the older items plus writer B (en, pl), validate on writer C
(cs, ru), and the reverse; then a 5-fold shuffle over the whole train split; the
held-out split (written by the lexicon's author) is scored by the model trained on
all of train. Prints macro-F1 (nine classes), per-language macro-F1 and top-3 accuracy.

Run: ``.venv/bin/python bench/recognizer_cv.py [--candidate NAME ...]``
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from responses.devset import Item, load  # noqa: E402
from responses.recognize.learned import LABELS, NONE, Config, train_model  # noqa: E402
from responses.recognize.model import load as load_lexicon_model  # noqa: E402

Scorer = Callable[[Sequence[str]], dict[str, float]]
BASE = Config()
CANDIDATES: dict[str, Config] = {
    "learned": replace(BASE, cues=0.0, context=False),
    "learned+context": replace(BASE, cues=0.0),
    "learned+cues": replace(BASE, context=False),
    "learned+cues+context": BASE,
    "learned+cues1+context": replace(BASE, cues=1.0),
    "learned+cues+context C=3": replace(BASE, c=3.0),
    "learned+cues+context C=30": replace(BASE, c=30.0),
}


def macro_f1(gold: Sequence[str], pred: Sequence[str]) -> float:
    f1s = []
    for cls in LABELS:
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == cls and p == cls)
        fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != cls and p == cls)
        fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == cls and p != cls)
        if tp + fp + fn:
            f1s.append(2 * tp / (2 * tp + fp + fn))
    return statistics.fmean(f1s)


def evaluate(items: Sequence[Item], score: Scorer) -> dict[str, float]:
    gold = [it.label or NONE for it in items]
    ranked = [sorted(s.items(), key=lambda kv: -kv[1]) for s in (score(it.messages) for it in items)]
    pred = [r[0][0] for r in ranked]
    out = {
        "macro-F1": macro_f1(gold, pred),
        "top3": statistics.fmean(g in [k for k, _ in r[:3]] for g, r in zip(gold, ranked, strict=True)),
    }
    for lang in sorted({it.lang for it in items}):
        idx = [i for i, it in enumerate(items) if it.lang == lang]
        out[lang] = macro_f1([gold[i] for i in idx], [pred[i] for i in idx])
    return out


def current(messages: Sequence[str]) -> dict[str, float]:
    """The earlier lexicon-weighted recognizer (``weights.json``) as a scorer."""
    model = load_lexicon_model()
    scores = model.conversation(messages)
    best = max((s for s in LABELS if s != NONE), key=scores.__getitem__)
    if scores[best] < model.threshold:
        scores = {**scores, NONE: 2.0}  # below its threshold it says "none"
    return scores


def folds(items: Sequence[Item]) -> list[tuple[str, list[Item], list[Item]]]:
    train = [it for it in items if it.split == "train"]
    out = []
    for name, writer in (("C (cs,ru)", "wc-"), ("B (en,pl)", "wb-")):
        out.append(
            (
                name,
                [it for it in train if not it.id.startswith(writer)],
                [it for it in train if it.id.startswith(writer)],
            )
        )
    return out


def show(name: str, result: dict[str, float]) -> None:
    cells = "  ".join(f"{k} {v:.3f}" for k, v in result.items())
    print(f"  {name:<12} {cells}")


def run(name: str, config: Config | None, items: Sequence[Item]) -> None:
    print(f"== {name} ==")
    for fold_name, train, test in folds(items):
        scorer = current if config is None else train_model(train, config=config).scores
        show(fold_name, evaluate(test, scorer))
    train = [it for it in items if it.split == "train"]
    if config is not None:
        order = list(range(len(train)))
        random.Random(13).shuffle(order)
        preds: list[dict[str, float]] = [{} for _ in train]
        for k in range(5):
            test_idx = set(order[k::5])
            model = train_model([it for i, it in enumerate(train) if i not in test_idx], config=config)
            for i in test_idx:
                preds[i] = model.scores(train[i].messages)
        lookup = {it.messages: preds[i] for i, it in enumerate(train)}
        show("5-fold", evaluate(train, lambda messages: lookup[tuple(messages)]))
    heldout = [it for it in items if it.split == "heldout"]
    scorer = current if config is None else train_model(train, config=config).scores
    show("heldout", evaluate(heldout, scorer))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--candidate", action="append", help="only these (repeatable); 'current' too")
    args = parser.parse_args(argv)
    items = load()
    wanted = args.candidate or ["current", *CANDIDATES]
    for name in wanted:
        run(name, None if name == "current" else CANDIDATES[name], items)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
