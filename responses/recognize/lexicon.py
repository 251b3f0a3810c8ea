"""Hand-written multilingual cue lexicons, compiled into a fast matcher.

A cue is a short phrase of word patterns, folded like the messages. By default a
pattern is a word *prefix* (``"broke"`` matches "broken"; ``"uszkodz"`` matches
"uszkodzony"); a trailing ``$`` makes it exact, and patterns of two letters or fewer
are always exact. ``...`` skips up to two words. A leading ``!`` rejects the cue when
the word before it is a negator ("not", "nie", "ne"), so "works now" is not found in
"doesn't work now". Lexicons for inflected languages can be built with ``stem=True``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from .normalize import fold_word, is_negator

Cues = Mapping[str, Iterable[str | tuple[str, float]]]

_GAP = "..."
_WORD = re.compile(r"[0-9a-z]+")
_MIN_PREFIX = 3
_STEM_FROM = 7
_VOWELS = frozenset("aeiouy")


@dataclass(frozen=True, slots=True)
class _Pattern:
    text: str
    exact: bool

    def matches(self, token: str) -> bool:
        return token == self.text if self.exact else token.startswith(self.text)


@dataclass(frozen=True, slots=True)
class _Cue:
    key: int
    label: str
    weight: float
    parts: tuple[_Pattern | None, ...]  # None = gap of up to two words
    guard_negation: bool

    def matches_at(self, tokens: list[str], start: int) -> bool:
        if self.guard_negation and start > 0 and is_negator(tokens[start - 1]):
            return False
        return _match(self.parts, 1, tokens, start + 1)


def _match(parts: tuple[_Pattern | None, ...], i: int, tokens: list[str], pos: int) -> bool:
    if i == len(parts):
        return True
    part = parts[i]
    if part is None:
        return any(_match(parts, i + 1, tokens, pos + skip) for skip in range(3))
    return pos < len(tokens) and part.matches(tokens[pos]) and _match(parts, i + 1, tokens, pos + 1)


def _patterns(raw: str, stem: bool) -> list[_Pattern]:
    """One cue word → patterns; "кто-то" folds to two words, like in messages.

    With ``stem``, a long prefix loses one final vowel, so a cue written in one
    inflected form ("trzeszczy") also finds the others ("trzeszczą" → "trzeszcza").
    """
    exact = raw.endswith("$")
    parts = _WORD.findall(fold_word(raw.rstrip("$")))
    out = []
    for i, text in enumerate(parts):
        is_exact = (exact and i == len(parts) - 1) or i < len(parts) - 1 or len(text) < _MIN_PREFIX
        if stem and not is_exact and len(text) >= _STEM_FROM and text[-1] in _VOWELS:
            text = text[:-1]
        out.append(_Pattern(text, is_exact))
    return out


class Lexicon:
    """Sums the weights of the cues found in a token list, per label."""

    def __init__(self, *cue_sets: Cues, stem: bool = False) -> None:
        self._exact: dict[str, list[_Cue]] = {}
        self._prefix: dict[str, list[_Cue]] = {}
        self.labels: list[str] = []
        merged: dict[tuple[str, tuple[_Pattern | None, ...], bool], _Cue] = {}
        for cues in cue_sets:
            for label, entries in cues.items():
                if label not in self.labels:
                    self.labels.append(label)
                for entry in entries:
                    phrase, weight = (entry, 1.0) if isinstance(entry, str) else entry
                    cue = self._compile(len(merged), label, phrase, weight, stem)
                    # Spellings that fold to the same cue count once, at the highest weight.
                    same = merged.get((label, cue.parts, cue.guard_negation))
                    if same is None or same.weight < weight:
                        key = same.key if same else len(merged)
                        merged[(label, cue.parts, cue.guard_negation)] = _Cue(
                            key, label, float(weight), cue.parts, cue.guard_negation
                        )
        for cue in merged.values():
            first = cue.parts[0]
            assert first is not None, cue
            index = self._exact if first.exact else self._prefix
            index.setdefault(first.text, []).append(cue)
        self._max_prefix = max((len(k) for k in self._prefix), default=0)
        self.size = len(merged)
        self._candidates = lru_cache(maxsize=32768)(self._lookup)

    def _lookup(self, tok: str) -> tuple[_Cue, ...]:
        """Cues whose first word matches ``tok`` (cached: chat vocabulary repeats)."""
        found = list(self._exact.get(tok, ()))
        for n in range(_MIN_PREFIX, min(len(tok), self._max_prefix) + 1):
            hit = self._prefix.get(tok[:n])
            if hit:
                found.extend(hit)
        return tuple(found)

    @staticmethod
    def _compile(key: int, label: str, phrase: str, weight: float, stem: bool) -> _Cue:
        guard = phrase.startswith("!")
        words = phrase.lstrip("!").split()
        parts: list[_Pattern | None] = []
        for word in words:
            parts.extend([None] if word == _GAP else _patterns(word, stem))
        return _Cue(key, label, weight, tuple(parts), guard)

    def scores(self, tokens: list[str]) -> dict[str, float]:
        """Label → summed weight of distinct cues present in ``tokens``."""
        found: dict[int, _Cue] = {}
        for i, tok in enumerate(tokens):
            for cue in self._candidates(tok):
                if cue.key not in found and cue.matches_at(tokens, i):
                    found[cue.key] = cue
        totals: dict[str, float] = {}
        for cue in found.values():
            totals[cue.label] = totals.get(cue.label, 0.0) + cue.weight
        return totals

    def explain(self, tokens: list[str]) -> list[tuple[str, str]]:
        """(label, cue) pairs found in ``tokens``: for debugging the lexicons."""
        out = []
        for bucket in (self._exact, self._prefix):
            for cues in bucket.values():
                for cue in cues:
                    if any(
                        cue.parts[0] is not None and cue.parts[0].matches(tok) and cue.matches_at(tokens, i)
                        for i, tok in enumerate(tokens)
                    ):
                        words = ["..." if p is None else p.text for p in cue.parts]
                        out.append((cue.label, " ".join(words)))
        return out
