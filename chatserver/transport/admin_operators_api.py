"""Admin routes for operator accounts and teams.

- ``GET /api/admin/operators`` → ``{"operators": [operator], "roles": [...]}``
- ``POST /api/admin/operators`` → ``201`` operator; body ``email``, ``name``, ``password``, and
  optionally ``title``, ``role``, ``capacity``, ``teams``
- ``GET /api/admin/operators/{id}`` → operator
- ``PATCH /api/admin/operators/{id}`` → operator; any of ``email``, ``name``, ``title``,
  ``role``, ``capacity``, ``teams``, ``active``, ``password``
- ``GET /api/admin/teams`` → ``{"teams": [{"id", "name", "members", "active_members"}]}``
- ``POST /api/admin/teams`` → ``201`` team; body ``{"name"}``
- ``DELETE /api/admin/teams/{id}`` → ``{"id", "deleted": true}``; only a team without members

An operator is ``{"id", "email", "name", "title", "role", "capacity", "teams", "active",
"created_at", "presence": {"connected", "status", "chats"}}``; ``presence`` is what this server
process knows (``connected: false, status: "offline"`` for someone it has not seen).

Every route needs an admin's bearer token (``401 unauthorized``, ``403 forbidden``). Field
problems are ``422`` with ``{"error": {"code", "message", "field"}}`` (``missing_field``,
``invalid_field``); ``409 duplicate_email``, ``409 last_admin`` (the change would leave no active
admin), ``409 team_exists``, ``409 team_in_use``; ``404 not_found``.

Deactivating (``"active": false``) closes the operator's sockets and requeues their chats at once,
like ``POST /api/admin/operators/{id}/deactivate``. A new capacity or team set reaches routing at
once when the operator is connected to this process, otherwise when they next connect; a new name
or title shows on their messages from their next connection.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from chatserver.core import events as ev
from chatserver.storage import repository as repo
from chatserver.storage.errors import DuplicateEmail, UnknownOperator
from chatserver.storage.models import OPERATOR_ROLES, OperatorPublic

from .auth import hash_password
from .http_edge import Access, ApiError, Endpoint, json_body, requires
from .state import ServerState

__all__ = ["admin_operator_routes"]

MAX_NAME = 200
MAX_EMAIL = 320
MIN_PASSWORD = 8
MAX_PASSWORD = 200
MAX_CAPACITY = 50
MAX_TEAMS = 20
MAX_TEAM_NAME = 100
_CREATE_FIELDS = {"email", "name", "password", "title", "role", "capacity", "teams"}
_EDIT_FIELDS = _CREATE_FIELDS | {"active"}


class FieldError(ApiError):
    """A 422 (or 409) that names the field it is about, so a form can show it beside the field."""

    def __init__(self, field: str, code: str, message: str, status: int = 422) -> None:
        super().__init__(status, code, message)
        self.field = field


Handler = Callable[[Request, ServerState], Awaitable[Response]]


def _admin_route(handler: Handler) -> Endpoint:
    """The admin guard, and a FieldError's body naming its field."""

    @requires("admin")
    @wraps(handler)
    async def endpoint(request: Request, access: Access) -> Response:
        try:
            return await handler(request, access.state)
        except FieldError as exc:
            body = {"code": exc.code, "message": exc.message, "field": exc.field}
            return JSONResponse({"error": body}, status_code=exc.status)

    return endpoint


# --- field checks ---------------------------------------------------------------------------


def _text(data: dict[str, Any], name: str, *, low: int, high: int) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not (low <= len(value.strip()) <= high):
        raise FieldError(name, "invalid_field", f"'{name}' must be text of {low} to {high} characters")
    return value.strip()


def _email(data: dict[str, Any]) -> str | None:
    value = _text(data, "email", low=3, high=MAX_EMAIL)
    if value is not None and ("@" not in value or " " in value):
        raise FieldError("email", "invalid_field", "'email' must be an email address")
    return value


def _password(data: dict[str, Any]) -> str | None:
    value = data.get("password")
    if value is None:
        return None
    if not isinstance(value, str) or not (MIN_PASSWORD <= len(value) <= MAX_PASSWORD):
        raise FieldError(
            "password", "invalid_field", f"'password' must be {MIN_PASSWORD} to {MAX_PASSWORD} characters"
        )
    return value


def _role(data: dict[str, Any]) -> str | None:
    value = data.get("role")
    if value is not None and value not in OPERATOR_ROLES:
        raise FieldError("role", "invalid_field", "'role' must be one of " + ", ".join(OPERATOR_ROLES))
    return value if isinstance(value, str) else None


def _capacity(data: dict[str, Any]) -> int | None:
    value = data.get("capacity")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not (0 <= value <= MAX_CAPACITY):
        raise FieldError(
            "capacity", "invalid_field", f"'capacity' must be a whole number from 0 to {MAX_CAPACITY}"
        )
    return value


def _teams(data: dict[str, Any]) -> list[str] | None:
    value = data.get("teams")
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > MAX_TEAMS:
        raise FieldError(
            "teams", "invalid_field", f"'teams' must be a list of at most {MAX_TEAMS} team names"
        )
    names: list[str] = []
    for item in value:
        if not isinstance(item, str) or not (1 <= len(item.strip()) <= MAX_TEAM_NAME):
            raise FieldError(
                "teams", "invalid_field", f"each team name must be 1 to {MAX_TEAM_NAME} characters"
            )
        if item.strip() not in names:
            names.append(item.strip())
    return names


def _active(data: dict[str, Any]) -> bool | None:
    value = data.get("active")
    if value is not None and not isinstance(value, bool):
        raise FieldError("active", "invalid_field", "'active' must be true or false")
    return value


def _unknown_fields(data: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise FieldError(unknown[0], "invalid_field", f"unknown field '{unknown[0]}'")


# --- operators ------------------------------------------------------------------------------


def _operator_json(state: ServerState, op: OperatorPublic) -> dict[str, Any]:
    seen = state.hub.engine.presence.operator(op.id)
    presence = {"connected": seen.connected, "status": seen.status, "chats": seen.chats}
    return {
        "id": op.id,
        "email": op.email,
        "name": op.name,
        "title": op.title,
        "role": op.role,
        "capacity": op.capacity,
        "teams": list(op.teams),
        "active": op.active,
        "created_at": op.created_at,
        "presence": presence,
    }


async def _find(state: ServerState, operator_id: int) -> OperatorPublic:
    op = await state.writer.read(repo.get_operator, operator_id=operator_id)
    if op is None:
        raise ApiError(404, "not_found", "no such operator")
    return op


@_admin_route
async def list_operators(request: Request, state: ServerState) -> Response:
    operators = await state.writer.read(repo.list_operators)
    return JSONResponse(
        {"operators": [_operator_json(state, op) for op in operators], "roles": list(OPERATOR_ROLES)}
    )


@_admin_route
async def get_operator(request: Request, state: ServerState) -> Response:
    op = await _find(state, request.path_params["operator_id"])
    return JSONResponse(_operator_json(state, op))


@_admin_route
async def create_operator(request: Request, state: ServerState) -> Response:
    data = await json_body(request)
    _unknown_fields(data, _CREATE_FIELDS)
    for required in ("email", "name", "password"):
        if data.get(required) in (None, ""):
            raise FieldError(required, "missing_field", f"'{required}' is required")
    email, password = _email(data), _password(data)
    name = _text(data, "name", low=1, high=MAX_NAME)
    title = _text(data, "title", low=0, high=MAX_NAME)
    capacity = _capacity(data)
    assert email is not None and password is not None and name is not None
    try:
        op = await state.writer.run(
            repo.create_operator,
            email=email,
            name=name,
            title=title or "",
            role=_role(data) or "operator",
            capacity=state.settings.default_capacity if capacity is None else capacity,
            teams=_teams(data) or [],
            password_hash=hash_password(password),
            now=state.clock(),
        )
    except DuplicateEmail:
        raise FieldError("email", "duplicate_email", "another account has this email", status=409) from None
    return JSONResponse(_operator_json(state, op), status_code=201)


@_admin_route
async def edit_operator(request: Request, state: ServerState) -> Response:
    operator_id: int = request.path_params["operator_id"]
    data = await json_body(request)
    _unknown_fields(data, _EDIT_FIELDS)
    if not data:
        raise FieldError("", "missing_field", "nothing to change")
    password = _password(data)
    changes: dict[str, Any] = {
        "email": _email(data),
        "name": _text(data, "name", low=1, high=MAX_NAME),
        "title": _text(data, "title", low=0, high=MAX_NAME),
        "role": _role(data),
        "capacity": _capacity(data),
        "teams": _teams(data),
        "active": _active(data),
        "password_hash": hash_password(password) if password is not None else None,
    }
    before = await _find(state, operator_id)
    try:
        op = await state.writer.run(repo.update_operator, operator_id=operator_id, **changes)
    except UnknownOperator:
        raise ApiError(404, "not_found", "no such operator") from None
    except DuplicateEmail:
        raise FieldError("email", "duplicate_email", "another account has this email", status=409) from None
    except repo.LastAdmin:
        field = "active" if changes["active"] is False else "role"
        raise FieldError(
            field, "last_admin", "this is the last active admin: make someone else an admin first", status=409
        ) from None
    if before.active and not op.active:
        await state.hub.deactivate_operator(operator_id)
    elif op.active and (op.capacity != before.capacity or set(op.teams) != set(before.teams)):
        if state.hub.engine.presence.operator(operator_id).connected:
            state.hub.dispatch(ev.OperatorUpdated(operator_id, frozenset(op.teams), op.capacity))
    return JSONResponse(_operator_json(state, op))


# --- teams ----------------------------------------------------------------------------------


@_admin_route
async def list_teams(request: Request, state: ServerState) -> Response:
    return JSONResponse({"teams": await state.writer.read(repo.list_teams_with_members)})


@_admin_route
async def create_team(request: Request, state: ServerState) -> Response:
    data = await json_body(request)
    _unknown_fields(data, {"name"})
    if not data.get("name"):
        raise FieldError("name", "missing_field", "'name' is required")
    name = _text(data, "name", low=1, high=MAX_TEAM_NAME)
    assert name is not None
    try:
        team = await state.writer.run(repo.create_team, name=name)
    except repo.TeamExists:
        raise FieldError("name", "team_exists", f"a team named {name!r} already exists", status=409) from None
    return JSONResponse(
        {"id": team.id, "name": team.name, "members": [], "active_members": 0}, status_code=201
    )


@_admin_route
async def delete_team(request: Request, state: ServerState) -> Response:
    team_id: int = request.path_params["team_id"]
    try:
        await state.writer.run(repo.delete_team, team_id=team_id)
    except repo.UnknownTeam:
        raise ApiError(404, "not_found", "no such team") from None
    except repo.TeamInUse as exc:
        raise ApiError(
            409, "team_in_use", f"team {exc.name!r} still has {exc.members} member(s): move them first"
        ) from None
    return JSONResponse({"id": team_id, "deleted": True})


def admin_operator_routes() -> list[BaseRoute]:
    operator = "/api/admin/operators/{operator_id:int}"
    return [
        Route("/api/admin/operators", list_operators, methods=["GET"]),
        Route("/api/admin/operators", create_operator, methods=["POST"]),
        Route(operator, get_operator, methods=["GET"]),
        Route(operator, edit_operator, methods=["PATCH"]),
        Route("/api/admin/teams", list_teams, methods=["GET"]),
        Route("/api/admin/teams", create_team, methods=["POST"]),
        Route("/api/admin/teams/{team_id:int}", delete_team, methods=["DELETE"]),
    ]
