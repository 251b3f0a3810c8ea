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


# --- transfers, waits, leaving a message, holding line ----------------------------------------
#
# Templates take {reason}, {benefit}, {wait}, {target}, {operator}, {name}, {title}, {team}.
# {target} is a person ("Anna Nowak (Billing)") or a team phrase, in the nominative after a
# colon where the grammar needs it, so team and person read right in every language.

_TEXTS.update(
    {
        "transfer_announcement": {
            "en": "I'm handing this conversation over to {target}. Why: {reason}. What you gain: "
            "{benefit}. {wait_sentence} I'll stay with you until they join, and they will see "
            "everything we've written, so you won't need to repeat anything.",
            "pl": "Przekazuję naszą rozmowę. Przejmie ją: {target}. Powód: {reason}. Co Państwo "
            "zyskują: {benefit}. {wait_sentence} Zostaję z Państwem do chwili przejęcia rozmowy; "
            "cała dotychczasowa rozmowa będzie widoczna, więc nie trzeba niczego powtarzać.",
            "cs": "Předávám náš rozhovor. Převezme ho: {target}. Důvod: {reason}. Co tím získáte: "
            "{benefit}. {wait_sentence} Zůstanu s Vámi, dokud si rozhovor kolega nepřevezme; uvidí "
            "celý dosavadní rozhovor, takže nic nemusíte opakovat.",
            "ru": "Я передаю наш разговор. Его примет: {target}. Причина: {reason}. Что Вы "
            "получаете: {benefit}. {wait_sentence} Я останусь с Вами, пока коллега не подключится; "
            "вся переписка будет у него перед глазами, так что повторять ничего не нужно.",
        },
        "wait_sentence": {
            "en": "Expected wait: {wait}.",
            "pl": "Szacowany czas oczekiwania: {wait}.",
            "cs": "Předpokládaná doba čekání: {wait}.",
            "ru": "Ожидание: {wait}.",
        },
        "wait_sentence_none": {
            "en": "Nobody who can take over is online right now; you will be told as soon as someone is.",
            "pl": "W tej chwili nie ma nikogo, kto mógłby przejąć rozmowę; damy znać, gdy tylko ktoś "
            "się pojawi.",
            "cs": "Právě teď není online nikdo, kdo by rozhovor mohl převzít; dáme Vám vědět, jakmile "
            "se někdo objeví.",
            "ru": "Сейчас нет никого, кто мог бы принять разговор; мы сообщим, как только кто-нибудь "
            "появится.",
        },
        "team_target": {
            "en": "our {team} team",
            "pl": "zespół {team}",
            "cs": "tým {team}",
            "ru": "команда {team}",
        },
        "transfer_next": {
            "en": "The first colleague could not take over after all, so another colleague from "
            "{target} has been asked. {wait_sentence} I'm still here with you meanwhile.",
            "pl": "Pierwsza osoba nie mogła jednak przejąć rozmowy, więc poprosiliśmy kolejną osobę "
            "(przejmie ją: {target}). {wait_sentence} Do tego czasu nadal jestem z Państwem.",
            "cs": "První kolega nakonec rozhovor převzít nemohl, a tak jsme požádali dalšího "
            "(převezme ho: {target}). {wait_sentence} Do té doby jsem tu stále s Vámi.",
            "ru": "Первый коллега всё-таки не смог принять разговор, поэтому мы попросили другого "
            "(его примет: {target}). {wait_sentence} А пока я по-прежнему с Вами.",
        },
        "transfer_returned": {
            "en": "Unfortunately nobody could take over just now ({target}), so {operator} stays with "
            "you and carries on helping right here.",
            "pl": "Niestety nikt nie mógł teraz przejąć rozmowy ({target}), dlatego zostaje z "
            "Państwem {operator} i dalej pomaga właśnie tutaj.",
            "cs": "Bohužel teď nikdo nemohl rozhovor převzít ({target}), proto s Vámi zůstává "
            "{operator} a dál Vám pomáhá přímo tady.",
            "ru": "К сожалению, сейчас никто не смог принять разговор ({target}), поэтому с Вами "
            "остаётся {operator} и продолжает помогать прямо здесь.",
        },
        "transfer_cancelled": {
            "en": "The handover is off: {operator} stays with you and carries on helping right here.",
            "pl": "Rezygnujemy z przekazania rozmowy: zostaje z Państwem {operator} i dalej pomaga "
            "właśnie tutaj.",
            "cs": "Předání rozhovoru se ruší: zůstává s Vámi {operator} a dál Vám pomáhá přímo tady.",
            "ru": "Передача разговора отменена: с Вами остаётся {operator} и продолжает помогать "
            "прямо здесь.",
        },
        "transfer_accepted": {
            "en": "{name} has joined the conversation and can see everything we've written so far.",
            "pl": "Do rozmowy dołącza: {name}. Cała dotychczasowa rozmowa jest widoczna, więc nie "
            "trzeba niczego powtarzać.",
            "cs": "K rozhovoru se připojuje: {name}. Celý dosavadní rozhovor je vidět, takže nic "
            "nemusíte opakovat.",
            "ru": "К разговору подключается: {name}. Вся переписка видна, так что повторять ничего не нужно.",
        },
        "late_queue": {
            "en": "This is taking longer than we estimated, sorry. New estimate: {wait}.",
            "pl": "Trwa to dłużej, niż szacowaliśmy, przepraszamy. Nowy szacunek: {wait}.",
            "cs": "Trvá to déle, než jsme odhadovali, omlouváme se. Nový odhad: {wait}.",
            "ru": "Это занимает больше времени, чем мы рассчитывали, извините. Новая оценка: {wait}.",
        },
        "late_queue_none": {
            "en": "This is taking longer than we estimated, sorry: nobody who can answer is online "
            "right now. Your message is saved and will be answered right here.",
            "pl": "Trwa to dłużej, niż szacowaliśmy, przepraszamy: w tej chwili nikt, kto może "
            "odpowiedzieć, nie jest dostępny. Wiadomość jest zapisana i odpowiemy właśnie tutaj.",
            "cs": "Trvá to déle, než jsme odhadovali, omlouváme se: právě teď není online nikdo, kdo "
            "by mohl odpovědět. Vaše zpráva je uložená a odpovíme přímo tady.",
            "ru": "Это занимает больше времени, чем мы рассчитывали, извините: сейчас нет никого, "
            "кто мог бы ответить. Ваше сообщение сохранено, и мы ответим прямо здесь.",
        },
        "message_left": {
            "en": "Thank you, your message is saved. You don't need to wait: we'll answer right here, "
            "and you'll see the answer when you come back.",
            "pl": "Dziękujemy, wiadomość jest zapisana. Nie trzeba czekać: odpowiemy właśnie tutaj, "
            "a odpowiedź będzie widoczna przy następnej wizycie.",
            "cs": "Děkujeme, Vaše zpráva je uložená. Nemusíte čekat: odpovíme přímo tady a odpověď "
            "uvidíte, až se vrátíte.",
            "ru": "Спасибо, Ваше сообщение сохранено. Ждать не нужно: мы ответим прямо здесь, и Вы "
            "увидите ответ, когда вернётесь.",
        },
        "holding_line": {
            "en": "I'm still on this and will get back to you in a moment. Thank you for your patience.",
            "pl": "Cały czas się tym zajmuję i za chwilę wrócę z odpowiedzią. Dziękuję za cierpliwość.",
            "cs": "Pořád se tomu věnuji a za chvíli se Vám ozvu. Děkuji za trpělivost.",
            "ru": "Я продолжаю заниматься Вашим вопросом и скоро вернусь с ответом. Спасибо за терпение.",
        },
        # Pieces of the wait phrase: "about 3 min (2–5 min)".
        "wait_about": {
            "en": "about {n} min",
            "pl": "około {n} min",
            "cs": "přibližně {n} min",
            "ru": "около {n} мин.",
        },
        "wait_range": {
            "en": "({lo}–{hi} min)",
            "pl": "({lo}–{hi} min)",
            "cs": "({lo}–{hi} min)",
            "ru": "({lo}–{hi} мин.)",
        },
        "wait_at_most": {
            "en": "(at most {hi} min)",
            "pl": "(najwyżej {hi} min)",
            "cs": "(nejvýše {hi} min)",
            "ru": "(не более {hi} мин.)",
        },
        "wait_under_minute": {
            "en": "less than a minute",
            "pl": "mniej niż minuta",
            "cs": "méně než minuta",
            "ru": "меньше минуты",
        },
        "wait_unknown": {
            "en": "no estimate yet",
            "pl": "na razie bez szacunku",
            "cs": "zatím bez odhadu",
            "ru": "пока без оценки",
        },
    }
)


# --- ending the conversation (docs/playbook.md#closing): the customer decides when it is right ---

_TEXTS["wrap_up_question"] = {
    "en": "Is there anything else I can help you with?",
    "pl": "Czy mogę jeszcze w czymś Państwu pomóc?",
    "cs": "Mohu Vám ještě s něčím pomoci?",
    "ru": "Могу ли я ещё чем-нибудь Вам помочь?",
}


# --- the abusive visitor (docs/playbook.md#hater): a boundary, a pause, then a block ---

_TEXTS["boundary_warn"] = {
    "en": "I understand your irritation, but I won't allow insults.",
    "pl": "Rozumiem Pana/Pani irytację, ale nie pozwolę się obrażać.",
    "cs": "Chápu Vaše rozčarování, ale urážky nedovolím.",
    "ru": "Я понимаю Ваше раздражение, но не позволю себя оскорблять.",
}
_TEXTS["boundary_cool_down"] = {
    "en": "Let's take a short break; you can write again in a moment.",
    "pl": "Zróbmy krótką przerwę; za chwilę będzie mógł Pan/mogła Pani znów pisać.",
    "cs": "Udělejme si krátkou přestávku; za chvíli můžete znovu psát.",
    "ru": "Давайте сделаем короткий перерыв; скоро Вы сможете снова писать.",
}
_TEXTS["boundary_block"] = {
    "en": "This chat is closed because of insults; it cannot be reopened.",
    "pl": "Ta rozmowa została zamknięta z powodu obraźliwych słów i nie można jej wznowić.",
    "cs": "Tento chat byl kvůli urážkám ukončen a nelze jej znovu otevřít.",
    "ru": "Этот чат закрыт из-за оскорблений, и его нельзя открыть снова.",
}


def language_of(locale: str | None) -> str:
    """``pl-PL`` → ``pl``; anything we have no texts for falls back to English."""
    if not locale:
        return "en"
    lang = locale.replace("_", "-").split("-")[0].lower()
    return lang if lang in LANGUAGES else "en"


def text(key: str, locale: str | None) -> str:
    return _TEXTS[key][language_of(locale)]


def render(key: str, locale: str | None, **values: object) -> str:
    """A template with its {fields} filled; the first letter capitalised (a team phrase may lead)."""
    out = text(key, locale)
    for name, value in values.items():
        out = out.replace("{" + name + "}", str(value))
    return out[:1].upper() + out[1:]


def wait_phrase(seconds: int | None, low: int | None, high: int | None, locale: str | None) -> str:
    """ "about 3 min (2–5 min)", "less than a minute", or "no estimate yet", in the visitor's language."""
    if seconds is None:
        return text("wait_unknown", locale)
    high = seconds if high is None else max(high, seconds)
    if high < 60:
        return text("wait_under_minute", locale)
    n = max(1, round(seconds / 60))
    hi = max(-(-high // 60), n)
    lo = (low or 0) // 60
    about = text("wait_about", locale).replace("{n}", str(n))
    if hi == n and lo >= n:
        return about
    if lo == 0 or lo >= hi:
        return about + " " + text("wait_at_most", locale).replace("{hi}", str(hi))
    return about + " " + text("wait_range", locale).replace("{lo}", str(lo)).replace("{hi}", str(hi))


def wait_sentence(seconds: int | None, low: int | None, high: int | None, locale: str | None) -> str:
    if seconds is None:
        return text("wait_sentence_none", locale)
    return text("wait_sentence", locale).replace("{wait}", wait_phrase(seconds, low, high, locale))


def target_phrase(
    locale: str | None, *, name: str | None = None, title: str | None = None, team: str | None = None
) -> str:
    """A person as "Name (Title)", or a team as "our billing team" / "zespół billing"…"""
    if name:
        return f"{name} ({title})" if title else name
    return text("team_target", locale).replace("{team}", team or "")
