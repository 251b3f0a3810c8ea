"""Visitors, customers and settings."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from chatserver.storage import repository as repo
from chatserver.storage.errors import UnknownVisitor

from .helpers import NOW


def test_visitors_are_created_once_and_touched(engine: Engine) -> None:
    made = repo.create_visitor(engine, visitor_id="abc", locale="cs", now=NOW)
    assert (made.id, made.locale, made.customer_id, made.created_at, made.last_seen) == (
        "abc",
        "cs",
        None,
        NOW,
        NOW,
    )
    again = repo.create_visitor(engine, visitor_id="abc", locale="en", now=NOW + 1)
    assert again == made  # idempotent: the stored visitor wins
    customer = repo.get_or_create_customer_by_external_id(
        engine, external_id="c-1", name="Eve", email=None, locale=None, now=NOW
    )
    touched = repo.touch_visitor(engine, visitor_id="abc", now=NOW + 2, customer_id=customer.id, locale="ru")
    assert (touched.last_seen, touched.customer_id, touched.locale) == (NOW + 2, customer.id, "ru")
    kept = repo.touch_visitor(engine, visitor_id="abc", now=NOW + 3)
    assert (kept.customer_id, kept.locale) == (customer.id, "ru")  # never unlinked
    assert repo.get_visitor(engine, visitor_id="abc") == kept
    assert repo.get_visitor(engine, visitor_id="nope") is None
    with pytest.raises(UnknownVisitor):
        repo.touch_visitor(engine, visitor_id="nope", now=NOW)


def test_customers_are_found_by_external_id(engine: Engine) -> None:
    first = repo.get_or_create_customer_by_external_id(
        engine, external_id="shop-42", name="Eve", email="eve@example.com", locale="en", now=NOW
    )
    assert (first.first_seen, first.last_seen, first.created_at) == (NOW, NOW, NOW)
    later = repo.get_or_create_customer_by_external_id(
        engine, external_id="shop-42", name=None, email="eve@new.example", locale=None, now=NOW + 60
    )
    assert later.id == first.id
    assert (later.name, later.email, later.locale) == ("Eve", "eve@new.example", "en")
    assert (later.first_seen, later.last_seen) == (NOW, NOW + 60)
    assert repo.get_customer(engine, customer_id=first.id) == later
    assert repo.get_customer(engine, customer_id=first.id + 1) is None


def test_the_first_setting_wins(engine: Engine) -> None:
    assert repo.get_setting(engine, key="token_secret") is None
    assert repo.set_setting_if_absent(engine, key="token_secret", value="one") == "one"
    assert repo.set_setting_if_absent(engine, key="token_secret", value="two") == "one"
    assert repo.get_setting(engine, key="token_secret") == "one"
