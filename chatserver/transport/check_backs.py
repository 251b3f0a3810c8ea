"""I don't know yet (docs/protocol.md#check-back): the promise, the reminder, the answer by mail.

``check_back`` from the operator: the visitor gets, in their language, when the answer will come
(the operator's own message, with the operator's text before it if they wrote one) and a
``check_back`` frame; the core keeps the promise and its timer (``chatserver.core.check_back``),
so the operator holding the chat gets one ``check_back_due`` shortly before the time whatever the
number of processes. The operator's next message keeps the promise; it (like the answer to a left
message) is also mailed to the address the visitor left, if any. Everything is kept as
conversation events (``check_back``, ``check_back_answered``, ``reply_email``, ``answer_mailed``).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from chatserver.core import check_back as rule
from chatserver.core import events as ev
from chatserver.logs import context
from chatserver.mail import plausible_address
from chatserver.storage import repository as repo

from . import frames as f
from .check_back_appliers import REPLY_EMAIL_EVENT
from .state import ServerState

log = logging.getLogger("chatserver.hub")

CHECK_BACK = f.CHECK_BACK  # named in frames.py with every other frame type
MAX_IN_S = 14 * 24 * 3600


async def promise_check_back(
    state: ServerState, operator_id: int, conversation_id: int, frame: dict[str, Any]
) -> None:
    """The operator's ``check_back`` on a chat they hold (checked by the caller)."""
    f.require(frame, f.FieldSpec("in_s", int), f.FieldSpec("text", str, required=False))
    in_s: int = frame["in_s"]
    if not 1 <= in_s <= MAX_IN_S:
        raise f.FrameError(f.INVALID_FIELD, f"'in_s' must be between 1 and {MAX_IN_S} seconds")
    own = (frame.get("text") or "").strip()
    hub = state.hub
    conv = hub.engine.conversation(conversation_id)
    if conv is None:
        raise f.FrameError(f.NO_OPEN_CONVERSATION, f"conversation {conversation_id} is not open")
    promise = rule.promise_text(in_s, hub.conversations.locale(conversation_id))
    text = f"{own}\n\n{promise}" if own else promise
    if len(text) > state.settings.max_text_chars:
        raise f.FrameError(f.INVALID_FIELD, "'text' is too long")
    # The message first: the promise it carries is not its own answer.
    await hub.operator_message(
        operator_id=operator_id,
        conversation_id=conversation_id,
        client_id=f"check-back-{uuid.uuid4().hex}",
        text=text,
    )
    now = state.clock()
    due_at = now + in_s
    refused = await hub.core.ask(ev.CheckBackPromised(conversation_id, operator_id, due_at))
    if refused is not None:
        raise f.FrameError(refused.code, refused.message)
    await state.writer.run(
        repo.append_conversation_event,
        conversation_id=conversation_id,
        kind="check_back",
        now=now,
        operator_id=operator_id,
        data={"due_at": due_at, "in_s": in_s},
    )
    reply = f.check_back_frame(
        conversation_id, due_at, in_s, max(now, due_at - state.settings.check_back_remind_s)
    )
    await hub.channels.tell_visitor(conv.visitor_id, reply)
    await hub.channels.tell_operator(operator_id, reply)
    log.info(
        "conversation %s: the operator will check back within %s s",
        conversation_id,
        in_s,
        extra=context(conversation_id, operator_id, conv.visitor_id),
    )


def reply_email_of(frame: dict[str, Any]) -> str | None:
    """The optional ``email`` of ``leave_message``, checked."""
    email = frame.get("email")
    if email is None:
        return None
    if not isinstance(email, str) or len(email) > 320 or not plausible_address(email.strip()):
        raise f.FrameError(f.INVALID_FIELD, "'email' must be an email address")
    return email.strip()


async def remember_reply_email(state: ServerState, conversation_id: int, email: str) -> None:
    """Keep the address; an operator who already has the chat is told it (``message_left``)."""
    await state.writer.run(
        repo.append_conversation_event,
        conversation_id=conversation_id,
        kind=REPLY_EMAIL_EVENT,
        now=state.clock(),
        data={"email": email},
    )
    conv = state.hub.engine.conversation(conversation_id)
    if conv is not None and conv.operator_id is not None:
        await state.hub.channels.tell_operator(conv.operator_id, f.message_left_frame(conversation_id, email))
