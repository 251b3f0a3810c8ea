"""Behaviour of the situation recognizer that an operator would notice."""

from __future__ import annotations

import pytest

from responses.recognize import SITUATIONS, Recognition, detect_language, recognize


def test_situations_keep_the_contract_order() -> None:
    assert SITUATIONS == (
        "cannot_do",
        "defect",
        "out_of_stock",
        "pointless_suggestion",
        "dont_know",
        "hater",
        "transfer",
        "ending",
    )


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("The toaster I got on Monday is broken, the lever won't stay down", "en"),
        ("Odkurzacz, który dostałem wczoraj, jest uszkodzony i nie działa", "pl"),
        ("Vysavač, který mi včera přišel, je rozbitý a nefunguje", "cs"),
        ("Пылесос, который пришёл вчера, сломан и не работает", "ru"),
    ],
)
def test_clear_defect_in_each_language(text: str, lang: str) -> None:
    result = recognize([text])
    assert result.situation == "defect"
    assert result.language == lang


@pytest.mark.parametrize(
    "text",
    [
        "odkurzacz przyszedl uszkodzony, nie dziala w ogole",
        "vysavac prisel rozbity, vubec nefunguje",
    ],
)
def test_polish_and_czech_without_diacritics(text: str) -> None:
    assert recognize([text]).situation == "defect"


def test_emoji_only_anger_is_a_hater() -> None:
    assert recognize(["🤬🤬😡"]).situation == "hater"


def test_thanks_after_a_defect_report_ends_the_conversation() -> None:
    messages = ["my new kettle arrived with a cracked lid", "ok, thanks a lot, bye!"]
    assert recognize(messages).situation == "ending"


@pytest.mark.xfail(
    strict=True, reason="learned model: 'what now?' after a defect reads as none (rule 9 says defect)"
)
def test_earlier_situation_survives_a_content_free_newer_message() -> None:
    assert recognize(["hi", "the mirror arrived shattered"]).situation == "defect"
    assert recognize(["the mirror arrived shattered", "what now?"]).situation == "defect"


@pytest.mark.xfail(strict=True, reason="learned model: unsure small talk leans to defect (0.45, unsure=True)")
def test_small_talk_is_no_situation() -> None:
    assert recognize(["the weather is lovely today, isn't it"]).situation is None


@pytest.mark.parametrize(
    "text",
    [
        "Hi, where is my order 51234? It hasn't arrived yet",
        "Dzień dobry, kiedy dotrze moja paczka?",
        "Dobrý den, kdy mi přijde objednávka?",
        "Здравствуйте, где мой заказ?",
    ],
)
def test_plain_order_status_question_is_no_situation(text: str) -> None:
    assert recognize([text]).situation is None


@pytest.mark.parametrize(
    ("messages", "situation"),
    [
        (["I want to speak to a manager right now"], "transfer"),
        (["Is the blue raincoat back in stock in size S?"], "out_of_stock"),
        (["you guys should add a wishlist to the app"], "pointless_suggestion"),
        (["this shop is a total scam, you are thieves"], "hater"),
        (["spasibo bolshoe, do svidaniya"], "ending"),
    ],
)
def test_other_situations(messages: list[str], situation: str) -> None:
    assert recognize(messages).situation == situation


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Hello, I have a question about my delivery", "en"),
        ("Dzień dobry, mam pytanie o dostawę", "pl"),
        ("dzien dobry, mam pytanie o dostawe", "pl"),
        ("Dobrý den, mám dotaz ohledně doručení", "cs"),
        ("dobry den, mam dotaz ohledne doruceni", "cs"),
        ("Здравствуйте, у меня вопрос по доставке", "ru"),
        ("zdravstvuite, u menya vopros po dostavke", "ru"),
    ],
)
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_result_shape_and_empty_input() -> None:
    result = recognize(["thanks, bye"])
    assert isinstance(result, Recognition)
    assert 0.0 <= result.score <= 1.0
    empty = recognize([])
    assert empty.situation is None
    assert empty.language == "en"
