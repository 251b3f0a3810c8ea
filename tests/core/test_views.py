"""Read models on the pure core: what the console, the admin API and the visitor page are shown."""

from __future__ import annotations

import dataclasses

import pytest

from chatserver.core import events as ev
from chatserver.core.conversation import State
from chatserver.core.effects import QueueUpdate
from chatserver.core.engine import Engine
from chatserver.core.views import TeamPresence

from .helpers import of, online

BILLING = frozenset({"billing"})
SALES = frozenset({"sales"})


def test_an_assignment_takes_a_free_slot() -> None:
    engine = Engine()
    online(engine, 1, 0.0, capacity=2)
    assert engine.presence.operator(1).free_slots == 2
    engine.receive(ev.ConversationOpened(10, "v10"), 1.0)
    anna = engine.presence.operator(1)
    assert (anna.status, anna.connected, anna.chats, anna.capacity, anna.free_slots) == (
        "online",
        True,
        1,
        2,
        1,
    )
    assert anna.chat_ids == (10,)
    engine.receive(ev.ConversationOpened(11, "v11"), 2.0)
    assert engine.presence.operator(1).free_slots == 0
    engine.receive(ev.ConversationClosed(10), 3.0)
    assert engine.presence.operator(1).free_slots == 1


def test_a_transfer_offer_holds_a_slot_of_the_colleague() -> None:
    engine = Engine()
    online(engine, 1, 0.0)
    online(engine, 2, 0.0, capacity=1, teams=BILLING)
    engine.receive(ev.ConversationOpened(10, "v10"), 1.0)
    assert engine.presence.operator(2).free_slots == 1
    engine.receive(ev.TransferRequested(10, 1, "invoice", "fixed today", to_team="billing"), 2.0)
    boris = engine.presence.operator(2)
    assert boris.free_slots == 0 and boris.chats == 0
    conv = engine.conversation(10)
    assert conv is not None and conv.state is State.TRANSFERRING
    assert conv.offered_to == 2 and conv.held_by(1) and not conv.held_by(2)


def test_away_or_disconnected_operators_are_not_online_and_have_no_free_slots() -> None:
    engine = Engine(grace_s=60.0)
    online(engine, 1, 0.0)
    online(engine, 2, 0.0)
    engine.receive(ev.ConversationOpened(10, "v10"), 1.0)
    engine.receive(ev.OperatorStatusChanged(2, "away"), 2.0)
    assert engine.presence.operator(2).status == "away"
    assert engine.presence.operator(2).free_slots == 0
    holder = engine.conversation(10)
    assert holder is not None and holder.operator_id == 1  # tie: the lower id
    engine.receive(ev.OperatorDisconnected(1), 3.0)
    gone = engine.presence.operator(1)
    # Still holding the chat during the grace period, but offline to everyone else.
    assert (gone.status, gone.connected, gone.chats, gone.free_slots) == ("offline", False, 1, 0)
    assert engine.presence.online_count() == 0


def test_an_operator_never_seen_is_offline_with_nothing() -> None:
    nobody = Engine().presence.operator(99)
    assert not nobody.known and not nobody.connected
    assert (nobody.status, nobody.chats, nobody.free_slots, nobody.chat_ids) == ("offline", 0, 0, ())


def test_who_serves_a_team() -> None:
    engine = Engine()
    assert not engine.presence.anyone_serving()
    online(engine, 1, 0.0, teams=BILLING)
    online(engine, 2, 0.0, teams=SALES)
    engine.receive(ev.OperatorStatusChanged(2, "away"), 1.0)
    assert engine.presence.online_count() == 1
    assert engine.presence.online_count("billing") == 1
    assert engine.presence.online_count("sales") == 0
    assert engine.presence.anyone_serving("billing") and not engine.presence.anyone_serving("sales")
    assert [p.operator_id for p in engine.presence.serving("billing")] == [1]


def test_waiting_chats_move_up_as_operators_free_up() -> None:
    engine = Engine(default_handle_s=100.0)
    for cid in (10, 11, 12):
        engine.receive(ev.ConversationOpened(cid, f"v{cid}", locale="pl"), float(cid))
    line = engine.queue_view
    assert [(w.conversation_id, w.position) for w in line.snapshot()] == [(10, 1), (11, 2), (12, 3)]
    assert line.position(11) == 2 and line.is_waiting(11) and len(line) == 3
    waiting = line.waiting(12)
    assert waiting is not None
    assert (waiting.waiting_since, waiting.locale, waiting.state) == (12.0, "pl", State.WAITING)
    assert waiting.estimated_wait_s is None and waiting.operators_online == 0  # nobody to serve yet
    online(engine, 1, 20.0, capacity=1)
    assert not line.is_waiting(10) and line.waiting(10) is None
    first = engine.conversation(10)
    assert first is not None and first.operator_id == 1
    assert line.position(11) == 1 and line.position(12) == 2
    after = line.waiting(11)
    assert after is not None and after.estimated_wait_s is not None and after.operators_online == 1


def test_the_position_told_counts_only_chats_competing_for_the_same_operators() -> None:
    engine = Engine()
    online(engine, 1, 0.0, capacity=1, teams=BILLING)
    online(engine, 2, 0.0, capacity=1, teams=SALES)
    engine.receive(ev.ConversationOpened(10, "v10", team="billing"), 1.0)
    engine.receive(ev.ConversationOpened(11, "v11", team="sales"), 2.0)
    engine.receive(ev.ConversationOpened(12, "v12", team="billing"), 3.0)
    engine.receive(ev.ConversationOpened(13, "v13", team="sales"), 4.0)
    assert engine.queue_view.place_in_line(13) == 2
    assert engine.queue_view.position(13) == 1  # the billing chat ahead cannot take a sales slot
    assert engine.queue_view.waiting_by_team() == {"billing": 1, "sales": 1}


def test_the_figures_are_what_the_visitor_was_told() -> None:
    engine = Engine(default_handle_s=100.0)
    online(engine, 1, 0.0, capacity=1)
    engine.receive(ev.ConversationOpened(10, "v10"), 1.0)
    effects = engine.receive(ev.ConversationOpened(11, "v11"), 2.0)
    [told] = of(effects, QueueUpdate)
    figures = engine.queue_view.figures(11)
    assert figures is not None
    assert (figures.position, figures.estimate.seconds, figures.online) == (
        told.position,
        told.estimated_wait_s,
        told.operators_online,
    )
    assert engine.queue_view.figures(10) is None  # served, not waiting


def test_a_left_message_is_not_waiting_in_line() -> None:
    engine = Engine()
    engine.receive(ev.ConversationOpened(10, "v10"), 1.0)
    engine.receive(ev.LeaveMessage(10), 2.0)
    view = engine.conversation(10)
    assert view is not None and view.left_message and view.operator_id is None
    assert not engine.queue_view.is_waiting(10) and engine.queue_view.position(10) is None


def test_views_are_snapshots_that_cannot_change_the_core() -> None:
    engine = Engine()
    online(engine, 1, 0.0)
    engine.receive(ev.ConversationOpened(10, "v10"), 1.0)
    view = engine.conversation(10)
    presence = engine.presence.operator(1)
    assert view is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.operator_id = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        presence.free_slots = 3  # type: ignore[misc]
    engine.receive(ev.ConversationClosed(10), 2.0)
    assert view.operator_id == 1 and presence.chats == 1  # what was read stays as it was
    assert engine.conversation(10) is None and engine.presence.operator(1).chats == 0


def test_the_directory_counts_colleagues_per_team_without_the_asker() -> None:
    engine = Engine()
    online(engine, 1, 0.0, capacity=2, teams=BILLING)  # the asker
    online(engine, 2, 0.0, capacity=2, teams=BILLING)
    online(engine, 3, 0.0, capacity=1, teams=SALES)
    engine.receive(ev.OperatorStatusChanged(3, "away"), 0.0)
    engine.receive(ev.ConversationOpened(10, "v10", team="billing"), 1.0)
    for cid in (11, 12):
        engine.receive(ev.ConversationOpened(cid, f"v{cid}", team="sales"), float(cid))
    members = {1: ["billing"], 2: ["billing"], 3: ["sales"], 4: ["sales"]}  # 4 never connected
    rows = engine.directory(["billing", "sales", "support"], members, exclude=1)
    assert rows == (
        TeamPresence("billing", online=1, free_slots=2, waiting=0),
        TeamPresence("sales", online=0, free_slots=0, waiting=2),
        TeamPresence("support", online=0, free_slots=0, waiting=0),
    )
    assert sum(engine.presence.operator(oid).free_slots for oid in (1, 2)) == 3  # the asker took chat 10


def test_the_old_queries_agree_with_the_views() -> None:
    engine = Engine()
    online(engine, 1, 0.0, capacity=1)
    for cid in (10, 11, 12):
        engine.receive(ev.ConversationOpened(cid, f"v{cid}"), float(cid))
    assert engine.queue_snapshot() == [
        (w.conversation_id, w.position, w.estimated_wait_s) for w in engine.queue_view.snapshot()
    ]
    assert engine.operator_chats(1) == list(engine.presence.operator(1).chat_ids) == [10]
    assert engine.position(12) == engine.queue_view.place_in_line(12) == 2
    assert engine.figures(11) == engine.queue_view.figures(11)
