"""I don't know yet, over a real server: the promise in the visitor's language, one reminder to
the operator before the time, the answer in the same thread and by mail (file backend)."""

from __future__ import annotations

import email
from pathlib import Path

from .conftest import ServerFactory


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def mails(folder: Path) -> list[email.message.Message]:
    return [email.message_from_bytes(p.read_bytes()) for p in sorted(folder.glob("*.eml"))]


async def test_check_back_promise_reminder_and_answer(start_server: ServerFactory, tmp_path: Path) -> None:
    clock = FakeClock(1_000_000.0)
    outbox = tmp_path / "mail"
    server = await start_server(clock=clock, check_back_remind_s=60.0, mail_url=f"file://{outbox}")
    _oid, token = await server.add_operator("Anna")
    anna = await server.operator(token)
    visitor, _ = await server.visitor(locale="pl-PL")
    await visitor.say("Czy ten model będzie znowu dostępny?")
    cid = (await anna.expect("assigned"))["conversation_id"]

    # Within the reminder time: the reminder comes at once (the time is shorter than the notice).
    await anna.send({"type": "check_back", "conversation_id": cid, "in_s": 30, "text": "Dobre pytanie."})
    told = await visitor.expect("message", sender="operator")
    assert told["text"].startswith("Dobre pytanie.") and "w ciągu 1 min" in told["text"], told
    promised = await visitor.expect("check_back", conversation_id=cid)
    assert promised["due_at"] == clock.now + 30 and promised["in_s"] == 30
    await anna.expect("check_back", conversation_id=cid)
    due = await anna.expect("check_back_due", conversation_id=cid)
    assert due["left_s"] == 30
    await server.settle()
    assert not anna.unread("check_back_due")

    # The answer is a normal message in the same thread; it keeps the promise (no mail address given).
    await anna.send({"type": "message", "conversation_id": cid, "client_id": "a1", "text": "Tak, w piątek."})
    await visitor.expect("message", sender="operator", text="Tak, w piątek.")
    await server.settle()
    assert not server.state.hub.engine.check_backs.pending
    assert not outbox.exists() or not mails(outbox)


async def test_a_long_check_back_reminds_only_before_the_time(start_server: ServerFactory) -> None:
    server = await start_server(check_back_remind_s=60.0)
    _oid, token = await server.add_operator("Anna")
    anna = await server.operator(token)
    visitor, _ = await server.visitor()
    await visitor.say("Can you check my warranty?")
    cid = (await anna.expect("assigned"))["conversation_id"]
    await anna.send({"type": "check_back", "conversation_id": cid, "in_s": 3600})
    told = await visitor.expect("message", sender="operator")
    assert "within 60 min" in told["text"], told
    await anna.expect("check_back", conversation_id=cid)
    await server.settle()
    assert not anna.unread("check_back_due")
    key = f"checkback:{cid}"
    hub = server.state.hub
    assert hub.core.wanted[key] == promised_at(hub, cid) - 60
    # The operator answers before the reminder: the timer is dropped.
    await anna.send({"type": "message", "conversation_id": cid, "client_id": "a1", "text": "All good."})
    await visitor.expect("message", text="All good.")
    await server.settle()
    assert key not in hub.core.wanted


def promised_at(hub: object, cid: int) -> float:
    due: float = hub.engine.check_backs.pending[cid]  # type: ignore[attr-defined]
    return due


async def test_check_back_errors(start_server: ServerFactory) -> None:
    server = await start_server()
    _oid, token = await server.add_operator("Anna")
    anna = await server.operator(token)
    visitor, _ = await server.visitor()
    await visitor.say("Hello")
    cid = (await anna.expect("assigned"))["conversation_id"]
    await anna.send({"type": "check_back", "conversation_id": cid, "in_s": 0})
    await anna.expect("error", code="invalid_field")
    await anna.send({"type": "check_back", "conversation_id": cid + 1, "in_s": 60})
    await anna.expect("error", code="not_your_conversation")
    await anna.send({"type": "check_back", "conversation_id": cid, "in_s": "soon"})
    await anna.expect("error", code="invalid_field")
    await visitor.send({"type": "leave_message", "email": "not an address"})
    await visitor.expect("error", code="invalid_field")


async def test_left_message_answer_is_mailed(start_server: ServerFactory, tmp_path: Path) -> None:
    outbox = tmp_path / "mail"
    server = await start_server(mail_url=f"file://{outbox}")
    visitor, _ = await server.visitor()
    await visitor.say("Do you ship to Norway?")
    cid = (await visitor.expect("queue"))["conversation_id"]
    await visitor.send({"type": "leave_message", "email": "ola@example.no"})
    await visitor.expect("message_left", conversation_id=cid)
    await server.settle()
    _oid, token = await server.add_operator("Anna")
    anna = await server.operator(token)
    await anna.expect("assigned", conversation_id=cid)
    await anna.send({"type": "message", "conversation_id": cid, "client_id": "a1", "text": "Yes, in 3 days."})
    await anna.expect("ack", client_id="a1")
    await server.settle()
    (mail,) = mails(outbox)
    assert mail["To"] == "ola@example.no"
    assert mail["Subject"] == "The answer to your question"
    assert "Yes, in 3 days." in mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    # Only the first answer is mailed.
    await anna.send({"type": "message", "conversation_id": cid, "client_id": "a2", "text": "Anything else?"})
    await anna.expect("ack", client_id="a2")
    await server.settle()
    assert len(mails(outbox)) == 1
