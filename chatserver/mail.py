"""Sending an answer by email: a small pluggable sender chosen by ``CHAT_MAIL_URL``.

``file:///folder`` writes each mail as a ``.eml`` file into the folder (development, tests);
``smtp://host:port`` hands it to an SMTP server with the standard library's ``smtplib``. With no
URL nothing is sent. Sending blocks, so callers run ``send`` in a thread.
"""

from __future__ import annotations

import abc
import smtplib
import uuid
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote, urlsplit


class MailSender(abc.ABC):
    """Sends one plain-text mail."""

    def __init__(self, sender: str) -> None:
        self.sender = sender

    def compose(self, to: str, subject: str, body: str) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = to
        mail["Subject"] = subject
        mail.set_content(body)
        return mail

    @abc.abstractmethod
    def send(self, to: str, subject: str, body: str) -> None: ...


class FileMailSender(MailSender):
    """Each mail becomes ``<folder>/<random>.eml``."""

    def __init__(self, folder: Path, sender: str) -> None:
        super().__init__(sender)
        self.folder = folder

    def send(self, to: str, subject: str, body: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{uuid.uuid4().hex}.eml"
        path.write_bytes(bytes(self.compose(to, subject, body)))


class SmtpMailSender(MailSender):
    def __init__(self, host: str, port: int, sender: str, *, timeout: float = 10.0) -> None:
        super().__init__(sender)
        self.host, self.port, self.timeout = host, port, timeout

    def send(self, to: str, subject: str, body: str) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            smtp.send_message(self.compose(to, subject, body))


def mail_sender(url: str | None, sender: str) -> MailSender | None:
    """The sender ``url`` names (``file:///folder``, ``smtp://host:port``), or None for no mail."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme == "file":
        return FileMailSender(Path(unquote(parts.path)), sender)
    if parts.scheme == "smtp":
        return SmtpMailSender(parts.hostname or "localhost", parts.port or 25, sender)
    raise ValueError(f"unknown mail URL {url!r}")


def plausible_address(text: str) -> bool:
    """Good enough to try: one @, something on both sides, a dot in the domain, no spaces."""
    local, at, domain = text.partition("@")
    return bool(local and at and "." in domain.strip(".")) and " " not in text and "@" not in domain
