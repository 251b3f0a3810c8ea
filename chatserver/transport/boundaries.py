"""The abusive visitor (docs/playbook.md#hater): a boundary warning, a cool-down, then a block.

The operator sends ``boundary`` with a ``step`` (and, optionally, a ``reason`` and the ``signal``
"hater" when they confirm what the recognizer saw):

- ``warn``: the library's ``hater.boundary`` reply in the visitor's language ("I understand your
  irritation, but I won't allow insults"), stored as the operator's own message;
- ``cool_down``: a short break, stored the same way; the visitor may not send for
  ``CHAT_COOL_DOWN_S`` seconds (their messages get an ``error`` ``cooling_down`` with ``until``).
  The end time is in the audit row (so it outlives a restart) and in the core, through its log
  (so every process refuses the same messages); the message path reads the core, in memory;
- ``block``: a last message, the chat closes, the visitor's sockets close (4410) in every process
  and the visitor and their signed-in customer are blocked: new sessions and hellos are refused
  (``visitor_blocked``) until an admin lifts the block (``DELETE /api/admin/blocks/{id}``).

Every step is a row of the ``abuse_audit`` table (who, when, which chat, why); supervisors are
told of cool-downs, blocks and their reversal (``boundary_notices``). An admin may end a
cool-down early (``end_cool_down``) as well as lift a block.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from chatserver.core import events as ev
from chatserver.core import texts
from chatserver.logs import context
from chatserver.storage import repository as repo

from . import frames as f
from .boundary_notices import notify_supervisors
from .state import ServerState

log = logging.getLogger("chatserver.hub")

STEPS = ("warn", "cool_down", "block")
SIGNALS = ("hater",)  # what may have prompted the step besides the operator's own reading
WARN_REPLY = "hater.boundary"  # the library reply the warning is
MAX_REASON = 500


def boundary_frame(
    conversation_id: int | None, step: str, text: str, until: float | None = None
) -> dict[str, Any]:
    frame: dict[str, Any] = {
        "type": f.BOUNDARY,
        "conversation_id": conversation_id,
        "step": step,
        "text": text,
    }
    if until is not None:
        frame["until"] = until
    return frame


def cooling_down_until(state: ServerState, visitor_id: str) -> float | None:
    """When the visitor may write again, while a cool-down is on; None otherwise (a memory read)."""
    return state.hub.engine.cooling_down_until(visitor_id, state.clock())


def cooling_down_frame(until: float, client_id: str | None) -> str:
    frame: dict[str, Any] = {
        "type": f.ERROR,
        "code": f.COOLING_DOWN,
        "message": "you can write again after the break",
        "until": until,
    }
    if client_id is not None:
        frame["client_id"] = client_id
    return f.encode(frame)


def step_text(state: ServerState, step: str, locale: str | None) -> str:
    """The warning from the (admin-edited) reply library in the visitor's language; the fixed texts
    otherwise, and for the other steps."""
    if step == "warn" and state.library is not None:
        try:
            reply = state.library.current.get(texts.language_of(locale), WARN_REPLY)
        except KeyError:
            reply = None
        if reply is not None and not reply.variables and reply.text.strip():
            return str(reply.text)
    return texts.text(f"boundary_{step}", locale)


def check_boundary_frame(frame: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """(step, reason, signal) of an operator's ``boundary`` frame."""
    f.require(
        frame,
        f.FieldSpec("step", str),
        f.FieldSpec("reason", str, required=False),
        f.FieldSpec("signal", str, required=False),
    )
    step, reason, signal = frame["step"], frame.get("reason"), frame.get("signal")
    if step not in STEPS:
        raise f.FrameError(f.INVALID_FIELD, "'step' must be warn, cool_down or block")
    if signal is not None and signal not in SIGNALS:
        raise f.FrameError(f.INVALID_FIELD, "'signal' must be hater")
    if reason is not None and len(reason) > MAX_REASON:
        raise f.FrameError(f.TEXT_TOO_LONG, f"'reason' is longer than {MAX_REASON} characters")
    return step, (reason.strip() or None) if reason is not None else None, signal


async def set_boundary(
    state: ServerState,
    operator_id: int,
    conversation_id: int,
    step: str,
    *,
    reason: str | None = None,
    signal: str | None = None,
) -> None:
    """One step of the protocol for the chat the operator holds."""
    if step not in STEPS:
        raise f.FrameError(f.INVALID_FIELD, "'step' must be warn, cool_down or block")
    hub = state.hub
    conv = hub.engine.conversation(conversation_id)
    if conv is None:
        raise f.FrameError(f.NO_OPEN_CONVERSATION, f"conversation {conversation_id} is not open")
    visitor_id = conv.visitor_id
    text = step_text(state, step, hub.conversations.locale(conversation_id))
    await hub.operator_message(
        operator_id=operator_id,
        conversation_id=conversation_id,
        client_id=f"boundary-{uuid.uuid4().hex}",
        text=text,
    )
    now = state.clock()
    until: float | None = None
    why = {"reason": reason, "signal": signal}
    if step == "block":
        visitor = await state.writer.read(repo.get_visitor, visitor_id=visitor_id)
        block = await state.writer.run(
            repo.block_visitor,
            visitor_id=visitor_id,
            customer_id=visitor.customer_id if visitor is not None else None,
            conversation_id=conversation_id,
            operator_id=operator_id,
            now=now,
            **why,
        )
        audit = block["audit"]
    else:
        if step == "cool_down":
            until = now + state.settings.cool_down_s
        audit = await state.writer.run(
            repo.add_abuse_audit,
            step=step,
            visitor_id=visitor_id,
            conversation_id=conversation_id,
            operator_id=operator_id,
            now=now,
            until=until,
            **why,
        )
        if until is not None:
            # Stored first, then in every process's core; this one's holds it once ``ask`` returns.
            await hub.ask(ev.VisitorCooledDown(visitor_id, until))
    frame = boundary_frame(conversation_id, step, text, until)
    await hub.channels.tell_visitor(visitor_id, frame)
    await hub.channels.tell_operator(operator_id, frame)
    await notify_supervisors(hub.channels, audit)
    log.info(
        "conversation %s: boundary %s",
        conversation_id,
        step,
        extra=context(conversation_id, operator_id, visitor_id),
    )
    if step == "block":
        hub.close_conversation(conversation_id)
        hub.dispatch(ev.VisitorBlocked(visitor_id))  # every process closes the visitor's sockets
        await hub.settle()


async def end_cool_down(state: ServerState, visitor_id: str, admin_id: int) -> bool:
    """An admin ends a cool-down early; False when none is on."""
    hub = state.hub
    if cooling_down_until(state, visitor_id) is None:
        return False
    cid = hub.open_conversation_of(visitor_id)
    audit = await state.writer.run(
        repo.add_abuse_audit,
        step="end_cool_down",
        visitor_id=visitor_id,
        conversation_id=cid,
        operator_id=admin_id,
        now=state.clock(),
    )
    await hub.ask(ev.CoolDownEnded(visitor_id))
    await hub.channels.tell_visitor(visitor_id, boundary_frame(cid, "end_cool_down", ""))
    await notify_supervisors(hub.channels, audit)
    return True


async def block_of(state: ServerState, visitor: Any) -> dict[str, Any] | None:
    """The block in force on this visitor (or their customer), if any."""
    block: dict[str, Any] | None = await state.writer.read_keyed(
        repo.active_blocks, (visitor.id, visitor.customer_id), None
    )
    return block
