"""Conversations and their event log.

Opening, state changes, sticky routing, transfers, left messages and wait
promises. Every state change writes its event in the same transaction, so
the log keeps who held a chat, whatever happened after.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.engine import Connection, Engine

from ..db import read_transaction, write_transaction
from ..errors import UnknownConversation
from ..models import (
    CONVERSATION_STATES,
    OPEN_STATES,
    PROMISE_KINDS,
    PROMISE_OUTCOMES,
    ConversationEventPublic,
    ConversationPublic,
    WaitPromisePublic,
)
from ._common import check_allowed
from .tables import CONVERSATION, EVENT, MESSAGE, WAIT_PROMISE

LEFT_MESSAGE_EVENT = "left_message"
ANSWER_SEEN_EVENT = "answer_seen"


def _conversation(conn: Connection, *where: ColumnElement[bool]) -> ConversationPublic | None:
    row = conn.execute(
        select(CONVERSATION)
        .where(*where)
        .order_by(CONVERSATION.c.created_at.desc(), CONVERSATION.c.id.desc())
        .limit(1)
    ).one_or_none()
    return None if row is None else ConversationPublic.model_validate(dict(row._mapping))


def _append_event(
    conn: Connection,
    *,
    conversation_id: int,
    kind: str,
    state: str,
    operator_id: int | None,
    data: Mapping[str, Any] | None,
    now: float,
) -> None:
    conn.execute(
        EVENT.insert().values(
            conversation_id=conversation_id,
            kind=kind,
            state=state,
            operator_id=operator_id,
            data=json.dumps(dict(data or {}), separators=(",", ":")),
            ts=now,
        )
    )


def _open(
    conn: Connection,
    *,
    visitor_id: str,
    customer_id: int | None,
    locale: str | None,
    team: str | None,
    now: float,
) -> ConversationPublic:
    conversation_id = conn.execute(
        CONVERSATION.insert()
        .values(
            visitor_id=visitor_id,
            customer_id=customer_id,
            state="waiting",
            team=team,
            locale=locale,
            created_at=now,
            last_seq=0,
        )
        .returning(CONVERSATION.c.id)
    ).scalar_one()
    data = {"team": team} if team else None
    _append_event(
        conn,
        conversation_id=conversation_id,
        kind="opened",
        state="waiting",
        operator_id=None,
        data=data,
        now=now,
    )
    found = _conversation(conn, CONVERSATION.c.id == conversation_id)
    assert found is not None
    return found


def open_conversation(
    engine: Engine,
    *,
    visitor_id: str,
    customer_id: int | None,
    locale: str | None,
    team: str | None = None,
    now: float,
) -> ConversationPublic:
    """A new waiting conversation, with its "opened" event."""
    with write_transaction(engine) as conn:
        return _open(conn, visitor_id=visitor_id, customer_id=customer_id, locale=locale, team=team, now=now)


def open_conversation_in(
    conn: Connection,
    *,
    visitor_id: str,
    customer_id: int | None,
    locale: str | None,
    team: str | None = None,
    now: float,
) -> tuple[ConversationPublic, int | None]:
    """A new waiting conversation inside the caller's transaction (the writer's group commit),
    with the operator who last served this customer or visitor (for sticky routing), read
    first in the same transaction so opening costs no read of its own."""
    previous = _last_operator(conn, visitor_id=visitor_id, customer_id=customer_id)
    opened = _open(conn, visitor_id=visitor_id, customer_id=customer_id, locale=locale, team=team, now=now)
    return opened, previous


def get_or_open_conversation(
    engine: Engine,
    *,
    visitor_id: str,
    customer_id: int | None,
    locale: str | None,
    team: str | None = None,
    now: float,
) -> tuple[ConversationPublic, bool]:
    """The visitor's open conversation, or a new one; True when it was just opened.

    Check and insert share one write transaction, so two tabs sending a first
    message at once still end up in one conversation.
    """
    with write_transaction(engine) as conn:
        found = _conversation(
            conn, CONVERSATION.c.visitor_id == visitor_id, CONVERSATION.c.state.in_(OPEN_STATES)
        )
        if found is not None:
            return found, False
        opened = _open(
            conn, visitor_id=visitor_id, customer_id=customer_id, locale=locale, team=team, now=now
        )
        return opened, True


def get_open_conversation_for_visitor(engine: Engine, *, visitor_id: str) -> ConversationPublic | None:
    """The visitor's newest conversation that is not closed."""
    with read_transaction(engine) as conn:
        return _conversation(
            conn, CONVERSATION.c.visitor_id == visitor_id, CONVERSATION.c.state.in_(OPEN_STATES)
        )


def get_conversation(engine: Engine, *, conversation_id: int) -> ConversationPublic | None:
    with read_transaction(engine) as conn:
        return _conversation(conn, CONVERSATION.c.id == conversation_id)


def get_conversations(engine: Engine, *, conversation_ids: Sequence[int]) -> dict[int, ConversationPublic]:
    """Several conversations by id in one statement (a run of operators' briefings)."""
    if not conversation_ids:
        return {}
    with read_transaction(engine) as conn:
        rows = conn.execute(select(CONVERSATION).where(CONVERSATION.c.id.in_(list(conversation_ids)))).all()
    return {row.id: ConversationPublic.model_validate(dict(row._mapping)) for row in rows}


def set_conversation_state(
    engine: Engine,
    *,
    conversation_id: int,
    state: str,
    operator_id: int | None,
    now: float,
    event_kind: str,
    data: Mapping[str, Any] | None = None,
) -> ConversationPublic:
    """Change state and operator and log the event, in one transaction.

    "assigned" stamps assigned_at; "waiting" clears it (requeued); "closed"
    stamps closed_at and, when `operator_id` is None, keeps the operator who
    had it so history still shows who handled the chat.
    """
    with write_transaction(engine) as conn:
        set_conversation_state_in(
            conn,
            conversation_id=conversation_id,
            state=state,
            operator_id=operator_id,
            now=now,
            event_kind=event_kind,
            data=data,
        )
        found = _conversation(conn, CONVERSATION.c.id == conversation_id)
    assert found is not None
    return found


def set_conversation_state_in(
    conn: Connection,
    *,
    conversation_id: int,
    state: str,
    operator_id: int | None,
    now: float,
    event_kind: str,
    data: Mapping[str, Any] | None = None,
) -> None:
    """`set_conversation_state` inside the caller's transaction (the writer's group commit)."""
    check_allowed(state, CONVERSATION_STATES, "state")
    changes: dict[str, Any] = {"state": state, "operator_id": operator_id}
    if state == "assigned":
        changes["assigned_at"] = now
    elif state == "waiting":
        changes["assigned_at"] = None
    elif state == "closed":
        changes["closed_at"] = now
        if operator_id is None:
            del changes["operator_id"]
    updated = conn.execute(update(CONVERSATION).where(CONVERSATION.c.id == conversation_id).values(**changes))
    if updated.rowcount == 0:
        raise UnknownConversation(f"no conversation {conversation_id}")
    _append_event(
        conn,
        conversation_id=conversation_id,
        kind=event_kind,
        state=state,
        operator_id=operator_id,
        data=data,
        now=now,
    )


def list_open_conversations(engine: Engine) -> list[ConversationPublic]:
    """Every conversation not closed, oldest first: rebuilds queues after a restart."""
    with read_transaction(engine) as conn:
        rows = conn.execute(
            select(CONVERSATION)
            .where(CONVERSATION.c.state.in_(OPEN_STATES))
            .order_by(CONVERSATION.c.created_at, CONVERSATION.c.id)
        ).all()
    return [ConversationPublic.model_validate(dict(r._mapping)) for r in rows]


def list_conversation_events(engine: Engine, *, conversation_id: int) -> list[ConversationEventPublic]:
    """The conversation's event log, oldest first."""
    with read_transaction(engine) as conn:
        rows = conn.execute(
            select(EVENT).where(EVENT.c.conversation_id == conversation_id).order_by(EVENT.c.id)
        ).all()
    return [ConversationEventPublic.model_validate(dict(r._mapping)) for r in rows]


def last_operator_for_customer_or_visitor(
    engine: Engine, *, visitor_id: str, customer_id: int | None
) -> int | None:
    """Who was last assigned a conversation of this customer (or visitor): sticky routing.

    Reads the event log rather than Conversation.operator_id, so a transfer or
    requeue in between does not hide the operator who actually talked to them.
    """
    with read_transaction(engine) as conn:
        return _last_operator(conn, visitor_id=visitor_id, customer_id=customer_id)


def _last_operator(conn: Connection, *, visitor_id: str, customer_id: int | None) -> int | None:
    who = CONVERSATION.c.visitor_id == visitor_id
    if customer_id is not None:
        who = or_(who, CONVERSATION.c.customer_id == customer_id)
    result: int | None = conn.execute(
        select(EVENT.c.operator_id)
        .join(CONVERSATION, CONVERSATION.c.id == EVENT.c.conversation_id)
        .where(who, EVENT.c.state == "assigned", EVENT.c.operator_id.is_not(None))
        .order_by(EVENT.c.ts.desc(), EVENT.c.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return result


# --- transfers and promises --------------------------------------------------
#
# Transfers change state through set_conversation_state; these add the events
# that change no state (an offer, a left message), the team a transfer moves a
# chat to, and the wait promises. Promise writes come in batches from the hub:
# `write_promises` applies them in order in one transaction.


def append_conversation_event(
    engine: Engine,
    *,
    conversation_id: int,
    kind: str,
    now: float,
    data: Mapping[str, Any] | None = None,
    operator_id: int | None = None,
) -> None:
    """Log an event that changes neither state nor operator (`state` stays NULL)."""
    with write_transaction(engine) as conn:
        conn.execute(
            EVENT.insert().values(
                conversation_id=conversation_id,
                kind=kind,
                state=None,
                operator_id=operator_id,
                data=json.dumps(dict(data or {}), separators=(",", ":")),
                ts=now,
            )
        )


def set_conversation_team(engine: Engine, *, conversation_id: int, team: str | None) -> None:
    """A transfer to a team moves the chat to that team (routing after a requeue follows it)."""
    with write_transaction(engine) as conn:
        updated = conn.execute(
            update(CONVERSATION).where(CONVERSATION.c.id == conversation_id).values(team=team)
        )
        if updated.rowcount == 0:
            raise UnknownConversation(f"no conversation {conversation_id}")


def left_message_conversations(engine: Engine) -> set[int]:
    """Open conversations whose visitor left a message instead of waiting (restored on start)."""
    with read_transaction(engine) as conn:
        rows = conn.execute(
            select(EVENT.c.conversation_id)
            .join(CONVERSATION, CONVERSATION.c.id == EVENT.c.conversation_id)
            .where(EVENT.c.kind == LEFT_MESSAGE_EVENT, CONVERSATION.c.state.in_(OPEN_STATES))
            .distinct()
        ).all()
    return {r.conversation_id for r in rows}


def reset_interrupted_transfers(engine: Engine, *, now: float) -> list[int]:
    """After a restart no offer is pending: transferring chats go back to their operator."""
    with write_transaction(engine) as conn:
        rows = conn.execute(
            select(CONVERSATION.c.id, CONVERSATION.c.operator_id).where(
                CONVERSATION.c.state == "transferring"
            )
        ).all()
        for row in rows:
            conn.execute(update(CONVERSATION).where(CONVERSATION.c.id == row.id).values(state="assigned"))
            _append_event(
                conn,
                conversation_id=row.id,
                kind="transfer_interrupted",
                state="assigned",
                operator_id=row.operator_id,
                data={"reason": "restart"},
                now=now,
            )
    return [r.id for r in rows]


def unseen_answer(engine: Engine, *, visitor_id: str) -> tuple[int, int] | None:
    """(conversation_id, last operator seq) of the visitor's newest left message answered since
    they last saw it, or None. "Seen" is an ``answer_seen`` event recording the seq shown."""
    return unseen_answers(engine, keys=[visitor_id]).get(visitor_id)


def unseen_answers(engine: Engine, *, keys: Sequence[str]) -> dict[str, tuple[int, int]]:
    """`unseen_answer` for many visitors (those with none left out): one statement when, as in
    a crowd of new visitors, none of them left a message."""
    with read_transaction(engine) as conn:
        rows = conn.execute(
            select(CONVERSATION.c.visitor_id, EVENT.c.conversation_id)
            .join(CONVERSATION, CONVERSATION.c.id == EVENT.c.conversation_id)
            .where(CONVERSATION.c.visitor_id.in_(keys), EVENT.c.kind == LEFT_MESSAGE_EVENT)
            .order_by(EVENT.c.conversation_id.desc())
            .distinct()
        ).all()
        newest: dict[str, list[int]] = {}
        for row in rows:
            newest.setdefault(row.visitor_id, []).append(row.conversation_id)
        found: dict[str, tuple[int, int]] = {}
        for visitor_id, cids in newest.items():
            answer = _unseen_answer_among(conn, cids[:5])
            if answer is not None:
                found[visitor_id] = answer
    return found


def _unseen_answer_among(conn: Connection, cids: Sequence[int]) -> tuple[int, int] | None:
    """The first of these conversations (newest first) with an operator answer not yet seen."""
    for cid in cids:
        answered = conn.execute(
            select(func.max(MESSAGE.c.seq)).where(
                MESSAGE.c.conversation_id == cid, MESSAGE.c.sender == "operator"
            )
        ).scalar_one_or_none()
        if answered is None:
            continue
        seen = 0
        for (data,) in conn.execute(
            select(EVENT.c.data).where(EVENT.c.conversation_id == cid, EVENT.c.kind == ANSWER_SEEN_EVENT)
        ).all():
            try:
                seen = max(seen, int(json.loads(data).get("seq", 0)))
            except (ValueError, TypeError, AttributeError):
                continue
        if answered > seen:
            return cid, int(answered)
    return None


def write_promises(engine: Engine, *, ops: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
    """Apply ("made", row) and ("settled", {key, outcome, settled_at, waited_s}) in order."""
    if not ops:
        return
    with write_transaction(engine) as conn:
        for op, values in ops:
            if op == "made":
                check_allowed(values["kind"], PROMISE_KINDS, "promise kind")
                conn.execute(WAIT_PROMISE.insert().values(**values))
            elif op == "settled":
                check_allowed(values["outcome"], PROMISE_OUTCOMES, "promise outcome")
                conn.execute(
                    update(WAIT_PROMISE)
                    .where(WAIT_PROMISE.c.key == values["key"], WAIT_PROMISE.c.outcome.is_(None))
                    .values(
                        outcome=values["outcome"],
                        settled_at=values["settled_at"],
                        waited_s=values["waited_s"],
                    )
                )
            else:
                raise ValueError(f"unknown promise operation {op!r}")


def interrupt_open_promises(engine: Engine, *, now: float) -> int:
    """On start: promises a previous run left open can no longer be kept or revised."""
    with write_transaction(engine) as conn:
        result = conn.execute(
            update(WAIT_PROMISE)
            .where(WAIT_PROMISE.c.outcome.is_(None))
            .values(outcome="interrupted", settled_at=now)
        )
    return int(result.rowcount or 0)


def list_promises(engine: Engine, *, conversation_id: int) -> list[WaitPromisePublic]:
    """The conversation's promises, oldest first."""
    with read_transaction(engine) as conn:
        rows = conn.execute(
            select(WAIT_PROMISE)
            .where(WAIT_PROMISE.c.conversation_id == conversation_id)
            .order_by(WAIT_PROMISE.c.id)
        ).all()
    return [WaitPromisePublic.model_validate(dict(r._mapping)) for r in rows]
