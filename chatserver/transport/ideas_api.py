"""Visitors' ideas, for admins (``Authorization: Bearer <admin token>``).

``GET /api/admin/ideas`` (``?status=new|planned|done|declined``) → ``{"items": [{"id", "summary",
"language", "status", "count", "visitors", "customers", "languages", "created_at", "updated_at",
"examples": [{"conversation_id", "seq", "text", "language"}]}]}``, the most asked for first.

``PATCH /api/admin/ideas/{id}`` ``{"status": "planned"}`` → the idea, with ``"told"``: how many
askers' conversations got the news now (planned and done are told, once each).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from chatserver import ideas
from chatserver.storage import repository as repo

from .http_edge import Access, ApiError, json_body, requires


@requires("admin")
async def list_ideas(request: Request, access: Access) -> Response:
    status = request.query_params.get("status")
    if status is not None and status not in ideas.STATUSES:
        raise ApiError(
            422, "invalid_field", "status must be one of " + ", ".join(ideas.STATUSES), field="status"
        )
    items = await access.state.writer.read(repo.list_ideas, status=status)
    return JSONResponse({"items": items})


@requires("admin")
async def change_idea(request: Request, access: Access) -> Response:
    idea_id: int = request.path_params["idea_id"]
    body = await json_body(request)
    status = body.get("status")
    if not isinstance(status, str) or status not in ideas.STATUSES:
        raise ApiError(
            422, "invalid_field", "status must be one of " + ", ".join(ideas.STATUSES), field="status"
        )
    told = await access.state.hub.ideas.set_status(idea_id, status)
    if told is None:
        raise ApiError(404, "not_found", "no idea has this id")
    found = await access.state.writer.read(repo.list_ideas, idea_id=idea_id)
    return JSONResponse({**found[0], "told": told})


def ideas_routes() -> list[BaseRoute]:
    return [
        Route("/api/admin/ideas", list_ideas, methods=["GET"]),
        Route("/api/admin/ideas/{idea_id:int}", change_idea, methods=["PATCH"]),
    ]
