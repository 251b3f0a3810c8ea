"""The reply library admin API over a real server: edits, versions, import/export, usage, preview."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from chatserver.library_store import LibraryStore
from responses.library import load_library
from responses.suggest import suggest

from .conftest import Server

BASE = "/api/admin/libraries/default"
EN = f"{BASE}/en/responses"


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def admin(server: Server) -> dict[str, str]:
    _, token = await server.add_operator("Ada", role="admin")
    return _auth(token)


def _store(server: Server) -> LibraryStore:
    store = server.state.library
    assert isinstance(store, LibraryStore)
    return store


def _reply(rid: str = "general.thanks_wait", **fields: Any) -> dict[str, Any]:
    reply = {
        "id": rid,
        "situation": "general",
        "title": "Thanks for waiting",
        "shortcut": "/thx",
        "text": "Thank you for waiting, {customer.first_name}. Your order {order.id} is on its way.",
        "slots": ["order.id"],
        "tags": ["hold"],
    }
    reply.update(fields)
    return reply


async def _error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, error
    return error


async def test_the_library_is_seeded_from_the_bundled_files(server: Server, admin: dict[str, str]) -> None:
    bundled = load_library("default")
    response = await server.http.get(EN, headers=admin)
    assert response.status_code == 200, response.text
    items = response.json()["responses"]
    assert [i["id"] for i in items] == [r.id for r in bundled.in_language("en")]
    first = items[0]
    assert first["version"] == 1 and first["updated_by"] is None
    assert first["usage"] == {"suggested": 0, "sent_as_is": 0, "sent_edited": 0, "ignored": 0}
    assert {k: first[k] for k in bundled.get("en", first["id"]).to_json()} == bundled.get(
        "en", first["id"]
    ).to_json()
    versions = (await server.http.get(f"{EN}/{first['id']}/versions", headers=admin)).json()["versions"]
    assert [(v["version"], v["action"], v["operator_id"]) for v in versions] == [(1, "seed", None)]
    assert _store(server).current.languages == bundled.languages
    libraries = (await server.http.get("/api/admin/libraries", headers=admin)).json()["libraries"]
    assert libraries == [
        {"name": "default", "languages": ["cs", "en", "pl", "ru"], "responses": len(bundled)}
    ]
    # Search and filters for the admin page.
    found = (await server.http.get(EN, params={"q": "/defect"}, headers=admin)).json()["responses"]
    assert found and all(i["shortcut"].startswith("/defect") for i in found)
    hater = (await server.http.get(EN, params={"situation": "hater"}, headers=admin)).json()["responses"]
    assert hater and {i["situation"] for i in hater} == {"hater"}


async def test_only_admins_get_in(server: Server) -> None:
    _, operator_token = await server.add_operator("Bob")
    routes = [
        ("GET", EN),
        ("POST", EN),
        ("GET", f"{EN}/defect.replace_now"),
        ("PUT", f"{EN}/defect.replace_now"),
        ("DELETE", f"{EN}/defect.replace_now"),
        ("GET", f"{EN}/defect.replace_now/versions"),
        ("POST", f"{EN}/defect.replace_now/versions/1/restore"),
        ("GET", f"{BASE}/export"),
        ("POST", f"{BASE}/import"),
        ("GET", f"{BASE}/usage"),
        ("POST", f"{BASE}/en/preview"),
        ("GET", "/api/admin/variables"),
        ("GET", "/api/admin/libraries"),
    ]
    for method, path in routes:
        await _error(await server.http.request(method, path, json={}), 401, "unauthorized")
        bad = {"Authorization": "Bearer nonsense"}
        await _error(await server.http.request(method, path, json={}, headers=bad), 401, "unauthorized")
        forbidden = await server.http.request(method, path, json={}, headers=_auth(operator_token))
        await _error(forbidden, 403, "forbidden")
    # Nothing changed on the way.
    assert len(_store(server).current) == len(load_library("default"))


async def test_validation_errors_name_the_code_entry_and_field(server: Server, admin: dict[str, str]) -> None:
    cases = [
        (_reply(text="Hello {customer.frist_name}!", slots=[]), "unknown_variable", "text"),
        (_reply(slots=["order.number"]), "unknown_variable", "slots"),
        (_reply(text="   "), "empty_text", "text"),
        (_reply(situation="angry"), "unknown_situation", "situation"),
        (_reply(text="Hey ______, thanks!", slots=[]), "invalid_field", "text"),
        (_reply(slot=["order.id"]), "invalid_field", "slot"),
        (_reply(language="pl"), "invalid_field", "language"),
        (_reply(shortcut="no slash"), "invalid_field", "shortcut"),
    ]
    for body, code, field in cases:
        error = await _error(await server.http.post(EN, json=body, headers=admin), 422, code)
        assert error["field"] == field and error["entry"] == "general.thanks_wait", error
        assert error["message"] and error["file"] == "default/en"
    error = await _error(
        await server.http.post(EN, json=_reply(text="Hi {customer.frist_name}", slots=[]), headers=admin),
        422,
        "unknown_variable",
    )
    assert "customer.first_name" in error["message"]  # the closest name is suggested
    error = await _error(
        await server.http.post(EN, json=_reply(id="bad id"), headers=admin), 422, "invalid_field"
    )
    assert error["field"] == "id"

    # An id or a shortcut another reply of the language has is refused.
    error = await _error(
        await server.http.post(EN, json=_reply(id="defect.replace_now"), headers=admin), 409, "duplicate_id"
    )
    assert error["entry"] == "defect.replace_now"
    error = await _error(
        await server.http.post(EN, json=_reply(shortcut="/DEFECT1"), headers=admin), 409, "duplicate_shortcut"
    )
    assert "defect.replace_now" in error["message"] and error["field"] == "shortcut"
    update = await server.http.put(
        f"{EN}/defect.refund_or_replace",
        json={
            **_store(server).get("en", "defect.refund_or_replace").response.to_json(),
            "shortcut": "/defect1",
        },
        headers=admin,
    )
    await _error(update, 409, "duplicate_shortcut")
    # Other languages are separate: the same id and shortcut are fine in Polish.
    created = await server.http.post(
        f"{BASE}/pl/responses",
        json=_reply(
            id="defect.replace_now.bis", shortcut="/thx", text="Dziękujemy za cierpliwość.", slots=[]
        ),
        headers=admin,
    )
    assert created.status_code == 201, created.text
    assert (await server.http.post(EN, json={"id": 1}, headers=admin)).status_code == 422
    await _error(await server.http.post(EN, content=b"[1, 2]", headers=admin), 400, "invalid_body")
    # Nothing invalid got in.
    assert "general.thanks_wait" not in {r.id for r in _store(server).current.in_language("en")}


async def test_create_update_delete(server: Server, admin: dict[str, str]) -> None:
    created = await server.http.post(EN, json=_reply(), headers=admin)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["version"] == 1 and body["language"] == "en" and body["updated_by"] is not None
    assert created.headers["location"] == f"{EN}/general.thanks_wait"
    got = await server.http.get(f"{EN}/general.thanks_wait", headers=admin)
    assert got.status_code == 200 and got.json() == body
    listed = (await server.http.get(EN, headers=admin)).json()["responses"]
    assert listed[-1]["id"] == "general.thanks_wait"  # new replies go last

    # A PUT may send back what the GET returned, with a new text.
    edited = {**body, "text": "Thanks for your patience. Order {order.id} has shipped."}
    updated = await server.http.put(f"{EN}/general.thanks_wait", json=edited, headers=admin)
    assert updated.status_code == 200, updated.text
    assert updated.json()["version"] == 2 and updated.json()["text"] == edited["text"]
    # An edit of version 1 now would overwrite someone else's change.
    stale = await server.http.put(f"{EN}/general.thanks_wait", json={**edited, "text": "Old."}, headers=admin)
    await _error(stale, 409, "version_conflict")
    renamed = await server.http.put(
        f"{EN}/general.thanks_wait", json={**edited, "id": "x", "version": 2}, headers=admin
    )
    error = await _error(renamed, 422, "invalid_field")
    assert error["field"] == "id"
    await _error(await server.http.put(f"{EN}/nope", json=_reply("nope"), headers=admin), 404, "not_found")

    deleted = await server.http.delete(f"{EN}/general.thanks_wait", headers=admin)
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {"id": "general.thanks_wait", "language": "en", "version": 3, "deleted": True}
    await _error(await server.http.get(f"{EN}/general.thanks_wait", headers=admin), 404, "not_found")
    await _error(await server.http.delete(f"{EN}/general.thanks_wait", headers=admin), 404, "not_found")
    await _error(
        await server.http.put(f"{EN}/general.thanks_wait", json=edited, headers=admin), 404, "not_found"
    )
    listed = (await server.http.get(EN, headers=admin)).json()["responses"]
    assert "general.thanks_wait" not in {i["id"] for i in listed}
    # The shortcut is free again once the reply is gone.
    again = await server.http.post(EN, json=_reply("general.thanks_again"), headers=admin)
    assert again.status_code == 201, again.text

    await _error(
        await server.http.get(f"{BASE.replace('default', 'other')}/en/responses", headers=admin),
        404,
        "not_found",
    )
    await _error(await server.http.get(f"{BASE}/English!/responses", headers=admin), 404, "not_found")
    assert (await server.http.get(f"{BASE}/de/responses", headers=admin)).json()["responses"] == []


async def test_versions_and_restore(server: Server, admin: dict[str, str]) -> None:
    url = f"{EN}/general.thanks_wait"
    await server.http.post(EN, json=_reply(), headers=admin)
    await server.http.put(url, json=_reply(text="Version two, order {order.id}."), headers=admin)
    await server.http.delete(url, headers=admin)
    versions = (await server.http.get(f"{url}/versions", headers=admin)).json()["versions"]
    assert [(v["version"], v["action"]) for v in versions] == [(1, "create"), (2, "update"), (3, "delete")]
    assert versions[2]["data"] is None and versions[1]["data"]["text"] == "Version two, order {order.id}."
    assert all(v["operator_id"] == versions[0]["operator_id"] is not None for v in versions)
    assert versions[0]["ts"] <= versions[1]["ts"] <= versions[2]["ts"]

    error = await _error(
        await server.http.post(f"{url}/versions/3/restore", headers=admin), 422, "invalid_field"
    )
    assert error["field"] == "version"
    await _error(await server.http.post(f"{url}/versions/9/restore", headers=admin), 404, "not_found")
    await _error(await server.http.get(f"{EN}/nope/versions", headers=admin), 404, "not_found")

    # Restoring a deleted reply brings it back, as a new version with the old data.
    restored = await server.http.post(f"{url}/versions/1/restore", headers=admin)
    assert restored.status_code == 200, restored.text
    assert restored.json()["version"] == 4 and restored.json()["text"] == _reply()["text"]
    assert _store(server).current.get("en", "general.thanks_wait").text == _reply()["text"]
    restored = await server.http.post(f"{url}/versions/2/restore", headers=admin)
    assert restored.json()["version"] == 5 and restored.json()["text"] == "Version two, order {order.id}."
    versions = (await server.http.get(f"{url}/versions", headers=admin)).json()["versions"]
    assert [v["action"] for v in versions] == ["create", "update", "delete", "restore", "restore"]
    assert versions[4]["data"] == versions[1]["data"]

    # A version whose shortcut another reply took since cannot come back as it was.
    await server.http.put(url, json=_reply(shortcut="/thx2"), headers=admin)
    await server.http.post(EN, json=_reply("general.other", shortcut="/thx"), headers=admin)
    await _error(
        await server.http.post(f"{url}/versions/1/restore", headers=admin), 409, "duplicate_shortcut"
    )


async def test_export_import_round_trip(server: Server, admin: dict[str, str]) -> None:
    exported = await server.http.get(f"{BASE}/export", headers=admin)
    assert exported.status_code == 200
    assert exported.headers["content-disposition"] == 'attachment; filename="default-library.json"'
    document = exported.json()
    assert document == load_library("default").to_json()
    assert len(exported.content) > 64 * 1024  # larger than an ordinary request body may be

    await server.http.delete(f"{EN}/defect.replace_now", headers=admin)
    await server.http.put(
        f"{BASE}/pl/responses/defect.replace_now",
        headers=admin,
        json={**document["responses"][0], "language": "pl", "text": "Zmienione."},
    )
    await server.http.post(EN, json=_reply(), headers=admin)
    with pytest.raises(KeyError):
        _store(server).current.get("en", "defect.replace_now")

    imported = await server.http.post(f"{BASE}/import", json=document, headers=admin)
    assert imported.status_code == 200, imported.text
    total = len(document["responses"])
    assert imported.json() == {
        "mode": "replace",
        "created": 1,
        "updated": 1,
        "unchanged": total - 2,
        "deleted": 1,
    }
    assert (await server.http.get(f"{BASE}/export", headers=admin)).json() == document
    assert _store(server).current.get("en", "defect.replace_now").shortcut == "/defect1"
    versions = (await server.http.get(f"{EN}/defect.replace_now/versions", headers=admin)).json()["versions"]
    assert [v["action"] for v in versions] == ["seed", "delete", "import"]
    again = await server.http.post(f"{BASE}/import", json=document, params={"mode": "replace"}, headers=admin)
    assert again.json() == {"mode": "replace", "created": 0, "updated": 0, "unchanged": total, "deleted": 0}


async def test_a_broken_import_changes_nothing(server: Server, admin: dict[str, str]) -> None:
    document = (await server.http.get(f"{BASE}/export", headers=admin)).json()
    before = _store(server).current
    revision = (await server.http.get(f"{EN}/defect.replace_now/versions", headers=admin)).json()

    broken = json.loads(json.dumps(document))
    broken["responses"][0]["text"] = "All new text."  # a valid change that must not land either
    last = len(broken["responses"]) - 1
    broken["responses"][last]["text"] = "Hello {customer.frist_name}"
    error = await _error(
        await server.http.post(f"{BASE}/import", json=broken, headers=admin), 422, "unknown_variable"
    )
    assert error["file"] == "<import>" and error["field"] == "text"
    assert error["entry"] == broken["responses"][last]["id"]

    twice = json.loads(json.dumps(document))
    twice["responses"].append(twice["responses"][0])
    await _error(await server.http.post(f"{BASE}/import", json=twice, headers=admin), 422, "duplicate_id")
    clash = json.loads(json.dumps(document))
    clash["responses"][1]["shortcut"] = clash["responses"][0]["shortcut"]
    await _error(
        await server.http.post(f"{BASE}/import", json=clash, headers=admin), 422, "duplicate_shortcut"
    )
    no_id = json.loads(json.dumps(document))
    del no_id["responses"][5]["id"]
    error = await _error(
        await server.http.post(f"{BASE}/import", json=no_id, headers=admin), 422, "invalid_field"
    )
    assert (error["entry"], error["field"]) == (5, "id")
    other = {**document, "library": "shop"}
    error = await _error(
        await server.http.post(f"{BASE}/import", json=other, headers=admin), 422, "invalid_field"
    )
    assert error["field"] == "library"
    garbage = await server.http.post(f"{BASE}/import", content=b"{not json", headers=admin)
    await _error(garbage, 422, "invalid_field")
    bad_mode = await server.http.post(
        f"{BASE}/import", json=document, params={"mode": "upsert"}, headers=admin
    )
    await _error(bad_mode, 422, "invalid_field")
    # In a merge, an imported shortcut that a kept reply has is refused too.
    merge_clash = {
        "library": "default",
        "format": 1,
        "responses": [{**_reply("general.new"), "language": "en", "shortcut": "/defect1"}],
    }
    await _error(
        await server.http.post(f"{BASE}/import", json=merge_clash, params={"mode": "merge"}, headers=admin),
        422,
        "duplicate_shortcut",
    )

    assert _store(server).current is before
    assert (await server.http.get(f"{BASE}/export", headers=admin)).json() == document
    assert (await server.http.get(f"{EN}/defect.replace_now/versions", headers=admin)).json() == revision


async def test_merge_import_adds_and_keeps_the_rest(server: Server, admin: dict[str, str]) -> None:
    document = {
        "library": "default",
        "format": 1,
        "responses": [
            {**_reply(), "language": "en"},
            {**_store(server).get("en", "hater.boundary").response.to_json(), "title": "Set a boundary"},
        ],
    }
    merged = await server.http.post(f"{BASE}/import", json=document, params={"mode": "merge"}, headers=admin)
    assert merged.status_code == 200, merged.text
    assert merged.json() == {"mode": "merge", "created": 1, "updated": 1, "unchanged": 0, "deleted": 0}
    current = _store(server).current
    assert current.get("en", "hater.boundary").title == "Set a boundary"
    assert current.get("en", "general.thanks_wait").shortcut == "/thx"
    assert len(current) == len(load_library("default")) + 1

    # A single <lang>.json file replaces that language only.
    pl_file = {
        "library": "default",
        "language": "pl",
        "responses": [{**_reply(), "text": "Dziękujemy za cierpliwość.", "slots": []}],
    }
    replaced = await server.http.post(f"{BASE}/import", json=pl_file, headers=admin)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["created"] == 1 and replaced.json()["deleted"] == len(
        load_library().in_language("pl")
    )
    current = _store(server).current
    assert [r.id for r in current.in_language("pl")] == ["general.thanks_wait"]
    assert len(current.in_language("en")) == len(load_library().in_language("en")) + 1


async def test_an_edit_reaches_the_next_suggestion(server: Server, admin: dict[str, str]) -> None:
    store = _store(server)
    before = store.current
    visitor = ["The kettle I got yesterday is broken, it does not even turn on."]
    first = suggest(store.current, visitor, language="en").items[0]
    assert first.response_id == "defect.replace_now"

    new_text = "I am very sorry. I am sending a new one today, at our cost."
    reply = {**store.get("en", "defect.replace_now").response.to_json(), "text": new_text}
    response = await server.http.put(f"{EN}/defect.replace_now", json=reply, headers=admin)
    assert response.status_code == 200, response.text
    assert store.current is not before  # swapped, not changed in place
    assert before.get("en", "defect.replace_now").text != new_text
    assert store.current.get("en", "defect.replace_now").text == new_text
    assert suggest(store.current, visitor, language="en").items[0].text == new_text

    await server.http.delete(f"{EN}/defect.replace_now", headers=admin)
    ids = [i.response_id for i in suggest(store.current, visitor, language="en").items]
    assert ids and "defect.replace_now" not in ids


async def test_usage_is_counted(server: Server, admin: dict[str, str]) -> None:
    store = _store(server)
    for kind in ("suggested", "suggested", "sent_as_is", "ignored"):
        store.record_usage("en", "defect.replace_now", kind)
    store.record_usage("pl", "defect.replace_now", "sent_edited")
    store.record_usage("en", "defect.replace_now", "liked")  # unknown kinds are dropped, never raised
    store.record_usage("en", "x" * 500, "suggested")
    usage = await server.http.get(f"{BASE}/usage", headers=admin)
    assert usage.status_code == 200, usage.text
    assert usage.json() == {
        "library": "default",
        "kinds": ["suggested", "sent_as_is", "sent_edited", "ignored"],
        "usage": {
            "en": {"defect.replace_now": {"ignored": 1, "sent_as_is": 1, "suggested": 2}},
            "pl": {"defect.replace_now": {"sent_edited": 1}},
        },
    }
    store.record_usage("en", "defect.replace_now", "suggested")
    listed = (await server.http.get(EN, headers=admin)).json()["responses"]
    row = next(i for i in listed if i["id"] == "defect.replace_now")
    assert row["usage"] == {"suggested": 3, "sent_as_is": 1, "sent_edited": 0, "ignored": 1}
    store.record_usage("en", "defect.replace_now", "ignored")
    await store.close()  # what the server does on the way down
    assert (await store.usage())["en"]["defect.replace_now"]["ignored"] == 2


async def test_variables_and_preview(server: Server, admin: dict[str, str]) -> None:
    variables = (await server.http.get("/api/admin/variables", headers=admin)).json()["variables"]
    by_name = {v["name"]: v for v in variables}
    assert by_name["restock.date"]["description"] and by_name["order.id"]["example"] == "100234"

    url = f"{BASE}/en/preview"
    body = {"text": "Hi {customer.first_name}, it is back {restock.date}.", "slots": ["restock.date"]}
    filled = (
        await server.http.post(url, json={**body, "context": {"customer.first_name": "Anna"}}, headers=admin)
    ).json()
    assert filled["text"] == "Hi Anna, it is back [[restock.date]]."
    assert filled["missing"] == ["restock.date"] and not filled["complete"]
    assert filled["unfilled"] == ["restock.date"] and filled["problem"] is None
    assert {"kind": "slot", "value": "restock.date"} in filled["segments"]
    examples = (await server.http.post(url, json=body, headers=admin)).json()
    assert examples["text"] == "Hi Anna, it is back on 12 May." and examples["complete"]
    dropped = (await server.http.post(url, json={**body, "context": {}}, headers=admin)).json()
    assert dropped["text"] == "Hi, it is back [[restock.date]]."
    typo = (await server.http.post(url, json={"text": "Hi {customer.frist_name}"}, headers=admin)).json()
    assert typo["problem"]["code"] == "unknown_variable" and typo["unfilled"] == ["customer.frist_name"]
    await _error(await server.http.post(url, json={"text": 5}, headers=admin), 422, "invalid_field")
    await _error(
        await server.http.post(url, json={"text": "x", "context": {"a": 1}}, headers=admin),
        422,
        "invalid_field",
    )


async def _defect_suggestions(server: Server) -> dict[str, Any]:
    _oid, token = await server.add_operator("Anna")
    anna = await server.operator(token)
    visitor, _ = await server.visitor(locale="en-GB")
    await visitor.say("Hi, I'm looking at your website")
    cid = (await anna.expect("assigned"))["conversation_id"]
    ack = await visitor.say("The blender I got yesterday arrived with a cracked jug and it leaks everywhere")
    return await anna.expect("suggestions", conversation_id=cid, seq=ack["seq"])


async def test_an_edit_reaches_the_operator_console(server: Server, admin: dict[str, str]) -> None:
    store = _store(server)
    for stored in store.replies("en"):
        if stored.response.situation == "defect":
            reply = {**stored.response.to_json(), "text": "Edited. " + stored.response.text}
            response = await server.http.put(f"{EN}/{stored.response.id}", json=reply, headers=admin)
            assert response.status_code == 200, response.text
    frame = await _defect_suggestions(server)
    assert frame["situation"] == "defect" and frame["items"]
    assert all(item["text"].startswith("Edited. ") for item in frame["items"]), frame


async def test_suggestions_count_as_usage(server: Server, admin: dict[str, str]) -> None:
    frame = await _defect_suggestions(server)
    usage = (await server.http.get(f"{BASE}/usage", headers=admin)).json()["usage"]
    for item in frame["items"]:
        assert usage[item["language"]][item["response_id"]]["suggested"] == 1
