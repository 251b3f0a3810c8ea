"""Visitors' ideas (the ``pointless_suggestion`` situation): how two ideas count as one.

Pure functions, no I/O. An idea's *key* is its words, lowercased, diacritics folded, punctuation
and stop-words dropped, sorted and deduplicated; two ideas are the same when the Jaccard
similarity of their key sets is at least ``SAME_IDEA``. Ties go to the oldest idea (lowest id),
so the outcome never depends on order of reading.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

IDEA_SITUATION = "pointless_suggestion"
STATUSES = ("new", "planned", "done", "declined")
TOLD_STATUSES = ("planned", "done")  # the askers are told first when an idea becomes one of these
SAME_IDEA = 0.6

_WORD = re.compile(r"[a-z0-9]+")
_FOLD = str.maketrans({"ł": "l", "đ": "d", "ø": "o", "ß": "ss", "æ": "ae", "œ": "oe"})

_STOP_WORDS = (
    """a an the and or but if of to in on at for with by from as is are was were be been it its
    this that these those you your we our us they them i me my he she his her can could should
    would will please add have has do does just also some any more so very really guys would like
    want wish there here maybe think nice idea great good app site shop option feature""".split()
    + """i w z na do ze że się nie to jest czy by aby jak o a oraz bo lub tak już może mogli
    byłoby fajnie dodać dodajcie proszę""".split()
    + """и в на с что это не бы как а по для к""".split()
    + """a v na s se je by to že do pro""".split()
)


def fold(text: str) -> str:
    """Lowercase, without diacritics."""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


STOP_WORDS = frozenset(fold(word) for word in _STOP_WORDS)  # compared after folding


def key_words(text: str) -> tuple[str, ...]:
    """The idea's key: its distinct content words, sorted (all its words if every one is a stop-word)."""
    words = _WORD.findall(fold(text))
    content = {w for w in words if w not in STOP_WORDS} or set(words)
    return tuple(sorted(content))


def key_of(text: str) -> str:
    return " ".join(key_words(text))


def similarity(a: Iterable[str], b: Iterable[str]) -> float:
    """Jaccard similarity of two word sets (1.0 for two empty sets)."""
    left, right = set(a), set(b)
    if not left and not right:
        return 1.0
    return len(left & right) / len(left | right)


def same_idea(key: str, known: Iterable[tuple[int, str]], threshold: float = SAME_IDEA) -> int | None:
    """The id of the known idea ``key`` is a near-duplicate of: the most similar, the oldest on a tie."""
    words = key.split()
    best: tuple[float, int] | None = None
    for idea_id, other in known:
        score = similarity(words, other.split())
        if score >= threshold and (best is None or (-score, idea_id) < (-best[0], best[1])):
            best = (score, idea_id)
    return None if best is None else best[1]


# What the askers are told, in their language, when their idea is planned or done.
_NEWS = {
    "planned": {
        "en": "Good news about your idea “{idea}”: we are now working on it. You asked for it, so you "
        "are among the first to know. Thank you for suggesting it!",
        "pl": "Dobra wiadomość w sprawie Państwa pomysłu „{idea}”: właśnie nad nim pracujemy. To "
        "Państwo o niego prosili, więc dowiadują się Państwo jako pierwsi. Dziękujemy za sugestię!",
        "cs": "Dobrá zpráva k vašemu nápadu „{idea}“: právě na něm pracujeme. Navrhli jste ho, tak se "
        "to dozvídáte mezi prvními. Děkujeme!",
        "ru": "Хорошие новости о вашей идее «{idea}»: мы уже над ней работаем. Вы предложили её, "
        "поэтому узнаёте об этом первыми. Спасибо!",
    },
    "done": {
        "en": "Good news about your idea “{idea}”: it is now available. You asked for it, so you are "
        "among the first to know. Thank you for suggesting it!",
        "pl": "Dobra wiadomość w sprawie Państwa pomysłu „{idea}”: jest już dostępny. To Państwo o "
        "niego prosili, więc dowiadują się Państwo jako pierwsi. Dziękujemy za sugestię!",
        "cs": "Dobrá zpráva k vašemu nápadu „{idea}“: už je k dispozici. Navrhli jste ho, tak se to "
        "dozvídáte mezi prvními. Děkujeme!",
        "ru": "Хорошие новости о вашей идее «{idea}»: это уже доступно. Вы предложили её, поэтому "
        "узнаёте об этом первыми. Спасибо!",
    },
}


def news_text(status: str, language: str | None, idea: str) -> str:
    """The system message an asker gets when their idea becomes ``status`` (planned or done)."""
    texts = _NEWS[status]
    lang = (language or "en").split("-")[0].lower()
    short = idea if len(idea) <= 120 else idea[:117].rstrip() + "\u2026"
    return texts.get(lang, texts["en"]).format(idea=short)
