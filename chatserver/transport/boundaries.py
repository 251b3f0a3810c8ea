"""The abusive visitor (docs/playbook.md#hater): a boundary warning, a cool-down, then a block.

The operator sends ``boundary`` with a ``step``:

- ``warn``: "I understand your irritation, but I won't allow insults", in the visitor's
  language, stored as the operator's own message;
- ``cool_down``: a short break, stored the same way; the visitor may not send for
  ``CHAT_COOL_DOWN_S`` seconds (their messages get an ``error`` ``cooling_down`` with ``until``);
- ``block``: a last message, the chat closes, the visitor's sockets close (4410) and the visitor
  and their signed-in customer are blocked: new sessions and hellos are refused
  (``visitor_blocked``) until an admin lifts the block (``DELETE /api/admin/blocks/{id}``).

Every step is a row of the ``abuse_audit`` table: who, when, which conversation, which step.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from chatserver.core import texts
from chatserver.logs import context
from chatserver.storage import repository as repo

from . import frames as f
from .channels import visitor_channel
from .state import ServerState

log = logging.getLogger("chatserver.hub")

STEPS = ("warn", "cool_down", "block")


def boundary_frame(conversation_id: int, step: str, text: str, until: float | None = None) -> dict[str, Any]:
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
    """When the visitor may write again, while a cool-down is on; None otherwise."""
    until = state.cool_downs.get(visitor_id)
    if until is None:
        return None
    if until <= state.clock():
        del state.cool_downs[visitor_id]
        return None
    return until


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


async def set_boundary(state: ServerState, operator_id: int, conversation_id: int, step: str) -> None:
    """One step of the protocol for the chat the operator holds."""
    if step not in STEPS:
        raise f.FrameError(f.INVALID_FIELD, "'step' must be warn, cool_down or block")
    hub = state.hub
    conv = hub.engine.conversation(conversation_id)
    if conv is None:
        raise f.FrameError(f.NO_OPEN_CONVERSATION, f"conversation {conversation_id} is not open")
    visitor_id = conv.visitor_id
    text = texts.text(f"boundary_{step}", hub.conversations.locale(conversation_id))
    await hub.operator_message(
        operator_id=operator_id,
        conversation_id=conversation_id,
        client_id=f"boundary-{uuid.uuid4().hex}",
        text=text,
    )
    now = state.clock()
    until: float | None = None
    if step == "block":
        visitor = await state.writer.read(repo.get_visitor, visitor_id=visitor_id)
        await state.writer.run(
            repo.block_visitor,
            visitor_id=visitor_id,
            customer_id=visitor.customer_id if visitor is not None else None,
            conversation_id=conversation_id,
            operator_id=operator_id,
            now=now,
        )
    else:
        if step == "cool_down":
            until = now + state.settings.cool_down_s
            state.cool_downs[visitor_id] = until
        await state.writer.run(
            repo.add_abuse_audit,
            step=step,
            visitor_id=visitor_id,
            conversation_id=conversation_id,
            operator_id=operator_id,
            now=now,
            until=until,
        )
    frame = boundary_frame(conversation_id, step, text, until)
    await hub.channels.tell_visitor(visitor_id, frame)
    await hub.channels.tell_operator(operator_id, frame)
    log.info(
        "conversation %s: boundary %s",
        conversation_id,
        step,
        extra=context(conversation_id, operator_id, visitor_id),
    )
    if step == "block":
        hub.close_conversation(conversation_id)
        await hub.settle()
        for outbox in hub.channels.listeners(visitor_channel(visitor_id)):
            await outbox.close(f.CLOSE_BLOCKED, f.VISITOR_BLOCKED)


async def block_of(state: ServerState, visitor: Any) -> dict[str, Any] | None:
    """The block in force on this visitor (or their customer), if any."""
    block: dict[str, Any] | None = await state.writer.read(
        repo.active_block, visitor_id=visitor.id, customer_id=visitor.customer_id
    )
    return block
