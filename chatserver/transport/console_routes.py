"""The operator console (``/console``) and the admin pages (``/admin``), and two small reads they need.

The pages are plain files in ``chatserver/console/`` (HTML, CSS and JavaScript, no build step),
served as they are with a strict Content-Security-Policy: scripts and styles only from this
server, no inline code, sockets only to this host. Each file is read again when it changes on
disk and answered with an ETag, so a browser revalidates instead of downloading it again.

Two operator reads (``Authorization: Bearer <operator token>``, any role):

``GET /api/queue`` → ``{"waiting": [{"conversation_id", "position", "waiting_s",
"estimated_wait_s", "locale", "team", "state"}], "operators_online", "ts"}``: the chats
waiting for an operator, in the order they will be served (``state`` is ``transferring`` for a
transfer waiting for a colleague). ``position`` and ``estimated_wait_s`` are what the visitor is
told (``null`` when nobody who could serve them is online).

``GET /api/directory`` → ``{"teams": [{"name", "online", "free_slots", "waiting"}],
"operators": [{"id", "name", "title", "teams", "status", "chats", "free_slots"}]}``: who a chat
can be transferred to, and how busy they are now (active accounts only; ``status`` is
``offline`` for someone not connected).

Both describe what this server process routes; the console polls them every few seconds.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from chatserver.storage import repository as repo

from .rest import ApiError, bearer
from .state import ServerState, server_state

__all__ = ["console_routes", "CONSOLE_DIR"]

CONSOLE_DIR = Path(__file__).resolve().parents[1] / "console"

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
# The files each page may load; anything else under /console/ or /admin/ is a 404. The scripts
# are ES modules: console.js and admin.js are the entries, their parts live in console/ and admin/.
_CONSOLE_ASSETS = (
    "console.js",
    "console.css",
    "ui.js",
    "ui.css",
    "icon.svg",
    "console/banners.js",
    "console/chatlist.js",
    "console/chats.js",
    "console/chatview.js",
    "console/composer.js",
    "console/connection.js",
    "console/constants.js",
    "console/customer.js",
    "console/draft.js",
    "console/fragments.js",
    "console/keyboard.js",
    "console/layout.js",
    "console/notifications.js",
    "console/offers.js",
    "console/popup.js",
    "console/queue.js",
    "console/signin.js",
    "console/socket.js",
    "console/state.js",
    "console/status.js",
    "console/suggestions.js",
    "console/transfer.js",
)
_ADMIN_ASSETS = (
    "admin.js",
    "admin.css",
    "admin/forms.js",
    "admin/hold.js",
    "admin/library.js",
    "admin/operators.js",
    "admin/replies.js",
    "admin/session.js",
    "admin/state.js",
    "admin/teams.js",
)
_HOST_RE = re.compile(r"^[A-Za-z0-9.\-]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$")


def _csp(request: Request) -> str:
    host = request.headers.get("host", "")
    sockets = f" ws://{host} wss://{host}" if _HOST_RE.match(host) else ""
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self'{sockets}; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


@dataclass(frozen=True, slots=True)
class _Loaded:
    mtime_ns: int
    body: bytes
    etag: str


class _PageFile:
    """One file of the console, cached until its mtime changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.media_type = _TYPES.get(path.suffix, "application/octet-stream")
        self._loaded: _Loaded | None = None

    def load(self) -> _Loaded:
        mtime_ns = self.path.stat().st_mtime_ns
        loaded = self._loaded
        if loaded is None or loaded.mtime_ns != mtime_ns:
            body = self.path.read_bytes()
            loaded = _Loaded(mtime_ns, body, '"' + hashlib.sha256(body).hexdigest()[:20] + '"')
            self._loaded = loaded
        return loaded

    def respond(self, request: Request) -> Response:
        try:
            loaded = self.load()
        except OSError:
            return Response("not found", status_code=404, media_type="text/plain")
        headers = {
            "Cache-Control": "no-cache",
            "ETag": loaded.etag,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        }
        if self.media_type.startswith("text/html"):
            headers["Content-Security-Policy"] = _csp(request)
            headers["X-Frame-Options"] = "DENY"
        if loaded.etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        if request.method == "HEAD":
            headers["Content-Length"] = str(len(loaded.body))
            return Response(status_code=200, headers=headers, media_type=self.media_type)
        return Response(loaded.body, headers=headers, media_type=self.media_type)


def _files(names: tuple[str, ...]) -> dict[str, _PageFile]:
    return {name: _PageFile(CONSOLE_DIR / name) for name in names}


# --- operator reads -------------------------------------------------------------------------


async def _operator(request: Request, state: ServerState) -> Any:
    claims = bearer(request, state, "operator")
    operator = await state.writer.read(repo.get_operator, operator_id=int(claims.subject))
    if operator is None or not operator.active:
        raise ApiError(401, "unauthorized", "a valid bearer token is required")
    return operator


def _free(op: Any) -> int:
    return max(op.capacity - len(op.chats) - len(getattr(op, "offers", ())), 0)


async def queue(request: Request) -> Response:
    state = server_state(request.app)
    await _operator(request, state)
    engine = state.hub.engine
    now = state.hub.clock()
    waiting: list[dict[str, Any]] = []
    for cid, position, estimate in engine.queue_snapshot():
        conv = engine.conversations.get(cid)
        if conv is None:
            continue
        waiting.append(
            {
                "conversation_id": cid,
                "position": position,
                "waiting_s": max(int(now - conv.waiting_since), 0),
                "estimated_wait_s": estimate,
                "locale": conv.locale,
                "team": conv.team,
                "state": conv.state.value,
            }
        )
    online = sum(1 for op in engine.roster if op.connected and op.status == "online")
    return JSONResponse({"waiting": waiting, "operators_online": online, "ts": now})


async def directory(request: Request) -> Response:
    state = server_state(request.app)
    me = await _operator(request, state)
    engine = state.hub.engine
    accounts = await state.writer.read(repo.list_operators, active_only=True)
    teams = await state.writer.read(repo.list_teams)
    waiting_by_team: dict[str | None, int] = {}
    for cid in engine.queue:
        conv = engine.conversations.get(cid)
        if conv is not None:
            waiting_by_team[conv.team] = waiting_by_team.get(conv.team, 0) + 1
    operators = []
    for account in accounts:
        seen = engine.roster.get(account.id)
        connected = bool(seen and seen.connected)
        status = seen.status if seen is not None and connected else "offline"
        operators.append(
            {
                "id": account.id,
                "name": account.name,
                "title": account.title,
                "teams": list(account.teams),
                "status": status,
                "chats": len(seen.chats) if seen else 0,
                "free_slots": _free(seen) if seen is not None and status == "online" else 0,
                "me": account.id == me.id,
            }
        )
    team_rows = []
    for team in teams:
        members = [o for o in operators if team.name in o["teams"] and not o["me"]]
        team_rows.append(
            {
                "name": team.name,
                "online": sum(1 for o in members if o["status"] == "online"),
                "free_slots": sum(o["free_slots"] for o in members),
                "waiting": waiting_by_team.get(team.name, 0),
            }
        )
    return JSONResponse({"teams": team_rows, "operators": operators, "ts": time.time()})


def console_routes() -> list[BaseRoute]:
    """``/console`` and ``/admin`` with their assets, ``GET /api/queue`` and ``GET /api/directory``."""
    console_page = _PageFile(CONSOLE_DIR / "console.html")
    admin_page = _PageFile(CONSOLE_DIR / "admin.html")
    console_assets = _files(_CONSOLE_ASSETS)
    admin_assets = _files(_ADMIN_ASSETS)

    async def console(request: Request) -> Response:
        return console_page.respond(request)

    async def admin(request: Request) -> Response:
        return admin_page.respond(request)

    def asset_endpoint(files: dict[str, _PageFile]) -> Any:
        async def endpoint(request: Request) -> Response:
            page_file = files.get(request.path_params["name"])
            if page_file is None:
                return Response("not found", status_code=404, media_type="text/plain")
            return page_file.respond(request)

        return endpoint

    async def to_console(request: Request) -> Response:
        return RedirectResponse("/console", status_code=308)

    async def to_admin(request: Request) -> Response:
        return RedirectResponse("/admin", status_code=308)

    return [
        Route("/console", console, methods=["GET", "HEAD"]),
        Route("/console/", to_console, methods=["GET", "HEAD"]),
        Route("/console/{name:path}", asset_endpoint(console_assets), methods=["GET", "HEAD"]),
        Route("/admin", admin, methods=["GET", "HEAD"]),
        Route("/admin/", to_admin, methods=["GET", "HEAD"]),
        Route("/admin/{name:path}", asset_endpoint(admin_assets), methods=["GET", "HEAD"]),
        Route("/api/queue", queue, methods=["GET"]),
        Route("/api/directory", directory, methods=["GET"]),
    ]
