"""``chatserver serve --demo``: a signed-in customer with orders and past chats, and a week of history.

Written through the repository functions, once: a ``demo_seeded`` setting marks a database
already seeded, so a second ``--demo`` adds nothing. Random but repeatable (a fixed seed):
about 150 closed conversations over the last seven days across the demo operators, with
first-response and handle times like a real team's, ratings with NPS and comments, a few
transfers, wait promises kept or broken, and counts of library replies used.
"""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from chatserver.storage import repository as repo
from chatserver.storage.models import OperatorPublic
from chatserver.storage.records import NewMessage

SEEDED_KEY = "demo_seeded"
CUSTOMER_ID = "demo-customer-1"  # the shop's id of the signed-in demo customer
CUSTOMER = {"name": "Jan Kowalski", "email": "jan.kowalski@demo.example", "locale": "pl"}
DAY = 86_400.0
HISTORY_CHATS = 150

_OPENERS = (
    "Hi, my parcel hasn't arrived yet.",
    "The blender I got is broken, the lid is cracked.",
    "Can I change the delivery address of my order?",
    "How do I return a pair of shoes?",
    "Is the red kettle back in stock soon?",
    "I was charged twice for one order.",
    "The discount code doesn't work at checkout.",
    "The app crashes when I open my orders.",
)
_REPLIES = (
    "I'm sorry about that! Let me look at your order right away.",
    "Thanks for waiting. I can see it here and I'll sort it out for you.",
    "I've arranged it: you'll get a confirmation by e-mail within the hour.",
    "Excellent! I'm glad we got that sorted. Is there anything else I can help you with?",
)
_FOLLOW_UPS = ("Thank you, that helps.", "Great, thanks!", "OK, and how long will it take?", "Perfect.")
_COMMENTS = (
    "Quick and kind, thank you!",
    "Solved in minutes.",
    "Had to wait a bit, but the answer was good.",
    "Very helpful consultant.",
    "Too long a wait.",
    "Friendly, but my problem is not solved yet.",
)


@dataclass(frozen=True)
class DemoSeed:
    """What one seeding wrote (all zeros when the database was seeded before)."""

    conversations: int = 0
    messages: int = 0
    ratings: int = 0
    transfers: int = 0
    promises: int = 0
    orders: int = 0


def _visitor(engine: Engine, visitor_id: str, locale: str, customer_id: int | None, now: float) -> None:
    repo.create_visitor(engine, visitor_id=visitor_id, locale=locale, customer_id=customer_id, now=now)


def _customer(engine: Engine, now: float) -> tuple[int, int]:
    """The signed-in customer: orders and cases from the shop's feed. (customer id, orders)."""
    orders = (
        ("DEMO-1001", "delivered", 249.0, 40, [{"name": "Blender Pro 600", "qty": 1, "price": 249.0}]),
        ("DEMO-1002", "shipped", 89.9, 3, [{"name": "Kettle, red", "qty": 1, "price": 89.9}]),
        ("DEMO-1003", "processing", 412.5, 1, [{"name": "Running shoes", "qty": 2, "price": 206.25}]),
        ("DEMO-0990", "refunded", 59.0, 70, [{"name": "Phone case", "qty": 1, "price": 59.0}]),
    )
    customer_id = 0
    for order_id, status, total, days_ago, items in orders:
        result = repo.upsert_order(
            engine,
            order_id=order_id,
            external_customer_id=CUSTOMER_ID,
            status=status,
            total=total,
            currency="PLN",
            placed_at=now - days_ago * DAY,
            items=json.dumps(items),
            customer=CUSTOMER,
            now=now,
        )
        customer_id = result.customer_id
    repo.upsert_case(
        engine,
        kind="return",
        case_id="RET-77",
        external_customer_id=CUSTOMER_ID,
        status="closed",
        text="Phone case returned: wrong model",
        order_id="DEMO-0990",
        now=now,
    )
    repo.upsert_case(
        engine,
        kind="complaint",
        case_id="CMP-12",
        external_customer_id=CUSTOMER_ID,
        status="open",
        text="Blender lid cracked on arrival",
        order_id="DEMO-1001",
        now=now,
    )
    return customer_id, len(orders)


def seed_demo_history(
    engine: Engine, operators: Sequence[OperatorPublic], *, now: float, seed: int = 7
) -> DemoSeed:
    """Seed the demo customer and a week of closed chats, unless this database has them already."""
    if repo.get_setting(engine, key=SEEDED_KEY) is not None or not operators:
        return DemoSeed()
    rng = random.Random(seed)
    customer_id, orders = _customer(engine, now)
    customer_visitor = "demo-visitor-jan"
    _visitor(engine, customer_visitor, "pl", customer_id, now - 8 * DAY)
    messages: list[NewMessage] = []
    promises: list[tuple[str, dict[str, object]]] = []
    usage: Counter[tuple[str, str, str]] = Counter()
    replies = _library_replies()
    rated = transfers = 0
    for index in range(HISTORY_CHATS):
        mine = index % 50 == 0  # three of the chats are the signed-in customer's own
        visitor_id = customer_visitor if mine else f"demo-visitor-{index}"
        locale = "pl" if mine else rng.choice(("en", "en", "pl", "cs", "ru"))
        # Any of the last seven days, more often in the afternoon than at night.
        opened = now - rng.randint(0, 6) * DAY - rng.triangular(3600, 20 * 3600, 6 * 3600)
        if not mine:
            _visitor(engine, visitor_id, locale, None, opened)
        operator = rng.choice(operators)
        conv = repo.open_conversation(
            engine,
            visitor_id=visitor_id,
            customer_id=customer_id if mine else None,
            locale=locale,
            team=operator.teams[0] if operator.teams else None,
            now=opened,
        )
        cid = conv.id
        wait = rng.lognormvariate(3.6, 0.9)  # median ~35 s, a long tail of several minutes
        assigned = opened + wait
        repo.set_conversation_state(
            engine,
            conversation_id=cid,
            state="assigned",
            operator_id=operator.id,
            now=assigned,
            event_kind="assigned",
            data={"sticky": False},
        )
        if wait > 60:
            estimate = int(rng.choice((60, 120, 180)))
            promises += _promise(cid, opened, wait, estimate)
        first_response = rng.uniform(10, 70)
        handle = rng.lognormvariate(5.8, 0.5)  # median ~5.5 min
        t = opened + 1
        messages.append(NewMessage(cid, "visitor", visitor_id, f"d{cid}-0", rng.choice(_OPENERS), t))
        t = assigned + first_response
        holder = operator
        for turn in range(rng.randint(2, 4)):
            text = _REPLIES[min(turn, len(_REPLIES) - 1)]
            if replies and rng.random() < 0.5:
                language, response_id = rng.choice(replies)
                usage[(language, response_id, rng.choice(("sent_as_is", "sent_edited")))] += 1
                usage[(language, response_id, "suggested")] += 1
            messages.append(_operator_line(cid, holder, f"d{cid}-o{turn}", text, t))
            t += handle / 6
            messages.append(
                NewMessage(cid, "visitor", visitor_id, f"d{cid}-v{turn}", rng.choice(_FOLLOW_UPS), t)
            )
            t += handle / 6
            if turn == 0 and index % 25 == 7 and len(operators) > 1:
                holder = _transfer(engine, cid, operator, operators, t)
                transfers += 1
                t += 30
        closed = max(t, assigned + handle)
        repo.set_conversation_state(
            engine,
            conversation_id=cid,
            state="closed",
            operator_id=holder.id,
            now=closed,
            event_kind="closed",
        )
        if rng.random() < 0.6:
            score = rng.choices((5, 4, 3, 2, 1), weights=(50, 25, 12, 8, 5))[0]
            nps = max(0, min(10, score * 2 + rng.randint(-1, 0)))
            comment = rng.choice(_COMMENTS) if rng.random() < 0.4 else None
            repo.rate_conversation(
                engine,
                conversation_id=cid,
                visitor_id=visitor_id,
                score=score,
                comment=comment,
                now=closed + 20,
                nps=nps,
            )
            rated += 1
    repo.store_messages(engine, messages=messages)
    repo.write_promises(engine, ops=promises)
    if usage:
        repo.increment_reply_usage(engine, library="default", counts=usage, now=now)
    repo.put_setting(engine, key=SEEDED_KEY, value=str(int(now)))
    return DemoSeed(
        conversations=HISTORY_CHATS,
        messages=len(messages),
        ratings=rated,
        transfers=transfers,
        promises=sum(1 for op, _ in promises if op == "made"),
        orders=orders,
    )


def _operator_line(cid: int, operator: OperatorPublic, client_id: str, text: str, ts: float) -> NewMessage:
    return NewMessage(
        cid,
        "operator",
        str(operator.id),
        client_id,
        text,
        ts,
        author_name=operator.name,
        author_title=operator.title,
    )


def _transfer(
    engine: Engine, cid: int, operator: OperatorPublic, operators: Sequence[OperatorPublic], at: float
) -> OperatorPublic:
    """Hand the chat to a colleague the way the server records it; the colleague."""
    colleague = next(op for op in operators if op.id != operator.id)
    to_team = colleague.teams[0] if colleague.teams else None
    repo.set_conversation_state(
        engine,
        conversation_id=cid,
        state="transferring",
        operator_id=operator.id,
        now=at,
        event_kind="transfer_requested",
        data={
            "to_operator_id": colleague.id,
            "to_team": to_team,
            "reason": "a technical question",
            "benefit": "an answer from someone who knows the product",
            "queued": False,
            "estimated_wait_s": 25,
        },
    )
    repo.set_conversation_state(
        engine,
        conversation_id=cid,
        state="assigned",
        operator_id=colleague.id,
        now=at + 25,
        event_kind="transferred",
        data={"from_operator_id": operator.id, "to_team": to_team, "reason": "a technical question"},
    )
    return colleague


def _promise(cid: int, opened: float, wait: float, estimate: int) -> list[tuple[str, dict[str, object]]]:
    """A queue wait promise made when the chat started waiting, kept or broken by the real wait."""
    key = uuid.uuid5(uuid.NAMESPACE_URL, f"demo-promise-{cid}").hex
    made = {
        "key": key,
        "conversation_id": cid,
        "kind": "queue",
        "made_at": opened + 2,
        "position": 2,
        "estimate_s": estimate,
        "low_s": estimate // 2,
        "high_s": estimate * 2,
        "deadline": opened + 2 + estimate * 2,
        "wait_started_at": opened,
    }
    outcome = "kept" if wait <= estimate * 2 else "broken"
    settled = {"key": key, "outcome": outcome, "settled_at": opened + wait, "waited_s": wait}
    return [("made", made), ("settled", settled)]


def _library_replies() -> list[tuple[str, str]]:
    """(language, id) of the bundled library's replies, to count as used."""
    try:
        from responses.library import load_library

        return [(r.language, r.id) for r in load_library("default")]
    except (FileNotFoundError, ImportError):
        return []
