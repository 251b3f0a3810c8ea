"""The visitor widget (``/widget.js``) and, with ``--demo``, a sample shop page that embeds it (``/demo``).

The files live in the repository's ``widget/`` folder. The widget is one plain JavaScript file on
the wire, with its styles inside, so a host page needs only the script tag; it is joined from the
parts in ``widget/src/`` (``widget_bundle``). Both are served through ``file_cache``: read once per
change (the parts' or the page's mtime), gzipped once, and answered with an ETag so browsers
revalidate cheaply; ``Cache-Control`` is short so a new widget reaches every shop within minutes.
"""

from __future__ import annotations

import json
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from chatserver.demo import CUSTOMER, CUSTOMER_ID

from .auth import identity_signature
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


def demo_customer_page(identity_secret: str) -> Endpoint:
    """The sample shop as the demo customer sees it signed in: what a shop renders for a logged-in
    visitor (``window.chatWidgetIdentity``, signed by its backend), so the console shows who they
    are, their orders and their past chats."""

    async def endpoint(request: Request) -> Response:
        page = (WIDGET_DIR / "demo" / "shop.html").read_text("utf-8")
        identity = {
            "external_id": CUSTOMER_ID,
            "name": CUSTOMER["name"],
            "email": CUSTOMER["email"],
            "signature": identity_signature(identity_secret, CUSTOMER_ID),
        }
        data = json.dumps(identity).replace("</", "<\\/")
        script = f"<script>window.chatWidgetIdentity = {data};</script>\n  "
        page = page.replace('<script src="/widget.js"', script + '<script src="/widget.js"', 1)
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})

    return endpoint


def static_routes(*, demo: bool, identity_secret: str | None = None) -> list[BaseRoute]:
    """``GET /widget.js`` always; ``GET /demo`` (the sample shop page) when ``demo`` is on, and
    ``GET /demo/customer`` (the same, signed in as the demo customer) when identities are on."""
    widget = asset_endpoint(widget_asset(), cross_origin=True)
    routes: list[BaseRoute] = [Route("/widget.js", widget, methods=["GET", "HEAD"])]
    if demo:
        shop = asset_endpoint(demo_shop_asset(), cross_origin=False)
        routes.append(Route("/demo", shop, methods=["GET", "HEAD"]))
        if identity_secret:
            routes.append(Route("/demo/customer", demo_customer_page(identity_secret), methods=["GET"]))
    return routes
