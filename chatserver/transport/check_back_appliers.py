"""The check-back effects (see ``check_backs``): the operator's reminder and the answer by mail.

Shared parts, carried out once, by the leader: a ``check_back_due`` frame to the operator holding
the chat, and the operator's answer mailed to the address the visitor left (``reply_email``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from chatserver.core import check_back as rule
from chatserver.core.effects import CheckBackDue, ReplyWritten
from chatserver.core.engine import Engine
from chatserver.mail import MailSender
from chatserver.storage import repository as repo
from chatserver.storage.writer import MessageWriter

from . import frames as f

log = logging.getLogger("chatserver.hub")

CHECK_BACK_DUE = f.CHECK_BACK_DUE  # named in frames.py with every other frame type
REPLY_EMAIL_EVENT = repo.REPLY_EMAIL_EVENT


def check_back_due_frame(conversation_id: int, due_at: float, now: float) -> dict[str, Any]:
    return {
        "type": CHECK_BACK_DUE,
        "conversation_id": conversation_id,
        "due_at": due_at,
        "left_s": max(0, round(due_at - now)),
    }


def answered_frame(conversation_id: int, check_back: bool) -> dict[str, Any]:
    """To the operator: their message answered the check-back (or the left message) of this chat."""
    return {
        "type": f.CHECK_BACK_ANSWERED,
        "conversation_id": conversation_id,
        "what": "check_back" if check_back else "left_message",
    }


async def owed_answer_frames(
    engine: Engine, writer: MessageWriter, conversation_id: int, now: float
) -> list[dict[str, Any]]:
    """What a chat still owes its visitor, as frames for an operator being briefed on it: the
    pending ``check_back`` and an unanswered ``message_left`` (with the address left, if any)."""
    rule = engine.check_backs
    out: list[dict[str, Any]] = []
    due_at = rule.due_at(conversation_id)
    if due_at is not None:
        remind_at = max(now, due_at - rule.remind_s)
        out.append(f.check_back_frame(conversation_id, due_at, max(0, round(due_at - now)), remind_at))
    view = engine.conversation(conversation_id)
    if view is not None and view.left_message and conversation_id not in rule.left_answered:
        email = await writer.read(repo.reply_email, conversation_id=conversation_id)
        out.append(f.message_left_frame(conversation_id, email))
    return out


class CheckBacks:
    """The appliers of the check-back effects (the shared part: done once, by the leader)."""

    def __init__(self, hub: Any, mail: MailSender | None) -> None:
        self._hub = hub
        self.mail = mail

    async def due(self, effect: CheckBackDue) -> None:
        hub = self._hub
        frame = check_back_due_frame(effect.conversation_id, effect.due_at, hub.clock())
        await hub.channels.tell_operator(effect.operator_id, frame)

    async def reply_written(self, effect: ReplyWritten) -> None:
        hub = self._hub
        cid = effect.conversation_id
        now = hub.clock()
        await hub.writer.run(
            repo.append_conversation_event,
            conversation_id=cid,
            kind=repo.CHECK_BACK_ANSWERED_EVENT if effect.check_back else repo.LEFT_MESSAGE_ANSWERED_EVENT,
            now=now,
            operator_id=effect.operator_id,
        )
        if effect.operator_id is not None:
            # Every console of the operator: the answer is given, the chat owes nothing now.
            await hub.channels.tell_operator(effect.operator_id, answered_frame(cid, effect.check_back))
        if self.mail is None:
            return
        email = await hub.writer.read(repo.reply_email, conversation_id=cid)
        if email is None:
            return
        messages = await hub.writer.read(repo.messages_after, conversation_id=cid, after_seq=0)
        answer = next((m for m in reversed(messages) if m.sender == "operator"), None)
        if answer is None:
            return
        locale = hub.conversations.locale(cid)
        signed = f"{answer.text}\n\n-- {answer.author_name}" if answer.author_name else answer.text
        try:
            await asyncio.to_thread(self.mail.send, email, rule.answer_subject(locale), signed)
        except Exception:
            log.exception("conversation %s: could not mail the answer", cid)
            return
        await hub.writer.run(
            repo.append_conversation_event,
            conversation_id=cid,
            kind="answer_mailed",
            now=now,
            data={"seq": answer.seq},
        )
