"""Admin: the blocked visitors and customers (``GET /api/admin/blocks``) and lifting one
(``DELETE /api/admin/blocks/{id}``), the cool-downs in force (``GET /api/admin/cool_downs``) and
ending one early (``DELETE /api/admin/cool_downs/{visitor_id}``), and the audit trail of every
step (``GET /api/admin/abuse_audit``). Each reversal is recorded in the audit like every step,
and supervisors are told of it."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from chatserver.storage import repository as repo

from .boundaries import end_cool_down
from .boundary_notices import notify_supervisors
from .http_edge import Access, ApiError, requires

MAX_AUDIT = 500


@requires("admin")
async def list_blocks(request: Request, access: Access) -> Response:
    """The blocks in force; ``?all=1`` includes the lifted ones."""
    include_lifted = request.query_params.get("all") in ("1", "true")
    blocks = await access.state.writer.read(repo.list_blocks, include_lifted=include_lifted)
    return JSONResponse({"blocks": blocks})


@requires("admin")
async def lift_block(request: Request, access: Access) -> Response:
    state = access.state
    lifted = await state.writer.run(
        repo.lift_block,
        block_id=request.path_params["block_id"],
        operator_id=access.operator.id,
        now=state.clock(),
    )
    if lifted is None:
        raise ApiError(404, "not_found", "no such block in force")
    audit = await state.writer.read(repo.list_abuse_audit, visitor_id=lifted["visitor_id"])
    if audit:
        await notify_supervisors(state.hub.channels, audit[-1])
    return JSONResponse(lifted)


@requires("admin")
async def list_cool_downs(request: Request, access: Access) -> Response:
    """The cool-downs in force now, as every process's core holds them."""
    state = access.state
    in_force = state.hub.engine.cool_downs_in_force(state.clock())
    items = [
        {"visitor_id": vid, "until": until} for vid, until in sorted(in_force.items(), key=lambda i: i[1])
    ]
    return JSONResponse({"cool_downs": items})


@requires("admin")
async def stop_cool_down(request: Request, access: Access) -> Response:
    visitor_id = request.path_params["visitor_id"]
    if len(visitor_id) > 64 or not await end_cool_down(access.state, visitor_id, access.operator.id):
        raise ApiError(404, "not_found", "no cool-down in force for this visitor")
    return JSONResponse({"visitor_id": visitor_id, "ended": True})


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit", "200")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_AUDIT:
        raise ApiError(400, "invalid_field", f"'limit' must be 1 to {MAX_AUDIT}")
    return int(raw)


@requires("admin")
async def abuse_audit(request: Request, access: Access) -> Response:
    """Every boundary step, newest first; ``?visitor_id=`` for one visitor's, oldest first."""
    state = access.state
    visitor_id = request.query_params.get("visitor_id")
    if visitor_id is not None:
        audit = await state.writer.read(repo.list_abuse_audit, visitor_id=visitor_id[:64])
    else:
        audit = await state.writer.read(repo.recent_abuse_audit, limit=_limit(request))
    return JSONResponse({"audit": audit})


def block_routes() -> list[BaseRoute]:
    return [
        Route("/api/admin/blocks", list_blocks, methods=["GET"]),
        Route("/api/admin/blocks/{block_id:int}", lift_block, methods=["DELETE"]),
        Route("/api/admin/cool_downs", list_cool_downs, methods=["GET"]),
        Route("/api/admin/cool_downs/{visitor_id}", stop_cool_down, methods=["DELETE"]),
        Route("/api/admin/abuse_audit", abuse_audit, methods=["GET"]),
    ]
