"""What every REST route shares: JSON error bodies, body parsing and the one bearer-token guard.

Errors are ``{"error": {"code", "message"}}`` (and ``"field"`` when one field is at fault) with
stable codes; no input reaches a route's code in a shape that can make it fail with a 500:

- a body is read from the stream up to ``CHAT_MAX_BODY_BYTES`` and no further
  (``413 body_too_large``), so a huge body is never held in memory;
- it must be UTF-8 JSON with no duplicate keys, no ``NaN``/``Infinity`` and at most
  ``MAX_DEPTH`` levels of nesting (``400 invalid_json``), and an object (``400 invalid_body``);
- every string in it must be encodable text (no lone surrogates such as ``"\\ud800"``, no NUL)
  and every number must fit in 64 bits (``422 invalid_field`` naming the top-level field);
- a bearer token that is not short printable ASCII is no token at all (``401 unauthorized``).
 Operator and admin routes are
wrapped by ``requires``: a missing, expired or foreign token, or an unknown or deactivated
account, is ``401 unauthorized``; a signed-in operator without the needed role is
``403 forbidden``. The check runs before the route reads anything else of the request.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, Literal

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chatserver.storage import repository as repo
from chatserver.storage.models import OperatorPublic

from .auth import TokenClaims
from .state import ServerState, server_state

__all__ = [
    "MAX_BODY",
    "MAX_DEPTH",
    "MAX_ID",
    "MAX_TOKEN",
    "Access",
    "ApiError",
    "Endpoint",
    "Role",
    "api_error_handler",
    "authorize",
    "bearer",
    "bearer_token",
    "error_response",
    "http_error_handler",
    "json_body",
    "optional_str",
    "parse_json",
    "read_body",
    "requires",
]

MAX_BODY = 64 * 1024  # the default of CHAT_MAX_BODY_BYTES
MAX_DEPTH = 32  # arrays and objects inside each other; no route needs more than a few
MAX_TOKEN = 4096  # our tokens are ~100 characters
MAX_ID = 2**31 - 1  # ids are 32-bit: a larger one in a path names nothing
_INT64 = 2**63 - 1

Role = Literal["operator", "admin"]
Endpoint = Callable[[Request], Awaitable[Response]]

_UNAUTHORIZED = "a valid bearer token is required"


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


def error_response(status: int, code: str, message: str, *, field: str | None = None) -> JSONResponse:
    body: dict[str, str] = {"code": code, "message": message}
    if field is not None:
        body["field"] = field
    return JSONResponse({"error": body}, status_code=status)


async def api_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, field=exc.field)


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


async def http_error_handler(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (no route, a path parameter of the wrong shape, a wrong method) as JSON."""
    assert isinstance(exc, HTTPException)
    response = error_response(exc.status_code, _HTTP_CODES.get(exc.status_code, "http_error"), exc.detail)
    response.headers.update(exc.headers or {})
    return response


# --- bodies -----------------------------------------------------------------------------------


def _body_limit(request: Request) -> int:
    state = getattr(request.app.state, "chat", None)
    return state.settings.max_body_bytes if state is not None else MAX_BODY


async def read_body(request: Request, *, limit: int) -> bytes:
    """The raw body, read from the stream and refused (413) as soon as it passes ``limit`` bytes."""
    too_large = ApiError(413, "body_too_large", f"the body is larger than {limit} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _invalid_json(message: str = "the body is not valid JSON") -> ApiError:
    return ApiError(400, "invalid_json", message)


def _no_constants(name: str) -> Any:
    raise _invalid_json(f"the body is not valid JSON: {name} is not a number")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data = dict(pairs)
    if len(data) != len(pairs):
        raise _invalid_json("the body is not valid JSON: an object repeats a key")
    return data


def _bad_text(text: str) -> bool:
    if "\x00" in text:
        return True
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, from a "\ud800" escape
        return True
    return False


def _field_problem(value: Any, depth: int) -> str | None:
    """Why this parsed value cannot be used, or None; raises invalid_json for structure faults."""
    stack = [(value, depth)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            if level >= MAX_DEPTH:
                raise _invalid_json(f"the body nests arrays and objects deeper than {MAX_DEPTH} levels")
            if isinstance(item, dict):
                for key in item:
                    if _bad_text(key):
                        raise _invalid_json("the body is not valid JSON: a key is not valid text")
                stack.extend((v, level + 1) for v in item.values())
            else:
                stack.extend((v, level + 1) for v in item)
        elif isinstance(item, str):
            if _bad_text(item):
                return "holds a lone surrogate or a NUL character"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return "holds a number out of range"
        elif isinstance(item, int) and not isinstance(item, bool) and not -_INT64 <= item <= _INT64:
            return "holds a number out of range"
    return None


def parse_json(raw: bytes) -> Any:
    """The JSON value of a body, checked as the module docstring says; ApiError otherwise."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _invalid_json("the body is not UTF-8 text") from None
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constants)
    except RecursionError:
        raise _invalid_json(f"the body nests arrays and objects deeper than {MAX_DEPTH} levels") from None
    except ValueError:  # also an integer of more than 4300 digits
        raise _invalid_json() from None
    if isinstance(data, dict):
        for key, value in data.items():
            if _bad_text(key):
                raise _invalid_json("the body is not valid JSON: a key is not valid text")
            problem = _field_problem(value, 1)
            if problem is not None:
                raise ApiError(422, "invalid_field", f"'{key}' {problem}", field=key)
    else:
        problem = _field_problem(data, 0)
        if problem is not None:
            raise ApiError(422, "invalid_field", f"the body {problem}")
    return data


async def json_body(request: Request) -> dict[str, Any]:
    """The body as a JSON object (an empty body is ``{}``)."""
    raw = await read_body(request, limit=_body_limit(request))
    if not raw.strip():
        return {}
    data = parse_json(raw)
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_body", "the body must be a JSON object")
    return data


def optional_str(data: dict[str, Any], name: str, *, max_len: int = 200) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_len:
        raise ApiError(
            422, "invalid_field", f"'{name}' must be a string of at most {max_len} characters", field=name
        )
    return value


# --- the guard ------------------------------------------------------------------------------


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    token = header[7:].strip()
    # Header bytes arrive as latin-1 text: anything outside printable ASCII is no token of ours.
    if not token or len(token) > MAX_TOKEN or not token.isascii() or not token.isprintable():
        return None
    return token


def bearer(request: Request, state: ServerState, kind: str) -> TokenClaims:
    """The claims of a valid, unexpired token of this kind (``visitor`` or ``operator``); else 401."""
    claims = state.signer.check(bearer_token(request), kind=kind, now=state.clock())
    if claims is None:
        raise ApiError(401, "unauthorized", _UNAUTHORIZED)
    return claims


async def authorize(request: Request, state: ServerState, role: Role) -> OperatorPublic:
    """The active operator the token names, holding ``role`` (admin) or any role (operator)."""
    claims = bearer(request, state, "operator")
    operator = await state.writer.read(repo.get_operator, operator_id=int(claims.subject))
    if operator is None or not operator.active:
        raise ApiError(401, "unauthorized", _UNAUTHORIZED)
    if role == "admin" and operator.role != "admin":
        raise ApiError(403, "forbidden", "this needs an admin account")
    return operator


@dataclass(frozen=True, slots=True)
class Access:
    """What a guarded route is given: the server state and the operator who called it."""

    state: ServerState
    operator: OperatorPublic


GuardedHandler = Callable[[Request, Access], Awaitable[Response]]


def requires(role: Role) -> Callable[[GuardedHandler], Endpoint]:
    """Turn ``handler(request, access)`` into a route endpoint that checks the caller first."""

    def decorate(handler: GuardedHandler) -> Endpoint:
        @wraps(handler)
        async def endpoint(request: Request) -> Response:
            state = server_state(request.app)
            operator = await authorize(request, state, role)
            for value in request.path_params.values():  # an {id:int} beyond any id
                if isinstance(value, int) and value > MAX_ID:
                    raise ApiError(404, "not_found", "nothing has this id")
            return await handler(request, Access(state, operator))

        return endpoint

    return decorate
