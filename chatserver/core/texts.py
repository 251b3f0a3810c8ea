"""System lines the visitor reads, in the visitor's language. Plain data: no I/O here."""

from __future__ import annotations

LANGUAGES = ("en", "pl", "cs", "ru")

_TEXTS: dict[str, dict[str, str]] = {
    "no_operator_online": {
        "en": "Nobody from our team is online right now. Your message is saved, and the first "
        "person to come online will answer you right here.",
        "pl": "W tej chwili nikt z naszego zespołu nie jest dostępny. Państwa wiadomość jest "
        "zapisana i pierwsza osoba, która się zaloguje, odpowie właśnie tutaj.",
        "cs": "Právě teď není nikdo z našeho týmu online. Vaše zpráva je uložená a první "
        "kolega, který se přihlásí, Vám odpoví přímo tady.",
        "ru": "Сейчас никого из нашей команды нет на связи. Ваше сообщение сохранено, и первый "
        "освободившийся сотрудник ответит Вам прямо здесь.",
    },
    "operator_lost": {
        "en": "Your consultant lost their connection. You are first in line, and the next "
        "available colleague will continue this conversation; you won't need to repeat anything.",
        "pl": "Konsultant stracił połączenie. Są Państwo pierwsi w kolejce, a następna wolna "
        "osoba będzie kontynuować tę rozmowę; nie trzeba niczego powtarzać.",
        "cs": "Konzultant ztratil spojení. Jste první na řadě a další volný kolega v tomto "
        "rozhovoru naváže; nic nemusíte opakovat.",
        "ru": "Консультант потерял связь. Вы первый в очереди, и следующий свободный коллега "
        "продолжит этот разговор; повторять ничего не нужно.",
    },
}


def language_of(locale: str | None) -> str:
    """``pl-PL`` → ``pl``; anything we have no texts for falls back to English."""
    if not locale:
        return "en"
    lang = locale.replace("_", "-").split("-")[0].lower()
    return lang if lang in LANGUAGES else "en"


def text(key: str, locale: str | None) -> str:
    return _TEXTS[key][language_of(locale)]
