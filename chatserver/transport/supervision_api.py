"""The live chats a supervisor may watch (``Authorization: Bearer <supervisor or admin token>``).

``GET /api/supervision/chats`` → ``{"now", "chats": [{"conversation_id", "state", "visitor_id",
"locale", "team", "left_message", "operator": {"id", "name", "title"} | null, "waiting": "line" |
"answer" | null, "waiting_s", "situation"}]}``, the longest-waiting first.

Read from this process's copy of the core (every process holds the same open chats), so it
costs no database read but the operators' names, which are cached. ``waiting`` says what the
visitor is waiting for: a place in line to end (``line``, since they entered it) or an answer
from the operator holding the chat (``answer``, since their first message still unanswered).
``situation`` is the hard situation recognised in the visitor's latest message, when this
process's assistant has seen it. A plain operator gets ``403 forbidden``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from chatserver.core.conversation import State
from chatserver.core.views import ConversationView

from .http_edge import Access, ApiError, requires
from .supervision import is_supervisor


def _waiting(conv: ConversationView, now: float) -> tuple[str | None, int | None]:
    if conv.state is State.WAITING or (conv.state is State.TRANSFERRING and conv.operator_id is None):
        return "line", max(0, round(now - conv.waiting_since))
    if conv.unanswered_since is not None:
        return "answer", max(0, round(now - conv.unanswered_since))
    return None, None


@requires("operator")
async def live_chats(request: Request, access: Access) -> Response:
    if not is_supervisor(access.operator):
        raise ApiError(403, "forbidden", "only supervisors and admins see every live chat")
    state = access.state
    hub = state.hub
    now = state.clock()
    chats: list[dict[str, Any]] = []
    for conv in hub.engine.open_conversations():
        waiting, waiting_s = _waiting(conv, now)
        operator = await hub.directory.public(conv.operator_id) if conv.operator_id is not None else None
        chats.append(
            {
                "conversation_id": conv.conversation_id,
                "state": conv.state.value,
                "visitor_id": conv.visitor_id,
                "locale": conv.locale,
                "team": conv.team,
                "left_message": conv.left_message,
                "operator": dict(operator) if operator is not None else None,
                "waiting": waiting,
                "waiting_s": waiting_s,
                "situation": hub.assistant.situation(conv.conversation_id) if hub.assistant else None,
            }
        )
    chats.sort(key=lambda c: (-(c["waiting_s"] or 0), c["conversation_id"]))
    return JSONResponse({"now": now, "chats": chats})


def supervision_routes() -> list[BaseRoute]:
    return [Route("/api/supervision/chats", live_chats, methods=["GET"])]
