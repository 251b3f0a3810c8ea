"""The shipped linear model: per-message class probabilities, then a conversation.

Weights live in ``weights.json`` next to this file, written by
``python -m responses.recognize.train``. A conversation is read newest first: the
newest message counts fully, and an older one only to the extent that every newer
message looked like no situation at all ("hello" → "it arrived broken" stays a
defect; "it arrived broken" → "thanks, bye" becomes an ending).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from .features import Features, extract

NONE = "none"
MAX_MESSAGES = 4
NO_CUE_MIN = 0.8  # how sure the model must be of a situation no lexicon cue supports
MAX_CHARS = 600  # longer messages keep their start and end: a bound on time per call
CACHE_SIZE = 4096  # recent messages whose probabilities are kept: a chat re-reads its last few each time


@dataclass(frozen=True, slots=True)
class Model:
    """Softmax weights over the eight situations plus ``none``."""

    classes: tuple[str, ...]
    weights: dict[str, tuple[float, ...]]
    threshold: float
    decay: float
    _seen: dict[str, list[float]] = field(default_factory=dict, compare=False, repr=False)

    def probabilities(self, feats: Features) -> list[float]:
        """Class probabilities of one message's features."""
        logits = [0.0] * len(self.classes)
        weights = self.weights
        for name, value in feats.items():
            row = weights.get(name)
            if row is not None:
                for k, w in enumerate(row):
                    logits[k] += w * value
        top = max(logits)
        exps = [math.exp(v - top) for v in logits]
        total = sum(exps)
        return [e / total for e in exps]

    def message(self, feats: Features, none: int) -> list[float]:
        """Class probabilities of one message, doubting a situation no cue supports.

        The training messages nearly all contain a lexicon cue, so the model never
        learnt what a message without one looks like; unless it is very sure, such a
        message counts as no situation (and lets an older message speak).
        """
        probs = self.probabilities(feats)
        has_cue = any("L:" + cls in feats for cls in self.classes if cls != NONE)
        if has_cue or max(p for k, p in enumerate(probs) if k != none) >= NO_CUE_MIN:
            return probs
        return [1.0 if k == none else 0.0 for k in range(len(probs))]

    def conversation(self, messages: Sequence[str]) -> dict[str, float]:
        """Situation → score for a conversation, newest message weighted most.

        ``none`` gets whatever mass no situation claimed.
        """
        none = self.classes.index(NONE)
        scores = dict.fromkeys(self.classes, 0.0)
        carry = 1.0
        recent = [m for m in messages if m and m.strip()][-MAX_MESSAGES:]
        for message in reversed(recent):
            if carry < 0.01:  # older messages can no longer change the outcome
                break
            probs = self._seen.get(message)
            if probs is None:
                text = message
                if len(text) > MAX_CHARS:
                    text = text[: MAX_CHARS // 2] + " " + text[-MAX_CHARS // 2 :]
                probs = self.message(extract(text), none)
                if len(self._seen) >= CACHE_SIZE:
                    self._seen.clear()
                self._seen[message] = probs
            for k, cls in enumerate(self.classes):
                if k != none:
                    scores[cls] += carry * probs[k]
            carry *= probs[none] * self.decay
        scores[NONE] = max(0.0, 1.0 - sum(scores.values()))
        return scores


def to_json(model: Model) -> str:
    """Compact, diff-friendly serialisation (one feature per line)."""
    rows = ",\n".join(
        f"  {json.dumps(name, ensure_ascii=True)}: [{','.join(_num(w) for w in row)}]"
        for name, row in sorted(model.weights.items())
    )
    head = json.dumps({"classes": list(model.classes), "threshold": model.threshold, "decay": model.decay})
    return head[:-1] + ', "weights": {\n' + rows + "\n}}\n"


def _num(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def from_json(text: str) -> Model:
    data = json.loads(text)
    return Model(
        classes=tuple(data["classes"]),
        weights={k: tuple(v) for k, v in data["weights"].items()},
        threshold=float(data["threshold"]),
        decay=float(data["decay"]),
    )


@lru_cache(maxsize=1)
def load() -> Model:
    """The shipped model, read once."""
    text = resources.files(__package__).joinpath("weights.json").read_text("utf-8")
    return from_json(text)
