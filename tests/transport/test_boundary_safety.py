"""The abusive visitor's protocol beyond one socket: a cool-down that outlives a restart, supervisors
told of each step, and an admin who reviews the audit and reverses a cool-down."""

from __future__ import annotations

from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from chatserver.settings import Settings
from chatserver.storage import repository as repo

from .conftest import Client, Server, ServerFactory, run_server
from .test_boundaries import assigned_chat, steps


async def test_a_cool_down_outlives_a_restart_of_the_server(tmp_path: Path) -> None:
    now = [2_000_000.0]
    settings = Settings(database_url=f"sqlite:///{tmp_path}/restart.db", cool_down_s=600)
    async with run_server(settings, clock=lambda: now[0]) as first:
        operator, visitor, cid, data = await assigned_chat(first)
        await operator.send({"type": "boundary", "conversation_id": cid, "step": "cool_down"})
        until = (await visitor.expect("boundary", step="cool_down"))["until"]
        assert until == now[0] + 600
        await visitor.close()
        await operator.close()

    now[0] += 60  # still within the break
    async with run_server(settings, clock=lambda: now[0]) as second:
        back = await second.connect("/ws/visitor", data["token"])
        assert (await back.expect("boundary", step="cool_down"))["until"] == until
        await back.send({"type": "message", "client_id": "after-restart", "text": "idiots"})
        refused = await back.expect("error", client_id="after-restart")
        assert refused["code"] == "cooling_down" and refused["until"] == until
        await back.close()

    now[0] = until + 1  # the break is over, restart or not
    async with run_server(settings, clock=lambda: now[0]) as third:
        again = await third.connect("/ws/visitor", data["token"])
        await again.say("Sorry about that")
        assert again.unread("boundary") == []


async def supervisor(server: Server, name: str = "Sue") -> tuple[int, Client]:
    sid, token = await server.add_operator(name, role="supervisor")
    return sid, await server.operator(token, status=None)


async def test_supervisors_are_told_of_a_cool_down_and_a_block_with_who_and_why(
    start_server: ServerFactory,
) -> None:
    server = await start_server()
    _sid, sue = await supervisor(server)
    operator, visitor, cid, data = await assigned_chat(server)
    stored = await server.state.writer.read(repo.get_conversation, conversation_id=cid)
    assert stored is not None
    anna_id = stored.operator_id

    await operator.send({"type": "boundary", "conversation_id": cid, "step": "warn"})
    await operator.expect("boundary", step="warn")
    await operator.send(
        {
            "type": "boundary",
            "conversation_id": cid,
            "step": "cool_down",
            "reason": "You are all idiots",
            "signal": "hater",
        }
    )
    notice = await sue.expect("boundary_notice", step="cool_down")
    assert notice["conversation_id"] == cid and notice["visitor_id"] == data["visitor_id"]
    assert notice["operator"] == {"id": anna_id, "name": "Anna"}
    assert notice["reason"] == "You are all idiots" and notice["signal"] == "hater"
    assert notice["until"] is not None and "recent" not in notice
    assert sue.unread("boundary_notice") == []  # the warning alone does not call a supervisor

    await operator.send({"type": "boundary", "conversation_id": cid, "step": "block", "reason": "again"})
    blocked = await sue.expect("boundary_notice", step="block")
    assert blocked["reason"] == "again" and blocked["operator"]["name"] == "Anna"
    with pytest.raises(ConnectionClosed):
        while True:
            await visitor.next()

    # A supervisor who signs in later is shown the last day's steps, oldest first.
    _lid, late = await supervisor(server, "Lena")
    first = await late.expect("boundary_notice")
    second = await late.expect("boundary_notice")
    assert (first["step"], second["step"]) == ("cool_down", "block")
    assert first["recent"] is True and second["recent"] is True
    # Operators who are not supervisors hear nothing of it.
    _oid, plain_token = await server.add_operator("Olek")
    plain = await server.operator(plain_token, status=None)
    await plain.send({"type": "status", "status": "away"})
    await plain.expect("status")
    assert plain.unread("boundary_notice") == []

    audit = await server.state.writer.read(repo.list_abuse_audit, visitor_id=data["visitor_id"])
    assert [(a["step"], a["reason"], a["signal"]) for a in audit] == [
        ("warn", None, None),
        ("cool_down", "You are all idiots", "hater"),
        ("block", "again", None),
    ]


async def test_an_admin_reviews_the_audit_and_ends_a_cool_down_early(start_server: ServerFactory) -> None:
    server = await start_server(cool_down_s=3600)
    _sid, sue = await supervisor(server)
    operator, visitor, cid, data = await assigned_chat(server)
    vid = data["visitor_id"]
    await operator.send({"type": "boundary", "conversation_id": cid, "step": "bogus"})
    assert (await operator.expect("error"))["code"] == "invalid_field"
    await operator.send({"type": "boundary", "conversation_id": cid, "step": "warn", "signal": "angry"})
    assert (await operator.expect("error"))["code"] == "invalid_field"
    await operator.send({"type": "boundary", "conversation_id": cid, "step": "cool_down"})
    await visitor.expect("boundary", step="cool_down")

    _aid, admin_token = await server.add_operator("Boss", role="admin")
    headers = {"Authorization": f"Bearer {admin_token}"}
    listed = (await server.http.get("/api/admin/cool_downs", headers=headers)).json()["cool_downs"]
    assert [c["visitor_id"] for c in listed] == [vid]
    audit = (await server.http.get("/api/admin/abuse_audit", headers=headers)).json()["audit"]
    assert [(a["step"], a["operator_name"]) for a in audit] == [("cool_down", "Anna")]

    ended = await server.http.delete(f"/api/admin/cool_downs/{vid}", headers=headers)
    assert ended.status_code == 200
    await visitor.expect("boundary", step="end_cool_down")
    assert (await sue.expect("boundary_notice", step="end_cool_down"))["operator"]["name"] == "Boss"
    await visitor.say("I calmed down, sorry")
    await operator.expect("message", sender="visitor", text="I calmed down, sorry")
    assert (await server.http.delete(f"/api/admin/cool_downs/{vid}", headers=headers)).status_code == 404
    assert (await server.http.get("/api/admin/cool_downs", headers=headers)).json()["cool_downs"] == []
    mine = await server.http.get("/api/admin/abuse_audit", params={"visitor_id": vid}, headers=headers)
    assert [a["step"] for a in mine.json()["audit"]] == ["cool_down", "end_cool_down"]
    assert await steps(server, vid) == ["cool_down", "end_cool_down"]
    bad = await server.http.get("/api/admin/abuse_audit", params={"limit": "0"}, headers=headers)
    assert bad.status_code == 400
