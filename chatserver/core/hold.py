"""Hold messages (docs/playbook.md#hold-messages): wait-fillers from an admin-edited, localised library.

The library is plain data::

    {"queue":         {"en": ["…{position}…{wait}…", …], "pl": […], …},
     "queue_offline": {"en": ["…{position}…"], …},
     "transfer":      {"en": ["…{target}…{wait}…"], …}}

``queue`` is used while the visitor waits for a first operator and an estimate exists,
``queue_offline`` while nobody who could serve them is online, ``transfer`` while a colleague is
being found. Lines rotate in order. A language without lines of its own uses English. The default
library ships as ``hold_messages.json`` beside this module; the adapters load it (the core reads
no files) and admins replace it over REST. Validation lives here so both use the same rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .texts import LANGUAGES, language_of

KINDS: dict[str, tuple[str, ...]] = {
    "queue": ("{position}", "{wait}"),
    "queue_offline": ("{position}",),
    "transfer": ("{target}", "{wait}"),
}
MAX_LINE_CHARS = 500
MAX_LINES = 50
_BRACES = re.compile(r"\{[^{}]*\}")

HoldLibrary = dict[str, dict[str, list[str]]]


class InvalidHoldLibrary(ValueError):
    """The submitted library breaks a rule; the message says which line and why."""


def validate(data: Any) -> HoldLibrary:
    """A clean copy of ``data`` or InvalidHoldLibrary: every kind present with English lines,
    known languages only, non-empty lines of at most 500 characters, known placeholders only."""
    if not isinstance(data, Mapping):
        raise InvalidHoldLibrary("the library must be an object of kinds: " + ", ".join(KINDS))
    unknown = set(data) - set(KINDS)
    if unknown:
        raise InvalidHoldLibrary(f"unknown kind(s): {', '.join(sorted(map(str, unknown)))}")
    clean: HoldLibrary = {}
    for kind, allowed in KINDS.items():
        by_language = data.get(kind)
        if not isinstance(by_language, Mapping) or not by_language.get("en"):
            raise InvalidHoldLibrary(f"'{kind}' needs English lines ('en')")
        clean[kind] = {}
        for language, lines in by_language.items():
            if language not in LANGUAGES:
                raise InvalidHoldLibrary(
                    f"'{kind}': unknown language {language!r} (have {', '.join(LANGUAGES)})"
                )
            if not isinstance(lines, list) or not lines or len(lines) > MAX_LINES:
                raise InvalidHoldLibrary(f"'{kind}.{language}' must be a list of 1 to {MAX_LINES} lines")
            for n, line in enumerate(lines, 1):
                where = f"'{kind}.{language}' line {n}"
                if not isinstance(line, str) or not line.strip():
                    raise InvalidHoldLibrary(f"{where} is empty")
                if len(line) > MAX_LINE_CHARS:
                    raise InvalidHoldLibrary(f"{where} is longer than {MAX_LINE_CHARS} characters")
                for found in _BRACES.findall(line):
                    if found not in allowed:
                        raise InvalidHoldLibrary(
                            f"{where}: unknown placeholder {found}; '{kind}' may use {', '.join(allowed)}"
                        )
            clean[kind][language] = [line.strip() for line in lines]
    return clean


def pick(library: HoldLibrary, kind: str, locale: str | None, count: int) -> str:
    """The ``count``-th line (0-based, rotating) of this kind in the visitor's language."""
    by_language = library[kind]
    lines = by_language.get(language_of(locale)) or by_language["en"]
    return lines[count % len(lines)]


def render(line: str, *, position: int | None, wait: str, target: str) -> str:
    return (
        line.replace("{position}", str(position) if position is not None else "–")
        .replace("{wait}", wait)
        .replace("{target}", target)
    )
