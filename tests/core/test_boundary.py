"""The abusive visitor's standing in the core: cool-downs that end on time, early, or with a block."""

from __future__ import annotations

import pickle

from chatserver.core import events as ev
from chatserver.core.effects import ShutOut
from chatserver.core.engine import Engine


def test_a_cool_down_refuses_until_its_end_and_no_longer() -> None:
    engine = Engine()
    assert engine.receive(ev.VisitorCooledDown("v1", until=160.0), 100.0) == []
    assert engine.cooling_down_until("v1", 159.9) == 160.0
    assert engine.cooling_down_until("v1", 160.0) is None
    assert engine.cooling_down_until("v2", 120.0) is None
    # A later cool-down of someone else forgets the ones already over.
    engine.receive(ev.VisitorCooledDown("v2", until=400.0), 300.0)
    assert engine.cool_downs_in_force(300.0) == {"v2": 400.0}


def test_an_admin_ends_a_cool_down_early_and_a_block_ends_it_too() -> None:
    engine = Engine()
    engine.receive(ev.VisitorCooledDown("v1", until=500.0), 100.0)
    engine.receive(ev.CoolDownEnded("v1"), 110.0)
    assert engine.cooling_down_until("v1", 120.0) is None
    engine.receive(ev.VisitorCooledDown("v1", until=500.0), 130.0)
    assert engine.receive(ev.VisitorBlocked("v1"), 140.0) == [ShutOut("v1")]
    assert engine.cooling_down_until("v1", 150.0) is None


def test_cool_downs_travel_in_the_snapshot_and_old_snapshots_still_load() -> None:
    engine = Engine()
    engine.receive(ev.VisitorCooledDown("v1", until=500.0), 100.0)
    copy = pickle.loads(pickle.dumps(engine))
    assert copy.cooling_down_until("v1", 200.0) == 500.0
    state = engine.__getstate__()
    del state["cool_downs"]  # a snapshot from before cool-downs were held in the core
    older = Engine()
    older.__setstate__(state)
    assert older.cooling_down_until("v1", 200.0) is None
    older.receive(ev.VisitorCooledDown("v1", until=600.0), 200.0)
    assert older.cooling_down_until("v1", 300.0) == 600.0
