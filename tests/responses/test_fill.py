"""Filling variables, degrading optional ones, and spotting unfilled placeholders."""

from __future__ import annotations

import pytest

from responses.errors import UnfilledSlotError
from responses.fill import Segment, ensure_sendable, fill, fill_text, find_unfilled
from responses.library import validate_response


def test_fill_inserts_values_and_reports_nothing_missing() -> None:
    filled = fill_text(
        "Hello {customer.first_name}, back {restock.date}.",
        ["restock.date"],
        {"customer.first_name": "Anna", "restock.date": "on 12 May"},
    )
    assert filled.text == "Hello Anna, back on 12 May."
    assert filled.missing == []
    assert filled.segments == [Segment("text", "Hello Anna, back on 12 May.")]
    assert filled.complete


def test_an_unfilled_slot_stays_visible_as_a_marker_and_a_segment() -> None:
    filled = fill_text("Back {restock.date}. Order now!", ["restock.date"], {})
    assert filled.text == "Back [[restock.date]]. Order now!"
    assert filled.missing == ["restock.date"]
    assert filled.segments == [
        Segment("text", "Back "),
        Segment("slot", "restock.date"),
        Segment("text", ". Order now!"),
    ]
    assert not filled.complete
    assert find_unfilled(filled.text) == ["restock.date"]


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("Hello {customer.first_name}, how can I help?", "Hello, how can I help?"),
        ("Hello {customer.first_name}! How can I help?", "Hello! How can I help?"),
        ("Dzień dobry, {customer.name}!", "Dzień dobry!"),
        ("Sorry, {customer.first_name} — that's on us.", "Sorry — that's on us."),
        ("Мне очень жаль, {customer.first_name}: это наша ошибка.", "Мне очень жаль: это наша ошибка."),
        ("{customer.first_name}, спасибо за идею.", "Спасибо за идею."),
        ("Thanks! {customer.first_name}, one more thing.", "Thanks! One more thing."),
        ("Hello, {customer.first_name}, how are you?", "Hello, how are you?"),
        ("We thank {customer.name} for writing", "We thank for writing"),
        ("Hi ({customer.first_name}) there", "Hi there"),
        ("Thanks for writing, {customer.first_name}", "Thanks for writing"),
        ("Hi {customer.first_name} {customer.name}, welcome.", "Hi, welcome."),
    ],
)
def test_optional_variables_without_a_value_degrade_gracefully(template: str, expected: str) -> None:
    filled = fill_text(template, [], {})
    assert filled.text == expected
    assert filled.missing
    assert filled.complete
    assert find_unfilled(filled.text) == []


def test_a_signature_drops_the_lines_it_cannot_fill() -> None:
    text = "Best regards,\n{operator.name}\n{operator.title}\n{company.name}"
    filled = fill_text(text, ["operator.name"], {"operator.name": "Joanna", "company.name": "Acme"})
    assert filled.text == "Best regards,\nJoanna\nAcme"
    assert filled.missing == ["operator.title"]


def test_blank_values_count_as_missing_and_values_are_not_reinterpreted() -> None:
    filled = fill_text("Hi {customer.first_name}!", [], {"customer.first_name": "   "})
    assert (filled.text, filled.missing) == ("Hi!", ["customer.first_name"])
    literal = fill_text("Order {order.id}", ["order.id"], {"order.id": "{customer.name}"})
    assert literal.text == "Order {customer.name}"
    assert literal.missing == []


def test_an_unknown_variable_is_shown_not_silently_dropped() -> None:
    filled = fill_text("Track it: {order.tracking_url}", [], {})
    assert filled.text == "Track it: [[order.tracking_url]]"
    assert filled.missing == ["order.tracking_url"]


def test_fill_uses_the_response_slots() -> None:
    response = validate_response(
        {
            "id": "x",
            "situation": "out_of_stock",
            "language": "en",
            "title": "t",
            "shortcut": "/x",
            "text": "Hi {customer.first_name}, back {restock.date}.",
            "slots": ["restock.date"],
            "tags": [],
        }
    )
    filled = fill(response, {})
    assert filled.text == "Hi, back [[restock.date]]."
    assert filled.missing == ["customer.first_name", "restock.date"]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Back [[restock.date]], order now", ["restock.date"]),
        ("Hello {customer.first_name}", ["customer.first_name"]),
        ("Hello {Customer Name}", ["Customer Name"]),
        ("Hey ______, thanks for the idea", ["______"]),
        ("Mr. and Mrs. ___, welcome", ["___"]),
        ("[Feature X] isn't the perfect fit", ["[Feature X]"]),
        ("Dear [name], your order [order number] shipped", ["[name]", "[order number]"]),
        ("[[a]] then {b} then [[a]]", ["a", "b"]),
    ],
)
def test_find_unfilled_spots_every_kind_of_placeholder(text: str, found: list[str]) -> None:
    assert find_unfilled(text) == found


@pytest.mark.parametrize(
    "text",
    [
        "All done, thank you!",
        "See [the help page](https://example.com/help) for details.",
        "As noted in [1], returns take 14 days.",
        "Use the snake_case name or __init__.",
        "A smiley [:)] is fine.",
    ],
)
def test_find_unfilled_leaves_ordinary_text_alone(text: str) -> None:
    assert find_unfilled(text) == []


def test_ensure_sendable_refuses_with_the_unfilled_slot_code() -> None:
    ensure_sendable("Thanks, all sorted!")
    with pytest.raises(UnfilledSlotError) as caught:
        ensure_sendable("Back [[restock.date]]. Hey ______!")
    assert caught.value.code == "unfilled_slot"
    assert caught.value.placeholders == ["restock.date", "______"]
