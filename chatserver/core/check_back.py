"""I don't know yet (the playbook's dont_know): don't guess, say when the answer will come, see it through.

The operator holding a chat promises an answer within ``in_s`` seconds (``CheckBackPromised``).
``remind_s`` before the time (at once when the time is shorter) the operator holding the chat is
reminded (``CheckBackDue``), once. The promise is kept by the operator's next message in the
chat (``ReplyWritten`` with ``check_back=True``); that message is also the answer to a left
message (``check_back=False``), once per chat. Timers are the core's, so the reminder fires once
whatever the number of processes.
"""

from __future__ import annotations

from .conversation import Conversation
from .effects import CancelTimer, CheckBackDue, Effect, ReplyWritten, StartTimer

CHECK_BACK_PREFIX = "checkback:"


class CheckBackRule:
    def __init__(self, remind_s: float) -> None:
        self.remind_s = remind_s
        self.pending: dict[int, float] = {}  # conversation id -> when the answer is due
        self.left_answered: set[int] = set()

    def _key(self, conversation_id: int) -> str:
        return CHECK_BACK_PREFIX + str(conversation_id)

    def promised(self, conv: Conversation, due_at: float, now: float, out: list[Effect]) -> None:
        self.pending[conv.id] = due_at
        out.append(StartTimer(self._key(conv.id), max(now, due_at - self.remind_s)))

    def restored(
        self, conv: Conversation, due_at: float | None, left_answered: bool, now: float, out: list[Effect]
    ) -> None:
        """After a restart: the promise still owed (its reminder armed again), the answered left message."""
        if due_at is not None:
            self.promised(conv, due_at, now, out)
        if left_answered:
            self.left_answered.add(conv.id)

    def due_at(self, conversation_id: int) -> float | None:
        """When the answer promised in this chat is due, or None when nothing is owed."""
        return self.pending.get(conversation_id)

    def fired(self, conv: Conversation, out: list[Effect]) -> None:
        due_at = self.pending.get(conv.id)
        if due_at is not None and conv.operator_id is not None:
            out.append(CheckBackDue(conv.id, conv.operator_id, due_at))

    def operator_replied(self, conv: Conversation, out: list[Effect]) -> None:
        if self.pending.pop(conv.id, None) is not None:
            out.append(CancelTimer(self._key(conv.id)))
            out.append(ReplyWritten(conv.id, conv.operator_id, check_back=True))
        elif conv.left_message and conv.id not in self.left_answered:
            self.left_answered.add(conv.id)
            out.append(ReplyWritten(conv.id, conv.operator_id, check_back=False))

    def stop(self, conversation_id: int, out: list[Effect]) -> None:
        self.left_answered.discard(conversation_id)
        if self.pending.pop(conversation_id, None) is not None:
            out.append(CancelTimer(self._key(conversation_id)))


_PROMISE = {
    "en": "I don't know that yet, so I won't guess: I'll find out and get back to you here within {when}.",
    "pl": "Tego jeszcze nie wiem, więc nie będę zgadywać: sprawdzę i odezwę się tutaj w ciągu {when}.",
    "cs": "To zatím nevím, a tak nebudu hádat: zjistím to a ozvu se Vám tady do {when}.",
    "ru": "Пока я этого не знаю и не буду гадать: я выясню и отвечу Вам здесь в течение {when}.",
}
_UNITS = {"en": ("min", "h"), "pl": ("min", "godz."), "cs": ("min", "h"), "ru": ("мин", "ч")}
_SUBJECT = {
    "en": "The answer to your question",
    "pl": "Odpowiedź na Państwa pytanie",
    "cs": "Odpověď na Váš dotaz",
    "ru": "Ответ на Ваш вопрос",
}


def _language(locale: str | None) -> str:
    lang = (locale or "en").replace("_", "-").split("-")[0].lower()
    return lang if lang in _PROMISE else "en"


def when_phrase(in_s: float, locale: str | None) -> str:
    """ "15 min", "2 h", "1.5 h" in the visitor's language (rounded up to whole minutes)."""
    minutes, hours = _UNITS[_language(locale)]
    n = max(1, -(-int(in_s) // 60))
    if n < 120:
        return f"{n} {minutes}"
    value = round(n / 60, 1)
    return f"{value:g} {hours}"


def promise_text(in_s: float, locale: str | None) -> str:
    """What the visitor is told when the operator does not know yet."""
    return _PROMISE[_language(locale)].replace("{when}", when_phrase(in_s, locale))


def answer_subject(locale: str | None) -> str:
    return _SUBJECT[_language(locale)]
