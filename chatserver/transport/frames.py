"""Frame names, error codes and the parsing of client frames. The widget mirrors these names.

Every frame is one JSON object with a string ``type``. Parsing turns raw text into a dict that
has the fields its type requires, or raises ``FrameError`` with a stable code; the endpoint
turns that into an ``error`` frame and keeps the socket open.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chatserver.storage.records import StoredMessage

# --- frame types, both directions --------------------------------------------------------
HELLO = "hello"
WELCOME = "welcome"
ERROR = "error"
ACK = "ack"
MESSAGE = "message"
TYPING = "typing"
QUEUE = "queue"
ASSIGNED = "assigned"
TRANSFER = "transfer"
CLOSED = "closed"
STATUS = "status"
CLOSE = "close"
SUGGESTIONS = "suggestions"
RELEASED = "released"
RATING = "rating"
RATING_SAVED = "rating_saved"
LIBRARY_SEARCH = "library_search"
LIBRARY_RESULTS = "library_results"

# --- error codes (stable) ------------------------------------------------------------------
INVALID_JSON = "invalid_json"
INVALID_FRAME = "invalid_frame"
UNKNOWN_TYPE = "unknown_type"
MISSING_FIELD = "missing_field"
INVALID_FIELD = "invalid_field"
TEXT_TOO_LONG = "text_too_long"
NOT_YOUR_CONVERSATION = "not_your_conversation"
NO_OPEN_CONVERSATION = "no_open_conversation"
ALREADY_AUTHENTICATED = "already_authenticated"
UNKNOWN_STATUS = "unknown_status"
TRANSFER_REASON_REQUIRED = "transfer_reason_required"
NOT_IMPLEMENTED = "not_implemented"
UNFILLED_SLOT = "unfilled_slot"
UNKNOWN_CONVERSATION = "unknown_conversation"
ASSISTANT_OFF = "assistant_off"
INTERNAL_ERROR = "internal_error"

# --- websocket close codes -----------------------------------------------------------------
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403


class FrameError(Exception):
    """A client frame the server will not accept; becomes an ``error`` frame, never a crash."""

    def __init__(self, code: str, message: str, client_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.client_id = client_id


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    kind: type | tuple[type, ...]
    required: bool = True


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def parse(text: str | bytes) -> dict[str, Any]:
    """Decode one frame; it must be a JSON object with a string ``type``."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise FrameError(INVALID_JSON, "the frame is not valid JSON") from None
    if not isinstance(data, dict):
        raise FrameError(INVALID_FRAME, "a frame must be a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str):
        raise FrameError(MISSING_FIELD, "the frame has no string 'type'", _str_or_none(data.get("client_id")))
    return data


def require(frame: dict[str, Any], *specs: FieldSpec) -> None:
    """Check the fields a frame type needs, naming the first that is missing or of the wrong kind."""
    client_id = _str_or_none(frame.get("client_id"))
    for spec in specs:
        if spec.name not in frame or frame[spec.name] is None:
            if spec.required:
                raise FrameError(MISSING_FIELD, f"'{frame['type']}' needs '{spec.name}'", client_id)
            continue
        value = frame[spec.name]
        if isinstance(value, bool) and spec.kind is int:
            raise FrameError(INVALID_FIELD, f"'{spec.name}' must be a number", client_id)
        if not isinstance(value, spec.kind):
            kinds = spec.kind if isinstance(spec.kind, tuple) else (spec.kind,)
            expected = " or ".join(k.__name__ for k in kinds)
            raise FrameError(INVALID_FIELD, f"'{spec.name}' must be {expected}", client_id)


def encode(frame: dict[str, Any]) -> str:
    """Compact JSON, encoded once and sent to every recipient as is."""
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


def message_frame(m: StoredMessage) -> dict[str, Any]:
    """A stored message as every client sees it (live, replayed, or in a past transcript)."""
    frame: dict[str, Any] = {
        "type": MESSAGE,
        "conversation_id": m.conversation_id,
        "message_id": m.message_id,
        "seq": m.seq,
        "sender": m.sender,
        "text": m.text,
        "ts": m.ts,
    }
    if m.client_id is not None:
        frame["client_id"] = m.client_id
    if m.author_name is not None:
        frame["author"] = {"name": m.author_name, "title": m.author_title or ""}
    return frame


def error_frame(code: str, message: str, client_id: str | None = None) -> str:
    frame: dict[str, Any] = {"type": ERROR, "code": code, "message": message}
    if client_id is not None:
        frame["client_id"] = client_id
    return encode(frame)
