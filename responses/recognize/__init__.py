"""Which of the eight hard customer-service situations a conversation is in.

``recognize(messages)`` reads a conversation's recent visitor messages (newest last)
and returns the situation the operator now faces, or ``None`` for an ordinary
conversation. It runs offline on the standard library: text folding, hand-written
cue lexicons for English, Polish, Czech and Russian, and a small linear model whose
weights ship in ``weights.json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..library import SITUATIONS as LIBRARY_SITUATIONS
from .language import LANGUAGES, detect_language, language_scores, pick
from .learned import MAX_CHARS, MAX_MESSAGES, NONE, active, use_model

__all__ = ["SITUATIONS", "Recognition", "detect_language", "recognize", "use_model"]

SITUATIONS: tuple[str, ...] = LIBRARY_SITUATIONS  # one list, in responses.library


@dataclass(frozen=True, slots=True)
class Recognition:
    """The situation (or ``None``), how sure we are (0..1), and the visitor's language.

    ``candidates`` are the three likeliest labels with their probabilities ("none" for no
    situation), best first; ``unsure`` is true when the best one is below the threshold
    calibrated by cross-validation, so an operator should look at all three.
    """

    situation: str | None
    score: float
    language: str
    candidates: tuple[tuple[str, float], ...] = ()
    unsure: bool = False


def recognize(messages: Sequence[str]) -> Recognition:
    """Recognise the situation of a conversation from its recent visitor messages."""
    if isinstance(messages, str):
        messages = [messages]
    texts = [m for m in messages if m and m.strip()]
    language = _language(texts)
    if not texts:
        return Recognition(None, 1.0, language)
    model = active()
    scores = model.scores(texts)
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    best, score = ranked[0]
    candidates = tuple((label, round(p, 4)) for label, p in ranked[:3])
    unsure = score < model.config.unsure
    return Recognition(None if best == NONE else best, round(score, 4), language, candidates, unsure)


def _language(texts: Sequence[str]) -> str:
    """Language of the conversation, the newest message counting most ("ok" is no clue)."""
    total = dict.fromkeys(LANGUAGES, 0.0)
    weight = 1.0
    for text in reversed(texts[-MAX_MESSAGES:]):
        for lang, score in language_scores(text[:MAX_CHARS]).items():
            total[lang] += weight * score
        weight *= 0.5
    return pick(total)


assert NONE not in SITUATIONS
