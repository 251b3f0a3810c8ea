"""What the hostile-input tests share: the server's ERROR log records, and a round trip that
proves a socket still works."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from .conftest import Client

LOGGERS = ("chatserver", "uvicorn.error")


class ErrorRecords(logging.Handler):
    """Every ERROR (or worse) record of the server's loggers while a test runs."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def text(self) -> str:
        return "\n".join(self.format(record) for record in self.records)


@pytest.fixture
def server_errors() -> Iterator[ErrorRecords]:
    handler = ErrorRecords()
    for name in LOGGERS:
        logging.getLogger(name).addHandler(handler)
    try:
        yield handler
    finally:
        for name in LOGGERS:
            logging.getLogger(name).removeHandler(handler)


async def still_served(client: Client, *, operator: bool) -> None:
    """A frame with an answer goes through: `status` for an operator, an unknown type for a visitor."""
    if operator:
        await client.send({"type": "status", "status": "online"})
        await client.expect("status", status="online")
    else:
        await client.send({"type": "are-you-there"})
        await client.expect("error", code="unknown_type")
