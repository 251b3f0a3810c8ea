"""The assistant's learning, for admins (``Authorization: Bearer <admin token>``).

``POST /api/admin/assistant/retrain`` → ``{"id", "feedback", "labelled", "train_items",
"holdout": {"method", "items"}, "accuracy_before", "accuracy_after", "labels"}``: retrains the
situation model on the shipped dev set and the operators' feedback, stores it and makes every
server process use it. ``accuracy_before`` is the model in use until now, ``accuracy_after`` the
new one, both on held-out operator labels (``null`` with fewer than two labelled messages).

``GET /api/admin/assistant/report`` → ``{"feedback": {"total", "picked", "corrected",
"labelled"}, "model": {"in_use"}, "last_retrain": {...} | null, "confusion": [{"recognized",
"corrected", "count"}]}``: ``confusion`` counts the operators' corrections by what was recognised
and what they said it was.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from chatserver.situation_learning import SituationLearning

from .http_edge import Access, ApiError, requires


def _learning(access: Access) -> SituationLearning:
    learning = access.state.learning
    if not isinstance(learning, SituationLearning):
        raise ApiError(503, "assistant_off", "the assistant's learning is not running on this server")
    return learning


@requires("admin")
async def retrain(request: Request, access: Access) -> Response:
    return JSONResponse(await _learning(access).retrain(access.operator.id))


@requires("admin")
async def report(request: Request, access: Access) -> Response:
    return JSONResponse(await _learning(access).report())


def assistant_routes() -> list[BaseRoute]:
    return [
        Route("/api/admin/assistant/retrain", retrain, methods=["POST"]),
        Route("/api/admin/assistant/report", report, methods=["GET"]),
    ]
