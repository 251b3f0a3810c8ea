"""Check-backs and left messages as the conversation event log keeps them, read back on start.

A restart must lose no promise: the open chats whose operator still owes a check-back answer
(the newest ``check_back`` event with no ``check_back_answered`` after it), the address each
left for the answer (``reply_email``), and the left messages already answered once (so the
answer is not mailed twice).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.engine import Engine

from ..db import read_transaction
from ..models import OPEN_STATES
from .tables import CONVERSATION, EVENT

CHECK_BACK_EVENT = "check_back"
CHECK_BACK_ANSWERED_EVENT = "check_back_answered"
REPLY_EMAIL_EVENT = "reply_email"
LEFT_MESSAGE_ANSWERED_EVENT = "left_message_answered"

_KINDS = (CHECK_BACK_EVENT, CHECK_BACK_ANSWERED_EVENT, REPLY_EMAIL_EVENT, LEFT_MESSAGE_ANSWERED_EVENT)


@dataclass
class OwedAnswers:
    """What the open chats still owe their visitors, by conversation id."""

    check_backs: dict[int, float] = field(default_factory=dict)  # when the promised answer is due
    emails: dict[int, str] = field(default_factory=dict)  # the newest address left for the answer
    left_answered: set[int] = field(default_factory=set)


def _data(text: str | None) -> dict[str, object]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def owed_answers(engine: Engine) -> OwedAnswers:
    """Pending check-backs, reply addresses and answered left messages of every open chat."""
    owed = OwedAnswers()
    with read_transaction(engine) as conn:
        rows = conn.execute(
            select(EVENT.c.conversation_id, EVENT.c.kind, EVENT.c.data)
            .join(CONVERSATION, CONVERSATION.c.id == EVENT.c.conversation_id)
            .where(EVENT.c.kind.in_(_KINDS), CONVERSATION.c.state.in_(OPEN_STATES))
            .order_by(EVENT.c.id)
        ).all()
    for row in rows:
        cid, data = row.conversation_id, _data(row.data)
        if row.kind == CHECK_BACK_EVENT and isinstance(data.get("due_at"), (int, float)):
            owed.check_backs[cid] = float(data["due_at"])  # type: ignore[arg-type]
        elif row.kind == CHECK_BACK_ANSWERED_EVENT:
            owed.check_backs.pop(cid, None)
        elif row.kind == REPLY_EMAIL_EVENT and isinstance(data.get("email"), str):
            owed.emails[cid] = str(data["email"])
        elif row.kind == LEFT_MESSAGE_ANSWERED_EVENT:
            owed.left_answered.add(cid)
    return owed


def reply_email(engine: Engine, *, conversation_id: int) -> str | None:
    """The newest address the visitor of this chat left for the answer, or None."""
    with read_transaction(engine) as conn:
        rows = conn.execute(
            select(EVENT.c.data)
            .where(EVENT.c.conversation_id == conversation_id, EVENT.c.kind == REPLY_EMAIL_EVENT)
            .order_by(EVENT.c.id.desc())
            .limit(1)
        ).all()
    for row in rows:
        email = _data(row.data).get("email")
        if isinstance(email, str):
            return email
    return None
