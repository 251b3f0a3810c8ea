"""REST routes for the customer beside the chat, the shop's order feed and visitor ratings.

Operators (bearer token from ``/api/operators/login``) read a customer's context, page
through their conversations and transcripts, and edit tags, type and notes. An operator
sees only customers (and anonymous visitors) whose conversations they hold or held;
supervisors and admins see everyone. Anything an operator may not see answers exactly like
something that does not exist: ``404 not_found``.

The shop's backend pushes orders and cases with ``Authorization: Bearer
<CHAT_ORDER_FEED_KEY>``; pushes are idempotent by the shop's ids.
"""

from __future__ import annotations

import hmac
import json
import math
import re
from datetime import UTC, datetime
from typing import Any

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from chatserver.customers.context import (
    build_customer_context,
    build_visitor_context,
    conversation_json,
    conversations_json,
    profile_json,
)
from chatserver.customers.ratings import rating_problem
from chatserver.customers.segments import SegmentCutoffs, SegmentPolicy
from chatserver.customers.typology import BY_ID, catalogue
from chatserver.storage import repository as repo
from chatserver.storage.models import CustomerCasePublic

from .frames import message_frame
from .http_edge import MAX_ID, ApiError, authorize, bearer, bearer_token, json_body, optional_str
from .ratings import rating_json, save_rating
from .state import ServerState, server_state

__all__ = ["customer_routes"]

MAX_TAGS = 20
MAX_TAG_CHARS = 40
MAX_NOTES = 4000
MAX_ITEMS = 200
MAX_CASE_TEXT = 4000
MAX_PAGE = 500
_KIND_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_NOT_FOUND = {
    "customer": "no such customer",
    "visitor": "no such visitor",
    "conversation": "no such conversation",
}


def _not_found(what: str) -> ApiError:
    # One message per kind of thing, whatever the reason: absent and forbidden look alike.
    return ApiError(404, "not_found", _NOT_FOUND[what])


# --- helpers ------------------------------------------------------------------------------


async def _viewer(request: Request, state: ServerState) -> tuple[Any, int | None]:
    """The operator calling, and the id to limit reads to (None for supervisors and admins).

    Called by each route rather than wrapped around it: the history routes check the id in
    the path first, and keep doing so.
    """
    operator = await authorize(request, state, "operator")
    return operator, None if operator.role in ("admin", "supervisor") else operator.id


def _segments(request: Request, state: ServerState) -> SegmentCutoffs:
    cache: SegmentCutoffs | None = getattr(request.app.state, "customer_segments", None)
    if cache is None:
        cache = SegmentCutoffs(SegmentPolicy.from_settings(state.settings), clock=state.clock)
        request.app.state.customer_segments = cache
    return cache


def _customer_id(request: Request) -> int:
    raw = request.path_params["customer_id"]
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10 or int(raw) > MAX_ID:
        raise _not_found("customer")
    return int(raw)


def _conversation_id(request: Request) -> int:
    conversation_id: int = request.path_params["conversation_id"]
    if conversation_id > MAX_ID:
        raise _not_found("conversation")
    return conversation_id


def _int_param(request: Request, name: str, default: int | None, *, lo: int, hi: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(422, "invalid_field", f"'{name}' must be a whole number") from None
    if not lo <= value <= hi:
        raise ApiError(422, "invalid_field", f"'{name}' must be between {lo} and {hi}")
    return value


def _required_str(data: dict[str, Any], name: str, *, max_len: int) -> str:
    value = data.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if value is None:
        raise ApiError(422, "missing_field", f"'{name}' is required")
    if not isinstance(value, str) or not value.strip() or len(value) > max_len:
        raise ApiError(
            422, "invalid_field", f"'{name}' must be a non-empty string of at most {max_len} characters"
        )
    return value.strip()


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ApiError(422, "invalid_field", f"'{name}' must be a number, zero or more")
    return float(value)


def _timestamp(data: dict[str, Any], name: str) -> float | None:
    """Unix seconds, or an ISO 8601 date-time (UTC when it names no zone)."""
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ApiError(422, "invalid_field", f"'{name}' must be ISO 8601 or unix seconds") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    return _number(value, name)


# --- operators: context, history, transcripts, edits ---------------------------------------


async def customer_types(request: Request) -> Response:
    """The two typologies with their handling hints, for the console's type picker."""
    state = server_state(request.app)
    await _viewer(request, state)
    return JSONResponse(catalogue())


async def get_customer(request: Request) -> Response:
    state = server_state(request.app)
    _operator, viewer_id = await _viewer(request, state)
    customer_id = _customer_id(request)
    await _segments(request, state).ensure(state.writer)
    context = await state.writer.read(build_customer_context, customer_id=customer_id, viewer_id=viewer_id)
    if context is None:
        raise _not_found("customer")
    return JSONResponse(context)


async def get_visitor(request: Request) -> Response:
    state = server_state(request.app)
    _operator, viewer_id = await _viewer(request, state)
    visitor_id = request.path_params["visitor_id"]
    context = await state.writer.read(build_visitor_context, visitor_id=visitor_id, viewer_id=viewer_id)
    if context is None:
        raise _not_found("visitor")
    return JSONResponse(context)


async def _history(request: Request, **who: Any) -> Response:
    state = server_state(request.app)
    _operator, viewer_id = await _viewer(request, state)
    before = _int_param(request, "before", None, lo=1, hi=MAX_ID)
    limit = _int_param(request, "limit", 20, lo=1, hi=100)
    assert limit is not None
    found = await state.writer.read(
        repo.conversation_history, viewer_id=viewer_id, before=before, limit=limit + 1, **who
    )
    if found is None:
        raise _not_found("customer" if "customer_id" in who else "visitor")
    listed, handled, ratings, openings = found
    page = conversations_json(listed[:limit], handled, ratings, openings)
    more = len(listed) > limit
    return JSONResponse({"conversations": page, "next_before": page[-1]["id"] if more else None})


async def customer_conversations(request: Request) -> Response:
    """The customer's conversations, newest first; ``?before=<id>`` continues a page."""
    return await _history(request, customer_id=_customer_id(request))


async def visitor_conversations(request: Request) -> Response:
    return await _history(request, visitor_id=request.path_params["visitor_id"])


async def _transcript(request: Request, **who: Any) -> Response:
    state = server_state(request.app)
    _operator, viewer_id = await _viewer(request, state)
    after_seq = _int_param(request, "after_seq", 0, lo=0, hi=2**31)
    limit = _int_param(request, "limit", 100, lo=1, hi=MAX_PAGE)
    assert after_seq is not None and limit is not None
    found = await state.writer.read(
        repo.transcript_page,
        conversation_id=_conversation_id(request),
        viewer_id=viewer_id,
        after_seq=after_seq,
        limit=limit + 1,
        **who,
    )
    if found is None:
        raise _not_found("conversation")
    more = len(found.messages) > limit
    messages = found.messages[:limit]
    conversation = conversation_json(found.conversation, found.handled_by, found.rating, found.opening)
    return JSONResponse(
        {
            "conversation": conversation,
            "messages": [message_frame(m) for m in messages],
            "next_after_seq": messages[-1].seq if more else None,
        }
    )


async def customer_transcript(request: Request) -> Response:
    """A past conversation's messages in order: ``?after_seq=`` (0) and ``?limit=`` (100, at most 500)."""
    return await _transcript(request, customer_id=_customer_id(request))


async def visitor_transcript(request: Request) -> Response:
    return await _transcript(request, visitor_id=request.path_params["visitor_id"])


def _tags(value: Any) -> str:
    if not isinstance(value, list) or len(value) > MAX_TAGS:
        raise ApiError(422, "invalid_field", f"'tags' must be a list of at most {MAX_TAGS} strings")
    tags: dict[str, str] = {}
    for tag in value:
        if not isinstance(tag, str) or not tag.strip() or len(tag.strip()) > MAX_TAG_CHARS:
            raise ApiError(422, "invalid_field", f"each tag must be 1 to {MAX_TAG_CHARS} characters")
        tags.setdefault(tag.strip().casefold(), tag.strip())
    return json.dumps(list(tags.values()), ensure_ascii=False)


async def edit_customer(request: Request) -> Response:
    """Change tags, communication type and notes; the next operator sees them beside the chat."""
    state = server_state(request.app)
    operator, viewer_id = await _viewer(request, state)
    customer_id = _customer_id(request)
    data = await json_body(request)
    unknown = set(data) - {"tags", "type", "notes", "version"}
    if unknown:
        raise ApiError(422, "invalid_field", f"cannot edit {', '.join(sorted(unknown))}")
    changes: dict[str, Any] = {}
    if "tags" in data:
        changes["tags"] = _tags(data["tags"])
    if "type" in data:
        kind = data["type"]
        if kind is not None and (not isinstance(kind, str) or kind not in BY_ID):
            raise ApiError(
                422, "unknown_customer_type", f"no customer type {str(kind)[:80]!r}; see /api/customer-types"
            )
        changes["comm_type"] = kind
    if "notes" in data:
        notes = data["notes"]
        if not isinstance(notes, str) or len(notes) > MAX_NOTES:
            raise ApiError(
                422, "invalid_field", f"'notes' must be a string of at most {MAX_NOTES} characters"
            )
        changes["notes"] = notes
    if not changes:
        raise ApiError(422, "missing_field", "send at least one of 'tags', 'type' and 'notes'")
    version = data.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise ApiError(422, "invalid_field", "'version' must be a whole number")
    # The same visibility rule as reading: an edit never reveals that a customer exists.
    if not await state.writer.read(repo.can_view_customer, customer_id=customer_id, viewer_id=viewer_id):
        raise _not_found("customer")
    try:
        profile = await state.writer.run(
            repo.update_customer_profile,
            customer_id=customer_id,
            changes=changes,
            operator_id=operator.id,
            expected_version=version,
            now=state.clock(),
        )
    except repo.UnknownCustomer:
        raise _not_found("customer") from None
    except repo.ProfileVersionConflict as exc:
        raise ApiError(409, "edit_conflict", f"{exc}; reload and edit again") from None
    by = {"id": operator.id, "name": operator.name}
    return JSONResponse({"id": customer_id, **profile_json(profile.model_dump(), by)})


# --- the shop's feed ------------------------------------------------------------------------


def _feed(request: Request, state: ServerState) -> None:
    key = state.settings.order_feed_key
    given = bearer_token(request) or ""
    if not key or not given or not hmac.compare_digest(given.encode(), key.encode()):
        raise ApiError(401, "unauthorized", "the feed needs 'Authorization: Bearer <CHAT_ORDER_FEED_KEY>'")


def _items(value: Any) -> str:
    if value is None:
        return "[]"
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        raise ApiError(422, "invalid_field", f"'items' must be a list of at most {MAX_ITEMS} objects")
    items = []
    for item in value:
        if not isinstance(item, dict):
            raise ApiError(422, "invalid_field", "each item must be an object {name, qty, price}")
        qty = item.get("qty", 1)
        if isinstance(qty, bool) or not isinstance(qty, int | float) or qty < 0:
            raise ApiError(422, "invalid_field", "an item's 'qty' must be a number, zero or more")
        price = item.get("price")
        items.append(
            {
                "name": _required_str(item, "name", max_len=200),
                "qty": qty,
                "price": None if price is None else _number(price, "price"),
            }
        )
    return json.dumps(items, ensure_ascii=False, separators=(",", ":"))


def _refresh_segments(request: Request, state: ServerState) -> BackgroundTask:
    """After the answer is sent: recompute the segment cut-offs if they are due."""
    return BackgroundTask(_segments(request, state).ensure, state.writer)


async def put_order(request: Request) -> Response:
    """Create or update one order by the shop's id (201 the first time, 200 after)."""
    state = server_state(request.app)
    _feed(request, state)
    order_id = request.path_params["order_id"]
    if not order_id or len(order_id) > 200:
        raise ApiError(422, "invalid_field", "the order id must be 1 to 200 characters")
    data = await json_body(request)
    customer = data.get("customer")
    if customer is not None and not isinstance(customer, dict):
        raise ApiError(422, "invalid_field", "'customer' must be an object {name, email, locale}")
    details = None
    if customer:
        details = {
            "name": optional_str(customer, "name"),
            "email": optional_str(customer, "email", max_len=320),
            "locale": optional_str(customer, "locale", max_len=35),
        }
    if "total" not in data:
        raise ApiError(422, "missing_field", "'total' is required")
    currency = optional_str(data, "currency", max_len=8) or ""
    result = await state.writer.run(
        repo.upsert_order,
        order_id=order_id,
        external_customer_id=_required_str(data, "external_customer_id", max_len=200),
        status=_required_str(data, "status", max_len=40).lower(),
        total=_number(data["total"], "total"),
        currency=currency.upper(),
        placed_at=_timestamp(data, "placed_at"),
        items=_items(data.get("items")),
        source_updated_at=_timestamp(data, "updated_at"),
        customer=details,
        now=state.clock(),
    )
    order = result.row
    body = {
        "order_id": order_id,
        "result": result.outcome,
        "status": order.status,
        "customer_id": result.customer_id,
    }
    status = 201 if result.outcome == "created" else 200
    return JSONResponse(body, status_code=status, background=_refresh_segments(request, state))


async def post_event(request: Request) -> Response:
    """Create or update a return, complaint or other case by (kind, the shop's id)."""
    state = server_state(request.app)
    _feed(request, state)
    data = await json_body(request)
    kind = _required_str(data, "kind", max_len=40).lower()
    if not _KIND_RE.match(kind):
        raise ApiError(422, "invalid_field", "'kind' must be a word like return or complaint")
    text = data.get("text", "")
    if not isinstance(text, str) or len(text) > MAX_CASE_TEXT:
        raise ApiError(422, "invalid_field", f"'text' must be a string of at most {MAX_CASE_TEXT} characters")
    order_id = data.get("order_id")
    order_id = None if order_id is None else _required_str(data, "order_id", max_len=200)
    result = await state.writer.run(
        repo.upsert_case,
        kind=kind,
        case_id=_required_str(data, "id", max_len=200),
        external_customer_id=_required_str(data, "external_customer_id", max_len=200),
        status=_required_str(data, "status", max_len=40).lower(),
        text=text,
        order_id=order_id,
        source_updated_at=_timestamp(data, "updated_at"),
        now=state.clock(),
    )
    case = result.row
    assert isinstance(case, CustomerCasePublic)
    body = {
        "kind": case.kind,
        "id": case.case_id,
        "result": result.outcome,
        "status": case.status,
        "open": case.is_open,
        "customer_id": result.customer_id,
    }
    status = 201 if result.outcome == "created" else 200
    return JSONResponse(body, status_code=status, background=_refresh_segments(request, state))


# --- visitors: ratings ----------------------------------------------------------------------


async def rate_conversation(request: Request) -> Response:
    """The visitor rates one of their conversations, 1 to 5, with an optional NPS (0-10) and comment."""
    state = server_state(request.app)
    claims = bearer(request, state, "visitor")
    data = await json_body(request)
    score, nps, comment = data.get("score"), data.get("nps"), data.get("comment")
    problem = rating_problem(score, nps, comment)
    if problem is not None:
        raise ApiError(422, "invalid_field", problem)
    assert isinstance(score, int)
    rating = await save_rating(
        state,
        visitor_id=claims.subject,
        conversation_id=_conversation_id(request),
        score=score,
        nps=nps if isinstance(nps, int) else None,
        comment=comment if isinstance(comment, str) else None,
    )
    if rating is None:
        raise _not_found("conversation")
    return JSONResponse(rating_json(rating))


def customer_routes() -> list[BaseRoute]:
    customer = "/api/customers/{customer_id}"
    visitor = "/api/visitors/{visitor_id}"
    return [
        Route("/api/customer-types", customer_types, methods=["GET"]),
        Route(customer, get_customer, methods=["GET"]),
        Route(customer, edit_customer, methods=["PATCH"]),
        Route(customer + "/conversations", customer_conversations, methods=["GET"]),
        Route(
            customer + "/conversations/{conversation_id:int}/messages", customer_transcript, methods=["GET"]
        ),
        Route(visitor, get_visitor, methods=["GET"]),
        Route(visitor + "/conversations", visitor_conversations, methods=["GET"]),
        Route(visitor + "/conversations/{conversation_id:int}/messages", visitor_transcript, methods=["GET"]),
        Route("/api/feed/orders/{order_id:path}", put_order, methods=["PUT"]),
        Route("/api/feed/events", post_event, methods=["POST"]),
        Route("/api/visitor/conversations/{conversation_id:int}/rating", rate_conversation, methods=["POST"]),
    ]
