"""Sparse features of one visitor message for the linear model.

Two groups, regularised differently when training: *text* features (words, word
stems, word pairs, character n-grams), which fit the training messages closely, and
*cue* features (lexicon sums, emoji moods, shape), which carry domain knowledge and
should generalise to messages nobody has seen.
"""

from __future__ import annotations

import math
import re

from . import cues_cs, cues_en, cues_pl, cues_ru
from .lexicon import Lexicon
from .normalize import normalize

LEXICONS = (Lexicon(cues_en.CUES), Lexicon(cues_pl.CUES, cues_cs.CUES, cues_ru.CUES, stem=True))

_YEAR = re.compile(r"^(?:19[5-9]\d|20[0-4]\d)$")
_NUMBER = re.compile(r"^\d{4,}$")
_UNIT = re.compile(r"^\d+(?:kg|g|cm|mm|m|w|v|a|mah|wh|gb|tb|mb|hz|mhz|ghz|db|nm|l|ml|k|p)$")
_UNITS = frozenset("kg cm mm w v mah wh gb tb hz mhz ghz db nm ml vt kgs".split())
_LEX_CAP = 3.0
# Emoji moods count as cues too, so "🙏" alone reads like "thanks" and "🤬" like a swear word.
_MARK_CUES = {
    "angry": ("hater", 2.0),
    "annoyed": ("hater", 1.0),
    "thanks": ("ending", 1.0),
    "bye": ("ending", 2.0),
    "wave": ("ending", 1.0),  # 👋 says hello as often as goodbye
}

Features = dict[str, float]


def is_cue_feature(name: str) -> bool:
    """True for the domain-knowledge group (lexicon, marks, shape)."""
    return name[:2] in ("L:", "M:", "S:")


def _shape(tokens: list[str]) -> Features:
    out: Features = {}
    n = len(tokens)
    if n:
        out["S:len" + ("1" if n == 1 else "2" if n <= 3 else "4" if n <= 8 else "9")] = 1.0
    for i, tok in enumerate(tokens):
        if _YEAR.match(tok):
            out["S:year"] = 1.0
        elif _NUMBER.match(tok):
            out["S:number"] = 1.0
        elif _UNIT.match(tok) or (tok in _UNITS and i > 0 and tokens[i - 1].isdigit()):
            out["S:unit"] = 1.0
    return out


def _text(tokens: list[str]) -> Features:
    raw: set[str] = set()
    for i, tok in enumerate(tokens):
        raw.add("w:" + tok)
        if len(tok) > 5:
            raw.add("p:" + tok[:5])
        if i + 1 < len(tokens):
            raw.add("b:" + tok[:5] + "_" + tokens[i + 1][:5])
        padded = f" {tok} "
        for size in (3, 4):
            for j in range(len(padded) - size + 1):
                raw.add("c:" + padded[j : j + size])
    if not raw:
        return {}
    value = 1.0 / math.sqrt(len(raw))
    return dict.fromkeys(raw, value)


def extract(message: str) -> Features:
    """All features of one message."""
    norm = normalize(message)
    feats = _text(norm.tokens)
    totals: dict[str, float] = {}
    for lexicon in LEXICONS:
        for label, total in lexicon.scores(norm.tokens).items():
            totals[label] = totals.get(label, 0.0) + total
    for mark in norm.marks:
        feats["M:" + mark] = 1.0
        if mark in _MARK_CUES:
            label, weight = _MARK_CUES[mark]
            totals[label] = totals.get(label, 0.0) + weight
    for label, total in totals.items():
        feats["L:" + label] = min(total, _LEX_CAP)
    feats.update(_shape(norm.tokens))
    feats["S:bias"] = 1.0
    return feats
