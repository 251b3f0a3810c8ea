"""Response libraries: one JSON file per language, validated on load.

A library is what an operator picks replies from, sorted by the eight hard
situations of the playbook. Files are checked strictly when they are read, so a
typo in a variable or a duplicated shortcut is an admin's error message naming
file, entry and field, not a reply that reaches a visitor with ``{custmer.name}``.
"""

from __future__ import annotations

import difflib
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from responses.errors import (
    DUPLICATE_ID,
    DUPLICATE_SHORTCUT,
    EMPTY_TEXT,
    INVALID_FIELD,
    UNKNOWN_SITUATION,
    UNKNOWN_VARIABLE,
    LibraryError,
)
from responses.fill import find_unfilled
from responses.variables import BRACES_RE, VARIABLES, Variable, is_valid_name

__all__ = [
    "DEFAULT_ROOT",
    "GENERAL",
    "SITUATIONS",
    "Library",
    "Response",
    "default_library",
    "load_library",
    "save_library",
    "validate_response",
]

# The eight stable ids of CONTRACT.md (the recognizer uses the same ones).
SITUATIONS = (
    "cannot_do",
    "defect",
    "out_of_stock",
    "pointless_suggestion",
    "dont_know",
    "hater",
    "transfer",
    "ending",
)
GENERAL = "general"
SITUATION_IDS = (*SITUATIONS, GENERAL)

DEFAULT_ROOT = Path(__file__).parent / "libraries"
EXPORT_FORMAT = 1

_FIELDS = ("id", "situation", "language", "title", "shortcut", "text", "slots", "tags")
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
_LANG_RE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?$")
_SHORTCUT_RE = re.compile(r"^/[^\s/]{1,32}$")
_MAX_TEXT = 4000


@dataclass(frozen=True)
class Response:
    """One canned reply in one language."""

    id: str
    situation: str
    language: str
    title: str
    shortcut: str
    text: str
    slots: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    @property
    def variables(self) -> tuple[str, ...]:
        """Every variable the text uses, in order of first use."""
        names = (m.group(1) for m in BRACES_RE.finditer(self.text))
        return tuple(dict.fromkeys(n for n in names if is_valid_name(n)))

    def to_json(self) -> dict[str, Any]:
        """The reply as it is stored in a library file."""
        return {
            "id": self.id,
            "situation": self.situation,
            "language": self.language,
            "title": self.title,
            "shortcut": self.shortcut,
            "text": self.text,
            "slots": list(self.slots),
            "tags": list(self.tags),
        }


def validate_response(
    data: Mapping[str, Any],
    *,
    file: str = "<input>",
    entry: int | None = None,
    language: str | None = None,
    variables: Mapping[str, Variable] | None = None,
) -> Response:
    """Check one reply and build it, or raise :class:`LibraryError`.

    ``language`` is the language of the file it belongs to: a reply may omit its
    own, but must not contradict it. ``entry`` is its index in the file; errors
    name the reply by id once the id is known to be valid.
    """
    known = VARIABLES if variables is None else variables
    if not isinstance(data, Mapping):
        raise LibraryError(file, entry, None, INVALID_FIELD, "a response must be a JSON object")
    label: str | int | None = entry

    def fail(field: str | None, code: str, message: str) -> LibraryError:
        return LibraryError(file, label, field, code, message)

    rid = data.get("id")
    if not isinstance(rid, str) or not _ID_RE.match(rid):
        raise fail("id", INVALID_FIELD, "id must be letters, digits, '.', '_' or '-' (1-100)")
    label = rid
    for key in data:
        if key not in _FIELDS:
            raise fail(str(key), INVALID_FIELD, f"unknown field; allowed: {', '.join(_FIELDS)}")

    situation = data.get("situation")
    if situation not in SITUATION_IDS:
        raise fail(
            "situation",
            UNKNOWN_SITUATION,
            f"unknown situation {situation!r}; use one of {', '.join(SITUATION_IDS)}",
        )

    lang = data.get("language", language)
    if not isinstance(lang, str) or not _LANG_RE.match(lang):
        raise fail("language", INVALID_FIELD, f"invalid language {lang!r}; use a code like 'pl'")
    if language is not None and lang != language:
        raise fail("language", INVALID_FIELD, f"language {lang!r} in a {language!r} file")

    title = data.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > 120:
        raise fail("title", INVALID_FIELD, "title must be a non-empty string (at most 120)")

    shortcut = data.get("shortcut", "")
    if not isinstance(shortcut, str) or (shortcut and not _SHORTCUT_RE.match(shortcut)):
        raise fail("shortcut", INVALID_FIELD, "shortcut must look like '/defect1' (no spaces)")

    text = data.get("text")
    if text is None or (isinstance(text, str) and not text.strip()):
        raise fail("text", EMPTY_TEXT, "text is empty")
    if not isinstance(text, str) or len(text) > _MAX_TEXT:
        raise fail("text", INVALID_FIELD, f"text must be a string of at most {_MAX_TEXT}")
    used = _check_text_variables(text, known, fail)

    slots = _string_list(data.get("slots", []), "slots", fail)
    for slot in slots:
        if slot not in known:
            raise fail("slots", UNKNOWN_VARIABLE, _unknown_variable(slot, known))
        if slot not in used:
            raise fail("slots", INVALID_FIELD, f"slot {slot!r} is not used in the text")
    tags = _string_list(data.get("tags", []), "tags", fail)

    return Response(
        id=rid,
        situation=situation,
        language=lang,
        title=title.strip(),
        shortcut=shortcut,
        text=text.strip(),
        slots=tuple(slots),
        tags=tuple(tags),
    )


def _check_text_variables(text: str, known: Mapping[str, Variable], fail: Any) -> set[str]:
    used: set[str] = set()
    for match in BRACES_RE.finditer(text):
        name = match.group(1)
        if name not in known:
            raise fail("text", UNKNOWN_VARIABLE, _unknown_variable(name, known))
        used.add(name)
    blanks = find_unfilled(BRACES_RE.sub(" ", text))
    if blanks:
        raise fail(
            "text", INVALID_FIELD, f"text holds a blank placeholder {blanks[0]!r}; use a {{variable}} instead"
        )
    return used


def _unknown_variable(name: str, known: Mapping[str, Variable]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f"; did you mean {{{close[0]}}}?" if close else f"; known: {', '.join(sorted(known))}"
    return f"unknown variable {{{name}}}{hint}"


def _string_list(value: Any, field: str, fail: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise fail(field, INVALID_FIELD, f"{field} must be a list of non-empty strings")
    if len(set(value)) != len(value):
        raise fail(field, INVALID_FIELD, f"{field} lists the same name twice")
    return list(value)


class Library:
    """All replies of one library, every language, indexed for the console."""

    def __init__(self, name: str, responses: Iterable[Response], *, file: str | None = None):
        self.name = name
        self.responses: tuple[Response, ...] = tuple(responses)
        where = file or f"library {name!r}"
        self._by_key: dict[tuple[str, str], Response] = {}
        self._by_situation: dict[tuple[str, str], tuple[Response, ...]] = {}
        self._by_language: dict[str, tuple[Response, ...]] = {}
        self._index: dict[str, list[_Indexed]] = {}
        shortcuts: set[tuple[str, str]] = set()
        grouped: dict[tuple[str, str], list[Response]] = {}
        for r in self.responses:
            if (r.language, r.id) in self._by_key:
                raise LibraryError(
                    where, r.id, "id", DUPLICATE_ID, f"id {r.id!r} is used twice in language {r.language!r}"
                )
            if r.shortcut and (r.language, r.shortcut.casefold()) in shortcuts:
                raise LibraryError(
                    where,
                    r.id,
                    "shortcut",
                    DUPLICATE_SHORTCUT,
                    f"shortcut {r.shortcut!r} is used twice in {r.language!r}",
                )
            self._by_key[(r.language, r.id)] = r
            shortcuts.add((r.language, r.shortcut.casefold()))
            grouped.setdefault((r.language, r.situation), []).append(r)
            self._index.setdefault(r.language, []).append(_Indexed.of(r))
        self._by_situation = {key: tuple(group) for key, group in grouped.items()}
        for lang in sorted({r.language for r in self.responses}):
            self._by_language[lang] = tuple(r for r in self.responses if r.language == lang)

    def __len__(self) -> int:
        return len(self.responses)

    def __iter__(self) -> Iterator[Response]:
        return iter(self.responses)

    def __repr__(self) -> str:
        return f"Library({self.name!r}, {len(self)} responses, languages={self.languages})"

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages that have at least one reply, sorted."""
        return tuple(self._by_language)

    def in_language(self, language: str) -> tuple[Response, ...]:
        """Every reply in ``language``, in file order."""
        return self._by_language.get(language, ())

    def for_situation(self, language: str, situation: str) -> tuple[Response, ...]:
        """Replies for one situation (or ``"general"``) in one language, in file order."""
        return self._by_situation.get((language, situation), ())

    def get(self, language: str, response_id: str) -> Response:
        """The reply with this id in this language; ``KeyError`` if there is none."""
        try:
            return self._by_key[(language, response_id)]
        except KeyError:
            raise KeyError(f"no response {response_id!r} in {language!r}") from None

    def by_id(self, response_id: str) -> dict[str, Response]:
        """The reply with this id in every language that has it."""
        return {
            lang: self._by_key[(lang, response_id)]
            for lang in self.languages
            if (lang, response_id) in self._by_key
        }

    def search(self, language: str, query: str, *, limit: int = 20) -> list[Response]:
        """Find replies by shortcut prefix (``/def``) or by words, ignoring case and accents.

        Every word must start a word of the title, shortcut, tags, id or text; title and
        shortcut hits rank first. Polish "wymiana zwrot pieniedzy" finds "Wymiana albo
        zwrot pieniędzy".
        """
        query = query.strip()
        entries = self._index.get(language, [])
        if not query:
            return []
        if query.startswith("/"):
            prefix = fold(query)
            hits = [e.response for e in entries if e.shortcut.startswith(prefix)]
            hits.sort(key=lambda r: fold(r.shortcut) != prefix)
            return hits[:limit]
        words = tokens(query)
        scored = [(e.score(words), i, e.response) for i, e in enumerate(entries)]
        ranked = sorted((s for s in scored if s[0] > 0), key=lambda s: (-s[0], s[1]))
        return [r for _, _, r in ranked[:limit]]

    def to_json(self) -> dict[str, Any]:
        """The whole library, every language, as one JSON document for export."""
        return {
            "library": self.name,
            "format": EXPORT_FORMAT,
            "responses": [r.to_json() for lang in self.languages for r in self.in_language(lang)],
        }

    def files(self) -> dict[str, dict[str, Any]]:
        """The library as its per-language files (language -> file content)."""
        return {
            lang: {
                "library": self.name,
                "language": lang,
                "responses": [r.to_json() for r in self.in_language(lang)],
            }
            for lang in self.languages
        }

    @classmethod
    def from_json(
        cls,
        data: Mapping[str, Any],
        *,
        file: str = "<import>",
        variables: Mapping[str, Variable] | None = None,
    ) -> Library:
        """Import an export of :meth:`to_json`, or a single ``<lang>.json`` file."""
        if not isinstance(data, Mapping):
            raise LibraryError(file, None, None, INVALID_FIELD, "expected a JSON object")
        allowed = {"library", "format", "responses", "language"}
        for key in data:
            if key not in allowed:
                raise LibraryError(
                    file,
                    None,
                    str(key),
                    INVALID_FIELD,
                    f"unknown field; allowed: {', '.join(sorted(allowed))}",
                )
        name = data.get("library")
        if not isinstance(name, str) or not _ID_RE.match(name):
            raise LibraryError(file, None, "library", INVALID_FIELD, "library must be a name")
        fmt = data.get("format", EXPORT_FORMAT)
        if fmt != EXPORT_FORMAT:
            raise LibraryError(
                file, None, "format", INVALID_FIELD, f"unsupported format {fmt!r}; expected {EXPORT_FORMAT}"
            )
        language = data.get("language")
        if language is not None and (not isinstance(language, str) or not _LANG_RE.match(language)):
            raise LibraryError(file, None, "language", INVALID_FIELD, f"invalid language {language!r}")
        items = data.get("responses")
        if not isinstance(items, list):
            raise LibraryError(file, None, "responses", INVALID_FIELD, "responses must be a list")
        responses = [
            validate_response(item, file=file, entry=i, language=language, variables=variables)
            for i, item in enumerate(items)
        ]
        return cls(name, responses, file=file)


@dataclass(frozen=True)
class _Indexed:
    """A reply's folded words, computed once so a search costs no Unicode work."""

    response: Response
    shortcut: str
    strong: tuple[str, ...]
    medium: tuple[str, ...]
    weak: tuple[str, ...]

    @classmethod
    def of(cls, r: Response) -> _Indexed:
        shortcut = fold(r.shortcut)
        return cls(
            response=r,
            shortcut=shortcut,
            strong=tuple(tokens(r.title)) + tuple(tokens(shortcut)),
            medium=tuple(tokens(" ".join(r.tags))) + tuple(tokens(r.id)),
            weak=tuple(set(tokens(BRACES_RE.sub(" ", r.text)))),
        )

    def score(self, words: list[str]) -> int:
        total = 0
        for word in words:
            if any(t.startswith(word) for t in self.strong):
                total += 3
            elif any(t.startswith(word) for t in self.medium):
                total += 2
            elif any(t.startswith(word) for t in self.weak):
                total += 1
            else:
                return 0
        return total


# Letters that Unicode does not decompose into a base letter plus an accent.
_FOLD_EXTRA = str.maketrans({"ł": "l", "đ": "d", "ø": "o", "ß": "ss", "æ": "ae", "œ": "oe", "ı": "i"})
_WORD_RE = re.compile(r"\w+")


def fold(text: str) -> str:
    """Lower-case ``text`` and strip accents: "Zwrot pieniędzy" -> "zwrot pieniedzy"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_FOLD_EXTRA))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def tokens(text: str) -> list[str]:
    """The folded words of ``text``."""
    return _WORD_RE.findall(fold(text))


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise LibraryError(
            str(path),
            None,
            None,
            INVALID_FIELD,
            f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
        ) from None
    except UnicodeDecodeError:
        raise LibraryError(str(path), None, None, INVALID_FIELD, "not UTF-8 text") from None


def load_library(
    name: str = "default",
    *,
    root: str | Path | None = None,
    variables: Mapping[str, Variable] | None = None,
) -> Library:
    """Read ``<root>/<name>/<lang>.json`` for every language and validate it all.

    Raises :class:`LibraryError` for a bad file and ``FileNotFoundError`` when the
    library has no files at all.
    """
    folder = (DEFAULT_ROOT if root is None else Path(root)) / name
    paths = sorted(folder.glob("*.json"))
    if not paths:
        raise FileNotFoundError(f"no response library {name!r}: no <lang>.json in {folder}")
    responses: list[Response] = []
    for path in paths:
        file = str(path)
        data = _read_json(path)
        if not isinstance(data, dict):
            raise LibraryError(file, None, None, INVALID_FIELD, "expected a JSON object")
        for key in ("library", "language"):
            if key not in data:
                raise LibraryError(file, None, key, INVALID_FIELD, f"missing field {key!r}")
        if data["library"] != name:
            raise LibraryError(
                file, None, "library", INVALID_FIELD, f"library {data['library']!r} in the folder of {name!r}"
            )
        if data["language"] != path.stem:
            raise LibraryError(
                file,
                None,
                "language",
                INVALID_FIELD,
                f"language {data['language']!r} in the file {path.name}",
            )
        if "format" in data:
            raise LibraryError(
                file, None, "format", INVALID_FIELD, "a language file has no format; that is for exports"
            )
        responses.extend(Library.from_json(data, file=file, variables=variables))
    return Library(name, responses, file=str(folder))


def save_library(library: Library, *, root: str | Path | None = None) -> list[Path]:
    """Write ``library`` as ``<root>/<name>/<lang>.json`` files; returns their paths."""
    folder = (DEFAULT_ROOT if root is None else Path(root)) / library.name
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for lang, content in library.files().items():
        path = folder / f"{lang}.json"
        path.write_text(json.dumps(content, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written


@lru_cache(maxsize=1)
def default_library() -> Library:
    """The bundled default library, loaded once per process."""
    return load_library("default")
