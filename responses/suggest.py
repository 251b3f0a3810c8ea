"""Suggested replies for the visitor's latest messages.

The recognizer names the hard situation and the language; this module picks that
situation's replies in that language and fills them, so the operator sees ready
text with the slots still to fill highlighted. It runs for every visitor message,
so it only reads precomputed indexes: no I/O, no scanning of the whole library.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from responses.fill import Segment, fill
from responses.library import GENERAL, Library, Response
from responses.recognize import Recognition, recognize

__all__ = ["FALLBACK_LANGUAGE", "GENERAL_SCORE", "SuggestedItem", "Suggestion", "suggest"]

FALLBACK_LANGUAGE = "en"
# General replies are offered when no hard situation is recognised: useful, but not
# a confident match, so they rank below any recognised situation.
GENERAL_SCORE = 0.3
# Later items of one suggestion score a little lower, so the order survives sorting.
_RANK_DECAY = 0.05
_OPENING_TAG = "opening"
_SIGNATURE_TAG = "signature"


@dataclass(frozen=True)
class SuggestedItem:
    """One reply as the operator sees it: filled text and what is still missing."""

    response_id: str
    situation: str
    text: str
    score: float
    missing: list[str] = field(default_factory=list)
    language: str = FALLBACK_LANGUAGE
    segments: list[Segment] = field(default_factory=list)


@dataclass(frozen=True)
class Suggestion:
    """The recognised situation (or ``None``) and the replies offered for it."""

    situation: str | None
    score: float
    language: str
    items: list[SuggestedItem] = field(default_factory=list)
    candidates: tuple[tuple[str, float], ...] = ()  # the recognizer's top 3 (label, probability)
    unsure: bool = False  # the recognizer's best guess is below its calibrated threshold


def suggest(
    library: Library,
    messages: Sequence[str],
    *,
    language: str | None = None,
    context: Mapping[str, str | None] | None = None,
    limit: int = 3,
    rotation: int = 0,
    recognition: Recognition | None = None,
) -> Suggestion:
    """Recognise the situation in ``messages`` and offer up to ``limit`` filled replies.

    ``language`` overrides the detected one (the visitor's locale, say). Replies come
    in library order; ``rotation`` (the message's seq, for instance) starts the list
    further along so a long chat does not show the same three every time. A language
    without replies for the situation gets English ones, marked with their language.
    ``recognition`` skips the recognizer (an operator said what the situation is).
    """
    context = context or {}
    candidates: tuple[tuple[str, float], ...] = ()
    unsure = False
    if recognition is not None:
        situation, score, detected = recognition.situation, recognition.score, recognition.language
    elif any(m.strip() for m in messages):
        recognition = recognize(messages)
        situation, score, detected = recognition.situation, recognition.score, recognition.language
        candidates, unsure = recognition.candidates, recognition.unsure
    else:
        situation, score, detected = None, 0.0, FALLBACK_LANGUAGE
    wanted = _normalise_language(language or detected, library)

    if situation is None:
        pool = _general(library, wanted, first_message=len(messages) <= 1)
        base = GENERAL_SCORE
    else:
        pool = library.for_situation(wanted, situation)
        if not pool:
            pool = library.for_situation(FALLBACK_LANGUAGE, situation)
        base = score
    chosen = _rotate(pool, rotation)[: max(limit, 0)]

    items = []
    for rank, response in enumerate(chosen):
        filled = fill(response, context)
        items.append(
            SuggestedItem(
                response_id=response.id,
                situation=response.situation,
                text=filled.text,
                score=round(max(base * (1 - _RANK_DECAY * rank), 0.0), 4),
                missing=filled.missing,
                language=response.language,
                segments=filled.segments,
            )
        )
    return Suggestion(
        situation=situation,
        score=score,
        language=wanted,
        items=items,
        candidates=candidates,
        unsure=unsure,
    )


def _normalise_language(language: str, library: Library) -> str:
    """'pl-PL' -> 'pl' when the library has 'pl' but not 'pl-PL'."""
    if language in library.languages:
        return language
    primary = language.split("-")[0].split("_")[0].lower()
    return primary if primary in library.languages else language


def _general(library: Library, language: str, *, first_message: bool) -> tuple[Response, ...]:
    """General replies without the signature; the greeting first only at the start."""
    pool = library.for_situation(language, GENERAL) or library.for_situation(FALLBACK_LANGUAGE, GENERAL)
    usable = [r for r in pool if _SIGNATURE_TAG not in r.tags]
    openings = [r for r in usable if _OPENING_TAG in r.tags]
    others = [r for r in usable if _OPENING_TAG not in r.tags]
    return tuple(openings + others if first_message else others + openings)


def _rotate(pool: Sequence[Response], rotation: int) -> list[Response]:
    if not pool:
        return []
    start = rotation % len(pool)
    return [*pool[start:], *pool[:start]]
