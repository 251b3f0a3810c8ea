"""Filling a reply's variables, and refusing texts that still hold a blank.

The playbook's own examples carry blanks ("Hey ______", "[Feature X]"); a reply
sent with one of those, or with a raw ``{variable}``, tells the visitor they got a
template. So an unfilled *slot* stays visible as ``[[name]]`` for the operator to
fill, and :func:`find_unfilled` lets the server refuse a send that still holds
any such placeholder. An optional variable without a value (the visitor's name,
say) is dropped with its comma instead, because a greeting without a name is
still a good greeting.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Literal, NamedTuple, Protocol

from responses.errors import UnfilledSlotError
from responses.variables import BRACES_RE, VARIABLES, is_valid_name


class Template(Protocol):
    """What filling needs of a reply: its text and the slots that must not be dropped.

    A protocol rather than the library's ``Response``, so that filling does not depend on the
    library that uses it.
    """

    @property
    def text(self) -> str: ...

    @property
    def slots(self) -> tuple[str, ...]: ...


__all__ = ["Filled", "Segment", "ensure_sendable", "fill", "fill_text", "find_unfilled", "marker"]

# Private sentinels while the text is rebuilt; never left in the output.
_DROPPED = "\x00"
_SLOT_OPEN = "\x01"
_SLOT_CLOSE = "\x02"
_SENTINELS = str.maketrans("", "", _DROPPED + _SLOT_OPEN + _SLOT_CLOSE)

_UNFILLED_RE = re.compile(
    r"\[\[\s*(?P<marker>[^\[\]\n]{1,60}?)\s*\]\]"
    r"|\{(?P<var>[^{}\n]{1,60})\}"
    r"|(?P<blank>_{3,})"
    r"|(?P<bracket>\[(?P<inner>[^\[\]\n]{1,40})\](?!\())"
)


class Segment(NamedTuple):
    """A run of the filled text: plain ``text``, or a ``slot`` still to fill (its name)."""

    kind: Literal["text", "slot"]
    value: str


@dataclass(frozen=True)
class Filled:
    """A reply after filling: the text, what is missing, and segments to highlight."""

    text: str
    missing: list[str] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """True when no slot is left for the operator."""
        return not any(seg.kind == "slot" for seg in self.segments)


def marker(name: str) -> str:
    """How an unfilled slot reads in the text."""
    return f"[[{name}]]"


def fill(response: Template, context: Mapping[str, str | None]) -> Filled:
    """Fill ``response`` from ``context`` (variable name -> value)."""
    return fill_text(response.text, response.slots, context)


def fill_text(
    text: str,
    slots: Collection[str],
    context: Mapping[str, str | None],
    *,
    known: Collection[str] | None = None,
) -> Filled:
    """Fill any template text; ``slots`` are the variables that must not be dropped.

    A variable that is neither a slot nor a known variable is treated like a slot:
    text we do not understand is shown to the operator, never silently removed.
    """
    registry = VARIABLES if known is None else known
    missing: dict[str, None] = {}
    out: list[str] = []
    pos = 0
    for match in BRACES_RE.finditer(text):
        out.append(text[pos : match.start()])
        pos = match.end()
        name = match.group(1).strip()
        value = context.get(name) if is_valid_name(name) else None
        if isinstance(value, str) and value.strip():
            out.append(value.strip().translate(_SENTINELS))
            continue
        missing.setdefault(name, None)
        if name in slots or name not in registry:
            out.append(f"{_SLOT_OPEN}{name}{_SLOT_CLOSE}")
        else:
            out.append(_DROPPED)
    out.append(text[pos:])
    rebuilt = _drop_optional("".join(out))
    segments = _segments(rebuilt)
    final = "".join(s.value if s.kind == "text" else marker(s.value) for s in segments)
    return Filled(text=final, missing=list(missing), segments=segments)


def find_unfilled(text: str) -> list[str]:
    """Placeholders left in ``text``, in order, each once.

    Slot markers (``[[restock.date]]``) and raw variables (``{customer.name}``) are
    reported by name; blanks (``______``) and bracket placeholders (``[Feature X]``)
    as written. Markdown links (``[here](…)``) and bracketed numbers are not blanks.
    """
    found: dict[str, None] = {}
    for match in _UNFILLED_RE.finditer(text):
        if match.group("marker") is not None:
            found.setdefault(match.group("marker").strip(), None)
        elif match.group("var") is not None:
            found.setdefault(match.group("var").strip(), None)
        elif match.group("blank") is not None:
            found.setdefault(match.group("blank"), None)
        elif _looks_like_blank(match.group("inner")):
            found.setdefault(match.group("bracket"), None)
    return list(found)


def ensure_sendable(text: str) -> None:
    """Raise :class:`UnfilledSlotError` (code ``unfilled_slot``) if ``text`` holds a blank."""
    placeholders = find_unfilled(text)
    if placeholders:
        raise UnfilledSlotError(placeholders)


def _looks_like_blank(inner: str) -> bool:
    words = inner.split()
    return bool(words) and words[0][0].isalpha() and len(words) <= 6


# Rules for removing an optional variable without a value, tried in order until
# none is left: the line it stood alone on; quotes or brackets around nothing; the
# start of a sentence, which then gets a capital ("{name}, thanks" -> "Thanks");
# the word before punctuation or a line end ("Hello {name}, how" -> "Hello, how");
# else the bare word.
_LONE_LINE_RE = re.compile(r"^[ \t\x00]*$")
_BEFORE_PUNCT_RE = re.compile(r"(?m)[ \t]*,?[ \t]*\x00(?=[ \t]*(?:[,.!?;:…—–)]|$))")
_SENTENCE_START_RE = re.compile(r"(?m)(^[ \t]*|[.!?…][ \t]+)\x00[ \t]*[,:;.!?]?[ \t]*(\w?)")
_WRAPPED_RE = re.compile(r"[ \t]*[(\[„“\"«‘']\x00[)\]”“\"»’']")
_BETWEEN_WORDS_RE = re.compile(r"[ \t]*\x00")
_TRAILING_SPACE_RE = re.compile(r"(?m)[ \t]+$")


def _drop_optional(text: str) -> str:
    if _DROPPED not in text:
        return text
    lines = [ln for ln in text.split("\n") if _DROPPED not in ln or not _LONE_LINE_RE.match(ln)]
    text = "\n".join(lines)
    for _ in range(text.count(_DROPPED)):
        if _DROPPED not in text:
            break
        text = _WRAPPED_RE.sub("", text, count=1)
        text = _SENTENCE_START_RE.sub(lambda m: m.group(1) + m.group(2).upper(), text, count=1)
        text = _BEFORE_PUNCT_RE.sub("", text, count=1)
    text = _BETWEEN_WORDS_RE.sub("", text)
    return _TRAILING_SPACE_RE.sub("", text)


def _segments(text: str) -> list[Segment]:
    segments: list[Segment] = []
    for i, part in enumerate(re.split(f"{_SLOT_OPEN}([^{_SLOT_CLOSE}]*){_SLOT_CLOSE}", text)):
        if i % 2:
            segments.append(Segment("slot", part))
        elif part:
            segments.append(Segment("text", part))
    return segments
