"""The learned situation model: TF-IDF n-grams plus lexicon cues, logistic regression.

A message is folded (lowercase ASCII, Cyrillic transliterated, emoji as mood tokens: see
``normalize``) and turned into character n-grams (2-5, inside word boundaries), word
unigrams and bigrams, weighted by sublinear TF-IDF, plus the hand-written lexicon's cue
sums. A conversation's row is its newest message's features, then the earlier turns'
features in a second block (each older turn counting ``decay`` times less), so the model
learns what a greeting or an open defect before the newest message means.

Training uses scikit-learn (``train_model``); the trained model is a few numpy arrays and
a vocabulary, and scoring needs only numpy. Every message's contribution to the logits is
cached, so a chat that re-reads its last few messages pays only for the new one.

Run ``python -m responses.recognize.learned`` to rebuild the shipped
``learned_model.npz`` from the dev set's train split (deterministic).
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

from responses.devset import Item

from ...library import SITUATIONS
from ..features import _MARK_CUES, LEXICONS
from ..normalize import normalize

NONE = "none"
LABELS: tuple[str, ...] = (*SITUATIONS, NONE)
MAX_MESSAGES = 4  # the newest message and up to three before it
MAX_CHARS = 600  # longer messages keep their start and end: a bound on time per call
CACHE_SIZE = 4096
CUE_NAMES: tuple[str, ...] = (
    *(f"L:{label}" for label in LABELS[:-1]),
    *(
        f"M:{mark}"
        for mark in ("angry", "annoyed", "sad", "thanks", "bye", "wave", "puzzled", "caps", "excl")
    ),
    "M:question",
    "M:censored",
)
_CUE_INDEX = {name: i for i, name in enumerate(CUE_NAMES)}
_LEX_CAP = 3.0
FILE = "learned_model.npz"  # in the package folder: responses/recognize/


@dataclass(frozen=True, slots=True)
class Config:
    """How rows are built and the model fitted: chosen by cross-validation."""

    char_range: tuple[int, int] = (2, 5)
    words: bool = True
    min_df: int = 2
    max_features: int = 60000
    context: bool = True
    decay: float = 0.5
    context_weight: float = 0.7
    cues: float = 0.5  # scale of the lexicon cue columns; 0 = text alone
    c: float = 10.0  # inverse L2 strength of the logistic regression
    unsure: float = 0.5  # below this top probability the recognition is "unsure"

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}  # type: ignore[attr-defined]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Config:
        data = dict(data)
        data["char_range"] = tuple(data["char_range"])
        return cls(**data)


def fold(message: str) -> tuple[str, np.ndarray]:
    """Folded text of one message (tokens and mood marks) and its cue column values."""
    if len(message) > MAX_CHARS:
        message = message[: MAX_CHARS // 2] + " " + message[-MAX_CHARS // 2 :]
    norm = normalize(message)
    cues = np.zeros(len(CUE_NAMES), dtype=np.float64)
    totals: dict[str, float] = {}
    for lexicon in LEXICONS:
        for label, total in lexicon.scores(norm.tokens).items():
            totals[label] = totals.get(label, 0.0) + total
    for mark in norm.marks:
        index = _CUE_INDEX.get("M:" + mark)
        if index is not None:
            cues[index] = 1.0
        if mark in _MARK_CUES:
            label, weight = _MARK_CUES[mark]
            totals[label] = totals.get(label, 0.0) + weight
    for label, total in totals.items():
        index = _CUE_INDEX.get("L:" + label)
        if index is not None:
            cues[index] = min(total, _LEX_CAP) / _LEX_CAP
    marks = " ".join("_" + m for m in sorted(norm.marks))
    return " ".join(norm.tokens) + (" " + marks if marks else ""), cues


def analyze(text: str, config: Config) -> list[str]:
    """N-gram terms of a folded text: character n-grams in word boundaries, words, word pairs."""
    low, high = config.char_range
    terms: list[str] = []
    words = text.split()
    for word in words:
        padded = f" {word} "
        size = len(padded)
        for n in range(low, min(high, size) + 1):
            terms.extend(padded[j : j + n] for j in range(size - n + 1))
    if config.words:
        terms.extend("w:" + w for w in words)
        terms.extend(f"b:{a}_{b}" for a, b in zip(words, words[1:], strict=False))
    return terms


@dataclass(slots=True)
class SituationModel:
    """Trained weights: scores a conversation's recent visitor messages (newest last)."""

    config: Config
    vocabulary: dict[str, int]
    idf: np.ndarray  # (terms,)
    coef: np.ndarray  # (labels, 2 * terms + 2 * cues): newest terms, context terms, cues
    intercept: np.ndarray  # (labels,)
    labels: tuple[str, ...] = LABELS
    _seen: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)

    def _message(self, message: str) -> tuple[np.ndarray, np.ndarray]:
        """Logit contributions of one message as the newest turn and as an earlier one."""
        hit = self._seen.get(message)
        if hit is not None:
            return hit
        text, cues = fold(message)
        idx, vals = self.vectorize(text)
        terms = len(self.idf)
        ncues = len(CUE_NAMES)
        coef = self.coef
        newest = coef[:, idx] @ vals
        older = coef[:, terms + idx] @ vals
        if self.config.cues:
            base = 2 * terms
            newest = newest + coef[:, base : base + ncues] @ (cues * self.config.cues)
            older = older + coef[:, base + ncues :] @ (cues * self.config.cues)
        if len(self._seen) >= CACHE_SIZE:
            self._seen.clear()
        self._seen[message] = (newest, older)
        return newest, older

    def vectorize(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Column indices and L2-normalised sublinear TF-IDF values of a folded text."""
        counts = Counter(self.vocabulary[t] for t in analyze(text, self.config) if t in self.vocabulary)
        if not counts:
            return np.zeros(0, dtype=np.intp), np.zeros(0)
        idx = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        vals = (1.0 + np.log(tf)) * self.idf[idx]
        return idx, vals / math.sqrt(float(vals @ vals))

    def scores(self, messages: Sequence[str]) -> dict[str, float]:
        """Probability of each of the nine labels ("none" included); they sum to 1."""
        if isinstance(messages, str):
            messages = [messages]
        recent = [m for m in messages if m and m.strip()][-MAX_MESSAGES:]
        if not recent:
            return {label: 1.0 if label == NONE else 0.0 for label in self.labels}
        logits = self.intercept + self._message(recent[-1])[0]
        if self.config.context and len(recent) > 1:
            weight = self.config.context_weight
            for message in reversed(recent[:-1]):
                logits = logits + weight * self._message(message)[1]
                weight *= self.config.decay
        logits = logits - logits.max()
        exps = np.exp(logits)
        probs = exps / exps.sum()
        return {label: float(p) for label, p in zip(self.labels, probs, strict=True)}

    def to_bytes(self) -> bytes:
        """A compact, pickle-free, deterministic serialisation (numpy ``.npz``)."""
        terms = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        head = {"config": self.config.to_dict(), "labels": list(self.labels), "version": 1}
        arrays: dict[str, np.ndarray] = {
            "head": np.frombuffer(json.dumps(head, sort_keys=True).encode(), dtype=np.uint8),
            "terms": np.frombuffer("\n".join(terms).encode(), dtype=np.uint8),
            "idf": self.idf.astype(np.float32),
            "coef": self.coef.astype(np.float32),
            "intercept": self.intercept.astype(np.float32),
        }
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, array in arrays.items():  # a fixed date: the same model gives the same bytes
                info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                with archive.open(info, "w") as member:
                    np.lib.format.write_array(member, array, allow_pickle=False)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> SituationModel:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            head = json.loads(arrays["head"].tobytes().decode())
            text = arrays["terms"].tobytes().decode()
            terms = text.split("\n") if text else []
            return cls(
                config=Config.from_dict(head["config"]),
                vocabulary={t: i for i, t in enumerate(terms)},
                idf=arrays["idf"].astype(np.float64),
                coef=arrays["coef"].astype(np.float64),
                intercept=arrays["intercept"].astype(np.float64),
                labels=tuple(head["labels"]),
            )


def rows(items: Sequence[Item], config: Config) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """Per item: newest folded text, weighted earlier turns' text, and both cue vectors."""
    newest: list[str] = []
    older: list[str] = []
    cue_new = np.zeros((len(items), len(CUE_NAMES)))
    cue_old = np.zeros((len(items), len(CUE_NAMES)))
    for i, item in enumerate(items):
        recent = [m for m in item.messages if m and m.strip()][-MAX_MESSAGES:] or [""]
        text, cues = fold(recent[-1])
        newest.append(text)
        cue_new[i] = cues
        older.append("\n".join(fold(m)[0] for m in recent[:-1]))
        weight = config.context_weight
        for message in reversed(recent[:-1]):
            cue_old[i] += weight * fold(message)[1]
            weight *= config.decay
    return newest, older, cue_new, cue_old


def train_model(items: Sequence[Item], *, seed: int = 0, config: Config | None = None) -> SituationModel:
    """Fit a model on labelled items (label ``None`` = "none"); deterministic for a seed."""
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    config = config or Config()
    newest, _, cue_new, cue_old = rows(items, config)
    vectorizer = TfidfVectorizer(
        analyzer=lambda text: analyze(text, config),
        sublinear_tf=True,
        min_df=config.min_df,
        max_features=config.max_features,
        dtype=np.float64,
    )
    vectorizer.fit(newest)
    vocabulary = {str(t): int(i) for t, i in vectorizer.vocabulary_.items()}
    model = SituationModel(
        config, vocabulary, vectorizer.idf_.astype(np.float64), np.zeros((len(LABELS), 0)), np.zeros(0)
    )
    x_new = _matrix(model, newest)
    x_old = sparse.csr_matrix(x_new.shape)
    if config.context:
        x_old = _context_matrix(model, items)
    blocks = [x_new, x_old]
    if config.cues:
        blocks += [sparse.csr_matrix(cue_new * config.cues), sparse.csr_matrix(cue_old * config.cues)]
    else:
        blocks += [sparse.csr_matrix(cue_new.shape), sparse.csr_matrix(cue_old.shape)]
    x = sparse.hstack(blocks, format="csr")
    y = np.array([LABELS.index(it.label or NONE) for it in items])
    classifier = LogisticRegression(C=config.c, max_iter=3000, random_state=seed)
    classifier.fit(x, y)
    coef = np.zeros((len(LABELS), x.shape[1]))
    intercept = np.full(len(LABELS), -30.0)  # a label absent from the training items stays unlikely
    for row, cls in enumerate(classifier.classes_):
        coef[cls] = classifier.coef_[row] if len(classifier.classes_) > 2 else 0.0
        intercept[cls] = classifier.intercept_[row] if len(classifier.classes_) > 2 else 0.0
    model.coef = coef
    model.intercept = intercept
    return model


def _matrix(model: SituationModel, texts: Sequence[str]) -> Any:
    from scipy import sparse

    data: list[float] = []
    indices: list[int] = []
    indptr = [0]
    for text in texts:
        idx, vals = model.vectorize(text)
        indices.extend(idx.tolist())
        data.extend(vals.tolist())
        indptr.append(len(indices))
    return sparse.csr_matrix((data, indices, indptr), shape=(len(texts), len(model.idf)))


def _context_matrix(model: SituationModel, items: Sequence[Item]) -> Any:
    """Earlier turns, each its own TF-IDF vector, weighted down the older it is."""
    config = model.config
    out = _matrix(model, [""] * len(items)).tolil()
    for i, item in enumerate(items):
        recent = [m for m in item.messages if m and m.strip()][-MAX_MESSAGES:]
        weight = config.context_weight
        for message in reversed(recent[:-1]):
            idx, vals = model.vectorize(fold(message)[0])
            for j, v in zip(idx.tolist(), vals.tolist(), strict=True):
                out[i, j] = out[i, j] + weight * v
            weight *= config.decay
    return out.tocsr()


@lru_cache(maxsize=1)
def shipped() -> SituationModel:
    """The model shipped in this package, read once."""
    return SituationModel.from_bytes(resources.files("responses.recognize").joinpath(FILE).read_bytes())


_active: list[SituationModel | None] = [None]


def use_model(model: SituationModel | None) -> None:
    """Make ``recognize()`` use ``model`` from now on; ``None`` = the shipped one."""
    _active[0] = model


def active() -> SituationModel:
    """The model ``recognize()`` uses now."""
    return _active[0] or shipped()
