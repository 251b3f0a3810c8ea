"""A restart loses no check-back: the promise, its reminder and the address left for the answer are
read back from the same SQLite file, and the operator's console is briefed on what the chat owes."""

from __future__ import annotations

import email
import email.policy
import time
from pathlib import Path

from chatserver.settings import Settings
from chatserver.storage import repository as repo
from chatserver.transport.auth import hash_password

from .conftest import Server, run_server
from .test_check_back import FakeClock


def mails(folder: Path) -> list[email.message.EmailMessage]:
    parse = email.message_from_bytes
    return [parse(p.read_bytes(), policy=email.policy.default) for p in sorted(folder.glob("*.eml"))]  # type: ignore[misc]


EMAIL, PASSWORD = "anna@restart.example", "pw-anna"


async def sign_in_anna(server: Server, *, create: bool) -> str:
    if create:
        await server.state.writer.run(
            repo.create_operator,
            email=EMAIL,
            name="Anna",
            title="Customer care",
            role="operator",
            capacity=3,
            teams=(),
            password_hash=hash_password(PASSWORD),
            now=time.time(),
        )
    return await server.login(EMAIL, PASSWORD)


def rearm_timers(server: Server) -> None:
    """The fake clock jumped: arm every timer the core wants again, from the clock's new now."""
    core = server.state.hub.core
    core.reset_timers(dict(core.wanted), core.last_now)


async def test_a_restart_keeps_the_check_back_its_reminder_and_the_answer(tmp_path: Path) -> None:
    clock = FakeClock(1_000_000.0)
    outbox = tmp_path / "mail"
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/restart.db", check_back_remind_s=60.0, mail_url=f"file://{outbox}"
    )
    async with run_server(settings, clock) as first:
        anna = await first.operator(await sign_in_anna(first, create=True))
        visitor, session = await first.visitor()
        await visitor.say("Is the X2 blender dishwasher-safe?")
        cid = (await anna.expect("assigned"))["conversation_id"]
        await anna.send({"type": "check_back", "conversation_id": cid, "in_s": 1800})
        promised = await visitor.expect("check_back", conversation_id=cid)
        await anna.expect("check_back", conversation_id=cid)
        await first.settle()
        await visitor.close()
        await anna.close()
    due_at = promised["due_at"]
    assert promised["remind_at"] == due_at - 60

    clock.now += 600  # ten minutes of downtime, well before the reminder
    async with run_server(settings, clock) as second:
        hub = second.state.hub
        key = f"checkback:{cid}"
        assert hub.core.wanted[key] == due_at - 60, "the reminder is armed again"
        anna = await second.operator(await sign_in_anna(second, create=False))
        await anna.expect("assigned", conversation_id=cid)
        owed = await anna.expect("check_back", conversation_id=cid)
        assert owed["due_at"] == due_at and owed["in_s"] == 1200 and owed["remind_at"] == due_at - 60
        await second.settle()
        assert not anna.unread("check_back_due")

        clock.now = due_at - 60  # the time to remind
        rearm_timers(second)
        due = await anna.expect("check_back_due", conversation_id=cid)
        assert due["left_s"] == 60 and due["due_at"] == due_at

        back = await second.connect(
            "/ws/visitor", session["token"], resume={"conversation_id": cid, "last_seq": 2}
        )
        await anna.send({"type": "message", "conversation_id": cid, "client_id": "a1", "text": "Yes, it is."})
        await back.expect("message", sender="operator", text="Yes, it is.")
        answered = await anna.expect("check_back_answered", conversation_id=cid)
        assert answered["what"] == "check_back"
        await second.settle()
        assert key not in hub.core.wanted and not hub.engine.check_backs.pending
    assert not outbox.exists() or not mails(outbox), "no address was left: nothing is mailed"


async def test_a_left_message_answered_before_a_restart_is_not_mailed_again(tmp_path: Path) -> None:
    outbox = tmp_path / "mail"
    settings = Settings(database_url=f"sqlite:///{tmp_path}/left.db", mail_url=f"file://{outbox}")
    async with run_server(settings) as first:
        visitor, _ = await first.visitor(locale="cs-CZ")
        await visitor.say("Posíláte do Norska?")
        cid = (await visitor.expect("queue"))["conversation_id"]
        await visitor.send({"type": "leave_message", "email": "jana@example.cz"})
        await visitor.expect("message_left", conversation_id=cid)
        await first.settle()
        anna = await first.operator(await sign_in_anna(first, create=True))
        await anna.expect("assigned", conversation_id=cid)
        left = await anna.expect("message_left", conversation_id=cid)
        assert left["email"] == "jana@example.cz", "the operator sees where the answer goes"
        await anna.close()
        # Reconnecting (a reload of the console) shows it again, after the history.
        anna = await first.operator(await first.login(EMAIL, PASSWORD))
        await anna.expect("assigned", conversation_id=cid)
        again = await anna.expect("message_left", conversation_id=cid)
        assert again["email"] == "jana@example.cz"
        await anna.send(
            {"type": "message", "conversation_id": cid, "client_id": "a1", "text": "Ano, do 5 dnů."}
        )
        answered = await anna.expect("check_back_answered", conversation_id=cid)
        assert answered["what"] == "left_message"
        await first.settle()
        (mail,) = mails(outbox)
        assert mail["To"] == "jana@example.cz" and mail["Subject"] == "Odpověď na Váš dotaz"
        await anna.close()
        await visitor.close()

    async with run_server(settings) as second:
        anna = await second.operator(await sign_in_anna(second, create=False))
        await anna.expect("assigned", conversation_id=cid)
        await anna.send({"type": "message", "conversation_id": cid, "client_id": "a2", "text": "Ještě něco?"})
        await anna.expect("ack", client_id="a2")
        await second.settle()
        assert not anna.unread("message_left"), "answered: the chat owes nothing"
        assert not anna.unread("check_back_answered")
    assert len(mails(outbox)) == 1
    body = mails(outbox)[0].get_body()
    assert body is not None and "Ano, do 5 dnů." in body.get_content()
