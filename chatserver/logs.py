"""Log lines as text or, with ``CHAT_LOG_FORMAT=json``, one JSON object per line.

A JSON line has ``ts`` (ISO 8601, UTC), ``level``, ``logger`` and ``message``, and where the
log call knows them ``conversation_id``, ``operator_id`` and ``visitor_id`` (passed with
``extra=``), plus ``exc`` with the traceback of an exception.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# What a log call may pass with ``extra=`` and a JSON line then carries.
CONTEXT_FIELDS = ("conversation_id", "operator_id", "visitor_id")


def context(
    conversation_id: int | None = None, operator_id: int | None = None, visitor_id: str | None = None
) -> dict[str, Any]:
    """The ``extra=`` of a log call about a conversation: only what is known."""
    fields = {"conversation_id": conversation_id, "operator_id": operator_id, "visitor_id": visitor_id}
    return {name: value for name, value in fields.items() if value is not None}


def effect_context(effect: object) -> dict[str, Any]:
    """The ``extra=`` for a log line about a core effect: its conversation, operator and visitor."""
    operator = getattr(effect, "operator_id", None)
    if operator is None:
        operator = getattr(effect, "from_operator_id", None)
    return context(getattr(effect, "conversation_id", None), operator, getattr(effect, "visitor_id", None))


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(log_format: str, level: int = logging.INFO) -> None:
    """The root logger's one handler, writing text or JSON lines to stderr."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
