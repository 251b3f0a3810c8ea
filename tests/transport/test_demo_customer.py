"""The demo shop signed in as the demo customer, as a shop renders a page for a logged-in visitor."""

from __future__ import annotations

import json
import re

from chatserver.demo import CUSTOMER_ID
from chatserver.storage import repository as repo
from chatserver.transport.auth import identity_signature

from .conftest import ServerFactory


async def test_the_demo_shop_signs_the_demo_customer_in(start_server: ServerFactory) -> None:
    server = await start_server(demo=True, identity_secret="shop-secret")
    page = (await server.http.get("/demo/customer")).text
    found = re.search(r"window\.chatWidgetIdentity = (\{.*?\});", page)
    assert found is not None, page[:500]
    identity = json.loads(found.group(1))
    assert identity["external_id"] == CUSTOMER_ID
    assert identity["signature"] == identity_signature("shop-secret", CUSTOMER_ID)
    assert page.index("chatWidgetIdentity") < page.index('src="/widget.js"')
    # The widget sends it with its session: the visitor is that customer.
    session = await server.visitor_session(identity=identity)
    visitor = await server.state.writer.read(repo.get_visitor, visitor_id=session["visitor_id"])
    assert visitor is not None and visitor.customer_id is not None


async def test_no_signed_in_demo_page_without_an_identity_secret(start_server: ServerFactory) -> None:
    server = await start_server(demo=True)
    assert (await server.http.get("/demo/customer")).status_code == 404
