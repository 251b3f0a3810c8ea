"""``GET /metrics``: the process's metrics in Prometheus text format, behind a bearer token.

Without ``CHAT_METRICS_TOKEN`` the route answers 404, so metrics are never exposed by
accident; with it, a missing or wrong ``Authorization: Bearer <token>`` is 401.
"""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from chatserver.metrics import CONTENT_TYPE

from .http_edge import ApiError, bearer_token
from .state import server_state


async def metrics(request: Request) -> Response:
    state = server_state(request.app)
    key = state.settings.metrics_token
    if not key:
        raise ApiError(404, "not_found", "metrics are off (set CHAT_METRICS_TOKEN to turn them on)")
    given = bearer_token(request) or ""
    if not given or not hmac.compare_digest(given.encode(), key.encode()):
        raise ApiError(401, "unauthorized", "metrics need 'Authorization: Bearer <CHAT_METRICS_TOKEN>'")
    return Response(state.hub.metrics.render(), media_type=CONTENT_TYPE)


def metrics_routes() -> list[Route]:
    return [Route("/metrics", metrics)]
