"""The abusive visitor over a real server: a boundary warning, a cool-down, a block an admin lifts."""

from __future__ import annotations

from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from chatserver.storage import repository as repo
from chatserver.transport.auth import identity_signature

from .conftest import Client, Server, ServerFactory

SECRET = "shop-identity-secret"


def identity(external_id: str) -> dict[str, Any]:
    return {"external_id": external_id, "signature": identity_signature(SECRET, external_id)}


async def assigned_chat(server: Server, **session: Any) -> tuple[Client, Client, int, dict[str, Any]]:
    _oid, token = await server.add_operator("Anna")
    operator = await server.operator(token)
    visitor, data = await server.visitor(**session)
    await visitor.say("You are all idiots")
    cid = (await operator.expect("assigned"))["conversation_id"]
    await visitor.expect("assigned", conversation_id=cid)
    return operator, visitor, cid, data


async def steps(server: Server, visitor_id: str) -> list[str]:
    audit = await server.state.writer.read(repo.list_abuse_audit, visitor_id=visitor_id)
    return [a["step"] for a in audit]


async def refused_at_hello(server: Server, token: str) -> None:
    client = await server.connect("/ws/visitor", None)
    await client.send({"type": "hello", "token": token})
    frame = await client.expect("error")
    assert frame["code"] == "visitor_blocked"
    with pytest.raises(ConnectionClosed) as closed:
        await client.next()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4410


async def test_warn_then_cool_down_refuses_messages_until_the_break_ends(
    start_server: ServerFactory,
) -> None:
    now = [1_000_000.0]
    server = await start_server(clock=lambda: now[0], cool_down_s=30)
    operator, visitor, cid, data = await assigned_chat(server, locale="pl")

    await operator.send({"type": "boundary", "conversation_id": cid, "step": "warn"})
    warned = await visitor.expect("message", sender="operator")
    # The warning is the library's boundary reply, in the visitor's language.
    library_warning = server.state.library.current.get("pl", "hater.boundary").text
    assert "nie pozwolę się obrażać" in library_warning
    assert warned["text"] == library_warning and warned["author"]["name"] == "Anna"
    assert (await visitor.expect("boundary", conversation_id=cid))["step"] == "warn"
    await operator.expect("boundary", step="warn")

    await operator.send({"type": "boundary", "conversation_id": cid, "step": "cool_down"})
    frame = await visitor.expect("boundary", step="cool_down")
    assert frame["until"] == now[0] + 30
    await visitor.send({"type": "message", "client_id": "c1", "text": "idiots"})
    refused = await visitor.expect("error", client_id="c1")
    assert refused["code"] == "cooling_down" and refused["until"] == now[0] + 30
    # A new tab of the same visitor is told the break too, and refused the same way.
    tab = await server.connect("/ws/visitor", data["token"])
    assert (await tab.expect("boundary", step="cool_down"))["until"] == now[0] + 30

    now[0] += 31
    await visitor.say("Sorry, I was angry")
    await operator.expect("message", sender="visitor", text="Sorry, I was angry")
    assert await steps(server, data["visitor_id"]) == ["warn", "cool_down"]


async def test_a_blocked_visitor_stays_out_until_an_admin_lifts_it(
    start_server: ServerFactory,
) -> None:
    server = await start_server(identity_secret=SECRET)
    operator, visitor, cid, data = await assigned_chat(server, identity=identity("cust-7"))
    await operator.send({"type": "boundary", "conversation_id": cid, "step": "bogus"})
    assert (await operator.expect("error"))["code"] == "invalid_field"

    await operator.send({"type": "boundary", "conversation_id": cid, "step": "block"})
    await visitor.expect("boundary", step="block")
    await operator.expect("closed", conversation_id=cid)
    with pytest.raises(ConnectionClosed):
        while True:
            await visitor.next()
    stored = await server.state.writer.read(repo.get_conversation, conversation_id=cid)
    assert stored is not None and stored.state == "closed"

    # The same visitor id, a new tab with its old token, and the same customer on a fresh device.
    again = await server.http.post("/api/visitor/sessions", json={"visitor_id": data["visitor_id"]})
    assert again.status_code == 403 and again.json()["error"]["code"] == "visitor_blocked"
    fresh = await server.http.post("/api/visitor/sessions", json={"identity": identity("cust-7")})
    assert fresh.status_code == 403 and fresh.json()["error"]["code"] == "visitor_blocked"
    await refused_at_hello(server, data["token"])
    other, _ = await server.visitor()  # somebody else is not affected
    await other.close()

    _aid, admin_token = await server.add_operator("Boss", role="admin")
    headers = {"Authorization": f"Bearer {admin_token}"}
    _oid2, op_token = await server.add_operator("Olek")
    forbidden = await server.http.get("/api/admin/blocks", headers={"Authorization": f"Bearer {op_token}"})
    assert forbidden.status_code == 403
    listed = (await server.http.get("/api/admin/blocks", headers=headers)).json()["blocks"]
    assert [(b["visitor_id"], b["conversation_id"]) for b in listed] == [(data["visitor_id"], cid)]
    block_id = listed[0]["id"]
    lifted = await server.http.delete(f"/api/admin/blocks/{block_id}", headers=headers)
    assert lifted.status_code == 200 and lifted.json()["lifted_at"] is not None
    assert (await server.http.delete(f"/api/admin/blocks/{block_id}", headers=headers)).status_code == 404
    assert (await server.http.get("/api/admin/blocks", headers=headers)).json()["blocks"] == []

    back, _ = await server.visitor(visitor_id=data["visitor_id"])
    await back.say("I would like to apologise")
    assert await steps(server, data["visitor_id"]) == ["block", "lift"]
