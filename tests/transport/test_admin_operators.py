"""Operator and team administration, the operators' queue and directory reads, and the console's files."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from .conftest import Server

OPS = "/api/admin/operators"
TEAMS = "/api/admin/teams"


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def admin(server: Server) -> dict[str, str]:
    _, token = await server.add_operator("Ada", role="admin")
    return _auth(token)


def _error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, error
    return error


async def _create(server: Server, admin: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = {"email": "bob@test.example", "name": "Bob Brown", "password": "secret-pw", **fields}
    response = await server.http.post(OPS, json=body, headers=admin)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_every_route_needs_an_admin(server: Server) -> None:
    _, operator = await server.add_operator("Olga")
    for method, path in [("GET", OPS), ("POST", OPS), ("PATCH", OPS + "/1"), ("GET", TEAMS), ("POST", TEAMS)]:
        _error(await server.http.request(method, path, json={}), 401, "unauthorized")
        _error(await server.http.request(method, path, json={}, headers=_auth(operator)), 403, "forbidden")


async def test_create_list_and_sign_in(server: Server, admin: dict[str, str]) -> None:
    bob = await _create(server, admin, title="Billing", capacity=5, teams=["billing", "support", "billing"])
    assert bob["name"] == "Bob Brown" and bob["title"] == "Billing" and bob["role"] == "operator"
    assert bob["capacity"] == 5 and bob["teams"] == ["billing", "support"] and bob["active"] is True
    assert bob["presence"] == {"connected": False, "status": "offline", "chats": 0}
    assert "password" not in bob and "password_hash" not in bob

    listed = (await server.http.get(OPS, headers=admin)).json()
    assert [o["name"] for o in listed["operators"]] == ["Ada", "Bob Brown"]
    assert listed["roles"] == ["operator", "admin", "supervisor"]
    assert (await server.http.get(f"{OPS}/{bob['id']}", headers=admin)).json()["email"] == "bob@test.example"

    login = await server.http.post(
        "/api/operators/login", json={"email": "BOB@test.example", "password": "secret-pw"}
    )
    assert login.status_code == 200 and login.json()["operator"]["id"] == bob["id"]
    client = await server.operator(login.json()["token"])
    listed = (await server.http.get(OPS, headers=admin)).json()["operators"]
    assert listed[1]["presence"] == {"connected": True, "status": "online", "chats": 0}
    await client.close()


async def test_create_refuses_bad_fields_naming_them(server: Server, admin: dict[str, str]) -> None:
    good = {"email": "x@test.example", "name": "X", "password": "secret-pw"}
    cases = [
        ({"name": "X", "password": "secret-pw"}, "missing_field", "email"),
        ({**good, "password": "short"}, "invalid_field", "password"),
        ({**good, "email": "not-an-email"}, "invalid_field", "email"),
        ({**good, "role": "boss"}, "invalid_field", "role"),
        ({**good, "capacity": -1}, "invalid_field", "capacity"),
        ({**good, "capacity": True}, "invalid_field", "capacity"),
        ({**good, "teams": "a"}, "invalid_field", "teams"),
        ({**good, "colour": 1}, "invalid_field", "colour"),
    ]
    for body, code, field in cases:
        error = _error(await server.http.post(OPS, json=body, headers=admin), 422, code)
        assert error["field"] == field, (body, error)
    await _create(server, admin)
    again = {**good, "email": "Bob@Test.example"}
    assert (
        _error(await server.http.post(OPS, json=again, headers=admin), 409, "duplicate_email")["field"]
        == "email"
    )


async def test_edit_changes_only_what_is_sent(server: Server, admin: dict[str, str]) -> None:
    bob = await _create(server, admin, teams=["support"])
    url = f"{OPS}/{bob['id']}"
    edited = (
        await server.http.patch(
            url, json={"title": "Team lead", "role": "supervisor", "teams": ["vip"]}, headers=admin
        )
    ).json()
    assert edited["title"] == "Team lead" and edited["role"] == "supervisor" and edited["teams"] == ["vip"]
    assert edited["name"] == "Bob Brown" and edited["capacity"] == 3
    renamed = await server.http.patch(
        url, json={"name": "Robert Brown", "password": "another-pw"}, headers=admin
    )
    assert renamed.json()["name"] == "Robert Brown"
    assert (
        await server.http.post(
            "/api/operators/login", json={"email": "bob@test.example", "password": "another-pw"}
        )
    ).status_code == 200
    _error(await server.http.patch(url, json={}, headers=admin), 422, "missing_field")
    _error(await server.http.patch(url, json={"active": "no"}, headers=admin), 422, "invalid_field")
    _error(await server.http.patch(f"{OPS}/999", json={"name": "Z"}, headers=admin), 404, "not_found")
    await _create(server, admin, email="carol@test.example", name="Carol")
    error = _error(
        await server.http.patch(url, json={"email": "carol@test.example"}, headers=admin),
        409,
        "duplicate_email",
    )
    assert error["field"] == "email"


async def test_the_last_admin_cannot_be_removed(server: Server, admin: dict[str, str]) -> None:
    ada = (await server.http.get(OPS, headers=admin)).json()["operators"][0]
    url = f"{OPS}/{ada['id']}"
    for change, field in [({"role": "operator"}, "role"), ({"active": False}, "active")]:
        error = _error(await server.http.patch(url, json=change, headers=admin), 409, "last_admin")
        assert error["field"] == field
    await _create(server, admin, role="admin")
    response = await server.http.patch(url, json={"role": "operator"}, headers=admin)
    assert response.status_code == 200 and response.json()["role"] == "operator"
    # Ada is no admin any more: her own token cannot manage accounts now.
    _error(await server.http.get(OPS, headers=admin), 403, "forbidden")


async def test_deactivating_closes_sockets_and_requeues_chats(server: Server, admin: dict[str, str]) -> None:
    oid, token = await server.add_operator("Olga")
    operator = await server.operator(token)
    visitor, _ = await server.visitor()
    await visitor.say("Hello?")
    assigned = await operator.expect("assigned")
    response = await server.http.patch(f"{OPS}/{oid}", json={"active": False}, headers=admin)
    assert response.status_code == 200 and response.json()["active"] is False
    with pytest.raises(ConnectionClosed) as closed:
        for _ in range(50):
            await operator.next()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    await server.settle()
    assert list(server.state.hub.engine.queue) == [assigned["conversation_id"]]
    assert (await server.http.get(f"{OPS}/{oid}", headers=admin)).json()["active"] is False


async def test_a_new_capacity_reaches_routing_at_once(server: Server, admin: dict[str, str]) -> None:
    oid, token = await server.add_operator("Olga", capacity=0)
    operator = await server.operator(token)
    visitor, _ = await server.visitor()
    await visitor.say("Anyone there?")
    await visitor.expect("queue")
    await server.settle()
    assert len(server.state.hub.engine.queue) == 1
    response = await server.http.patch(f"{OPS}/{oid}", json={"capacity": 2}, headers=admin)
    assert response.status_code == 200
    await operator.expect("assigned")
    await visitor.expect("assigned")


async def test_teams(server: Server, admin: dict[str, str]) -> None:
    created = await server.http.post(TEAMS, json={"name": " billing "}, headers=admin)
    assert created.status_code == 201 and created.json()["name"] == "billing"
    for body, status, code in [({"name": "billing"}, 409, "team_exists"), ({}, 422, "missing_field")]:
        assert (
            _error(await server.http.post(TEAMS, json=body, headers=admin), status, code)["field"] == "name"
        )
    bob = await _create(server, admin, teams=["billing", "vip"])
    teams = (await server.http.get(TEAMS, headers=admin)).json()["teams"]
    assert [(t["name"], t["members"], t["active_members"]) for t in teams] == [
        ("billing", [bob["id"]], 1),
        ("vip", [bob["id"]], 1),
    ]
    billing = teams[0]["id"]
    _error(await server.http.delete(f"{TEAMS}/{billing}", headers=admin), 409, "team_in_use")
    await server.http.patch(f"{OPS}/{bob['id']}", json={"teams": ["vip"]}, headers=admin)
    deleted = await server.http.delete(f"{TEAMS}/{billing}", headers=admin)
    assert deleted.status_code == 200 and deleted.json() == {"id": billing, "deleted": True}
    _error(await server.http.delete(f"{TEAMS}/{billing}", headers=admin), 404, "not_found")


async def test_queue_and_directory_for_operators(server: Server) -> None:
    _error(await server.http.get("/api/queue"), 401, "unauthorized")
    _error(await server.http.get("/api/directory"), 401, "unauthorized")
    _, token = await server.add_operator("Olga", capacity=0, teams=("billing",))
    _, other = await server.add_operator("Piotr", capacity=2, teams=("billing",))
    await server.operator(token)
    await server.operator(other, status="away")
    visitor, _ = await server.visitor(locale="pl-PL")
    await visitor.say("Dzień dobry")
    await visitor.expect("queue")
    await server.settle()
    queue = (await server.http.get("/api/queue", headers=_auth(token))).json()
    assert queue["operators_online"] == 1
    [waiting] = queue["waiting"]
    assert waiting["position"] == 1 and waiting["locale"] == "pl" and waiting["state"] == "waiting"
    assert waiting["waiting_s"] >= 0 and waiting["team"] is None

    directory = (await server.http.get("/api/directory", headers=_auth(token))).json()
    by_name = {o["name"]: o for o in directory["operators"]}
    assert by_name["Olga"]["me"] is True and by_name["Olga"]["status"] == "online"
    assert by_name["Piotr"]["status"] == "away" and by_name["Piotr"]["free_slots"] == 0
    assert directory["teams"] == [{"name": "billing", "online": 0, "free_slots": 0, "waiting": 0}]


async def test_console_and_admin_pages_are_served_with_a_strict_policy(server: Server) -> None:
    for path in ("/console", "/admin"):
        page = await server.http.get(path)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert page.headers["x-content-type-options"] == "nosniff"
        again = await server.http.get(path, headers={"If-None-Match": page.headers["etag"]})
        assert again.status_code == 304
    for path in (
        "/console/console.js",
        "/console/ui.js",
        "/console/ui.css",
        "/admin/admin.js",
        "/admin/admin.css",
        "/console/icon.svg",
    ):
        asset = await server.http.get(path)
        assert asset.status_code == 200 and asset.content, path
    assert (await server.http.get("/console/app.py")).status_code == 404
    assert (await server.http.get("/console/..%2Fapp.py")).status_code == 404
    assert (await server.http.get("/admin/console.js")).status_code == 404
