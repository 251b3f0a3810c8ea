"""The visitor widget (``/widget.js``) and, with ``--demo``, a sample shop page that embeds it (``/demo``).

The files live in the repository's ``widget/`` folder. The widget is one plain JavaScript file on
the wire, with its styles inside, so a host page needs only the script tag; it is joined from the
parts in ``widget/src/`` (``widget_bundle``). Both are served through ``file_cache``: read once per
change (the parts' or the page's mtime), gzipped once, and answered with an ETag so browsers
revalidate cheaply; ``Cache-Control`` is short so a new widget reaches every shop within minutes.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from .file_cache import CachedAsset, CallableSource, media_type_of
from .http_edge import Endpoint
from .widget_bundle import widget_source, widget_stamp

WIDGET_DIR = Path(__file__).resolve().parents[2] / "widget"

# Any shop may load the widget, also with crossorigin= or behind a COEP policy.
_CROSS_ORIGIN = {"Access-Control-Allow-Origin": "*", "Cross-Origin-Resource-Policy": "cross-origin"}


def widget_asset() -> CachedAsset:
    """The widget script every shop embeds."""
    return CachedAsset(
        CallableSource(widget_source, widget_stamp),
        media_type=media_type_of("widget.js"),
        cache_control="public, max-age=300",
        compress=True,
    )


def demo_shop_asset() -> CachedAsset:
    """The sample shop page that embeds the widget (``--demo`` only)."""
    return CachedAsset.file(WIDGET_DIR / "demo" / "shop.html", cache_control="no-cache", compress=True)


def asset_endpoint(asset: CachedAsset, *, cross_origin: bool) -> Endpoint:
    headers = _CROSS_ORIGIN if cross_origin else {}

    async def endpoint(request: Request) -> Response:
        return asset.respond(request, headers)

    return endpoint


def static_routes(*, demo: bool) -> list[BaseRoute]:
    """``GET /widget.js`` always; ``GET /demo`` (the sample shop page) when ``demo`` is on."""
    widget = asset_endpoint(widget_asset(), cross_origin=True)
    routes: list[BaseRoute] = [Route("/widget.js", widget, methods=["GET", "HEAD"])]
    if demo:
        shop = asset_endpoint(demo_shop_asset(), cross_origin=False)
        routes.append(Route("/demo", shop, methods=["GET", "HEAD"]))
    return routes
