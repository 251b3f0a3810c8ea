"""CORS for the visitor API only: the shops that embed the widget call it from their own origin.

Operator and admin routes stay same-origin: only the sites in ``CHAT_ALLOWED_ORIGINS`` may
call ``/api/visitor/...`` from a browser, and nothing else is opened.
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

VISITOR_PREFIX = "/api/visitor"


class VisitorCorsMiddleware:
    def __init__(self, app: ASGIApp, *, origins: tuple[str, ...]) -> None:
        self.app = app
        allow_all = "*" in origins
        self.cors = CORSMiddleware(
            app,
            allow_origins=["*"] if allow_all else list(origins),
            allow_methods=["GET", "POST"],
            allow_headers=["authorization", "content-type"],
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(VISITOR_PREFIX):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
