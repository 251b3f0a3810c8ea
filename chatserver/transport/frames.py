"""Frame names, error codes, the parsing of client frames and the builders of server frames.

The widget and the console mirror these names (``tests/transport/test_frame_names.py`` checks
that they do). Every frame is one JSON object with a string ``type``. Parsing turns raw text
into a dict that has the fields its type requires, or raises ``FrameError`` with a stable code;
the endpoint turns that into an ``error`` frame and keeps the socket open. Every frame the
server sends is built here, so that one kind of frame has one shape wherever it is sent from.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from orjson import dumps as _orjson_dumps

from chatserver.core.effects import Refused, TransferAlternative
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
PAGE = "page"  # ← visitor: the page they are on; → operator: the same, for the chat in view
TRANSFER_OFFER = "transfer_offer"  # → receiver: the briefing
TRANSFER_ACCEPT = "transfer_accept"  # ← receiver
TRANSFER_DECLINE = "transfer_decline"  # ← receiver
TRANSFER_CANCEL = "transfer_cancel"  # ← original operator
TRANSFER_OFFER_WITHDRAWN = "transfer_offer_withdrawn"  # → receiver
TRANSFER_STATUS = "transfer_status"  # → original operator
TRANSFER_UPDATE = "transfer_update"  # → visitor
HOLD = "hold"  # → visitor: a wait-filler
LEAVE_MESSAGE = "leave_message"  # ← visitor
MESSAGE_LEFT = "message_left"  # → visitor (confirmation) and → operator (answer later)
MESSAGE_ANSWERED = "message_answered"  # → visitor, before the replay of an answered left message
NUDGE = "nudge"  # → operator
SITUATION = "situation"  # ← operator: the situation of a visitor message, as the operator sees it
WRAP_UP = "wrap_up"  # ← operator: ask "anything else?"; → visitor and operator: the question asked
WRAP_UP_ANSWER = "wrap_up_answer"  # ← visitor: "done" (close) or "more"; → operator: the same
WATCH = "watch"  # ← supervisor: follow a live chat silently; → supervisor: who is in it, then the replay
UNWATCH = "unwatch"  # ← supervisor: stop following it; → supervisor: the same, confirmed
WHISPER = "whisper"  # ← supervisor; → the operator holding the chat and the supervisor's consoles
TAKE_OVER = "take_over"  # ← supervisor: a transfer to themselves, accepted at once
CHECK_BACK = "check_back"  # ← operator: "I'll find out" by a time; → visitor and operator
CHECK_BACK_DUE = "check_back_due"  # → operator: the time promised is near
CHECK_BACK_ANSWERED = (
    "check_back_answered"  # → operator: their message answered a check-back or a left message
)
IDEA = "idea"  # ← operator: visitor message ``seq`` asks for a feature (``text``: an optional summary)
IDEA_RECORDED = "idea_recorded"  # → operator: it was counted
IDEA_NEWS = "idea_news"  # → visitor, before the replay of a closed chat that holds news of their idea
BOUNDARY = "boundary"  # ← operator: warn, cool_down or block an abusive visitor; → both: the step taken
BOUNDARY_NOTICE = "boundary_notice"  # → supervisors: a cool-down, block or lift, with who and why

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
TRANSFER_TARGET_OFFLINE = "transfer_target_offline"
TRANSFER_TARGET_BUSY = "transfer_target_busy"
TRANSFER_TEXT_INCOMPLETE = "transfer_text_incomplete"
TRANSFER_IN_PROGRESS = "transfer_in_progress"
UNKNOWN_TRANSFER_TARGET = "unknown_transfer_target"
NO_TRANSFER_OFFER = "no_transfer_offer"
NO_TRANSFER = "no_transfer"
NOT_WAITING = "not_waiting"
RATE_LIMITED = "rate_limited"
NOT_WRAPPING_UP = "not_wrapping_up"
NOT_A_SUPERVISOR = "not_a_supervisor"
NO_OPERATOR = "no_operator"
COOLING_DOWN = "cooling_down"  # the visitor may not write until ``until``
VISITOR_BLOCKED = "visitor_blocked"  # session, hello: this visitor or customer is blocked

# --- websocket close codes -----------------------------------------------------------------
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403
CLOSE_POLICY = 1008  # a flood of frames, or a client that does not read what it is sent
CLOSE_SEND_FAILED = 1011
CLOSE_BLOCKED = 4410  # a blocked visitor (reason "visitor_blocked")


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


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError("a number too large for a float")
    return value


_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite)


def _unicode_problem(data: Any) -> bool:
    """Whether decoding gave a string that is not Unicode text (a lone surrogate escape, ``\\ud800``)."""
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, RecursionError):
        return True
    return False


def parse(text: str | bytes) -> dict[str, Any]:
    """Decode one frame; it must be a JSON object with a string ``type``.

    Refused as ``invalid_json``: what is not UTF-8 JSON, NaN and Infinity, numbers beyond a
    float, integers of more than 4300 digits, nesting too deep to decode, and strings holding
    a lone surrogate (``"\\ud800"`` decodes but can never be stored or sent). A repeated key:
    the last one counts.
    """
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        data = _DECODER.decode(text)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise FrameError(INVALID_JSON, "the frame is not valid JSON") from None
    if "\\u" in text and _unicode_problem(data):
        raise FrameError(INVALID_JSON, "the frame holds a lone surrogate, which is not Unicode text")
    if not isinstance(data, dict):
        raise FrameError(INVALID_FRAME, "a frame must be a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str):
        raise FrameError(MISSING_FIELD, "the frame has no string 'type'", _str_or_none(data.get("client_id")))
    return data


def int64(value: Any) -> TypeGuard[int]:
    """A whole number (not a bool) that storage can hold: a signed 64-bit integer."""
    return isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63


def require(frame: dict[str, Any], *specs: FieldSpec) -> None:
    """Check the fields a frame type needs, naming the first that is missing or of the wrong kind."""
    client_id = _str_or_none(frame.get("client_id"))
    for spec in specs:
        if spec.name not in frame or frame[spec.name] is None:
            if spec.required:
                raise FrameError(MISSING_FIELD, f"'{frame['type']}' needs '{spec.name}'", client_id)
            continue
        value = frame[spec.name]
        if spec.kind is int and not int64(value):
            if isinstance(value, int) and not isinstance(value, bool):
                raise FrameError(INVALID_FIELD, f"'{spec.name}' is out of range", client_id)
            raise FrameError(INVALID_FIELD, f"'{spec.name}' must be a number", client_id)
        if not isinstance(value, spec.kind):
            kinds = spec.kind if isinstance(spec.kind, tuple) else (spec.kind,)
            expected = " or ".join(k.__name__ for k in kinds)
            raise FrameError(INVALID_FIELD, f"'{spec.name}' must be {expected}", client_id)


def encode(frame: dict[str, Any]) -> str:
    """Compact JSON, encoded once and sent to every recipient as is.

    orjson writes a message frame about ten times faster than the standard library (0.5 us
    against 5 us here, several frames per chat message); what it refuses (keys that are not
    strings, integers beyond 64 bits) is written by the standard library as before.
    """
    try:
        return _orjson_dumps(frame).decode("utf-8")
    except TypeError:  # orjson.JSONEncodeError is a TypeError
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


# --- builders of server frames -------------------------------------------------------------
# Dicts, except where noted: the hub publishes them, and ``encode`` makes the text once.

Reply = dict[str, Any] | None  # what a request handler answers: None when done, else an error frame


def visitor_welcome_frame(visitor_id: str, conversation_id: int | None) -> dict[str, Any]:
    """To the widget after its hello: who it is, and its open conversation (None when there is none)."""
    return {"type": WELCOME, "visitor_id": visitor_id, "conversation_id": conversation_id}


def operator_welcome_frame(
    *, operator_id: int, name: str, title: str, role: str, teams: Iterable[str], capacity: int
) -> dict[str, Any]:
    """To the console after its hello: the operator's own account as routing knows it."""
    return {
        "type": WELCOME,
        "operator": {
            "id": operator_id,
            "name": name,
            "title": title,
            "role": role,
            "teams": list(teams),
            "capacity": capacity,
        },
    }


def status_frame(status: str) -> dict[str, Any]:
    """To the operator: the status they asked for is theirs now."""
    return {"type": STATUS, "status": status}


def rating_saved_frame(rating: Mapping[str, Any], client_id: str | None = None) -> dict[str, Any]:
    """To the visitor: their rating as stored (``rating``: its JSON fields)."""
    frame: dict[str, Any] = {"type": RATING_SAVED, **rating}
    if client_id is not None:
        frame["client_id"] = client_id
    return frame


def library_results_frame(query: str, conversation_id: int | None, items: list[Any]) -> dict[str, Any]:
    """To the operator: the library replies matching their search, filled for the chat in view."""
    return {"type": LIBRARY_RESULTS, "query": query, "conversation_id": conversation_id, "items": items}


def page_frame(conversation_id: int, *, url: str, title: str | None, ts: float) -> dict[str, Any]:
    """To the operator: the page the visitor of this chat is on."""
    return {"type": PAGE, "conversation_id": conversation_id, "url": url, "title": title, "ts": ts}


def ack_frame(m: StoredMessage) -> str:
    """The sender's receipt for a stored message (encoded: it goes to one socket as is)."""
    return encode({"type": ACK, "client_id": m.client_id, "message_id": m.message_id, "seq": m.seq})


def wait_range(low_s: int | None, high_s: int | None) -> dict[str, int | None]:
    """The range around an estimate, as every frame with an estimate carries it."""
    return {"low_s": low_s, "high_s": high_s}


def person(info: Mapping[str, Any]) -> dict[str, Any]:
    """An operator as the visitor sees them: name and title, nothing else."""
    return {"name": info["name"], "title": info["title"]}


def queue_frame(
    conversation_id: int,
    *,
    position: int,
    estimated_wait_s: int | None,
    operators_online: int,
    low_s: int | None,
    high_s: int | None,
    kind: str,
    late: bool = False,
    low_ms: int | None = None,
    high_ms: int | None = None,
) -> dict[str, Any]:
    """Where a waiting visitor stands; ``late`` only when the previous promise was about to break.

    ``low_ms`` / ``high_ms`` are the calibrated range in milliseconds (a wait of a fraction of a
    second has no honest range in whole seconds); ``high_s`` stays the promise."""
    frame: dict[str, Any] = {
        "type": QUEUE,
        "conversation_id": conversation_id,
        "position": position,
        "estimated_wait_s": estimated_wait_s,
        "operators_online": operators_online,
        **wait_range(low_s, high_s),
        "low_ms": low_ms,
        "high_ms": high_ms,
        "kind": kind,
    }
    if late:
        frame["late"] = True
    return frame


def visitor_assigned_frame(conversation_id: int, operator: Mapping[str, Any]) -> dict[str, Any]:
    """To the visitor: who is with them now."""
    return {"type": ASSIGNED, "conversation_id": conversation_id, "operator": person(operator)}


def operator_assigned_frame(
    conversation_id: int, *, visitor_id: str, locale: str | None, customer: Any
) -> dict[str, Any]:
    """To the operator: who the visitor is; the conversation's messages follow."""
    return {
        "type": ASSIGNED,
        "conversation_id": conversation_id,
        "visitor": {"id": visitor_id, "locale": locale},
        "customer": customer,
    }


def wrap_up_frame(conversation_id: int, question: str) -> dict[str, Any]:
    return {"type": WRAP_UP, "conversation_id": conversation_id, "question": question}


def wrap_up_answer_frame(conversation_id: int, answer: str) -> dict[str, Any]:
    return {"type": WRAP_UP_ANSWER, "conversation_id": conversation_id, "answer": answer}


def closed_frame(conversation_id: int) -> dict[str, Any]:
    return {"type": CLOSED, "conversation_id": conversation_id}


def released_frame(conversation_id: int) -> dict[str, Any]:
    """To the operator: the chat is no longer theirs (grace period over, or transferred)."""
    return {"type": RELEASED, "conversation_id": conversation_id}


def typing_frame(conversation_id: int, on: bool, sender: str) -> dict[str, Any]:
    return {"type": TYPING, "conversation_id": conversation_id, "on": on, "from": sender}


def alternative_json(a: TransferAlternative) -> dict[str, Any]:
    """A transfer that could work instead of a refused one."""
    return {
        "to": {"team": a.team} if a.team is not None else None,
        "queue": a.queue,
        "operators_online": a.operators_online,
        "free_slots": a.free_slots,
        "estimated_wait_s": a.estimated_wait_s,
        **wait_range(a.low_s, a.high_s),
    }


def refusal_frame(refused: Refused) -> dict[str, Any]:
    """The core said no: an ``error`` about the conversation, with alternatives when there are any."""
    frame: dict[str, Any] = {
        "type": ERROR,
        "code": refused.code,
        "message": refused.message,
        "conversation_id": refused.conversation_id,
    }
    if refused.alternatives:
        frame["alternatives"] = [alternative_json(a) for a in refused.alternatives]
    return frame


def transfer_text_incomplete_frame(conversation_id: int, missing: list[str]) -> dict[str, Any]:
    return {
        "type": ERROR,
        "code": TRANSFER_TEXT_INCOMPLETE,
        "message": "the announcement must keep the "
        + ", the ".join(missing)
        + ": write the reason and the benefit as given (or {reason}, {benefit}) and put {wait} "
        "where the server writes the estimate",
        "conversation_id": conversation_id,
        "missing": missing,
    }


def transfer_frame(
    conversation_id: int,
    *,
    text: str,
    estimated_wait_s: int | None,
    low_s: int | None,
    high_s: int | None,
    status: str,
    to: dict[str, Any],
    reason: str,
    benefit: str,
) -> dict[str, Any]:
    """To the visitor: the handoff announcement (its text is also stored as a system message)."""
    return {
        "type": TRANSFER,
        "conversation_id": conversation_id,
        "text": text,
        "estimated_wait_s": estimated_wait_s,
        **wait_range(low_s, high_s),
        "status": status,
        "to": to,
        "reason": reason,
        "benefit": benefit,
    }


def transfer_status_frame(conversation_id: int, status: str, **details: Any) -> dict[str, Any]:
    """To the operator who transfers: how their transfer goes (``details`` depend on the status)."""
    return {"type": TRANSFER_STATUS, "conversation_id": conversation_id, "status": status, **details}


def transfer_update_frame(conversation_id: int, status: str, text: str, **details: Any) -> dict[str, Any]:
    """To the visitor: the transfer moved on (another colleague is asked, or it came back)."""
    return {
        "type": TRANSFER_UPDATE,
        "conversation_id": conversation_id,
        "status": status,
        "text": text,
        **details,
    }


def transfer_offer_frame(
    conversation_id: int,
    *,
    sender: Mapping[str, Any],
    reason: str,
    benefit: str,
    attempt: int,
    expires_in_s: int,
    visitor_id: str,
    locale: str | None,
    customer: Any,
    transcript: list[StoredMessage],
) -> dict[str, Any]:
    """To the colleague asked to take the chat: why, what the visitor gains, who they are, the chat."""
    return {
        "type": TRANSFER_OFFER,
        "conversation_id": conversation_id,
        "from": {"id": sender["id"], "name": sender["name"], "title": sender["title"]},
        "reason": reason,
        "benefit": benefit,
        "attempt": attempt,
        "expires_in_s": expires_in_s,
        "visitor": {"id": visitor_id, "locale": locale},
        "customer": customer,
        "transcript": [message_frame(m) for m in transcript],
    }


def transfer_offer_withdrawn_frame(conversation_id: int, reason: str) -> dict[str, Any]:
    return {"type": TRANSFER_OFFER_WITHDRAWN, "conversation_id": conversation_id, "reason": reason}


def hold_frame(
    conversation_id: int,
    *,
    kind: str,
    text: str,
    position: int | None,
    estimated_wait_s: int | None,
    low_s: int | None,
    high_s: int | None,
) -> dict[str, Any]:
    """To the waiting visitor: a wait-filler (a frame, never a stored message)."""
    return {
        "type": HOLD,
        "conversation_id": conversation_id,
        "kind": kind,
        "text": text,
        "position": position,
        "estimated_wait_s": estimated_wait_s,
        **wait_range(low_s, high_s),
    }


def message_left_frame(conversation_id: int, email: str | None = None) -> dict[str, Any]:
    """To the visitor: confirmed. To the operator: answer later; ``email`` where the answer is mailed too."""
    frame: dict[str, Any] = {"type": MESSAGE_LEFT, "conversation_id": conversation_id}
    if email is not None:
        frame["email"] = email
    return frame


def check_back_frame(conversation_id: int, due_at: float, in_s: int, remind_at: float) -> dict[str, Any]:
    """``remind_at``: when the operator is reminded (a console that was away shows the reminder then)."""
    return {
        "type": CHECK_BACK,
        "conversation_id": conversation_id,
        "due_at": due_at,
        "in_s": in_s,
        "remind_at": remind_at,
    }


def message_answered_frame(conversation_id: int) -> dict[str, Any]:
    return {"type": MESSAGE_ANSWERED, "conversation_id": conversation_id}


def nudge_frame(
    conversation_id: int, *, stage: str, unanswered_since: float, waited_s: int, text: str | None = None
) -> dict[str, Any]:
    """To the operator: the visitor has waited long for an answer (``text``: what was said for them)."""
    frame: dict[str, Any] = {
        "type": NUDGE,
        "conversation_id": conversation_id,
        "stage": stage,
        "unanswered_since": unanswered_since,
        "waited_s": waited_s,
    }
    if text is not None:
        frame["text"] = text
    return frame


# --- supervisors ---------------------------------------------------------------------------


def watch_frame(
    conversation_id: int, *, visitor_id: str, operator_id: int | None, state: str
) -> dict[str, Any]:
    """To a supervisor who starts watching: who is in the chat; the replay of its messages follows."""
    return {
        "type": WATCH,
        "conversation_id": conversation_id,
        "visitor_id": visitor_id,
        "operator_id": operator_id,
        "state": state,
    }


def unwatch_frame(conversation_id: int) -> dict[str, Any]:
    return {"type": UNWATCH, "conversation_id": conversation_id}


def whisper_frame(
    conversation_id: int,
    *,
    whisper_id: int,
    text: str,
    ts: float,
    supervisor: Mapping[str, Any],
    operator_id: int | None,
    client_id: str | None = None,
) -> dict[str, Any]:
    """A supervisor's note to the operator holding the chat; never sent to a visitor."""
    frame: dict[str, Any] = {
        "type": WHISPER,
        "conversation_id": conversation_id,
        "whisper_id": whisper_id,
        "text": text,
        "ts": ts,
        "from": {"id": supervisor["id"], "name": supervisor["name"], "title": supervisor["title"]},
        "operator_id": operator_id,
    }
    if client_id is not None:
        frame["client_id"] = client_id
    return frame
