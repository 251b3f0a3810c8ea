"""Honest waits on the pure core: estimates, promises and their revision, hold messages, left
messages and the silence rule, with the clock passed in by hand."""

from __future__ import annotations

import math

import pytest

from chatserver.core import events as ev
from chatserver.core import hold, texts
from chatserver.core.effects import (
    AnswerLater,
    Assign,
    CancelTimer,
    HoldingLine,
    HoldMessage,
    LateNotice,
    MessageLeft,
    PromiseMade,
    PromiseSettled,
    QueueUpdate,
    SilenceNudge,
    StartTimer,
)
from chatserver.core.engine import Engine
from chatserver.core.wait_time import (
    Estimate,
    HandleTime,
    LogNormal,
    RateMeter,
    ReleaseModel,
    estimate_wait,
    meaningfully_different,
)

from .helpers import of, online, refusal


def busy_line(**engine_args: float) -> Engine:
    """One operator with one slot, busy with chat 1 since t=0."""
    engine = Engine(default_handle_s=100.0, **engine_args)  # type: ignore[arg-type]
    online(engine, 1, 0.0, capacity=1)
    engine.receive(ev.ConversationOpened(1, "v1"), 0.0)
    return engine


# --- the estimate ---------------------------------------------------------------------------


def test_the_next_release_of_one_slot_is_the_residual_life_of_its_chat() -> None:
    handle = LogNormal.with_mean(100.0, 0.6)
    fresh = ReleaseModel([0.0], handle)
    assert fresh.quantile(1, 0.5) == pytest.approx(math.exp(handle.mu), rel=0.02)  # the median chat
    old = ReleaseModel([300.0], handle)
    assert old.quantile(1, 0.5) < fresh.quantile(1, 0.5) * 0.7  # a slot held 5 min frees sooner
    # Two releases of one slot: the current chat and one more (mean about 200 s).
    assert ReleaseModel([0.0], handle).quantile(2, 0.5) == pytest.approx(190, rel=0.1)
    # The next of 60 fresh slots: the minimum of 60 chats.
    many = ReleaseModel([0.0] * 60, handle)
    assert 1 - (1 - handle.cdf(many.quantile(1, 0.5))) ** 60 == pytest.approx(0.5, abs=0.05)
    # Far past the grid: k releases of C slots take about k mean handle times / C.
    assert many.quantile(600, 0.5) == pytest.approx(1000, rel=0.05)
    assert many.quantile(600, 0.1) < many.quantile(600, 0.5) < many.quantile(600, 0.9)


def test_estimate_uses_position_free_slots_capacity_handle_time_and_ages() -> None:
    assert estimate_wait(position=1, free_slots=0, serving_capacity=0, handle_s=100).seconds is None
    first = estimate_wait(position=1, free_slots=0, serving_capacity=2, handle_s=100)
    assert first.seconds is not None and first.low is not None and first.high is not None
    assert first.low < first.seconds < first.high
    third = estimate_wait(position=3, free_slots=0, serving_capacity=2, handle_s=100)
    assert third.seconds > first.seconds and third.high > first.high  # type: ignore[operator]
    # Relative spread narrows as the line gets longer.
    assert (third.high - third.low) / third.seconds < (first.high - first.low) / first.seconds  # type: ignore[operator]
    assert estimate_wait(position=2, free_slots=2, serving_capacity=4, handle_s=100).seconds == 0
    cut = estimate_wait(position=3, free_slots=0, serving_capacity=2, handle_s=100, cut_in_rate=0.005)
    assert cut.seconds is not None and cut.seconds > third.seconds  # type: ignore[operator]
    aged = estimate_wait(position=1, free_slots=0, serving_capacity=2, handle_s=100, ages=[400, 400])
    assert aged.seconds is not None and aged.seconds < first.seconds
    transfer = estimate_wait(
        position=0, free_slots=1, serving_capacity=2, handle_s=100, extra_s=8, extra_high_s=30
    )
    assert (transfer.seconds, transfer.high) == (8, 30)


def test_handle_time_learns_fast_per_team_and_follows_a_change_of_pace() -> None:
    times = HandleTime(240.0)
    assert times.typical("billing") == pytest.approx(240.0)
    for _ in range(3):
        times.observe("billing", 8.0)
    # Three chats of 8 s outweigh the 240 s default: within 30 % of what the team does.
    assert times.typical("billing") == pytest.approx(
        8.0 * math.exp(times.model("billing").sigma ** 2 / 2), rel=0.3
    )
    assert times.typical("billing") < 15
    assert times.typical("sales") == times.typical("billing")  # no history of its own: everyone's
    times.observe("sales", 600.0)
    assert times.typical("sales") > 300  # its own history, however short
    for _ in range(200):
        times.observe("billing", 60.0)
    for _ in range(60):
        times.observe("billing", 120.0)
    assert 95 < times.typical("billing") < 140  # mostly the new pace after 60 chats


def test_rate_meter_decays() -> None:
    meter = RateMeter(horizon_s=100.0)
    meter.hit(0.0, 10)
    assert meter.rate(0.0) == pytest.approx(0.1)
    assert meter.rate(100.0) == pytest.approx(0.1 / math.e)


def test_meaningful_change() -> None:
    assert not meaningfully_different(Estimate(100, 0, 200), Estimate(110, 0, 220))
    assert meaningfully_different(Estimate(100, 0, 200), Estimate(130, 0, 260))
    assert not meaningfully_different(Estimate(20, 0, 40), Estimate(30, 0, 60))  # under 15 s
    assert meaningfully_different(Estimate(None), Estimate(30, 0, 60))


def test_positions_count_only_chats_that_compete_for_the_same_operators() -> None:
    engine = Engine()
    online(engine, 1, 0.0, capacity=1, teams=frozenset({"billing"}))
    online(engine, 2, 0.0, capacity=1, teams=frozenset({"sales"}))
    engine.receive(ev.ConversationOpened(1, "v1", team="billing"), 1.0)
    engine.receive(ev.ConversationOpened(2, "v2", team="sales"), 1.0)
    engine.receive(ev.ConversationOpened(3, "v3", team="billing"), 2.0)
    effects = engine.receive(ev.ConversationOpened(4, "v4", team="sales"), 3.0)
    assert {e.conversation_id: e.position for e in of(effects, QueueUpdate)} == {4: 1}
    assert [(cid, pos) for cid, pos, _ in engine.queue_snapshot()] == [(3, 1), (4, 1)]


# --- promises ---------------------------------------------------------------------------------


def test_every_figure_shown_is_a_promise_and_it_is_kept_when_served_in_time() -> None:
    engine = busy_line()
    effects = engine.receive(ev.ConversationOpened(2, "v2"), 10.0)
    update = of(effects, QueueUpdate)[0]
    promise = of(effects, PromiseMade)[0]
    assert (promise.estimate_s, promise.high_s) == (update.estimated_wait_s, update.high_s)
    assert promise.deadline == 10.0 + promise.high_s and promise.kind == "queue" and promise.position == 1
    notice = min(engine.promise_notice_s, promise.high_s / 4)
    assert StartTimer("promise:2", promise.deadline - notice) in effects
    served = engine.receive(ev.ConversationClosed(1), 60.0)
    assert of(served, Assign)[0].conversation_id == 2
    settled = of(served, PromiseSettled)[0]
    assert (settled.promise_id, settled.outcome, settled.waited_s) == (promise.promise_id, "kept", 50.0)
    assert CancelTimer("promise:2") in served and CancelTimer("hold:2") in served


def test_before_a_promise_is_broken_the_visitor_gets_a_new_estimate() -> None:
    engine = busy_line(promise_notice_s=10.0)
    first = of(engine.receive(ev.ConversationOpened(2, "v2"), 10.0), PromiseMade)[0]
    due = first.deadline - 10.0
    late = engine.receive(ev.TimerFired("promise:2"), due)
    update = of(late, QueueUpdate)[0]
    assert update.late and update.estimated_wait_s is not None
    assert of(late, LateNotice)[0].estimated_wait_s == update.estimated_wait_s
    assert of(late, PromiseSettled)[0].outcome == "revised_late"
    second = of(late, PromiseMade)[0]
    assert second.deadline > first.deadline and second.made_at == due < first.deadline
    # Served after the first deadline but within the revised one: kept.
    served = engine.receive(ev.ConversationClosed(1), first.deadline + 5)
    assert of(served, PromiseSettled)[0].outcome == "kept"


def test_no_estimate_means_no_promise() -> None:
    engine = Engine()
    effects = engine.receive(ev.ConversationOpened(1, "v1"), 0.0)
    assert of(effects, QueueUpdate)[0].estimated_wait_s is None and not of(effects, PromiseMade)


def test_a_meaningful_change_revises_the_promise_without_waiting_for_the_deadline() -> None:
    engine = busy_line()
    engine.receive(ev.ConversationOpened(2, "v2"), 10.0)
    effects = engine.receive(ev.ConversationOpened(3, "v3"), 11.0)
    assert [u.conversation_id for u in of(effects, QueueUpdate)] == [3]  # chat 2 unchanged, not re-sent
    engine.receive(ev.OperatorConnected(2, frozenset(), 1), 12.0)
    moved = engine.receive(ev.OperatorStatusChanged(2, "online"), 12.0)  # chat 2 served; chat 3 moves up
    assert [a.conversation_id for a in of(moved, Assign)] == [2]
    assert [(u.conversation_id, u.position) for u in of(moved, QueueUpdate)] == [(3, 1)]
    outcomes = {p.conversation_id: p.outcome for p in of(moved, PromiseSettled)}
    assert outcomes == {2: "kept", 3: "revised"}
    assert [p.conversation_id for p in of(moved, PromiseMade)] == [3]


# --- hold messages ----------------------------------------------------------------------------


def test_hold_messages_come_at_the_interval_with_position_and_estimate_until_served() -> None:
    engine = busy_line(hold_interval_s=45.0)
    queued = engine.receive(ev.ConversationOpened(2, "v2"), 10.0)
    assert StartTimer("hold:2", 55.0) in queued
    update = of(queued, QueueUpdate)[0]
    first = engine.receive(ev.TimerFired("hold:2"), 55.0)
    message = of(first, HoldMessage)[0]
    assert (message.kind, message.position, message.count) == ("queue", 1, 0)
    assert message.estimated_wait_s == update.estimated_wait_s
    assert StartTimer("hold:2", 100.0) in first
    second = engine.receive(ev.TimerFired("hold:2"), 100.0)
    assert of(second, HoldMessage)[0].count == 1
    engine.receive(ev.ConversationClosed(1), 120.0)
    assert engine.receive(ev.TimerFired("hold:2"), 145.0) == []  # served: no more


def test_hold_library_rules_and_rendering() -> None:
    library = {
        "queue": {"en": ["You are number {position}, about {wait}."], "pl": ["Miejsce {position}: {wait}."]},
        "queue_offline": {"en": ["Nobody is online; you are number {position}."]},
        "transfer": {"en": ["{target} soon: {wait}."]},
    }
    clean = hold.validate(library)
    assert hold.render(hold.pick(clean, "queue", "pl-PL", 3), position=2, wait="około 2 min", target="") == (
        "Miejsce 2: około 2 min."
    )
    assert hold.pick(clean, "transfer", "cs", 0) == "{target} soon: {wait}."  # no Czech lines: English
    for broken, words in [
        ({**library, "queue": {"pl": ["x"]}}, "needs English"),
        ({**library, "queue_offline": {"en": ["about {wait}"]}}, "unknown placeholder {wait}"),
        ({**library, "transfer": {"en": ["x"], "de": ["x"]}}, "unknown language"),
        ({**library, "extra": {}}, "unknown kind"),
        ({**library, "queue": {"en": [""]}}, "line 1 is empty"),
    ]:
        with pytest.raises(hold.InvalidHoldLibrary, match=words):
            hold.validate(broken)


def test_wait_phrases_in_every_language() -> None:
    assert texts.wait_phrase(130, 20, 400, "en") == "about 2 min (at most 7 min)"
    assert texts.wait_phrase(200, 130, 400, "pl") == "około 3 min (2–7 min)"
    assert texts.wait_phrase(30, 0, 50, "cs") == "méně než minuta"
    assert texts.wait_phrase(None, None, None, "ru") == "пока без оценки"


# --- leaving a message ------------------------------------------------------------------------


def test_a_left_message_leaves_the_line_and_takes_only_slots_nobody_waiting_can_use() -> None:
    engine = busy_line()
    engine.receive(ev.ConversationOpened(2, "v2"), 10.0)
    engine.receive(ev.ConversationOpened(3, "v3"), 11.0)
    left = engine.receive(ev.LeaveMessage(2), 20.0)
    assert MessageLeft(2, "v2") in left and CancelTimer("hold:2") in left
    assert of(left, PromiseSettled)[0].outcome == "left"
    assert list(engine.queue) == [3] and engine.parked == [2]
    assert {u.conversation_id: u.position for u in of(left, QueueUpdate)} == {3: 1}
    assert engine.receive(ev.LeaveMessage(2), 21.0) == [MessageLeft(2, "v2", again=True)]
    later = engine.receive(ev.TimerFired("hold:2"), 65.0)  # chat 3's estimate may move on with time
    assert all(getattr(e, "conversation_id", 3) == 3 for e in later) and not of(later, HoldMessage)

    freed = engine.receive(ev.ConversationClosed(1), 30.0)
    assert [a.conversation_id for a in of(freed, Assign)] == [3]  # the waiting visitor first
    freed = engine.receive(ev.ConversationClosed(3), 40.0)
    assert [a.conversation_id for a in of(freed, Assign)] == [2]
    assert AnswerLater(2, 1) in freed


def test_leave_message_is_refused_when_an_operator_is_already_there() -> None:
    engine = busy_line()
    refused = engine.receive(ev.LeaveMessage(1), 5.0)
    assert refusal(refused).code == "not_waiting"
    assert refusal(engine.receive(ev.LeaveMessage(99), 5.0)).code == "no_open_conversation"


# --- silence ----------------------------------------------------------------------------------


def test_silence_nudges_at_n_and_sends_one_holding_line_at_2n_per_gap() -> None:
    engine = Engine(silence_s=60.0)
    online(engine, 1, 0.0)
    engine.receive(ev.ConversationOpened(1, "v1"), 10.0)
    wrote = engine.receive(ev.VisitorMessaged(1), 10.0)
    assert wrote == [StartTimer("silence:1", 70.0)]
    assert engine.receive(ev.VisitorMessaged(1), 30.0) == []  # same gap: the clock keeps running
    nudge = engine.receive(ev.TimerFired("silence:1"), 70.0)
    assert nudge == [SilenceNudge(1, 1, 10.0, 60.0), StartTimer("silence:1", 130.0)]
    line = engine.receive(ev.TimerFired("silence:1"), 130.0)
    assert line == [HoldingLine(1, "v1", 1, 10.0)]  # and nothing armed after it
    assert engine.receive(ev.TimerFired("silence:1"), 190.0) == []
    assert engine.receive(ev.OperatorReplied(1), 200.0) == [CancelTimer("silence:1")]
    assert engine.receive(ev.VisitorMessaged(1), 210.0) == [StartTimer("silence:1", 270.0)]  # a new gap


def test_silence_clock_runs_only_while_an_operator_holds_the_chat() -> None:
    engine = Engine(silence_s=60.0)
    engine.receive(ev.ConversationOpened(1, "v1"), 0.0)
    assert engine.receive(ev.VisitorMessaged(1), 0.0) == []  # waiting: hold messages cover it
    assigned = online_effects = engine.receive(ev.OperatorConnected(1, frozenset(), 3), 100.0)
    online_effects = engine.receive(ev.OperatorStatusChanged(1, "online"), 100.0)
    assert StartTimer("silence:1", 160.0) in online_effects and assigned == [CancelTimer("grace:1")]


def test_silence_restarts_for_a_new_operator_and_spares_a_visitor_who_left() -> None:
    engine = Engine(silence_s=60.0, hold_interval_s=0)
    online(engine, 1, 0.0, capacity=1)
    engine.receive(ev.ConversationOpened(1, "v1"), 0.0)
    engine.receive(ev.ConversationOpened(2, "v2"), 1.0)
    engine.receive(ev.VisitorMessaged(2), 1.0)
    engine.receive(ev.LeaveMessage(2), 2.0)
    engine.receive(ev.ConversationClosed(1), 50.0)  # chat 2 (left message) goes to Anna now
    assert engine.conversations[2].operator_id == 1
    nudge = engine.receive(ev.TimerFired("silence:2"), 110.0)
    assert of(nudge, SilenceNudge)[0].waited_s == 109.0
    assert not of(engine.receive(ev.TimerFired("silence:2"), 170.0), HoldingLine)
