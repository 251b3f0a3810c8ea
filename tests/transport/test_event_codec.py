"""Every core event survives the trip between processes unchanged."""

from __future__ import annotations

import json
import typing

import pytest

from chatserver.core import events as ev
from chatserver.transport.event_codec import UndecodableEvent, decode_event, encode_event

SAMPLES: list[ev.Event] = [
    ev.OperatorConnected(3, frozenset({"billing", "care"}), 2, process="p1"),
    ev.OperatorDisconnected(3, process="p1"),
    ev.OperatorDisconnected(3, everywhere=True),
    ev.ProcessLost("p2"),
    ev.OperatorUpdated(3, frozenset({"care"}), 4),
    ev.OperatorStatusChanged(3, "away"),
    ev.ConversationOpened(9, "v-1", previous_operator_id=3, team="care", locale="pl"),
    ev.ConversationRestored(9, "v-1", None, 12.5, team=None, locale="cs", left_message=True),
    ev.ConversationClosed(9),
    ev.ClaimLost(9, 3),
    ev.TimerFired("hold:9"),
    ev.TransferRequested(9, 3, "reason", "benefit", to_team="care", queue=True, text="Hi"),
    ev.TransferAccepted(9, 4),
    ev.TransferDeclined(9, 4),
    ev.TransferCancelled(9, 3),
    ev.VisitorMessaged(9),
    ev.OperatorReplied(9),
    ev.LeaveMessage(9),
    ev.CheckBackPromised(9, 1, 1_700_000_600.0),
    ev.VisitorCooledDown("v-1", 1_700_000_060.0),
    ev.CoolDownEnded("v-1"),
    ev.VisitorBlocked("v-1"),
]


def test_every_event_type_has_a_sample() -> None:
    assert {type(e) for e in SAMPLES} == set(typing.get_args(ev.Event))


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: type(e).__name__)
def test_round_trip_through_json(event: ev.Event) -> None:
    assert decode_event(json.loads(json.dumps(encode_event(event)))) == event


BAD = [{}, {"t": "Exploit"}, {"t": "dict"}, {"t": "TimerFired"}, {"t": "TimerFired", "key": "k", "x": 1}]


@pytest.mark.parametrize("data", BAD)
def test_anything_else_is_refused(data: dict[str, object]) -> None:
    with pytest.raises(UndecodableEvent):
        decode_event(data)
