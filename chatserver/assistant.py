"""The operator's assistant inside the server: suggestion frames, library search, usage decisions.

Plain synchronous code around the pure ``responses`` package. The hub decides *when* to call
it (after the visitor's message has been delivered, off the chat's hot path); this module
decides *what* to say, and how each operator reply counts against the replies offered.

It also notes what the operator teaches it (docs/assistant.md, "Learning from the operators"):
each recognised visitor message is remembered for a while, so a reply picked from the
suggestions (its situation) or a situation the operator sets becomes a ``Feedback``.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chatserver.core.texts import language_of
from responses.fill import fill, find_unfilled
from responses.library import GENERAL, Library
from responses.recognize import SITUATIONS, Recognition
from responses.suggest import suggest

WINDOW = 3  # visitor messages the recognizer looks at, newest last
EDITED_SIMILARITY = 0.5  # below this an operator's reply no longer counts as an edited suggestion

SUGGESTED, SENT_AS_IS, SENT_EDITED, IGNORED = "suggested", "sent_as_is", "sent_edited", "ignored"
NONE = "none"  # the label of an ordinary conversation (no hard situation)
LABELS: tuple[str, ...] = (*SITUATIONS, NONE)
PICKED, CORRECTED = "picked", "corrected"
REMEMBERED = 8  # recognised visitor messages a conversation keeps for the operator's feedback


@dataclass
class Offer:
    language: str
    response_id: str
    text: str
    situation: str = NONE  # the label a pick of this reply stands for
    seq: int = 0  # the visitor message it was offered for


@dataclass(frozen=True)
class Recognized:
    """What the recognizer said of one visitor message, and what it read."""

    situation: str  # a label of LABELS
    score: float
    language: str
    messages: tuple[str, ...]


@dataclass(frozen=True)
class Feedback:
    """The operator's word on one recognised visitor message."""

    conversation_id: int
    seq: int
    language: str
    messages: tuple[str, ...]
    recognized: str
    score: float
    corrected: str
    source: str  # PICKED or CORRECTED


class UnknownRecognition(LookupError):
    """No recognition of that visitor message is remembered here."""


@dataclass
class ConversationNotes:
    """What the assistant remembers of one conversation."""

    recent: deque[str] = field(default_factory=lambda: deque(maxlen=WINDOW))
    locale: str | None = None
    context: dict[str, str | None] = field(default_factory=dict)
    offers: list[Offer] = field(default_factory=list)
    count: int = 0
    recognized: dict[int, Recognized] = field(default_factory=dict)  # by visitor message seq


Usage = tuple[str, str, str]  # (language, response_id, kind)


class Assistant:
    """Suggestions for the hard situations, filled with what the server knows."""

    def __init__(self, library: Callable[[], Library], *, company_name: str | None = None) -> None:
        self._library = library
        self._company = company_name
        self._notes: dict[int, ConversationNotes] = {}

    def notes(self, conversation_id: int) -> ConversationNotes:
        notes = self._notes.get(conversation_id)
        if notes is None:
            notes = self._notes[conversation_id] = ConversationNotes()
        return notes

    def forget(self, conversation_id: int) -> None:
        self._notes.pop(conversation_id, None)

    def situation(self, conversation_id: int) -> str | None:
        """The hard situation recognised in the visitor's latest message here (None: none, or not seen)."""
        notes = self._notes.get(conversation_id)
        if notes is None or not notes.recognized:
            return None
        latest = notes.recognized[max(notes.recognized)].situation
        return None if latest == NONE else latest

    def visitor_said(self, conversation_id: int, text: str, locale: str | None) -> None:
        notes = self.notes(conversation_id)
        notes.recent.append(text)
        notes.count += 1
        if locale:
            notes.locale = locale

    def set_context(self, conversation_id: int, values: Mapping[str, str | None]) -> None:
        self.notes(conversation_id).context.update(values)

    def _context(self, notes: ConversationNotes) -> dict[str, str | None]:
        context: dict[str, str | None] = {"company.name": self._company}
        context.update(notes.context)
        return context

    def suggestions(
        self, conversation_id: int, seq: int, *, situation: str | None = None
    ) -> tuple[dict[str, Any], list[Usage]]:
        """The ``suggestions`` frame for the visitor message ``seq``, and the usage it records.

        Replies offered before and never used count as ignored when new ones replace them.
        ``situation`` (a label) skips the recognizer: the operator said what the situation is.
        """
        notes = self.notes(conversation_id)
        language = language_of(notes.locale) if notes.locale else None
        messages = list(notes.recent)
        known = None
        if situation is not None:
            seen = notes.recognized.get(seq)
            known = Recognition(
                None if situation == NONE else situation, 1.0, seen.language if seen else "en"
            )
            if seen is not None:
                messages = list(seen.messages)
        result = suggest(
            self._library(),
            messages,
            language=language,
            context=self._context(notes),
            rotation=seq,
            recognition=known,
        )
        if situation is None:
            notes.recognized[seq] = Recognized(
                result.situation or NONE, result.score, result.language, tuple(messages)
            )
            while len(notes.recognized) > REMEMBERED:
                notes.recognized.pop(next(iter(notes.recognized)))
        usage: list[Usage] = [(o.language, o.response_id, IGNORED) for o in notes.offers]
        notes.offers = [
            Offer(item.language, item.response_id, item.text, _label(item.situation), seq)
            for item in result.items
        ]
        usage += [(o.language, o.response_id, SUGGESTED) for o in notes.offers]
        frame = {
            "type": "suggestions",
            "conversation_id": conversation_id,
            "seq": seq,
            "situation": result.situation,
            "language": result.language,
            "items": [
                {
                    "response_id": item.response_id,
                    "situation": item.situation,
                    "text": item.text,
                    "score": round(item.score, 3),
                    "missing": list(item.missing),
                    "language": item.language,
                }
                for item in result.items
            ],
        }
        if result.unsure and result.candidates:
            frame["candidates"] = [
                {"situation": None if label == "none" else label, "score": round(p, 3)}
                for label, p in result.candidates[:3]
            ]
        if situation is not None:
            frame["corrected"] = True
        return frame, usage

    def operator_sent(self, conversation_id: int, text: str) -> list[Usage]:
        """Whether this reply used one of the offered replies, as is or edited."""
        return self.operator_reply(conversation_id, text)[0]

    def operator_reply(self, conversation_id: int, text: str) -> tuple[list[Usage], Feedback | None]:
        """``operator_sent``, and the pick as evidence of the situation of the message it answered."""
        notes = self._notes.get(conversation_id)
        if notes is None or not notes.offers:
            return [], None
        sent = text.strip()
        best, best_ratio = None, 0.0
        # The reply is indexed once; each offer's cheap upper bounds come before the full
        # comparison, which is quadratic and ran on every operator message (a short reply
        # to a long offer never needs it).
        matcher = difflib.SequenceMatcher(None, "", sent)
        for offer in notes.offers:
            if _same_but_for_slots(offer.text, sent):
                best, best_ratio = offer, 1.0
                break
            matcher.set_seq1(offer.text)
            if not _may_beat(matcher.real_quick_ratio(), best_ratio) or not _may_beat(
                matcher.quick_ratio(), best_ratio
            ):
                continue
            ratio = matcher.ratio()
            if ratio > best_ratio:
                best, best_ratio = offer, ratio
        if best is None or best_ratio < EDITED_SIMILARITY:
            return [], None
        notes.offers = [o for o in notes.offers if o is not best]
        usage = [(best.language, best.response_id, SENT_AS_IS if best_ratio == 1.0 else SENT_EDITED)]
        seen = notes.recognized.get(best.seq)
        if seen is None or best.situation not in LABELS:
            return usage, None
        return usage, _feedback(conversation_id, best.seq, seen, best.situation, PICKED)

    def correct(
        self, conversation_id: int, seq: int, situation: str
    ) -> tuple[Feedback, dict[str, Any], list[Usage]]:
        """The operator says visitor message ``seq`` is in ``situation`` (a label of LABELS).

        The feedback to store, and the suggestions for that situation (with their usage).
        Raises ``UnknownRecognition`` when no recognition of that message is remembered.
        """
        notes = self._notes.get(conversation_id)
        seen = notes.recognized.get(seq) if notes is not None else None
        if seen is None:
            raise UnknownRecognition(f"no suggestions were made here for message {seq}")
        frame, usage = self.suggestions(conversation_id, seq, situation=situation)
        return _feedback(conversation_id, seq, seen, situation, CORRECTED), frame, usage

    def search(self, conversation_id: int | None, query: str, language: str | None) -> list[dict[str, Any]]:
        """Library search by shortcut or words, each reply filled for this conversation."""
        notes = self.notes(conversation_id) if conversation_id is not None else ConversationNotes()
        lang = language_of(language or notes.locale)
        library = self._library()
        if lang not in library.languages:
            lang = "en"
        items = []
        for response in library.search(lang, query, limit=10):
            filled = fill(response, self._context(notes))
            items.append(
                {
                    "response_id": response.id,
                    "situation": response.situation,
                    "title": response.title,
                    "shortcut": response.shortcut,
                    "text": filled.text,
                    "missing": list(filled.missing),
                    "language": lang,
                }
            )
        return items


def _label(situation: str) -> str:
    """The situation label a reply of this library situation stands for (general replies: none)."""
    return NONE if situation == GENERAL else situation


def _feedback(conversation_id: int, seq: int, seen: Recognized, label: str, source: str) -> Feedback:
    return Feedback(
        conversation_id, seq, seen.language, seen.messages, seen.situation, seen.score, label, source
    )


_SLOT_MARKER = re.compile(r"\[\[[^\]]+\]\]")


def _may_beat(bound: float, best: float) -> bool:
    """Whether a similarity at most ``bound`` could still count and beat ``best``."""
    return bound >= EDITED_SIMILARITY and bound > best


def _same_but_for_slots(offered: str, sent: str) -> bool:
    """Sent as offered, with only the required blanks (``[[name]]``) filled in."""
    filled = _filled_in(offered)
    return offered.strip() == sent if filled is None else filled.fullmatch(sent) is not None


@functools.lru_cache(maxsize=1024)
def _filled_in(offered: str) -> re.Pattern[str] | None:
    """The pattern of ``offered`` with its blanks filled, None when it has none; compiled once
    per library text (every operator reply is compared with the offers)."""
    parts = _SLOT_MARKER.split(offered.strip())
    if len(parts) == 1:
        return None
    return re.compile(".+?".join(re.escape(part) for part in parts), re.DOTALL)


def unfilled_placeholders(text: str) -> list[str]:
    """Placeholders that must never reach a visitor (``[[restock.date]]``, ``{order.id}``, ``______``)."""
    return find_unfilled(text)
