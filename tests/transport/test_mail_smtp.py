"""The answer by mail through the SMTP backend: a real SMTP server (aiosmtpd) in the test receives it."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from .conftest import ServerFactory, free_port


class Inbox:
    """aiosmtpd's handler: every mail accepted, kept with its envelope."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), mail))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


async def test_the_answer_to_a_left_message_reaches_the_smtp_server(
    start_server: ServerFactory, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    server = await start_server(mail_url=f"smtp://127.0.0.1:{port}", mail_from="support@shop.example")
    visitor, _ = await server.visitor(locale="pl-PL")
    await visitor.say("Czy wysyłacie do Norwegii?")
    cid = (await visitor.expect("queue"))["conversation_id"]
    await visitor.send({"type": "leave_message", "email": "ola@example.no"})
    await visitor.expect("message_left", conversation_id=cid)
    await server.settle()
    _oid, token = await server.add_operator("Anna")
    anna = await server.operator(token)
    await anna.expect("assigned", conversation_id=cid)
    await anna.send({"type": "message", "conversation_id": cid, "client_id": "a1", "text": "Tak, w 3 dni."})
    await anna.expect("check_back_answered", conversation_id=cid)
    await server.settle()

    ((sender, recipients, mail),) = inbox.received
    assert sender == "support@shop.example" and recipients == ["ola@example.no"]
    assert mail["To"] == "ola@example.no" and mail["From"] == "support@shop.example"
    assert mail["Subject"] == "Odpowiedź na Państwa pytanie"
    body = mail.get_body()
    assert body is not None
    assert body.get_content().replace("\r\n", "\n").strip() == "Tak, w 3 dni.\n\n-- Anna"
