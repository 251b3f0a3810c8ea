"""Admin: the blocked visitors and customers (``GET /api/admin/blocks``), and lifting one
(``DELETE /api/admin/blocks/{id}``; the lift is recorded in the audit like every step)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from chatserver.storage import repository as repo

from .http_edge import Access, ApiError, requires


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
    return JSONResponse(lifted)


def block_routes() -> list[BaseRoute]:
    return [
        Route("/api/admin/blocks", list_blocks, methods=["GET"]),
        Route("/api/admin/blocks/{block_id:int}", lift_block, methods=["DELETE"]),
    ]
