"""The routing rules, exercised on the pure core with a hand-driven clock."""

from __future__ import annotations

from chatserver.core import events as ev
from chatserver.core.effects import Assign, CancelTimer, QueueUpdate, Released, Requeued, StartTimer
from chatserver.core.engine import Engine


def online(
    engine: Engine, operator_id: int, now: float, *, capacity: int = 3, teams: frozenset[str] = frozenset()
):
    effects = engine.receive(ev.OperatorConnected(operator_id, teams, capacity), now)
    return effects + engine.receive(ev.OperatorStatusChanged(operator_id, "online"), now)


def open_chat(engine: Engine, cid: int, now: float, *, previous: int | None = None, team: str | None = None):
    event = ev.ConversationOpened(cid, f"v{cid}", previous_operator_id=previous, team=team)
    return engine.receive(event, now)


def assigned_to(effects) -> dict[int, int]:
    return {e.conversation_id: e.operator_id for e in effects if isinstance(e, Assign)}


def test_least_busy_operator_gets_the_chat_and_capacity_is_respected() -> None:
    engine = Engine()
    online(engine, 1, 0.0, capacity=2)
    online(engine, 2, 1.0, capacity=2)
    got: dict[int, int] = {}
    for cid in range(1, 5):
        got |= assigned_to(open_chat(engine, cid, 10.0 + cid))
    assert sorted(got.values()) == [1, 1, 2, 2]
    effects = open_chat(engine, 5, 20.0)
    assert assigned_to(effects) == {}
    assert [e for e in effects if isinstance(e, QueueUpdate)][0].position == 1


def test_ties_go_to_the_longest_idle_operator() -> None:
    engine = Engine()
    online(engine, 1, 5.0)
    online(engine, 2, 1.0)
    assert assigned_to(open_chat(engine, 1, 10.0)) == {1: 2}
    assert assigned_to(open_chat(engine, 2, 11.0)) == {2: 1}


def test_returning_customer_goes_to_previous_operator_when_free() -> None:
    engine = Engine()
    online(engine, 1, 0.0)
    online(engine, 2, 0.0)
    open_chat(engine, 1, 1.0)  # makes one of them busier
    effects = open_chat(engine, 2, 2.0, previous=1)
    assert assigned_to(effects) == {2: 1}
    assert [e.sticky for e in effects if isinstance(e, Assign)] == [True]


def test_previous_operator_full_falls_back_to_least_busy() -> None:
    engine = Engine()
    online(engine, 1, 0.0, capacity=1)
    online(engine, 2, 0.0, capacity=1)
    first = assigned_to(open_chat(engine, 1, 1.0))[1]
    other = 2 if first == 1 else 1
    assert assigned_to(open_chat(engine, 2, 2.0, previous=first)) == {2: other}


def test_queue_positions_and_estimates_update_as_slots_free() -> None:
    engine = Engine(default_handle_s=100.0)
    online(engine, 1, 0.0, capacity=1)
    open_chat(engine, 1, 1.0)
    first = open_chat(engine, 2, 2.0)
    second = open_chat(engine, 3, 3.0)
    q2 = [e for e in first if isinstance(e, QueueUpdate)]
    # The median of the residual life of chat 1 (mean 100 s, a second old): about 83 s.
    assert [(u.position, u.estimated_wait_s) for u in q2] == [(1, 84)]
    q3 = [e for e in second if isinstance(e, QueueUpdate)]
    assert [(u.conversation_id, u.position) for u in q3] == [(3, 2)]  # chat 2 unchanged, not re-sent
    assert q3[0].estimated_wait_s is not None and q3[0].estimated_wait_s > 84
    freed = engine.receive(ev.ConversationClosed(1), 50.0)
    assert assigned_to(freed) == {2: 1}  # the longest-waiting chat goes first
    updates = [e for e in freed if isinstance(e, QueueUpdate)]
    assert [(u.conversation_id, u.position) for u in updates] == [(3, 1)]


def test_no_operator_online_gives_no_invented_estimate_then_routes_when_one_arrives() -> None:
    engine = Engine()
    effects = open_chat(engine, 1, 0.0)
    update = [e for e in effects if isinstance(e, QueueUpdate)][0]
    assert update.estimated_wait_s is None and update.operators_online == 0
    assert assigned_to(online(engine, 7, 30.0)) == {1: 7}


def test_team_chat_waits_for_a_team_member() -> None:
    engine = Engine()
    online(engine, 1, 0.0)
    assert assigned_to(open_chat(engine, 1, 1.0, team="billing")) == {}
    assert assigned_to(online(engine, 2, 2.0, teams=frozenset({"billing"}))) == {1: 2}


def test_reconnect_within_grace_keeps_the_chats() -> None:
    engine = Engine(grace_s=60.0)
    online(engine, 1, 0.0)
    open_chat(engine, 1, 1.0)
    down = engine.receive(ev.OperatorDisconnected(1), 10.0)
    assert StartTimer("grace:1", 70.0) in down
    up = engine.receive(ev.OperatorConnected(1, frozenset(), 3), 40.0)
    assert CancelTimer("grace:1") in up
    assert engine.receive(ev.TimerFired("grace:1"), 70.0) == []  # a stale timer changes nothing
    assert engine.operator_chats(1) == [1]


def test_grace_expiry_puts_chats_at_the_front_and_tells_visitors() -> None:
    engine = Engine(grace_s=60.0)
    online(engine, 1, 0.0, capacity=2)
    open_chat(engine, 1, 1.0)
    open_chat(engine, 2, 2.0)
    open_chat(engine, 3, 3.0)  # waits: no free slot
    engine.receive(ev.OperatorDisconnected(1), 10.0)
    effects = engine.receive(ev.TimerFired("grace:1"), 70.0)
    assert [e.conversation_id for e in effects if isinstance(e, Requeued)] == [1, 2]
    assert [e.conversation_id for e in effects if isinstance(e, Released)] == [1, 2]
    assert [cid for cid, _pos, _est in engine.queue_snapshot()] == [1, 2, 3]
    positions = {e.conversation_id: e.position for e in effects if isinstance(e, QueueUpdate)}
    assert positions == {1: 1, 2: 2, 3: 3}
    online(engine, 2, 80.0, capacity=1)
    assert engine.operator_chats(2) == [1]


def test_claim_lost_frees_the_slot_for_the_next_chat() -> None:
    engine = Engine()
    online(engine, 1, 0.0, capacity=1)
    open_chat(engine, 1, 1.0)
    open_chat(engine, 2, 2.0)
    effects = engine.receive(ev.ClaimLost(1, 1), 3.0)
    assert assigned_to(effects) == {2: 1}
    assert 1 not in engine.conversations


def test_an_operator_stays_connected_while_any_process_holds_a_socket() -> None:
    engine = Engine(grace_s=60.0)
    engine.receive(ev.OperatorConnected(1, frozenset(), 2, process="a"), 0.0)
    engine.receive(ev.OperatorConnected(1, frozenset(), 2, process="b"), 0.0)
    engine.receive(ev.OperatorStatusChanged(1, "online"), 0.0)
    assert assigned_to(open_chat(engine, 7, 1.0)) == {7: 1}
    closing_a = engine.receive(ev.OperatorDisconnected(1, process="a"), 2.0)
    assert not [e for e in closing_a if isinstance(e, StartTimer)]
    assert engine.presence.operator(1).online
    lost_b = engine.receive(ev.ProcessLost("b"), 3.0)
    assert [e.key for e in lost_b if isinstance(e, StartTimer)] == ["grace:1"]
    assert not engine.presence.operator(1).online
    back = engine.receive(ev.OperatorConnected(1, frozenset(), 2, process="c"), 4.0)
    assert [e.key for e in back if isinstance(e, CancelTimer)] == ["grace:1"]


def test_switching_an_account_off_disconnects_it_in_every_process() -> None:
    engine = Engine()
    engine.receive(ev.OperatorConnected(1, frozenset(), 2, process="a"), 0.0)
    engine.receive(ev.OperatorConnected(1, frozenset(), 2, process="b"), 0.0)
    engine.receive(ev.OperatorStatusChanged(1, "online"), 0.0)
    open_chat(engine, 7, 1.0)
    effects = engine.receive(ev.OperatorDisconnected(1, everywhere=True), 2.0)
    assert [e.key for e in effects if isinstance(e, StartTimer)] == ["grace:1"]
