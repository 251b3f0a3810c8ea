"""Score the situation recognizer on the labelled dev set.

Prints, for the held-out split and separately for the train split: accuracy,
macro-F1 over the nine classes (eight situations + none), top-3 accuracy (the gold label
among ``Recognition.candidates``), per-situation precision and recall, per-language
accuracy and macro-F1, how many answers were "unsure" and how often those were wrong, and
p50/p99 time per ``recognize`` call. ``--stress`` adds the held-out split rewritten without
diacritics and with random typos. ``--file PATH`` scores any JSONL file in the devset format
instead.

Run: ``.venv/bin/python bench/suggest_eval.py [--file PATH]``
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
import unicodedata
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from responses.devset import Item, load  # noqa: E402
from responses.recognize import SITUATIONS, recognize  # noqa: E402
from responses.recognize.learned import active  # noqa: E402

CLASSES: tuple[str | None, ...] = (*SITUATIONS, None)


def _name(cls: str | None) -> str:
    return cls or "none"


def _prf(gold: Sequence[str | None], pred: Sequence[str | None], cls: str | None):
    pairs = list(zip(gold, pred, strict=True))
    tp = sum(1 for g, p in pairs if g == cls and p == cls)
    fp = sum(1 for g, p in pairs if g != cls and p == cls)
    fn = sum(1 for g, p in pairs if g == cls and p != cls)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1, tp + fn


def report(title: str, items: Sequence[Item]) -> None:
    gold = [it.label for it in items]
    times: list[float] = []
    pred: list[str | None] = []
    top3: list[bool] = []
    unsure: list[bool] = []
    for it in items:
        start = time.perf_counter()
        result = recognize(it.messages)
        times.append((time.perf_counter() - start) * 1000)
        pred.append(result.situation)
        top3.append(_name(it.label) in [label for label, _ in result.candidates[:3]])
        unsure.append(result.unsure)
    correct = [g == p for g, p in zip(gold, pred, strict=True)]
    rows = [_prf(gold, pred, cls) for cls in CLASSES]
    print(f"== {title}: {len(items)} conversations ==")
    print(f"accuracy  {sum(correct) / len(items):.3f}")
    print(f"macro-F1  {_macro(gold, pred):.3f}  (9 classes)")
    print(f"top-3     {statistics.fmean(top3):.3f}")
    wrong_unsure = sum(1 for u, c in zip(unsure, correct, strict=True) if u and not c)
    wrong = sum(not c for c in correct)
    print(f"unsure    {sum(unsure)} answers, {wrong_unsure} of them wrong; {wrong} wrong in all")
    print(f"{'class':<22}{'precision':>10}{'recall':>8}{'F1':>7}{'n':>5}")
    for cls, (precision, recall, f1, n) in zip(CLASSES, rows, strict=True):
        print(f"{_name(cls):<22}{precision:>10.3f}{recall:>8.3f}{f1:>7.3f}{n:>5}")
    for lang in sorted({it.lang for it in items}):
        idx = [i for i, it in enumerate(items) if it.lang == lang]
        acc = sum(correct[i] for i in idx) / len(idx)
        f1 = _macro([gold[i] for i in idx], [pred[i] for i in idx])
        print(f"accuracy[{lang}]  {acc:.3f}  macro-F1[{lang}]  {f1:.3f}  (n={len(idx)})")
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    print(f"time per call  p50 {statistics.median(times):.3f} ms  p99 {p99:.3f} ms")
    print()


def _macro(gold: Sequence[str | None], pred: Sequence[str | None]) -> float:
    """Macro-F1 over the classes present in gold or predictions."""
    present = [cls for cls in CLASSES if cls in gold or cls in pred]
    return statistics.fmean(_prf(gold, pred, cls)[2] for cls in present)


def read_file(path: Path) -> list[Item]:
    """Items of one JSONL file in the devset format."""
    items = []
    for line in path.read_text("utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            items.append(
                Item(row["id"], row["lang"], tuple(row["messages"]), row["label"], row.get("split", "file"))
            )
    return items


def _strip_diacritics(text: str) -> str:
    text = text.replace("ł", "l").replace("Ł", "L")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _typos(text: str, rng: random.Random) -> str:
    """Roughly one slip per twelve letters: a dropped, doubled or swapped letter."""
    chars = list(text)
    i = 0
    while i < len(chars) - 1:
        if chars[i].isalpha() and rng.random() < 1 / 12:
            kind = rng.randrange(3)
            if kind == 0:
                del chars[i]
            elif kind == 1:
                chars.insert(i, chars[i])
                i += 1
            else:
                chars[i], chars[i + 1] = chars[i + 1], chars[i]
        i += 1
    return "".join(chars)


def stress(items: Sequence[Item]) -> None:
    """Held-out again, lowercased without diacritics, then with random typos."""
    rng = random.Random(7)
    variants = {
        "no diacritics, lowercase": lambda t: _strip_diacritics(t).lower(),
        "random typos": lambda t: _typos(t, rng),
    }
    for name, change in variants.items():
        changed = [
            Item(it.id, it.lang, tuple(change(m) for m in it.messages), it.label, it.split) for it in items
        ]
        gold = [it.label for it in changed]
        pred = [recognize(it.messages).situation for it in changed]
        acc = sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold)
        f1 = _macro(gold, pred)
        print(f"stress[{name}]  accuracy {acc:.3f}  macro-F1 {f1:.3f}")
    print()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Score the situation recognizer.")
    parser.add_argument("--split", choices=("heldout", "train"), help="only this split")
    parser.add_argument("--stress", action="store_true", help="also score perturbed held-out text")
    parser.add_argument("--file", type=Path, help="score this JSONL file (devset format) instead")
    args = parser.parse_args(argv)
    items = load()
    for it in items[:50]:  # warm-up: load weights, fill caches
        recognize(it.messages)
    active()._seen.clear()  # time every message unseen: no figure from the per-message cache
    if args.file:
        report(str(args.file), read_file(args.file))
        return 0
    for split, title in (("heldout", "HELD-OUT"), ("train", "TRAIN")):
        if args.split in (None, split):
            report(title, [it for it in items if it.split == split])
    if args.stress:
        stress([it for it in items if it.split == "heldout"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
