"""The operator's assistant inside the server: suggestion frames, library search, usage decisions.

Plain synchronous code around the pure ``responses`` package. The hub decides *when* to call
it (after the visitor's message has been delivered, off the chat's hot path); this module
decides *what* to say, and how each operator reply counts against the replies offered.
"""

from __future__ import annotations

import difflib
import re
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chatserver.core.texts import language_of
from responses.fill import fill, find_unfilled
from responses.library import Library
from responses.suggest import suggest

WINDOW = 3  # visitor messages the recognizer looks at, newest last
EDITED_SIMILARITY = 0.5  # below this an operator's reply no longer counts as an edited suggestion

SUGGESTED, SENT_AS_IS, SENT_EDITED, IGNORED = "suggested", "sent_as_is", "sent_edited", "ignored"


@dataclass
class Offer:
    language: str
    response_id: str
    text: str


@dataclass
class ConversationNotes:
    """What the assistant remembers of one conversation."""

    recent: deque[str] = field(default_factory=lambda: deque(maxlen=WINDOW))
    locale: str | None = None
    context: dict[str, str | None] = field(default_factory=dict)
    offers: list[Offer] = field(default_factory=list)
    count: int = 0


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

    def suggestions(self, conversation_id: int, seq: int) -> tuple[dict[str, Any], list[Usage]]:
        """The ``suggestions`` frame for the visitor message ``seq``, and the usage it records.

        Replies offered before and never used count as ignored when new ones replace them.
        """
        notes = self.notes(conversation_id)
        language = language_of(notes.locale) if notes.locale else None
        result = suggest(
            self._library(), list(notes.recent), language=language, context=self._context(notes), rotation=seq
        )
        usage: list[Usage] = [(o.language, o.response_id, IGNORED) for o in notes.offers]
        notes.offers = [Offer(item.language, item.response_id, item.text) for item in result.items]
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
        return frame, usage

    def operator_sent(self, conversation_id: int, text: str) -> list[Usage]:
        """Whether this reply used one of the offered replies, as is or edited."""
        notes = self._notes.get(conversation_id)
        if notes is None or not notes.offers:
            return []
        sent = text.strip()
        best, best_ratio = None, 0.0
        for offer in notes.offers:
            if _same_but_for_slots(offer.text, sent):
                best, best_ratio = offer, 1.0
                break
            ratio = difflib.SequenceMatcher(None, offer.text, sent).ratio()
            if ratio > best_ratio:
                best, best_ratio = offer, ratio
        if best is None or best_ratio < EDITED_SIMILARITY:
            return []
        notes.offers = [o for o in notes.offers if o is not best]
        return [(best.language, best.response_id, SENT_AS_IS if best_ratio == 1.0 else SENT_EDITED)]

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


_SLOT_MARKER = re.compile(r"\[\[[^\]]+\]\]")


def _same_but_for_slots(offered: str, sent: str) -> bool:
    """Sent as offered, with only the required blanks (``[[name]]``) filled in."""
    parts = _SLOT_MARKER.split(offered.strip())
    if len(parts) == 1:
        return offered.strip() == sent
    pattern = ".+?".join(re.escape(part) for part in parts)
    return re.fullmatch(pattern, sent, re.DOTALL) is not None


def unfilled_placeholders(text: str) -> list[str]:
    """Placeholders that must never reach a visitor (``[[restock.date]]``, ``{order.id}``, ``______``)."""
    return find_unfilled(text)
