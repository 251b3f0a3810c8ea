"""Admin routes for the hold-message library: read it, replace it, reset it to the shipped default.

``GET /api/admin/hold-messages`` → ``200 {"library": {...}, "placeholders": {...}}``
``PUT /api/admin/hold-messages`` body: the library → ``200 {"library": {...}}``, or
``422 invalid_hold_library`` naming the line and the rule it breaks.
``DELETE /api/admin/hold-messages`` → ``200 {"library": <the default>}``.

Every route needs an admin's bearer token (401 without one, 403 for another role).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from chatserver.core import hold

from .http_edge import Access, ApiError, json_body, requires

__all__ = ["hold_routes"]

INVALID_HOLD_LIBRARY = "invalid_hold_library"


def _placeholders() -> dict[str, list[str]]:
    return {kind: list(allowed) for kind, allowed in hold.KINDS.items()}


@requires("admin")
async def get_hold_messages(request: Request, access: Access) -> Response:
    state = access.state
    library = await state.hub.etiquette.hold_library()
    return JSONResponse({"library": library, "placeholders": _placeholders()})


@requires("admin")
async def put_hold_messages(request: Request, access: Access) -> Response:
    state = access.state
    data = await json_body(request)
    try:
        library = await state.hub.etiquette.replace_hold_library(data)
    except hold.InvalidHoldLibrary as exc:
        raise ApiError(422, INVALID_HOLD_LIBRARY, str(exc)) from None
    return JSONResponse({"library": library})


@requires("admin")
async def reset_hold_messages(request: Request, access: Access) -> Response:
    state = access.state
    return JSONResponse({"library": await state.hub.etiquette.reset_hold_library()})


def hold_routes() -> list[BaseRoute]:
    return [
        Route("/api/admin/hold-messages", get_hold_messages, methods=["GET"]),
        Route("/api/admin/hold-messages", put_hold_messages, methods=["PUT"]),
        Route("/api/admin/hold-messages", reset_hold_messages, methods=["DELETE"]),
    ]
