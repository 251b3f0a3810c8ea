"""Suggestions: the recognised situation's replies, in the visitor's language, filled."""

from __future__ import annotations

import time
from typing import Any

import pytest

from responses.library import GENERAL, SITUATIONS, Library, load_library, validate_response
from responses.recognize import SITUATIONS as RECOGNIZED
from responses.suggest import GENERAL_SCORE, suggest

DEFECT_EN = ["Hi, the kettle I ordered arrived broken: the lid is cracked and it doesn't work."]
DEFECT_PL = ["Czajnik, który zamówiłem, przyszedł uszkodzony: pokrywka jest pęknięta i nie działa."]
HELLO = ["hello there"]


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library()


def test_the_library_and_the_recognizer_share_the_situation_ids() -> None:
    assert tuple(RECOGNIZED) == SITUATIONS


def test_a_defect_message_gets_three_defect_replies(library: Library) -> None:
    result = suggest(library, DEFECT_EN, context={"customer.first_name": "Anna"})
    assert result.situation == "defect"
    assert result.language == "en"
    assert len(result.items) == 3
    assert all(item.situation == "defect" and item.language == "en" for item in result.items)
    assert [i.response_id for i in result.items] == [r.id for r in library.for_situation("en", "defect")[:3]]
    assert "Anna" in result.items[1].text
    scores = [item.score for item in result.items]
    assert scores == sorted(scores, reverse=True) and scores[0] <= result.score


def test_replies_come_in_the_detected_language(library: Library) -> None:
    result = suggest(library, DEFECT_PL)
    assert (result.situation, result.language) == ("defect", "pl")
    assert all(item.language == "pl" for item in result.items)


def test_an_explicit_language_overrides_detection(library: Library) -> None:
    result = suggest(library, DEFECT_EN, language="cs-CZ")
    assert result.language == "cs"
    assert all(item.language == "cs" for item in result.items)


def test_missing_slots_are_reported_per_item(library: Library) -> None:
    result = suggest(library, DEFECT_EN, limit=4)
    lookup = {item.response_id: item for item in result.items}
    assert lookup["defect.order_lookup"].missing == ["order.id"]
    assert "[[order.id]]" in lookup["defect.order_lookup"].text
    filled = suggest(library, DEFECT_EN, limit=4, context={"order.id": "100234"})
    assert "100234" in {i.response_id: i for i in filled.items}["defect.order_lookup"].text


def test_limit_and_rotation(library: Library) -> None:
    ids = [r.id for r in library.for_situation("en", "defect")]
    assert len(suggest(library, DEFECT_EN, limit=1).items) == 1
    rotated = suggest(library, DEFECT_EN, rotation=1)
    assert [i.response_id for i in rotated.items] == ids[1:4]
    assert suggest(library, DEFECT_EN, rotation=1) == rotated


def test_no_situation_offers_general_replies_greeting_first(library: Library) -> None:
    result = suggest(library, HELLO, context={"operator.name": "Joanna"})
    assert result.situation is None
    assert result.items and all(item.situation == GENERAL for item in result.items)
    assert result.items[0].response_id == "general.greeting"
    assert "Joanna" in result.items[0].text
    assert all(item.response_id != "general.signature" for item in result.items)
    assert all(item.score == pytest.approx(GENERAL_SCORE, abs=0.1) for item in result.items)


def test_no_messages_at_all(library: Library) -> None:
    result = suggest(library, [], language="ru")
    assert (result.situation, result.language) == (None, "ru")
    assert result.items[0].language == "ru"


def _one_language_library() -> Library:
    def reply(**data: Any) -> Any:
        base = {"title": "t", "tags": [], "slots": []}
        return validate_response({**base, **data})

    return Library(
        "tiny",
        [
            reply(id="d1", situation="defect", language="en", shortcut="/d1", text="Sorry! New one."),
            reply(id="d2", situation="defect", language="en", shortcut="/d2", text="So sorry!"),
            reply(id="g1", situation="general", language="pl", shortcut="/g1", text="Dzień dobry!"),
        ],
    )


def test_falls_back_to_english_when_the_language_lacks_the_situation() -> None:
    result = suggest(_one_language_library(), DEFECT_PL)
    assert (result.situation, result.language) == ("defect", "pl")
    assert [(i.response_id, i.language) for i in result.items] == [("d1", "en"), ("d2", "en")]


def test_suggest_is_fast(library: Library) -> None:
    messages = ["I asked twice already.", *DEFECT_EN]
    suggest(library, messages)
    runs = 200
    start = time.perf_counter()
    for seq in range(runs):
        suggest(library, messages, rotation=seq, context={"customer.first_name": "Anna"})
    per_call_ms = (time.perf_counter() - start) / runs * 1000
    assert per_call_ms < 5, f"{per_call_ms:.2f} ms per suggestion"
