"""How ideas are normalized and told apart (pure, no server)."""

from __future__ import annotations

from chatserver import ideas


def test_the_key_folds_case_diacritics_punctuation_and_stop_words() -> None:
    assert ideas.key_of("You guys should add a WISHLIST to the app!!") == "wishlist"
    assert ideas.key_of("Dodajcie proszę listę życzeń") == "liste zyczen"
    assert ideas.key_of("Łódź, Zürich & Kraków deliveries") == "deliveries krakow lodz zurich"
    assert ideas.key_of("the and of") == "and of the"  # only stop-words: all of them are the key


def test_near_duplicates_merge_into_the_most_similar_then_oldest_idea() -> None:
    dark = ideas.key_of("Please add a dark mode to the checkout page")
    assert ideas.same_idea(ideas.key_of("dark mode for the checkout page, please!"), [(3, dark)]) == 3
    assert ideas.same_idea(ideas.key_of("a dark theme"), [(3, dark)]) is None
    # The same score on two ideas: the oldest wins, whatever order they are read in.
    known = [(9, "dark mode"), (4, "dark mode")]
    assert ideas.same_idea("dark mode", known) == 4
    assert ideas.same_idea("dark mode", list(reversed(known))) == 4
    assert ideas.similarity([], []) == 1.0


def test_the_news_is_in_the_askers_language_with_english_as_the_fallback() -> None:
    assert "working on it" in ideas.news_text("planned", "en-GB", "wishlist")
    assert "pracujemy" in ideas.news_text("planned", "pl", "wishlist")
    assert "available" in ideas.news_text("done", "de", "wishlist")
    assert len(ideas.news_text("done", "en", "x" * 500)) < 400
