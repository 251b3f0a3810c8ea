"""Supervisors hear of every cool-down and block (docs/playbook.md#hater: a supervisor is told).

Each supervisor's (and admin's) console listens to the ``supervisors`` broker channel, so a step
taken on any process reaches every supervisor online, on any process. A supervisor who signs in
later is first sent the steps of the last day, marked ``recent``, newest last.
"""

from __future__ import annotations

from typing import Any

from chatserver.storage import repository as repo

from . import frames as f
from .channels import Channels
from .outbox import Outbox
from .state import ServerState
from .supervision import is_supervisor

SUPERVISORS_CHANNEL = "supervisors"
NOTIFIED_STEPS = ("cool_down", "block", "lift", "end_cool_down")
RECENT_S = 24 * 3600.0
RECENT_MAX = 20


def notice_frame(audit: dict[str, Any], *, recent: bool = False) -> dict[str, Any]:
    """One audit row as the ``boundary_notice`` a supervisor's console shows."""
    frame: dict[str, Any] = {
        "type": f.BOUNDARY_NOTICE,
        "audit_id": audit["id"],
        "conversation_id": audit["conversation_id"],
        "visitor_id": audit["visitor_id"],
        "step": audit["step"],
        "operator": {"id": audit["operator_id"], "name": audit["operator_name"]},
        "reason": audit["reason"],
        "signal": audit["signal"],
        "until": audit["until"],
        "ts": audit["ts"],
    }
    if recent:
        frame["recent"] = True
    return frame


async def notify_supervisors(channels: Channels, audit: dict[str, Any]) -> None:
    if audit["step"] in NOTIFIED_STEPS:
        await channels.publish(SUPERVISORS_CHANNEL, notice_frame(audit))


async def brief_supervisor(state: ServerState, outbox: Outbox, operator: Any) -> None:
    """A supervisor's socket joined: listen for new notices, then send the last day's."""
    if not is_supervisor(operator):
        return
    state.hub.channels.listen(SUPERVISORS_CHANNEL, outbox)
    recent = await state.writer.read(
        repo.recent_abuse_audit,
        since=state.clock() - RECENT_S,
        steps=NOTIFIED_STEPS,
        limit=RECENT_MAX,
    )
    for audit in reversed(recent):
        outbox.put(f.encode(notice_frame(audit, recent=True)))
