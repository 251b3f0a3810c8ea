"""Transfers on the pure core: the gate, offers, the fallback chain, queueing for a busy team."""

from __future__ import annotations

from chatserver.core import events as ev
from chatserver.core import transfer
from chatserver.core.conversation import State
from chatserver.core.effects import (
    CancelTimer,
    Effect,
    PromiseMade,
    PromiseSettled,
    QueueUpdate,
    Released,
    StartTimer,
    TransferCompleted,
    TransferMoved,
    TransferOffered,
    TransferOfferWithdrawn,
    TransferReturned,
    TransferStarted,
)
from chatserver.core.engine import Engine

from .helpers import of, online, refusal

BILLING = frozenset({"billing"})
REASON, BENEFIT = "Billing can change the invoice address", "It is fixed today"


def setup(**engine_args: float) -> Engine:
    """Anna (1, no team) holds chat 1; Boris (2) and Cyril (3) are in billing, online in that order."""
    engine = Engine(**engine_args)  # type: ignore[arg-type]
    online(engine, 1, 0.0)
    engine.receive(ev.ConversationOpened(1, "v1"), 1.0)
    assert engine.conversations[1].operator_id == 1
    online(engine, 2, 2.0, teams=BILLING)
    online(engine, 3, 3.0, teams=BILLING)
    return engine


def ask(engine: Engine, now: float, **fields: object) -> list[Effect]:
    values: dict[str, object] = {"reason": REASON, "benefit": BENEFIT, "to_team": "billing"}
    values.update(fields)
    return engine.receive(ev.TransferRequested(1, 1, **values), now)  # type: ignore[arg-type]


def test_without_reason_or_benefit_nothing_changes() -> None:
    engine = setup()
    for missing in ({"reason": ""}, {"benefit": "   "}):
        assert refusal(ask(engine, 10.0, **missing)).code == "transfer_reason_required"
    conv = engine.conversations[1]
    assert conv.state is State.ASSIGNED and conv.transfer is None and conv.operator_id == 1
    assert all(not op.offers for op in engine.roster)


def test_only_the_holder_may_transfer_and_only_once() -> None:
    engine = setup()
    wrong = engine.receive(ev.TransferRequested(1, 2, REASON, BENEFIT, to_team="billing"), 10.0)
    assert refusal(wrong).code == "not_your_conversation"
    assert refusal(ask(engine, 10.0, to_team=None, to_operator_id=1)).code == "invalid_field"  # to yourself
    ask(engine, 10.0)
    assert refusal(ask(engine, 11.0)).code == "transfer_in_progress"


def test_transfer_offers_the_chat_and_the_original_operator_keeps_it_until_accepted() -> None:
    engine = setup(transfer_offer_s=30.0)
    effects = ask(engine, 10.0)
    started = of(effects, TransferStarted)[0]
    assert (started.reason, started.benefit, started.to_team, started.queued) == (
        REASON,
        BENEFIT,
        "billing",
        False,
    )
    assert started.estimated_wait_s is not None and started.high_s is not None
    offered = of(effects, TransferOffered)[0]
    assert offered.to_operator_id == 2 and offered.expires_at == 40.0  # Boris has idled longest
    assert StartTimer("offer:1", 40.0) in effects
    assert of(effects, PromiseMade)[0].deadline > 40.0  # the lapse is always told before the promise ends
    conv = engine.conversations[1]
    assert conv.state is State.TRANSFERRING and conv.operator_id == 1
    assert engine.roster.get(2).offers == {1}  # type: ignore[union-attr]

    done = engine.receive(ev.TransferAccepted(1, 2), 15.0)
    completed = of(done, TransferCompleted)[0]
    assert (completed.from_operator_id, completed.to_operator_id) == (1, 2)
    assert Released(1, 1) in done and CancelTimer("offer:1") in done
    assert of(done, PromiseSettled)[0].outcome == "kept"
    assert conv.state is State.ASSIGNED and conv.operator_id == 2 and conv.team == "billing"
    assert engine.operator_chats(1) == [] and engine.operator_chats(2) == [1]
    assert engine.roster.get(2).offers == set()  # type: ignore[union-attr]
    assert engine.accept_delay.typical("billing") == 5.0


def test_offer_not_taken_goes_to_the_next_colleague_then_back_to_the_original() -> None:
    engine = setup(transfer_offer_s=30.0, transfer_max_offers=2)
    ask(engine, 10.0)
    lapsed = engine.receive(ev.TimerFired("offer:1"), 40.0)
    assert TransferOfferWithdrawn(1, 2, "expired") in lapsed
    moved = of(lapsed, TransferMoved)
    assert len(moved) == 1 and moved[0].estimated_wait_s is not None
    assert of(lapsed, TransferOffered)[0].to_operator_id == 3 and of(lapsed, TransferOffered)[0].attempt == 2
    assert [p.outcome for p in of(lapsed, PromiseSettled)] == ["revised"]

    home = engine.receive(ev.TimerFired("offer:1"), 70.0)
    assert TransferOfferWithdrawn(1, 3, "expired") in home
    assert of(home, TransferReturned) == [TransferReturned(1, "v1", 1, None, "billing", "no_taker")]
    assert [p.outcome for p in of(home, PromiseSettled)] == ["returned"]
    conv = engine.conversations[1]
    assert conv.state is State.ASSIGNED and conv.operator_id == 1 and conv.transfer is None
    assert refusal(engine.receive(ev.TransferAccepted(1, 3), 71.0)).code == "no_transfer_offer"  # too late


def test_a_decline_moves_on_at_once_and_an_operator_target_goes_straight_back() -> None:
    engine = setup()
    ask(engine, 10.0)
    declined = engine.receive(ev.TransferDeclined(1, 2), 12.0)
    assert of(declined, TransferOffered)[0].to_operator_id == 3
    assert refusal(engine.receive(ev.TransferDeclined(1, 2), 13.0)).code == "no_transfer_offer"
    engine.receive(ev.TransferCancelled(1, 1), 14.0)
    assert engine.conversations[1].transfer is None

    direct = ask(engine, 20.0, to_team=None, to_operator_id=3)
    assert of(direct, TransferOffered)[0].to_operator_id == 3
    back = engine.receive(ev.TimerFired("offer:1"), 50.0)
    assert of(back, TransferReturned)[0].reason == "no_taker" and not of(back, TransferOffered)


def test_busy_or_offline_target_is_refused_with_alternatives_unless_queued() -> None:
    engine = Engine(default_handle_s=100.0)
    online(engine, 1, 0.0, teams=frozenset({"support"}))
    online(engine, 2, 0.0, capacity=1, teams=BILLING)
    online(engine, 4, 0.0, teams=frozenset({"returns"}))
    engine.receive(ev.ConversationOpened(9, "v9", team="billing"), 1.0)  # fills Boris
    engine.receive(ev.ConversationOpened(1, "v1", previous_operator_id=1), 2.0)
    assert engine.conversations[1].operator_id == 1

    offline = ask(engine, 10.0, to_team="sales")
    assert refusal(offline).code == "transfer_target_offline"
    busy = ask(engine, 10.0)
    assert refusal(busy).code == "transfer_target_busy"
    alternatives = {(a.team, a.queue): a for a in refusal(busy).alternatives}
    assert alternatives[("returns", False)].free_slots == 3
    queue_option = alternatives[("billing", True)]
    assert queue_option.estimated_wait_s is not None and queue_option.estimated_wait_s > 0
    assert engine.conversations[1].state is State.ASSIGNED

    queued = ask(engine, 11.0, queue=True)
    started = of(queued, TransferStarted)[0]
    assert started.queued and started.estimated_wait_s == queue_option.estimated_wait_s
    assert not of(queued, TransferOffered) and 1 in engine.queue
    assert StartTimer("hold:1", 11.0 + engine.hold_interval_s) in queued

    freed = engine.receive(ev.ConversationClosed(9), 50.0)
    offer = of(freed, TransferOffered)[0]
    assert offer.to_operator_id == 2 and 1 not in engine.queue
    update = of(freed, QueueUpdate)[0]
    assert update.kind == "transfer" and update.position == 1


def test_queued_transfers_go_ahead_of_chats_never_served() -> None:
    engine = Engine()
    online(engine, 1, 0.0, capacity=1)
    online(engine, 2, 0.0, capacity=1, teams=BILLING)
    engine.receive(ev.ConversationOpened(1, "v1", previous_operator_id=1), 1.0)
    engine.receive(ev.ConversationOpened(2, "v2", previous_operator_id=2), 2.0)
    engine.receive(ev.ConversationOpened(3, "v3"), 3.0)  # waits
    effects = ask(engine, 10.0, queue=True)
    assert list(engine.queue) == [1, 3]
    moved = {e.conversation_id: e.position for e in of(effects, QueueUpdate)}
    assert moved == {3: 2}  # the visitor behind is told the transfer went first


def test_closing_during_a_transfer_withdraws_the_offer() -> None:
    engine = setup()
    ask(engine, 10.0)
    closed = engine.receive(ev.ConversationClosed(1), 12.0)
    assert TransferOfferWithdrawn(1, 2, "closed") in closed
    assert of(closed, PromiseSettled)[0].outcome == "abandoned"
    assert engine.roster.get(2).offers == set()  # type: ignore[union-attr]


def test_the_original_operator_lost_during_a_transfer_requeues_the_chat() -> None:
    engine = setup(grace_s=60.0)
    ask(engine, 10.0)
    engine.receive(ev.OperatorDisconnected(1), 11.0)
    lost = engine.receive(ev.TimerFired("grace:1"), 71.0)
    assert TransferOfferWithdrawn(1, 2, "operator_lost") in lost
    # Boris's reserved slot is free again, so the chat goes straight to the least busy colleague.
    assert engine.conversations[1].state is State.ASSIGNED
    assert engine.conversations[1].operator_id in (2, 3)


def test_the_announcement_text_rules() -> None:
    assert transfer.missing_parts("{reason}. {benefit}. {wait}", REASON, BENEFIT) == []
    spelled = f"Because {REASON.upper()}: {BENEFIT}.  Wait: {{wait}}"
    assert transfer.missing_parts(spelled, REASON, BENEFIT) == []
    assert transfer.missing_parts("Please wait {wait}", REASON, BENEFIT) == ["reason", "benefit"]
    assert transfer.missing_parts(f"{REASON}, {BENEFIT}, soon", REASON, BENEFIT) == ["wait"]
    filled = transfer.fill(
        "{reason}; {benefit}; {wait}; {target}", reason="R.", benefit="B!", wait="W", target="T"
    )
    assert filled == "R; B; W; T"


def test_a_visitor_who_left_a_message_during_a_queued_transfer_gets_no_more_promises() -> None:
    engine = Engine()
    online(engine, 1, 0.0)
    online(engine, 2, 0.0, capacity=1, teams=BILLING)
    engine.receive(ev.ConversationOpened(9, "v9", team="billing"), 1.0)
    engine.receive(ev.ConversationOpened(1, "v1", previous_operator_id=1), 2.0)
    ask(engine, 10.0, queue=True)
    left = engine.receive(ev.LeaveMessage(1), 11.0)
    assert [p.outcome for p in of(left, PromiseSettled)] == ["left"]
    assert engine.conversations[1].transfer is not None  # the transfer goes on: answered later, here
    freed = engine.receive(ev.ConversationClosed(9), 50.0)
    assert of(freed, TransferOffered)[0].to_operator_id == 2
    assert not of(freed, PromiseMade) and not of(freed, QueueUpdate)
