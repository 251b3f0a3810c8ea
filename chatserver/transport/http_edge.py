"""What every REST route shares: JSON error bodies, body parsing and the one bearer-token guard.

Errors are ``{"error": {"code", "message"}}`` with stable codes. Operator and admin routes are
wrapped by ``requires``: a missing, expired or foreign token, or an unknown or deactivated
account, is ``401 unauthorized``; a signed-in operator without the needed role is
``403 forbidden``. The check runs before the route reads anything else of the request.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chatserver.storage import repository as repo
from chatserver.storage.models import OperatorPublic

from .auth import TokenClaims
from .state import ServerState, server_state

__all__ = [
    "MAX_BODY",
    "Access",
    "ApiError",
    "Endpoint",
    "Role",
    "api_error_handler",
    "authorize",
    "bearer",
    "bearer_token",
    "error_response",
    "json_body",
    "optional_str",
    "requires",
]

MAX_BODY = 64 * 1024

Role = Literal["operator", "admin"]
Endpoint = Callable[[Request], Awaitable[Response]]

_UNAUTHORIZED = "a valid bearer token is required"


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


async def api_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message)


async def json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise ApiError(413, "body_too_large", f"the body is larger than {MAX_BODY} bytes")
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise ApiError(400, "invalid_json", "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_body", "the body must be a JSON object")
    return data


def optional_str(data: dict[str, Any], name: str, *, max_len: int = 200) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_len:
        raise ApiError(422, "invalid_field", f"'{name}' must be a string of at most {max_len} characters")
    return value


# --- the guard ------------------------------------------------------------------------------


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


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
            return await handler(request, Access(state, operator))

        return endpoint

    return decorate
