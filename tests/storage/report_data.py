"""A known set of conversations for the report tests, and every figure of its report, by hand.

Two days of the period [DAY1, DAY1 + 2 days), 2026-03-02 and 2026-03-03 (UTC), two operators
(Anna in sales, Boris in support), and one conversation on each side of the period that no
figure may count. Times below are seconds after the conversation was created.

    conv  day  team     operator  assigned  1st op msg  closed  rating (stars, nps, comment)
    C1    1    sales    Anna      +30       +50         +600    5, 10, "Great help"
    C2    1    sales    Anna      +60       +90         +960    4, 8, none
    C3    1    support  Boris     +120      +300        +1320   2, 3, "Too slow"
    C4    1    support  -         never     -           +200    1, no nps, "nobody came"
    C5    2    sales    Boris     +10       +20         +310    5, 9, "" (not a comment)
    C6    2    support  Boris     +45       -           open    -
    C7    2    sales    -         never     -           open    -
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.engine import Engine

from chatserver.storage import repository as repo
from chatserver.storage.records import NewMessage

DAY = 86400
DAY1 = 1772409600  # 2026-03-02 00:00:00 UTC
FROM, TO = DAY1, DAY1 + 2 * DAY
AFTER = DAY1 + 10 * DAY  # "now": the period is over


def _message(engine: Engine, cid: int, sender: str, ts: float, sender_id: str = "") -> None:
    repo.store_messages(
        engine, messages=[NewMessage(cid, sender, sender_id, uuid.uuid4().hex, f"{sender} at {ts}", ts)]
    )


def build(engine: Engine) -> dict[str, Any]:
    """Write the conversations; their ids and the operators' ids."""
    anna = repo.create_operator(
        engine, email="anna@example.com", name="Anna", password_hash="x", teams=["sales"], now=DAY1
    ).id
    boris = repo.create_operator(
        engine, email="boris@example.com", name="Boris", password_hash="x", teams=["support"], now=DAY1
    ).id
    ids: dict[str, Any] = {"anna": anna, "boris": boris}

    def conversation(
        name: str,
        created: float,
        team: str,
        operator: int | None,
        assigned: float | None,
        answered: float | None,
        closed: float | None,
    ) -> int:
        visitor = f"visitor-{name}"
        repo.create_visitor(engine, visitor_id=visitor, locale="en", now=created)
        cid = repo.open_conversation(
            engine, visitor_id=visitor, customer_id=None, locale="en", team=team, now=created
        ).id
        ids[name] = cid
        _message(engine, cid, "visitor", created + 5, visitor)
        if assigned is not None:
            repo.set_conversation_state(
                engine,
                conversation_id=cid,
                state="assigned",
                operator_id=operator,
                now=created + assigned,
                event_kind="assigned",
            )
        if answered is not None:
            _message(engine, cid, "operator", created + answered, str(operator))
            _message(engine, cid, "operator", created + answered + 100, str(operator))  # not the first
        if closed is not None:
            repo.set_conversation_state(
                engine,
                conversation_id=cid,
                state="closed",
                operator_id=operator if assigned else None,
                now=created + closed,
                event_kind="closed",
            )
        return cid

    c1 = conversation("C1", DAY1 + 1000, "sales", anna, 30, 50, 600)
    c2 = conversation("C2", DAY1 + 2000, "sales", anna, 60, 90, 960)
    c3 = conversation("C3", DAY1 + 3000, "support", boris, 120, 300, 1320)
    c4 = conversation("C4", DAY1 + 4000, "support", None, None, None, 200)
    c5 = conversation("C5", DAY1 + DAY + 1000, "sales", boris, 10, 20, 310)
    conversation("C6", DAY1 + DAY + 2000, "support", boris, 45, None, None)
    c7 = conversation("C7", DAY1 + DAY + 3000, "sales", None, None, None, None)
    # Outside the period (the day before; exactly at its end): counted nowhere.
    for name, created in (("before", DAY1 - 100), ("at_end", TO)):
        cid = conversation(name, created, "sales", anna, 5, 10, 20)
        repo.rate_conversation(
            engine,
            conversation_id=cid,
            visitor_id=f"visitor-{name}",
            score=1,
            comment="x",
            nps=0,
            now=created + 30,
        )
        repo.append_conversation_event(engine, conversation_id=cid, kind="silence_nudge", now=created + 15)
        repo.add_situation_feedback(
            engine,
            conversation_id=cid,
            seq=1,
            language="en",
            messages=["x"],
            recognized="a",
            score=0.5,
            corrected="b",
            source="corrected",
            operator_id=anna,
            now=created + 15,
        )
        _promise(engine, cid, created, 0, 5, 1, 10, "kept", 5)

    def rate(cid: int, name: str, score: int, nps: int | None, comment: str | None, ts: float) -> None:
        repo.rate_conversation(
            engine,
            conversation_id=cid,
            visitor_id=f"visitor-{name}",
            score=score,
            comment=comment,
            nps=nps,
            now=ts,
        )

    rate(c1, "C1", 5, 10, "Great help", DAY1 + 1610)
    rate(c2, "C2", 4, 8, None, DAY1 + 2970)
    rate(c3, "C3", 2, 3, "Too slow", DAY1 + 4330)
    rate(c4, "C4", 1, None, "nobody came", DAY1 + 4210)
    rate(c5, "C5", 5, 9, "", DAY1 + DAY + 1320)

    # Wait promises (made at, estimate, low, high, outcome, settled at; seconds after creation).
    _promise(engine, c1, DAY1 + 1000, 0, 20, 10, 40, "kept", 30)
    _promise(engine, c2, DAY1 + 2000, 0, 30, 20, 45, "revised_late", 40)
    _promise(engine, c2, DAY1 + 2000, 40, 15, 10, 30, "kept", 60)
    _promise(engine, c3, DAY1 + 3000, 0, 55, 30, 90, "broken", 120)
    _promise(engine, c4, DAY1 + 4000, 0, 60, 30, 120, "left", 200)
    _promise(engine, c7, DAY1 + DAY + 3000, 0, 100, 50, 200, None, None)

    def event(cid: int, kind: str, ts: float, **data: Any) -> None:
        repo.append_conversation_event(engine, conversation_id=cid, kind=kind, now=ts, data=data)

    event(c1, "transfer_requested", DAY1 + 1200, reason="billing question", benefit="")
    event(c3, "transfer_requested", DAY1 + 3400, reason="needs a specialist", benefit="they can refund")
    event(c2, "silence_nudge", DAY1 + 2300)
    event(c3, "silence_nudge", DAY1 + 3500)
    event(c3, "holding_line", DAY1 + 3600)
    event(c5, "left_message", DAY1 + DAY + 1005)
    event(c7, "left_message", DAY1 + DAY + 3060)

    for cid, recognized, corrected, source in (
        (c1, "order_status", "order_status", "picked"),
        (c2, "refund", "order_status", "corrected"),
        (c3, "refund", "refund", "picked"),
    ):
        repo.add_situation_feedback(
            engine,
            conversation_id=cid,
            seq=1,
            language="en",
            messages=["hi"],
            recognized=recognized,
            score=0.9,
            corrected=corrected,
            source=source,
            operator_id=anna,
            now=DAY1 + 5000,
        )
    repo.increment_reply_usage(
        engine,
        library="default",
        counts={
            ("en", "greeting", "suggested"): 5,
            ("en", "greeting", "sent_as_is"): 2,
            ("en", "greeting", "sent_edited"): 1,
            ("en", "greeting", "ignored"): 2,
            ("pl", "refund", "suggested"): 3,
            ("pl", "refund", "ignored"): 3,
        },
        now=DAY1,
    )
    repo.increment_reply_usage(engine, library="other", counts={("en", "greeting", "suggested"): 1}, now=DAY1)
    return ids


def _promise(
    engine: Engine,
    cid: int,
    started: float,
    made: float,
    estimate: int,
    low: int,
    high: int,
    outcome: str | None,
    settled: float | None,
) -> None:
    key = uuid.uuid4().hex
    ops: list[tuple[str, dict[str, Any]]] = [
        (
            "made",
            {
                "key": key,
                "conversation_id": cid,
                "kind": "queue",
                "made_at": started + made,
                "position": 1,
                "estimate_s": estimate,
                "low_s": low,
                "high_s": high,
                "deadline": started + made + high,
                "wait_started_at": started,
            },
        )
    ]
    if outcome is not None and settled is not None:
        ops.append(
            (
                "settled",
                {"key": key, "outcome": outcome, "settled_at": started + settled, "waited_s": settled},
            )
        )
    repo.write_promises(engine, ops=ops)


def expected(ids: dict[str, Any]) -> dict[str, Any]:
    """The whole report of [FROM, TO) with no filter, every figure worked out by hand."""
    anna, boris = ids["anna"], ids["boris"]
    return {
        "period": {"from": FROM, "to": TO},
        "filters": {"team": None, "operator_id": None},
        "conversations": {
            "total": 7,  # C1-C7
            "served": 5,  # C1, C2, C3, C5, C6 were assigned
            "abandoned": 2,  # C4 closed unassigned; C7 still waiting when the period is over
            # first responses 50, 90, 300, 20 -> sorted 20, 50, 90, 300 (n=4):
            "first_response_p50_s": 50.0,  # rank ceil(0.5 * 4) = 2
            "first_response_p90_s": 300.0,  # rank ceil(0.9 * 4) = 4
            # waits 30, 60, 120, 10, 45 -> sorted 10, 30, 45, 60, 120 (n=5):
            "wait_p50_s": 45.0,  # rank ceil(2.5) = 3
            "wait_p90_s": 120.0,  # rank ceil(4.5) = 5
            # handle times 600-30, 960-60, 1320-120, 310-10 -> sorted 300, 570, 900, 1200:
            "handle_p50_s": 570.0,  # rank 2
            "handle_p90_s": 1200.0,  # rank 4
            "by_day": [
                # C1-C4; first responses 50, 90, 300: rank ceil(1.5) = 2 -> 90
                {"day": "2026-03-02", "total": 4, "served": 3, "abandoned": 1, "first_response_p50_s": 90.0},
                # C5-C7; only C5 answered (20)
                {"day": "2026-03-03", "total": 3, "served": 2, "abandoned": 1, "first_response_p50_s": 20.0},
            ],
        },
        "satisfaction": {
            "ratings": 5,  # C1, C2, C3, C4, C5
            "stars_mean": 3.4,  # (5 + 4 + 2 + 1 + 5) / 5
            "nps": 25.0,  # 4 answers (10, 8, 3, 9): 2 promoters, 1 detractor: (2 - 1) / 4 = 25 %
            "promoters": 2,
            "passives": 1,
            "detractors": 1,
            "by_team": [
                # C1, C2, C5: (5 + 4 + 5) / 3 = 4.67; nps 10, 8, 9: 2 of 3 promoters = 66.7
                {"team": "sales", "ratings": 3, "stars_mean": 4.67, "nps": 66.7},
                # C3, C4: (2 + 1) / 2; one nps answer (3), a detractor: -100
                {"team": "support", "ratings": 2, "stars_mean": 1.5, "nps": -100.0},
            ],
            "by_operator": [
                # C1, C2: (5 + 4) / 2; nps 10 and 8: (1 - 0) / 2 = 50
                {"operator_id": anna, "name": "Anna", "ratings": 2, "stars_mean": 4.5, "nps": 50.0},
                # C3, C5: (2 + 5) / 2; nps 3 and 9: (1 - 1) / 2 = 0
                {"operator_id": boris, "name": "Boris", "ratings": 2, "stars_mean": 3.5, "nps": 0.0},
                # C4 was never assigned; no nps answer
                {"operator_id": None, "name": None, "ratings": 1, "stars_mean": 1.0, "nps": None},
            ],
            "comments": [  # newest first; C5's empty comment is none
                {
                    "conversation_id": ids["C3"],
                    "stars": 2,
                    "nps": 3,
                    "comment": "Too slow",
                    "created_at": DAY1 + 4330,
                },
                {
                    "conversation_id": ids["C4"],
                    "stars": 1,
                    "nps": None,
                    "comment": "nobody came",
                    "created_at": DAY1 + 4210,
                },
                {
                    "conversation_id": ids["C1"],
                    "stars": 5,
                    "nps": 10,
                    "comment": "Great help",
                    "created_at": DAY1 + 1610,
                },
            ],
        },
        "wait_honesty": {
            "promises": 6,
            # Waits served: C1 (ends +30), C2 (+60), C3 (+120). Per promise, actual = end - made:
            # C1 30 (est 20, err 10, in 10..40); C2a 60 (est 30, err 30, past 45);
            # C2b 60 - 40 = 20 (est 15, err 5, in 10..30); C3 120 (est 55, err 65, past 90).
            "mae_s": 27.5,  # (10 + 30 + 5 + 65) / 4
            "coverage": 0.5,  # 2 of 4
            # C2a (60 > 45), C3 (120 > 90), C4 (the visitor left at 200 > 120); C7 still waits
            "overruns": 3,
            "overruns_announced": 1,  # C2a was revised by the late notice at +40, before +45
        },
        "etiquette": {
            "transfers": 2,
            "transfers_with_reason_and_benefit": 1,  # C1's had no benefit
            "nudges": 2,
            "holding_lines": 1,
            "left_messages": 2,  # C5, C7
            "left_message_answer_p50_s": 15.0,  # C5: left at +5, answered at +20; C7 never
        },
        "assistant": {
            "situations": [{"situation": "order_status", "count": 2}, {"situation": "refund", "count": 1}],
            "replies": [
                # suggested: 5 in "default" + 1 in "other"
                {
                    "language": "en",
                    "response_id": "greeting",
                    "suggested": 6,
                    "sent_as_is": 2,
                    "sent_edited": 1,
                    "ignored": 2,
                },
                {
                    "language": "pl",
                    "response_id": "refund",
                    "suggested": 3,
                    "sent_as_is": 0,
                    "sent_edited": 0,
                    "ignored": 3,
                },
            ],
            "corrections": {"total": 3, "agreed": 2, "accuracy": 0.667},  # C1 and C3 agreed; 2 / 3
        },
    }
