"""The visitor widget (``/widget.js``) and, with ``--demo``, a sample shop page that embeds it (``/demo``).

The files live in the repository's ``widget/`` folder and are served as they are: the widget is
one plain JavaScript file with its styles inside, so a host page needs only the script tag. Each
file is read once per change (its mtime), gzipped once, and answered with an ETag so browsers
revalidate cheaply; ``Cache-Control`` is short so a new widget reaches every shop within minutes.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

WIDGET_DIR = Path(__file__).resolve().parents[2] / "widget"

_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}


@dataclass(frozen=True, slots=True)
class _Asset:
    mtime_ns: int
    raw: bytes
    gz: bytes
    etag: str


class _StaticFile:
    """One file from ``widget/``, cached in memory (plain and gzipped) until it changes on disk."""

    def __init__(self, path: Path, *, cache_control: str, cross_origin: bool) -> None:
        self.path = path
        self.media_type = _TYPES.get(path.suffix, "application/octet-stream")
        self.cache_control = cache_control
        self.cross_origin = cross_origin
        self._asset: _Asset | None = None

    def _load(self) -> _Asset:
        mtime_ns = self.path.stat().st_mtime_ns
        asset = self._asset
        if asset is None or asset.mtime_ns != mtime_ns:
            raw = self.path.read_bytes()
            etag = '"' + hashlib.sha256(raw).hexdigest()[:20] + '"'
            asset = _Asset(mtime_ns, raw, gzip.compress(raw, compresslevel=9, mtime=0), etag)
            self._asset = asset
        return asset

    async def endpoint(self, request: Request) -> Response:
        try:
            asset = self._load()
        except OSError:
            return Response("not found", status_code=404, media_type="text/plain")
        headers = {"Cache-Control": self.cache_control, "ETag": asset.etag, "Vary": "Accept-Encoding"}
        if self.cross_origin:
            # Any shop may load the widget, also with crossorigin= or behind a COEP policy.
            headers["Access-Control-Allow-Origin"] = "*"
            headers["Cross-Origin-Resource-Policy"] = "cross-origin"
        if asset.etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        body = asset.raw
        if "gzip" in request.headers.get("accept-encoding", "").lower():
            body = asset.gz
            headers["Content-Encoding"] = "gzip"
        if request.method == "HEAD":
            headers["Content-Length"] = str(len(body))
            return Response(status_code=200, headers=headers, media_type=self.media_type)
        return Response(body, headers=headers, media_type=self.media_type)


def static_routes(*, demo: bool) -> list[BaseRoute]:
    """``GET /widget.js`` always; ``GET /demo`` (the sample shop page) when ``demo`` is on."""
    widget = _StaticFile(WIDGET_DIR / "widget.js", cache_control="public, max-age=300", cross_origin=True)
    routes: list[BaseRoute] = [Route("/widget.js", widget.endpoint, methods=["GET", "HEAD"])]
    if demo:
        shop = _StaticFile(WIDGET_DIR / "demo" / "shop.html", cache_control="no-cache", cross_origin=False)
        routes.append(Route("/demo", shop.endpoint, methods=["GET", "HEAD"]))
    return routes
