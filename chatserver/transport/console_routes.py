"""The operator console (``/console``) and the admin pages (``/admin``), and two small reads they need.

The pages are plain files in ``chatserver/console/`` (HTML, CSS and JavaScript, no build step),
served as they are with a strict Content-Security-Policy: scripts and styles only from this
server, no inline code, sockets only to this host. Each file is read again when it changes on
disk and answered with an ETag, so a browser revalidates instead of downloading it again.

Two operator reads (``Authorization: Bearer <operator token>``, any role):

``GET /api/queue`` → ``{"waiting": [{"conversation_id", "position", "waiting_s",
"estimated_wait_s", "low_s", "high_s", "locale", "team", "state"}], "operators_online", "ts"}``: the chats
waiting for an operator, in the order they will be served (``state`` is ``transferring`` for a
transfer waiting for a colleague). ``position``, ``estimated_wait_s`` and the range ``low_s`` ..
``high_s`` are exactly what the visitor was last told (``null`` when nobody who could serve them
is online).

``GET /api/directory`` → ``{"teams": [{"name", "online", "free_slots", "waiting"}],
"operators": [{"id", "name", "title", "teams", "status", "chats", "free_slots"}]}``: who a chat
can be transferred to, and how busy they are now (active accounts only; ``status`` is
``offline`` for someone not connected).

Both describe what this server process routes; the console polls them every few seconds.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from chatserver.storage import repository as repo

from .file_cache import CachedAsset
from .http_edge import Access, Endpoint, requires

__all__ = ["ADMIN_ASSETS", "CONSOLE_ASSETS", "CONSOLE_DIR", "console_routes"]

CONSOLE_DIR = Path(__file__).resolve().parents[1] / "console"

# The files each page may load; anything else under /console/ or /admin/ is a 404. The scripts
# are ES modules: console.js and admin.js are the entries, their parts live in console/ and admin/.
CONSOLE_ASSETS = (
    "console.js",
    "console.css",
    "supervise.css",
    "ui.js",
    "ui.css",
    "icon.svg",
    "console/banners.js",
    "console/boundary.js",
    "console/chatlist.js",
    "console/chats.js",
    "console/chatview.js",
    "console/checkback.js",
    "console/composer.js",
    "console/connection.js",
    "console/constants.js",
    "console/customer.js",
    "console/draft.js",
    "console/fragments.js",
    "console/idea.js",
    "console/keyboard.js",
    "console/layout.js",
    "console/live.js",
    "console/notifications.js",
    "console/offers.js",
    "console/popup.js",
    "console/queue.js",
    "console/signin.js",
    "console/socket.js",
    "console/state.js",
    "console/status.js",
    "console/suggestions.js",
    "console/supervision.js",
    "console/transfer.js",
    "console/watch.js",
    "console/whispers.js",
)
ADMIN_ASSETS = (
    "admin.js",
    "admin.css",
    "admin/assistant.js",
    "admin/charts.js",
    "admin/forms.js",
    "admin/hold.js",
    "admin/ideas.js",
    "admin/safety.js",
    "admin/library.js",
    "admin/operators.js",
    "admin/replies.js",
    "admin/reports.js",
    "admin/session.js",
    "admin/state.js",
    "admin/teams.js",
)
_HOST_RE = re.compile(r"^[A-Za-z0-9.\-]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$")
_ASSET_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def _csp(request: Request) -> str:
    host = request.headers.get("host", "")
    sockets = f" ws://{host} wss://{host}" if _HOST_RE.match(host) else ""
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self'{sockets}; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def _page_file(name: str) -> CachedAsset:
    """One file of the console, re-read when it changes on disk; browsers always revalidate."""
    return CachedAsset.file(CONSOLE_DIR / name, cache_control="no-cache")


def _respond(asset: CachedAsset, request: Request) -> Response:
    headers = _ASSET_HEADERS
    if asset.media_type.startswith("text/html"):
        headers = {**_ASSET_HEADERS, "Content-Security-Policy": _csp(request), "X-Frame-Options": "DENY"}
    return asset.respond(request, headers)


def _files(names: tuple[str, ...]) -> dict[str, CachedAsset]:
    return {name: _page_file(name) for name in names}


# --- operator reads -------------------------------------------------------------------------


@requires("operator")
async def queue(request: Request, access: Access) -> Response:
    state = access.state
    engine = state.hub.engine
    now = state.clock()
    waiting: list[dict[str, Any]] = []
    for row in engine.queue_view.as_told():
        waiting.append(
            {
                "conversation_id": row.conversation_id,
                "position": row.position,
                "waiting_s": max(int(now - row.waiting_since), 0),
                "estimated_wait_s": row.estimated_wait_s,
                "low_s": row.low_s,
                "high_s": row.high_s,
                "locale": row.locale,
                "team": row.team,
                "state": row.state.value,
            }
        )
    online = engine.presence.online_count()
    return JSONResponse({"waiting": waiting, "operators_online": online, "ts": now})


@requires("operator")
async def directory(request: Request, access: Access) -> Response:
    state, me = access.state, access.operator
    engine = state.hub.engine
    accounts = await state.writer.read(repo.list_operators, active_only=True)
    teams = await state.writer.read(repo.list_teams)
    operators: list[dict[str, Any]] = []
    for account in accounts:
        presence = engine.presence.operator(account.id)
        operators.append(
            {
                "id": account.id,
                "name": account.name,
                "title": account.title,
                "teams": list(account.teams),
                "status": presence.status,
                "chats": presence.chats,
                "free_slots": presence.free_slots,
                "me": account.id == me.id,
            }
        )
    members = {account.id: account.teams for account in accounts}
    team_rows = [
        {"name": row.team, "online": row.online, "free_slots": row.free_slots, "waiting": row.waiting}
        for row in engine.directory([team.name for team in teams], members, exclude=me.id)
    ]
    return JSONResponse({"teams": team_rows, "operators": operators, "ts": state.clock()})


def console_routes() -> list[BaseRoute]:
    """``/console`` and ``/admin`` with their assets, ``GET /api/queue`` and ``GET /api/directory``."""
    console_page = _page_file("console.html")
    admin_page = _page_file("admin.html")
    console_assets = _files(CONSOLE_ASSETS)
    admin_assets = _files(ADMIN_ASSETS)

    async def console(request: Request) -> Response:
        return _respond(console_page, request)

    async def admin(request: Request) -> Response:
        return _respond(admin_page, request)

    def asset_endpoint(files: dict[str, CachedAsset]) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            asset = files.get(request.path_params["name"])
            if asset is None:
                return Response("not found", status_code=404, media_type="text/plain")
            return _respond(asset, request)

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
