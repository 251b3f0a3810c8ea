"""Customers beside the chat: history merge, the order feed, profiles, access and the context."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from chatserver.customers.context import (
    build_customer_context,
    build_visitor_context,
    contexts_for_assigned,
    conversation_context,
)
from chatserver.customers.segments import SegmentPolicy, classify, compute_cutoffs, refresh_cutoffs_now
from chatserver.storage import repository as repo
from chatserver.storage.records import NewMessage

from .helpers import NOW, new_conversation


def _operator(engine: Engine, name: str, role: str = "operator") -> int:
    return repo.create_operator(
        engine, email=f"{name}@example.com", name=name, password_hash="h", role=role, now=NOW
    ).id


def _customer(engine: Engine, external_id: str = "shop-1", name: str | None = "Eve") -> int:
    found = repo.get_or_create_customer_by_external_id(
        engine, external_id=external_id, name=name, email=None, locale="en", now=NOW
    )
    assert found.id is not None
    return found.id


def _assign(engine: Engine, conversation_id: int, operator_id: int, now: float = NOW + 1) -> None:
    repo.set_conversation_state(
        engine,
        conversation_id=conversation_id,
        state="assigned",
        operator_id=operator_id,
        now=now,
        event_kind="assigned",
    )


def _close(engine: Engine, conversation_id: int, now: float = NOW + 2) -> None:
    repo.set_conversation_state(
        engine,
        conversation_id=conversation_id,
        state="closed",
        operator_id=None,
        now=now,
        event_kind="closed",
    )


def _say(engine: Engine, conversation_id: int, *texts: str, sender: str = "visitor") -> None:
    repo.store_messages(
        engine,
        messages=[NewMessage(conversation_id, sender, "x", None, t, NOW) for t in texts],
    )


def _order(engine: Engine, order_id: str, shop_id: str, total: float, status: str = "paid", **kw: Any) -> Any:
    defaults: dict[str, Any] = {
        "currency": "EUR",
        "placed_at": NOW,
        "items": json.dumps([{"name": "Blender", "qty": 1, "price": total}]),
        "now": NOW,
    }
    defaults.update(kw)
    return repo.upsert_order(
        engine, order_id=order_id, external_customer_id=shop_id, status=status, total=total, **defaults
    )


# --- identity and history --------------------------------------------------------------------


def test_identifying_a_visitor_hands_the_customer_its_anonymous_conversations(engine: Engine) -> None:
    earlier = new_conversation(engine, visitor_id="v1")
    _close(engine, earlier.id)
    other_visitor = new_conversation(engine, visitor_id="v2")
    someone_else = _customer(engine, "shop-other")
    theirs = repo.open_conversation(engine, visitor_id="v1", customer_id=someone_else, locale="en", now=NOW)
    eve = _customer(engine)
    moved = repo.merge_visitor_history(engine, visitor_id="v1", customer_id=eve, now=NOW + 5)
    assert moved == 1
    assert repo.get_conversation(engine, conversation_id=earlier.id).customer_id == eve  # type: ignore[union-attr]
    assert repo.get_conversation(engine, conversation_id=theirs.id).customer_id == someone_else  # type: ignore[union-attr]
    assert repo.get_conversation(engine, conversation_id=other_visitor.id).customer_id is None  # type: ignore[union-attr]
    visitor = repo.get_visitor(engine, visitor_id="v1")
    assert visitor is not None and (visitor.customer_id, visitor.last_seen) == (eve, NOW + 5)
    assert repo.merge_visitor_history(engine, visitor_id="v1", customer_id=eve, now=NOW + 6) == 0


# --- the order feed --------------------------------------------------------------------------


def test_an_order_pushed_twice_is_stored_once_and_updated(engine: Engine) -> None:
    first = _order(engine, "o-1", "shop-1", 100.0, customer={"name": "Eve", "email": "eve@example.com"})
    assert first.outcome == "created"
    again = _order(engine, "o-1", "shop-1", 100.0, status="shipped", now=NOW + 60)
    assert again.outcome == "updated" and again.customer_id == first.customer_id
    assert (again.row.status, again.row.created_at, again.row.updated_at) == ("shipped", NOW, NOW + 60)
    rows = repo.context_rows(engine, customer_id=first.customer_id)
    assert rows is not None and [o["order_id"] for o in rows.orders] == ["o-1"]
    customer = repo.get_customer(engine, customer_id=first.customer_id)
    assert customer is not None and (customer.name, customer.email, customer.external_id) == (
        "Eve",
        "eve@example.com",
        "shop-1",
    )


def test_the_feed_keeps_order_value_without_cancelled_orders(engine: Engine) -> None:
    _order(engine, "o-1", "shop-1", 100.0)
    _order(engine, "o-2", "shop-1", 50.0)
    result = _order(engine, "o-3", "shop-1", 30.0, status="cancelled")
    profile = repo.get_customer_profile(engine, customer_id=result.customer_id)
    assert profile is not None and (profile.order_count, profile.order_total) == (2, 150.0)
    _order(engine, "o-2", "shop-1", 50.0, status="refunded")
    profile = repo.get_customer_profile(engine, customer_id=result.customer_id)
    assert profile is not None and (profile.order_count, profile.order_total) == (1, 100.0)


def test_an_older_push_never_overwrites_a_newer_one(engine: Engine) -> None:
    _order(engine, "o-1", "shop-1", 10.0, status="delivered", source_updated_at=NOW + 100)
    stale = _order(engine, "o-1", "shop-1", 10.0, status="shipped", source_updated_at=NOW + 50)
    assert stale.outcome == "stale" and stale.row.status == "delivered"
    newer = _order(engine, "o-1", "shop-1", 10.0, status="returned", source_updated_at=NOW + 200)
    assert newer.outcome == "updated" and newer.row.status == "returned"


def test_cases_are_upserted_by_kind_and_id_and_close(engine: Engine) -> None:
    def case(kind: str, case_id: str, status: str) -> Any:
        return repo.upsert_case(
            engine,
            kind=kind,
            case_id=case_id,
            external_customer_id="shop-1",
            status=status,
            text="Jug cracked",
            order_id="o-1",
            now=NOW,
        )

    assert case("complaint", "7", "open").outcome == "created"
    assert case("return", "7", "requested").outcome == "created"  # another kind, another case
    assert case("question", "8", "open").outcome == "created"
    closed = case("complaint", "7", "resolved")
    assert closed.outcome == "updated"
    assert isinstance(closed.row, repo.CustomerCasePublic) and not closed.row.is_open
    rows = repo.context_rows(engine, customer_id=closed.customer_id)
    assert rows is not None
    assert sorted((c["kind"], c["case_id"]) for c in rows.open_cases) == [("question", "8"), ("return", "7")]
    profile = repo.get_customer_profile(engine, customer_id=closed.customer_id)
    assert profile is not None and profile.case_count == 2  # returns and complaints only


# --- profiles --------------------------------------------------------------------------------


def test_profile_edits_bump_the_version_and_refuse_stale_ones(engine: Engine) -> None:
    ada = _operator(engine, "ada")
    eve = _customer(engine)
    first = repo.update_customer_profile(
        engine,
        customer_id=eve,
        changes={"tags": '["vip"]', "comm_type": "accuser", "notes": "Prefers e-mail"},
        operator_id=ada,
        now=NOW + 1,
    )
    assert (first.version, first.comm_type, first.updated_by, first.updated_at) == (
        1,
        "accuser",
        ada,
        NOW + 1,
    )
    second = repo.update_customer_profile(
        engine,
        customer_id=eve,
        changes={"notes": "Call after 5"},
        operator_id=ada,
        expected_version=1,
        now=NOW,
    )
    assert (second.version, second.notes, second.tags) == (2, "Call after 5", '["vip"]')
    with pytest.raises(repo.ProfileVersionConflict):
        repo.update_customer_profile(
            engine, customer_id=eve, changes={"notes": "x"}, operator_id=ada, expected_version=1, now=NOW
        )
    with pytest.raises(repo.UnknownCustomer):
        repo.update_customer_profile(
            engine, customer_id=eve + 99, changes={"notes": "x"}, operator_id=ada, now=NOW
        )
    with pytest.raises(ValueError):
        repo.update_customer_profile(
            engine, customer_id=eve, changes={"segment": "A"}, operator_id=ada, now=NOW
        )


# --- who may see what ------------------------------------------------------------------------


def test_an_operator_sees_only_customers_of_conversations_they_hold_or_held(engine: Engine) -> None:
    ada, bob, cyd = _operator(engine, "ada"), _operator(engine, "bob"), _operator(engine, "cyd")
    eve = _customer(engine)
    conv = new_conversation(engine, customer_id=eve)
    _assign(engine, conv.id, ada)
    repo.set_conversation_state(
        engine, conversation_id=conv.id, state="waiting", operator_id=None, now=NOW + 2, event_kind="requeued"
    )
    _assign(engine, conv.id, bob, now=NOW + 3)
    for viewer in (None, ada, bob):
        assert repo.can_view_customer(engine, customer_id=eve, viewer_id=viewer)
        assert build_customer_context(engine, customer_id=eve, viewer_id=viewer) is not None
        assert build_visitor_context(engine, visitor_id=conv.visitor_id, viewer_id=viewer) is not None
    assert not repo.can_view_customer(engine, customer_id=eve, viewer_id=cyd)
    assert build_customer_context(engine, customer_id=eve, viewer_id=cyd) is None
    assert build_visitor_context(engine, visitor_id=conv.visitor_id, viewer_id=cyd) is None
    assert repo.transcript_page(engine, conversation_id=conv.id, customer_id=eve, viewer_id=cyd) is None
    assert repo.conversation_history(engine, customer_id=eve, viewer_id=cyd) is None
    # A customer with no conversation at all: only supervisors and admins.
    feed_only = _order(engine, "o-9", "shop-9", 5.0).customer_id
    assert build_customer_context(engine, customer_id=feed_only, viewer_id=ada) is None
    assert build_customer_context(engine, customer_id=feed_only) is not None
    assert build_customer_context(engine, customer_id=feed_only + 100) is None


# --- the context -----------------------------------------------------------------------------


def test_the_customer_context_shows_history_orders_cases_page_and_profile(engine: Engine) -> None:
    ada, bob = _operator(engine, "Ada"), _operator(engine, "Bob")
    eve = _customer(engine)
    convs = []
    for i in range(12):
        conv = (
            new_conversation(engine, visitor_id="eve-phone", customer_id=eve, now=NOW + i)
            if i == 0
            else (
                repo.open_conversation(
                    engine, visitor_id="eve-phone", customer_id=eve, locale="en", now=NOW + i
                )
            )
        )
        convs.append(conv)
    _say(engine, convs[10].id, "The blender arrived with a cracked jug", "It leaks everywhere")
    _assign(engine, convs[10].id, ada)
    _say(engine, convs[10].id, "Sorry to hear that", sender="operator")
    _assign(engine, convs[10].id, bob, now=NOW + 3)
    _close(engine, convs[10].id)
    _close(engine, convs[9].id)  # closed before anyone took it
    repo.rate_conversation(
        engine, conversation_id=convs[10].id, visitor_id="eve-phone", score=4, comment="ok", now=NOW
    )
    for n in range(7):
        _order(engine, f"o-{n}", "shop-1", 10.0 * (n + 1), placed_at=NOW + n)
    repo.upsert_case(
        engine,
        kind="complaint",
        case_id="c1",
        external_customer_id="shop-1",
        status="open",
        text="Jug",
        now=NOW,
    )
    repo.set_visitor_page(
        engine, visitor_id="eve-phone", url="https://shop.example/cart", title="Cart", now=NOW
    )
    repo.update_customer_profile(
        engine,
        customer_id=eve,
        changes={"tags": '["vip","blender"]', "comm_type": "accuser", "notes": "Wants a call back"},
        operator_id=ada,
        now=NOW,
    )
    current = convs[11]
    context = build_customer_context(engine, customer_id=eve, current_conversation_id=current.id)
    assert context is not None
    assert (context["id"], context["name"], context["external_id"], context["anonymous"]) == (
        eve,
        "Eve",
        "shop-1",
        False,
    )
    assert [c["id"] for c in context["conversations"]] == [c.id for c in reversed(convs[1:11])]
    assert context["conversations_total"] == 12 and context["more_conversations"]
    assert not context["first_contact"]
    served = context["conversations"][0]
    assert served["handled_by"] == [{"id": ada, "name": "Ada"}, {"id": bob, "name": "Bob"}]
    assert (served["state"], served["outcome"], served["messages"]) == ("closed", "served", 3)
    assert served["opening"] == "The blender arrived with a cracked jug"
    assert served["situation"] == "defect"
    assert served["rating"] == {"score": 4, "comment": "ok"}
    assert context["conversations"][1]["outcome"] == "unserved"
    assert context["conversations"][2]["outcome"] == "open"
    assert context["ratings"] == {"count": 1, "average": 4.0}
    assert [o["order_id"] for o in context["orders"]] == ["o-6", "o-5", "o-4", "o-3", "o-2"]
    assert context["orders"][0]["items"] == [{"name": "Blender", "qty": 1, "price": 70.0}]
    assert context["stats"] == {"orders": 7, "order_value": 280.0, "returns_and_complaints": 1}
    assert [(c["kind"], c["id"], c["status"]) for c in context["open_complaints"]] == [
        ("complaint", "c1", "open")
    ]
    assert context["page"] == {"url": "https://shop.example/cart", "title": "Cart", "ts": NOW}
    assert context["tags"] == ["vip", "blender"]
    assert context["type"]["id"] == "accuser" and context["type"]["hint"]
    assert (context["notes"], context["version"]) == ("Wants a call back", 1)
    assert context["updated_by"] == {"id": ada, "name": "Ada"}
    assert context["segment"] is None  # no cut-offs computed yet
    refresh_cutoffs_now(engine, SegmentPolicy("share", 0.8, 0.95, 3, 300.0), now=NOW)
    again = build_customer_context(engine, customer_id=eve)
    assert again is not None and again["segment"] == "A"  # the only buyer brings all the value
    assert json.dumps(again)  # plain JSON


def test_an_anonymous_visitor_context_lists_their_own_conversations(engine: Engine) -> None:
    first = new_conversation(engine, visitor_id="anon")
    _say(engine, first.id, "Do you ship to Norway?")
    _close(engine, first.id)
    new_conversation(engine, visitor_id="someone-else")
    current = repo.open_conversation(engine, visitor_id="anon", customer_id=None, locale="en", now=NOW + 9)
    context = conversation_context(engine, conversation=current)
    assert context is not None
    assert (context["anonymous"], context["id"], context["name"], context["visitor_id"]) == (
        True,
        None,
        None,
        "anon",
    )
    assert [c["id"] for c in context["conversations"]] == [first.id]
    assert context["conversations"][0]["opening"] == "Do you ship to Norway?"
    assert not context["first_contact"] and context["page"] is None
    fresh = repo.open_conversation(engine, visitor_id="someone-else", customer_id=None, locale="en", now=NOW)
    assert conversation_context(engine, conversation=fresh)["first_contact"] is False  # type: ignore[index]
    lone = new_conversation(engine, visitor_id="lone")
    assert conversation_context(engine, conversation=lone)["first_contact"] is True  # type: ignore[index]


def test_a_run_of_briefings_shows_each_visitor_what_one_briefing_would(engine: Engine) -> None:
    back = new_conversation(engine, visitor_id="back")
    _say(engine, back.id, "Is the blender in stock?")
    repo.rate_conversation(engine, conversation_id=back.id, visitor_id="back", score=4, comment=None, now=NOW)
    _close(engine, back.id)
    repo.set_visitor_page(engine, visitor_id="back", url="https://shop.example/blender", title="B", now=NOW)
    runs = [
        repo.open_conversation(engine, visitor_id="back", customer_id=None, locale="en", now=NOW + 9),
        *(new_conversation(engine, visitor_id=f"new-{n}") for n in range(3)),
    ]
    customer = _customer(engine)
    runs.append(new_conversation(engine, visitor_id="signed", customer_id=customer))
    together = contexts_for_assigned(engine, conversations=runs)
    assert together == {c.id: conversation_context(engine, conversation=c) for c in runs}
    assert together[runs[0].id]["conversations"][0]["opening"] == "Is the blender in stock?"  # type: ignore[index]
    assert together[runs[0].id]["page"]["url"] == "https://shop.example/blender"  # type: ignore[index]
    assert [together[c.id]["first_contact"] for c in runs[1:4]] == [True, True, True]  # type: ignore[index]
    ran: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: ran.append(a[2]))
    contexts_for_assigned(engine, conversations=runs[1:4])
    assert len([s for s in ran if s.lstrip().upper().startswith("SELECT")]) == 1  # three new visitors


def test_the_context_costs_the_same_queries_for_a_short_and_a_long_history(engine: Engine) -> None:
    ada = _operator(engine, "ada")

    def customer_with(n: int, external_id: str) -> int:
        cid = _customer(engine, external_id)
        for i in range(n):
            conv = new_conversation(engine, customer_id=cid, now=NOW + i)
            _say(engine, conv.id, f"question {i}")
            _assign(engine, conv.id, ada)
            _close(engine, conv.id)
        _order(engine, f"{external_id}-o", external_id, 10.0)
        return cid

    short, long = customer_with(2, "short"), customer_with(30, "long")
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    counts = []
    for cid in (short, long):
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert build_customer_context(engine, customer_id=cid, viewer_id=ada) is not None
        finally:
            event.remove(engine, "before_cursor_execute", count)
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_transcripts_and_history_page_in_order(engine: Engine) -> None:
    eve = _customer(engine)
    convs = [new_conversation(engine, visitor_id=f"v{i}", customer_id=eve, now=NOW + i) for i in range(5)]
    _say(engine, convs[0].id, *[f"line {n}" for n in range(1, 8)])
    page = repo.transcript_page(engine, conversation_id=convs[0].id, customer_id=eve, after_seq=0, limit=3)
    assert page is not None and [m.seq for m in page.messages] == [1, 2, 3]
    page = repo.transcript_page(engine, conversation_id=convs[0].id, customer_id=eve, after_seq=6, limit=3)
    assert page is not None and [m.text for m in page.messages] == ["line 7"]
    assert page.opening[0] == "line 1"
    other = _customer(engine, "shop-2")
    assert repo.transcript_page(engine, conversation_id=convs[0].id, customer_id=other) is None
    assert repo.transcript_page(engine, conversation_id=convs[0].id, visitor_id="v0") is not None
    assert repo.transcript_page(engine, conversation_id=convs[0].id, visitor_id="v1") is None
    found = repo.conversation_history(engine, customer_id=eve, limit=2)
    assert found is not None and [c["id"] for c in found[0]] == [convs[4].id, convs[3].id]
    found = repo.conversation_history(engine, customer_id=eve, before=convs[3].id, limit=10)
    assert found is not None and [c["id"] for c in found[0]] == [convs[2].id, convs[1].id, convs[0].id]


def test_a_visitor_rates_only_their_own_conversation_and_may_change_it(engine: Engine) -> None:
    conv = new_conversation(engine, visitor_id="v1")
    new_conversation(engine, visitor_id="v2")
    assert (
        repo.rate_conversation(
            engine, conversation_id=conv.id, visitor_id="v2", score=1, comment=None, now=NOW
        )
        is None
    )
    assert (
        repo.rate_conversation(
            engine, conversation_id=conv.id + 99, visitor_id="v1", score=1, comment=None, now=NOW
        )
        is None
    )
    repo.rate_conversation(engine, conversation_id=conv.id, visitor_id="v1", score=2, comment="slow", now=NOW)
    repo.rate_conversation(
        engine, conversation_id=conv.id, visitor_id="v1", score=5, comment=None, now=NOW + 1
    )
    rows = repo.context_rows(engine, visitor_id="v1")
    assert rows is not None and rows.ratings == {conv.id: {"score": 5, "comment": None, "ts": NOW + 1}}


def test_a_customers_ratings_include_the_anonymous_ones_merged_in(engine: Engine) -> None:
    before = new_conversation(engine, visitor_id="v1")
    repo.rate_conversation(engine, conversation_id=before.id, visitor_id="v1", score=2, comment=None, now=NOW)
    eve = _customer(engine)
    later = repo.open_conversation(engine, visitor_id="v1", customer_id=eve, locale="en", now=NOW + 1)
    repo.rate_conversation(engine, conversation_id=later.id, visitor_id="v1", score=5, comment=None, now=NOW)
    context = build_customer_context(engine, customer_id=eve)
    assert context is not None and context["ratings"] == {"count": 1, "average": 5.0}
    repo.merge_visitor_history(engine, visitor_id="v1", customer_id=eve, now=NOW + 2)
    context = build_customer_context(engine, customer_id=eve)
    assert context is not None and context["ratings"] == {"count": 2, "average": 3.5}
    repo.rate_conversation(engine, conversation_id=before.id, visitor_id="v1", score=4, comment=None, now=NOW)
    context = build_customer_context(engine, customer_id=eve)
    assert context is not None and context["ratings"] == {"count": 2, "average": 4.5}
    visitor = build_visitor_context(engine, visitor_id="v1")
    assert visitor is not None and visitor["ratings"] == {"count": 2, "average": 4.5}


def test_the_newest_page_of_any_of_the_customers_devices_is_shown(engine: Engine) -> None:
    eve = _customer(engine)
    new_conversation(engine, visitor_id="phone", customer_id=eve)
    new_conversation(engine, visitor_id="laptop", customer_id=eve)
    repo.set_visitor_page(engine, visitor_id="phone", url="https://s.example/a", title=None, now=NOW)
    repo.set_visitor_page(engine, visitor_id="laptop", url="https://s.example/b", title="B", now=NOW + 1)
    repo.set_visitor_page(engine, visitor_id="phone", url="https://s.example/c", title="C", now=NOW + 2)
    context = build_customer_context(engine, customer_id=eve)
    assert context is not None and context["page"]["url"] == "https://s.example/c"


# --- segments --------------------------------------------------------------------------------


def test_pareto_cutoffs_put_the_customers_bringing_80_percent_in_a() -> None:
    share = SegmentPolicy("share", 0.8, 0.95, 3, 300.0)
    # 2000 in all. A: 1000 + 500 + 300, the customers until 80% (1600) is passed; B: until 95% (1900).
    totals = [1000.0, 500.0, 300.0, 100.0, 50.0, 30.0, 20.0]
    cutoffs = compute_cutoffs(share, totals, now=NOW)
    assert (cutoffs.a_min, cutoffs.b_min) == (300.0, 100.0)
    segment = [classify(cutoffs, order_total=t, case_count=0) for t in totals]
    assert segment == ["A", "A", "A", "B", "C", "C", "C"]
    assert classify(cutoffs, order_total=0.0, case_count=0) is None
    assert classify(cutoffs, order_total=0.0, case_count=3) == "D"
    assert classify(cutoffs, order_total=100.0, case_count=3) == "D"
    assert classify(cutoffs, order_total=1000.0, case_count=9) == "A"  # D never demotes an A
    assert classify(None, order_total=1000.0, case_count=0) is None
    empty = compute_cutoffs(share, [], now=NOW)
    assert classify(empty, order_total=0.0, case_count=0) is None
    amounts = compute_cutoffs(SegmentPolicy("amount", 1000.0, 200.0, 0, 300.0), totals, now=NOW)
    assert [classify(amounts, order_total=t, case_count=5) for t in (1000.0, 300.0, 20.0)] == ["A", "B", "C"]


def test_stored_cutoffs_segment_every_customer(engine: Engine) -> None:
    values = {"big": 800.0, "mid": 150.0, "small": 50.0}
    ids = {name: _order(engine, f"o-{name}", name, total).customer_id for name, total in values.items()}
    assert repo.order_totals(engine) == [800.0, 150.0, 50.0]
    refresh_cutoffs_now(engine, SegmentPolicy("share", 0.8, 0.95, 3, 300.0), now=NOW)
    segments = {name: build_customer_context(engine, customer_id=cid)["segment"] for name, cid in ids.items()}  # type: ignore[index]
    assert segments == {"big": "A", "mid": "B", "small": "C"}
