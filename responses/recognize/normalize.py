"""Text normalisation shared by the cue lexicons and the linear model.

Visitors write without diacritics, in transliteration, with stretched letters and
emoji. Folding every message (and every lexicon cue) through the same function lets
one cue such as ``"dziekuj"`` match "Dziękuję", "dziekuje" and "dziekujeeee".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

_CYR_TO_LAT = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
    "з": "z", "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "h", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "sch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
    "я": "ya", "і": "i", "ї": "i", "є": "e", "ґ": "g",
}  # fmt: skip
_LATIN_SPECIAL = {"ł": "l", "đ": "d", "ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "ı": "i"}
# Latin letters that look like Cyrillic ones, and back: "cпасибо" typed with a Latin "c".
_LAT_LOOKALIKE = dict(zip("aceopxyk", "асеорхук", strict=True))
_CYR_LOOKALIKE = {v: k for k, v in _LAT_LOOKALIKE.items()}

# Emoji and emoticons that carry a signal; everything else pictographic is dropped.
EMOJI_MARKS: dict[str, str] = {}
for _chars, _mark in (
    ("😡🤬😠👿💢🖕💩🤮🤢👎", "angry"),
    ("😤🙄🤡😒", "annoyed"),
    ("😢😭😞😔☹🙁😟😩😫💔😣😖", "sad"),
    ("🙏👍👌🤝❤💕💖💗💙💚💛🧡💜🥰😍😘🤗☺😊🙂😀😃😄😁🌹💐✨⭐🌟👏🎉", "thanks"),
    ("✌", "bye"),
    ("👋", "wave"),
    ("🤔❓❔", "puzzled"),
):
    for _ch in _chars:
        EMOJI_MARKS[_ch] = _mark
_EMOTICONS = (
    (re.compile(r"(?:>:\(|:-?@|:-?\(\(+|\(\(\()"), "angry"),
    (re.compile(r"(?:;-?\(|:'\(|:-?\(|:-?/)"), "sad"),
    (re.compile(r"(?:<3|:-?\)+|;-?\)|:-?d\b|\bx-?d+\b|\)\)+)", re.IGNORECASE), "thanks"),
)
_WORD = re.compile(r"[0-9a-z*]+")
_SQUEEZE = re.compile(r"([a-z])\1+")
_NEGATORS = frozenset(
    "not no dont doesnt didnt wont cant cannot isnt arent wasnt never nie ne ni nikdy".split()
)


@dataclass(slots=True)
class Normalized:
    """A message folded to lowercase ASCII tokens, plus non-verbal marks."""

    tokens: list[str]
    marks: set[str] = field(default_factory=set)


def _fold_lookalikes(word: str) -> str:
    """Make a mixed-script word single-script, following its majority."""
    cyr = sum(1 for ch in word if "а" <= ch <= "я" or ch == "ё")
    lat = sum(1 for ch in word if "a" <= ch <= "z")
    if not cyr or not lat:
        return word
    table = _LAT_LOOKALIKE if cyr >= lat else _CYR_LOOKALIKE
    return "".join(table.get(ch, ch) for ch in word)


def _to_ascii(text: str) -> str:
    """Transliterate Cyrillic and strip diacritics (``ż`` → ``z``, ``ř`` → ``r``)."""
    out = []
    for ch in text:
        if ch in _CYR_TO_LAT:
            out.append(_CYR_TO_LAT[ch])
        elif ch in _LATIN_SPECIAL:
            out.append(_LATIN_SPECIAL[ch])
        elif ch < "\u0080":
            out.append(ch)
        else:
            base = unicodedata.normalize("NFKD", ch)
            out.append("".join(c for c in base if not unicodedata.combining(c)))
    return "".join(out)


@lru_cache(maxsize=65536)
def fold_word(word: str) -> str:
    """Canonical form of one lowercase word: ASCII, squeezed, spelling variants merged.

    Doubled letters are squeezed ("stopped" = "stoped", "thanksss" = "thanks"), and a
    few transliteration variants are merged ("kh" = "h", final "j" = "i").
    """
    word = _to_ascii(_fold_lookalikes(word)).replace("'", "").replace("\u2019", "")
    word = _SQUEEZE.sub(r"\1", word)
    word = word.replace("kh", "h").replace("shch", "sch")
    if word.endswith("j") and len(word) > 1 and word[-2] in "aeiouy":
        word = word[:-1] + "i"
    return word


def normalize(text: str) -> Normalized:
    """Fold a message into tokens and marks (emoji moods, shouting, censored swearing)."""
    marks: set[str] = set()
    kept: list[str] = []
    for ch in text:
        mark = EMOJI_MARKS.get(ch)
        if mark:
            marks.add(mark)
            kept.append(" ")
        elif ord(ch) >= 0x2190 and unicodedata.category(ch) in ("So", "Sk", "Cn", "Mn", "Cf"):
            kept.append(" ")
        else:
            kept.append(ch)
    text = "".join(kept)
    for pattern, mark in _EMOTICONS:
        if pattern.search(text):
            marks.add(mark)
            text = pattern.sub(" ", text)
    letters = [ch for ch in text if ch.isalpha()]
    if len(letters) >= 8 and sum(ch.isupper() for ch in letters) >= 0.7 * len(letters):
        marks.add("caps")
    if "!!" in text or "?!" in text or "!?" in text or "???" in text:
        marks.add("excl")
    if "?" in text:
        marks.add("question")
    lowered = text.lower().replace("'", "").replace("\u2019", "").replace("`", "")
    tokens: list[str] = []
    for raw in re.findall(r"[^\W_]+(?:\*+[^\W_]*)*|\*{2,}", lowered):
        if "*" in raw:
            marks.add("censored")
            raw = raw.replace("*", "")
            if not raw:
                continue
        for part in _WORD.findall(fold_word(raw)):
            tokens.append(part)
    return Normalized(tokens, marks)


def is_negator(token: str) -> bool:
    """True for a word that negates the next one ("not working", "nie działa")."""
    return token in _NEGATORS
