"""Retraining the situation model from the operators' feedback: the items, the hold-out, the report.

Plain synchronous code, shared by ``chatserver assistant retrain`` and the admin API (which runs
it in a thread). Training items are the shipped dev set's training split plus one item per
visitor message the operators labelled: a correction wins over a picked reply, a newer signal
over an older one. A share of that feedback is held out to score the model in use ("before")
and the retrained one ("after") on the operators' own labels: the newest 20 % once there are
at least ``MIN_HOLDOUT`` labelled messages, otherwise k-fold over all of them (each fold's
model trained without it). The model kept is then trained on everything.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from chatserver.assistant import CORRECTED, LABELS, NONE, PICKED
from chatserver.storage.repository import FeedbackRow, StoredModel
from responses import devset
from responses.devset import Item
from responses.recognize import recognize
from responses.recognize.learned import SituationModel, train_model

HOLDOUT_SHARE = 0.2
MIN_HOLDOUT = 10  # labelled messages needed before the newest fifth is held out
SMALL_HOLDOUT_SHARE = 1 / 3  # with fewer, the newest third (at least one message)
FEEDBACK_WEIGHT = 3  # each operator label counts as this many training items

Predict = Callable[[Sequence[str]], str]


@dataclass(frozen=True, slots=True)
class Labelled:
    """One visitor message with the label the operators gave it."""

    conversation_id: int
    seq: int
    language: str
    messages: tuple[str, ...]
    label: str
    created_at: float


@dataclass(frozen=True)
class Outcome:
    model: SituationModel
    report: dict[str, Any]


def labelled(rows: Sequence[FeedbackRow]) -> list[Labelled]:
    """One label per visitor message, oldest first: a correction wins over a pick, newer over older."""
    chosen: dict[tuple[int, int], FeedbackRow] = {}
    for row in sorted(rows, key=lambda r: (r.created_at, r.id)):
        if row.corrected not in LABELS or not row.messages:
            continue
        key = (row.conversation_id, row.seq)
        before = chosen.get(key)
        if before is None or row.source == CORRECTED or before.source == PICKED:
            chosen[key] = row
    found = [
        Labelled(r.conversation_id, r.seq, r.language, r.messages, r.corrected, r.created_at)
        for r in chosen.values()
    ]
    return sorted(found, key=lambda x: (x.created_at, x.conversation_id, x.seq))


def _items(examples: Sequence[Labelled]) -> list[Item]:
    return [
        Item(
            f"feedback-{x.conversation_id}-{x.seq}-{copy}",
            x.language,
            x.messages,
            None if x.label == NONE else x.label,
            "train",
        )
        for x in examples
        for copy in range(FEEDBACK_WEIGHT)
    ]


def predictor(model: SituationModel | None) -> Predict:
    """The label a model gives a conversation; ``None``: what ``recognize()`` says now."""
    if model is None:
        return lambda messages: recognize(messages).situation or NONE
    scoring = model

    def predict(messages: Sequence[str]) -> str:
        scores = scoring.scores(messages)
        return max(LABELS, key=lambda label: scores.get(label, 0.0))

    return predict


def _correct(predict: Predict, examples: Sequence[Labelled]) -> int:
    return sum(1 for x in examples if predict(x.messages) == x.label)


def _ratio(correct: int, total: int) -> float | None:
    return round(correct / total, 4) if total else None


def retrain(
    rows: Sequence[FeedbackRow],
    current: SituationModel | None,
    *,
    base: Sequence[Item] | None = None,
    seed: int = 0,
) -> Outcome:
    """Train a model on the dev set and the feedback; score it and ``current`` on held-out feedback."""
    base_items = list(devset.load("train") if base is None else base)
    examples = labelled(rows)
    n = len(examples)
    before_predict = predictor(current)
    if n >= 2:
        # One model trained without the held-out messages (each training takes seconds to a
        # minute, so there is one such model, not one per fold), scored beside ``current``.
        share = HOLDOUT_SHARE if n >= MIN_HOLDOUT else SMALL_HOLDOUT_SHARE
        held = max(1, round(n * share))
        train_part, test_part = examples[: n - held], examples[n - held :]
        candidate = train_model([*base_items, *_items(train_part)], seed=seed)
        before = _correct(before_predict, test_part)
        after = _correct(predictor(candidate), test_part)
        method, tested = "newest", len(test_part)
    else:
        before = after = 0
        method, tested = "none", 0
    model = train_model([*base_items, *_items(examples)], seed=seed)
    report = {
        "feedback": len(rows),
        "labelled": n,
        "train_items": len(base_items) + n * FEEDBACK_WEIGHT,
        "holdout": {"method": method, "items": tested},
        "accuracy_before": _ratio(before, tested),
        "accuracy_after": _ratio(after, tested),
        "labels": dict(sorted(Counter(x.label for x in examples).items())),
    }
    return Outcome(model, report)


def feedback_report(
    rows: Sequence[FeedbackRow], latest: StoredModel | None, in_use: int | None
) -> dict[str, Any]:
    """``GET /api/admin/assistant/report``: the feedback so far, the last retraining, the corrections."""
    sources = Counter(r.source for r in rows)
    confusion = Counter((r.recognized, r.corrected) for r in rows if r.source == CORRECTED)
    last = None
    if latest is not None:
        last = {"id": latest.id, "created_at": latest.created_at, "operator_id": latest.operator_id}
        last.update(latest.report)
    return {
        "feedback": {
            "total": len(rows),
            "picked": sources.get(PICKED, 0),
            "corrected": sources.get(CORRECTED, 0),
            "labelled": len(labelled(rows)),
        },
        "model": {"in_use": in_use if in_use is not None else "shipped"},
        "last_retrain": last,
        "confusion": [
            {"recognized": recognized, "corrected": corrected, "count": count}
            for (recognized, corrected), count in sorted(confusion.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
    }
