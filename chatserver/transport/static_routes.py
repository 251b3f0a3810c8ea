"""The visitor widget (``/widget.js``) and, with ``--demo``, a sample shop page that embeds it (``/demo``).

The files live in the repository's ``widget/`` folder. The widget is served as one plain JavaScript
file with its styles inside, so a host page needs only the script tag; its source is kept in parts
that :mod:`chatserver.transport.widget_bundle` joins. Each asset is read once per change (its mtime,
or its parts' mtimes), gzipped once, and answered with an ETag so browsers revalidate cheaply;
``Cache-Control`` is short so a new widget reaches every shop within minutes.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from chatserver.transport.widget_bundle import widget_source, widget_stamp

WIDGET_DIR = Path(__file__).resolve().parents[2] / "widget"

_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}


@dataclass(frozen=True, slots=True)
class _Asset:
    stamp: object  # what the content was built from (an mtime); a different stamp means rebuild
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

    def _stamp(self) -> object:
        return self.path.stat().st_mtime_ns

    def _read(self) -> bytes:
        return self.path.read_bytes()

    def _load(self) -> _Asset:
        stamp = self._stamp()
        asset = self._asset
        if asset is None or asset.stamp != stamp:
            raw = self._read()
            etag = '"' + hashlib.sha256(raw).hexdigest()[:20] + '"'
            asset = _Asset(stamp, raw, gzip.compress(raw, compresslevel=9, mtime=0), etag)
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


class _BuiltFile(_StaticFile):
    """An asset produced by a function instead of read from one file (the widget, joined from parts).

    ``stamp`` is cheap (stats only) and says when ``build`` must run again; ``name`` picks the media type.
    """

    def __init__(
        self,
        name: str,
        *,
        build: Callable[[], bytes],
        stamp: Callable[[], object],
        cache_control: str,
        cross_origin: bool,
    ) -> None:
        super().__init__(Path(name), cache_control=cache_control, cross_origin=cross_origin)
        self._build = build
        self._stamp_of = stamp

    def _stamp(self) -> object:
        return self._stamp_of()

    def _read(self) -> bytes:
        return self._build()


def static_routes(*, demo: bool) -> list[BaseRoute]:
    """``GET /widget.js`` always; ``GET /demo`` (the sample shop page) when ``demo`` is on."""
    widget = _BuiltFile(
        "widget.js",
        build=widget_source,
        stamp=widget_stamp,
        cache_control="public, max-age=300",
        cross_origin=True,
    )
    routes: list[BaseRoute] = [Route("/widget.js", widget.endpoint, methods=["GET", "HEAD"])]
    if demo:
        shop = _StaticFile(WIDGET_DIR / "demo" / "shop.html", cache_control="no-cache", cross_origin=False)
        routes.append(Route("/demo", shop.endpoint, methods=["GET", "HEAD"]))
    return routes
