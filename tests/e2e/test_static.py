"""The routes that serve the widget and the demo shop page (no browser needed)."""

from __future__ import annotations

import gzip
from pathlib import Path

from chatserver.settings import Settings
from chatserver.transport.widget_bundle import widget_source
from tests.transport.conftest import Server, run_server


async def test_widget_js_is_served_gzipped_with_an_etag(shop: Server) -> None:
    raw = widget_source()
    plain = await shop.http.get("/widget.js", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and plain.content == raw
    assert plain.headers["content-type"].startswith("text/javascript")
    assert plain.headers["access-control-allow-origin"] == "*"
    zipped = await shop.http.get("/widget.js", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip" and zipped.content == raw  # httpx inflates
    assert len(gzip.compress(raw, compresslevel=9)) < 30 * 1024
    again = await shop.http.get("/widget.js", headers={"If-None-Match": plain.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


async def test_demo_page_embeds_the_widget_with_one_tag(shop: Server) -> None:
    page = await shop.http.get("/demo")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script src="/widget.js" data-site-key="demo" async></script>' in page.text


async def test_no_demo_page_without_demo(tmp_path: Path) -> None:
    async with run_server(Settings(database_url=f"sqlite:///{tmp_path}/chat.db")) as server:
        assert (await server.http.get("/demo")).status_code == 404
        assert (await server.http.get("/widget.js")).status_code == 200
