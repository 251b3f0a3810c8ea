"""The check-back effects (see ``check_backs``): the operator's reminder and the answer by mail.

Shared parts, carried out once, by the leader: a ``check_back_due`` frame to the operator holding
the chat, and the operator's answer mailed to the address the visitor left (``reply_email``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from chatserver.core import check_back as rule
from chatserver.core.effects import CheckBackDue, ReplyWritten
from chatserver.mail import MailSender
from chatserver.storage import repository as repo

from . import frames as f

log = logging.getLogger("chatserver.hub")

CHECK_BACK_DUE = f.CHECK_BACK_DUE  # named in frames.py with every other frame type
REPLY_EMAIL_EVENT = "reply_email"


def check_back_due_frame(conversation_id: int, due_at: float, now: float) -> dict[str, Any]:
    return {
        "type": CHECK_BACK_DUE,
        "conversation_id": conversation_id,
        "due_at": due_at,
        "left_s": max(0, round(due_at - now)),
    }


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
        if effect.check_back:
            await hub.writer.run(
                repo.append_conversation_event,
                conversation_id=cid,
                kind="check_back_answered",
                now=now,
                operator_id=effect.operator_id,
            )
        if self.mail is None:
            return
        events = await hub.writer.read(repo.list_conversation_events, conversation_id=cid)
        emails = [json.loads(e.data).get("email") for e in events if e.kind == REPLY_EMAIL_EVENT]
        if not emails or not isinstance(emails[-1], str):
            return
        messages = await hub.writer.read(repo.messages_after, conversation_id=cid, after_seq=0)
        answer = next((m for m in reversed(messages) if m.sender == "operator"), None)
        if answer is None:
            return
        locale = hub.conversations.locale(cid)
        signed = f"{answer.text}\n\n-- {answer.author_name}" if answer.author_name else answer.text
        try:
            await asyncio.to_thread(self.mail.send, emails[-1], rule.answer_subject(locale), signed)
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
