"""Ending a conversation the playbook's way (docs/playbook.md#closing): the customer decides.

The operator sends ``wrap_up``: the visitor gets "Is there anything else I can help you with?"
in their language, as the operator's own message, and a ``wrap_up`` frame that shows two
answers. ``wrap_up_answer`` "done" closes the conversation (the widget then asks for the
rating); "more" tells the operator and the chat goes on. The operator may still close at once.

Whether a chat is wrapping up is kept as conversation events (``wrap_up``, ``wrap_up_more``,
``wrap_up_done``), so any process may take the visitor's answer.
"""

from __future__ import annotations

import logging
import uuid

from chatserver.core import texts
from chatserver.logs import context
from chatserver.storage import repository as repo

from . import frames as f
from .state import ServerState

log = logging.getLogger("chatserver.hub")

ANSWERS = ("done", "more")
WRAP_UP_EVENTS = ("wrap_up", "wrap_up_more", "wrap_up_done")


async def wrapping_up(state: ServerState, conversation_id: int) -> bool:
    """The operator asked "anything else?" and the visitor has not answered yet."""
    events = await state.writer.read(repo.list_conversation_events, conversation_id=conversation_id)
    kinds = [e.kind for e in events if e.kind in WRAP_UP_EVENTS]
    return bool(kinds) and kinds[-1] == "wrap_up"


async def ask_anything_else(state: ServerState, operator_id: int, conversation_id: int) -> None:
    """The operator's wrap-up: ask the visitor, in their language, and mark the chat."""
    hub = state.hub
    conv = hub.engine.conversation(conversation_id)
    if conv is None:
        raise f.FrameError(f.NO_OPEN_CONVERSATION, f"conversation {conversation_id} is not open")
    question = texts.text("wrap_up_question", hub.conversations.locale(conversation_id))
    await state.writer.run(
        repo.append_conversation_event,
        conversation_id=conversation_id,
        kind="wrap_up",
        now=state.clock(),
        operator_id=operator_id,
    )
    await hub.operator_message(
        operator_id=operator_id,
        conversation_id=conversation_id,
        client_id=f"wrap-up-{uuid.uuid4().hex}",
        text=question,
    )
    frame = f.wrap_up_frame(conversation_id, question)
    await hub.channels.tell_visitor(conv.visitor_id, frame)
    await hub.channels.tell_operator(operator_id, frame)
    log.info(
        "conversation %s: wrapping up",
        conversation_id,
        extra=context(conversation_id, operator_id, conv.visitor_id),
    )


async def answer_wrap_up(state: ServerState, visitor_id: str, conversation_id: int, answer: str) -> None:
    """The visitor's answer: "done" closes the conversation, "more" goes back to chatting."""
    if answer not in ANSWERS:
        raise f.FrameError(f.INVALID_FIELD, "'answer' must be 'done' or 'more'")
    hub = state.hub
    conv = hub.engine.conversation(conversation_id)
    if conv is None or conv.visitor_id != visitor_id:
        raise f.FrameError(f.NO_OPEN_CONVERSATION, f"conversation {conversation_id} is not open")
    if not await wrapping_up(state, conversation_id):
        raise f.FrameError(f.NOT_WRAPPING_UP, "nobody asked whether there is anything else")
    await state.writer.run(
        repo.append_conversation_event,
        conversation_id=conversation_id,
        kind=f"wrap_up_{answer}",
        now=state.clock(),
        operator_id=conv.operator_id,
    )
    log.info(
        "conversation %s: the visitor answered the wrap-up: %s",
        conversation_id,
        answer,
        extra=context(conversation_id, conv.operator_id, visitor_id),
    )
    reply = f.wrap_up_answer_frame(conversation_id, answer)
    if conv.operator_id is not None:
        await hub.channels.tell_operator(conv.operator_id, reply)
    await hub.channels.tell_visitor(visitor_id, reply)
    if answer == "done":
        hub.close_conversation(conversation_id)
