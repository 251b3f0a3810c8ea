"""The REST edge, one hostile input at a time: each answer is a 4xx with a stable code.

Each case here is also something the fuzzing in ``test_rest_fuzz.py`` found or guards against;
these plain tests keep the fix in place whatever the fuzzer happens to generate.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from chatserver.settings import Settings, SettingsError

from .conftest import Server, ServerFactory


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, error
    return error


async def _admin(server: Server) -> dict[str, str]:
    _id, token = await server.add_operator("Ada", role="admin")
    return _auth(token)


# One server for all of them: each case is one request.
BODIES = [
    (b"\xff\xfe{}", 400, "invalid_json"),  # not UTF-8
    (b'{"locale": "\\ud800"}', 422, "invalid_field"),  # a lone surrogate
    (b'{"\\udfff": 1}', 400, "invalid_json"),  # a lone surrogate in a key
    (b'{"locale": "p\\u0000l"}', 422, "invalid_field"),  # NUL
    (b'{"locale": "pl", "locale": "en"}', 400, "invalid_json"),  # a repeated key
    (b'{"visitor_id": NaN}', 400, "invalid_json"),
    (b'{"visitor_id": -Infinity}', 400, "invalid_json"),
    (b'{"visitor_id": 1e400}', 422, "invalid_field"),  # a float out of range
    (b'{"visitor_id": 99999999999999999999}', 422, "invalid_field"),  # beyond 64 bits
    (b'{"visitor_id": ' + b"9" * 5000 + b"}", 400, "invalid_json"),  # beyond Python's int parsing
    (b"[" * 5000 + b"]" * 5000, 400, "invalid_json"),  # deeper than the recursion limit
    (b'{"identity":' * 40 + b"{}" + b"}" * 40, 400, "invalid_json"),  # deeper than MAX_DEPTH
    (b"[1, 2]", 400, "invalid_body"),
    (b'"text"', 400, "invalid_body"),
]


async def test_bodies_that_are_no_usable_json(server: Server) -> None:
    for raw, status, code in BODIES:
        _error(await server.http.post("/api/visitor/sessions", content=raw), status, code)


async def test_a_field_problem_names_the_field(server: Server) -> None:
    error = _error(
        await server.http.post("/api/visitor/sessions", content=b'{"locale": "\\ud800"}'),
        422,
        "invalid_field",
    )
    assert error["field"] == "locale"
    error = _error(await server.http.post("/api/visitor/sessions", json={"locale": 7}), 422, "invalid_field")
    assert error["field"] == "locale"


async def test_a_body_over_the_limit_is_refused_as_it_streams(start_server: ServerFactory) -> None:
    server = await start_server(max_body_bytes=2048)
    big = b'{"locale": "' + b"x" * 4096 + b'"}'
    _error(await server.http.post("/api/visitor/sessions", content=big), 413, "body_too_large")

    async def chunks() -> Any:  # no Content-Length: only the stream tells the size
        for _ in range(100):
            yield b" " * 1024

    _error(await server.http.post("/api/visitor/sessions", content=chunks()), 413, "body_too_large")
    small = await server.http.post("/api/visitor/sessions", json={"locale": "pl"})
    assert small.status_code == 201, small.text


def test_the_body_limit_is_read_from_the_environment() -> None:
    assert Settings.from_env({}).max_body_bytes == 64 * 1024
    assert Settings.from_env({"CHAT_MAX_BODY_BYTES": "4096"}).max_body_bytes == 4096
    with pytest.raises(SettingsError, match="CHAT_MAX_BODY_BYTES"):
        Settings.from_env({"CHAT_MAX_BODY_BYTES": "lots"})


HEADERS = [
    "Bearer é.é".encode("latin-1"),  # compare_digest refused non-ASCII text with a TypeError
    b"Bearer \xff\xfe.\x80",
    b"Bearer " + b"A" * 10_000 + b"." + b"B" * 32,
    b"Bearer not-base64!!.???",
    b"Bearer a.b.c",
    b"Basic dXNlcjpwYXNz",
]


async def test_tokens_of_any_shape_are_unauthorized(server: Server) -> None:
    rating = "/api/visitor/conversations/1/rating"
    for header in HEADERS:
        auth = {b"Authorization": header}
        _error(await server.http.get("/api/queue", headers=auth), 401, "unauthorized")
        _error(await server.http.post(rating, json={"score": 5}, headers=auth), 401, "unauthorized")


async def test_a_token_with_a_bad_signature_is_unauthorized(server: Server) -> None:
    _id, token = await server.add_operator("Olga")
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    _error(await server.http.get("/api/queue", headers=_auth(forged)), 401, "unauthorized")


@pytest.mark.parametrize(
    "path",
    [
        "/api/admin/operators/99999999999999999999",  # beyond 64 bits: an OverflowError in SQLite
        "/api/admin/operators/9223372036854775808",
        "/api/admin/operators/abc",
        "/api/admin/operators/-1",
    ],
)
async def test_ids_in_paths_that_name_nothing(server: Server, path: str) -> None:
    admin = await _admin(server)
    _error(await server.http.get(path, headers=admin), 404, "not_found")
    _error(await server.http.patch(path, json={"name": "X"}, headers=admin), 404, "not_found")
    _error(await server.http.post(path + "/deactivate", headers=admin), 404, "not_found")


async def test_a_team_id_beyond_64_bits(server: Server) -> None:
    admin = await _admin(server)
    _error(await server.http.delete("/api/admin/teams/99999999999999999999", headers=admin), 404, "not_found")


async def test_no_route_and_a_wrong_method_answer_json(server: Server) -> None:
    _error(await server.http.get("/api/nothing-here"), 404, "not_found")
    wrong = await server.http.delete("/api/operators/login")
    _error(wrong, 405, "method_not_allowed")
    assert "POST" in wrong.headers["allow"]


@pytest.mark.parametrize("kind", [["impatient"], {"a": 1}, 7, True])
async def test_a_customer_type_of_the_wrong_kind(server: Server, kind: Any) -> None:
    # A list or an object was looked up in a dict of types: TypeError, unhashable.
    admin = await _admin(server)
    response = await server.http.patch("/api/customers/1", json={"type": kind}, headers=admin)
    _error(response, 422, "unknown_customer_type")


async def test_an_unknown_field_holding_a_surrogate_in_its_name(server: Server) -> None:
    # The field name went into the error body, which could not be encoded: a 500.
    admin = await _admin(server)
    response = await server.http.post("/api/admin/teams", content=b'{"\\udfff": 1}', headers=admin)
    _error(response, 400, "invalid_json")


async def test_an_import_that_is_no_usable_json(server: Server) -> None:
    admin = await _admin(server)
    library = (await server.http.get("/api/admin/libraries", headers=admin)).json()["libraries"][0]["name"]
    url = f"/api/admin/libraries/{library}/import"
    for raw in (b"[" * 5000, b'{"a": 1, "a": 2}', b'{"responses": "\\ud800"}', b"\xff"):
        _error(await server.http.post(url, content=raw, headers=admin), 422, "invalid_field")
