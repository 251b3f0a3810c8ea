"""Every kind of bad input on a websocket gets an ``error`` frame and the socket stays open, or
it is closed with a code and a reason; never a crash, never a socket dropped without a close."""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from .conftest import Client, Server
from .hostile import ErrorRecords, server_errors, still_served

__all__ = ["server_errors"]

SURROGATE_TEXT = '{"type": "message", "client_id": "c-1", "text": "\\ud800"}'

# (raw frame, the error code it gets) for either endpoint
BAD_FRAMES: list[tuple[str | bytes, str]] = [
    ("not json at all", "invalid_json"),
    ("", "invalid_json"),
    ("{", "invalid_json"),
    ("[1, 2, 3]", "invalid_frame"),
    ('"a string"', "invalid_frame"),
    ("null", "invalid_frame"),
    ("12", "invalid_frame"),
    ("{}", "missing_field"),
    ('{"type": 12}', "missing_field"),
    ('{"type": null}', "missing_field"),
    ('{"type": ["message"]}', "missing_field"),
    ('{"type": "no-such-frame"}', "unknown_type"),
    ('{"type": "' + "x" * 8000 + '"}', "unknown_type"),
    (SURROGATE_TEXT, "invalid_json"),
    ('{"type": "message", "client_id": "\\udc00", "text": "hi"}', "invalid_json"),
    ('{"\\ud800": 1, "type": "message"}', "invalid_json"),
    ('{"type": "\\ud83d"}', "invalid_json"),
    ('{"type": "message", "client_id": "c", "text": NaN}', "invalid_json"),
    ('{"type": "message", "client_id": "c", "text": "t", "x": Infinity}', "invalid_json"),
    ('{"type": "message", "client_id": "c", "text": "t", "x": -Infinity}', "invalid_json"),
    ('{"type": "message", "client_id": "c", "text": "t", "x": 1e400}', "invalid_json"),
    ('{"type": "message", "x": ' + "9" * 5000 + "}", "invalid_json"),
    ("[" * 8000 + "]" * 8000, "invalid_json"),
    ('{"type": "message", "a": ' + "[" * 5000 + "]" * 5000 + "}", "invalid_json"),
    ('{"type": "message", "type": "no-such-frame"}', "unknown_type"),  # a repeated key: the last counts
    ('{"type": "message", "client_id": 7, "text": "hi"}', "invalid_field"),
    ('{"type": "message", "client_id": "c", "text": ["hi"]}', "invalid_field"),
    ('{"type": "message", "client_id": "", "text": "hi"}', "invalid_field"),
    ('{"type": "message", "client_id": "' + "c" * 129 + '", "text": "hi"}', "invalid_field"),
    ('{"type": "message", "client_id": "c", "text": "   "}', "invalid_field"),
    ('{"type": "message", "text": "hi"}', "missing_field"),
    ('{"type": "typing", "on": "yes", "conversation_id": 1}', "invalid_field"),
    ('{"type": "typing", "on": 1, "conversation_id": 1}', "invalid_field"),
    (b"\xff\xfe not utf-8", "invalid_json"),
    (b'{"type": "message", "text": "\\ud800"}', "invalid_json"),
    ("\ufeff{}".encode("utf-16"), "invalid_json"),
]


async def operator_client(server: Server) -> Client:
    _, token = await server.add_operator("Olga")
    return await server.operator(token)


async def expect_error(client: Client, raw: str | bytes, code: str) -> dict[str, Any]:
    await client.ws.send(raw)
    return await client.expect("error", code=code)


@pytest.mark.parametrize("endpoint", ["visitor", "operator"])
async def test_every_bad_frame_gets_its_error_and_the_socket_stays(
    server: Server, server_errors: ErrorRecords, endpoint: str
) -> None:
    client = await operator_client(server) if endpoint == "operator" else (await server.visitor())[0]
    for raw, code in BAD_FRAMES:
        error = await expect_error(client, raw, code)
        assert error["message"]
        assert len(json.dumps(error)) < 2000, "an error frame does not echo a huge field"
        await still_served(client, operator=endpoint == "operator")
    assert not server_errors.records, server_errors.text()


async def test_field_errors_of_the_visitor_frames(server: Server, server_errors: ErrorRecords) -> None:
    visitor, _ = await server.visitor()
    cases: list[tuple[dict[str, Any], str]] = [
        ({"type": "page", "url": 5}, "invalid_field"),
        ({"type": "page"}, "missing_field"),
        ({"type": "page", "url": "javascript:alert(1)"}, "invalid_field"),
        ({"type": "page", "url": "https://shop.example/", "title": ["x"]}, "invalid_field"),
        ({"type": "rating", "conversation_id": "12", "rating": 4}, "invalid_field"),
        ({"type": "rating", "conversation_id": 2**64, "rating": 4}, "invalid_field"),
        ({"type": "rating", "conversation_id": -(2**63) - 1, "rating": 4}, "invalid_field"),
        ({"type": "rating", "conversation_id": 2**63 - 1, "rating": 4}, "unknown_conversation"),
        ({"type": "rating", "conversation_id": 1, "rating": True}, "invalid_field"),
        ({"type": "rating", "conversation_id": 1, "rating": 4, "nps": 11}, "invalid_field"),
        ({"type": "rating", "conversation_id": 1, "rating": 4, "comment": {"a": 1}}, "invalid_field"),
        ({"type": "rating", "conversation_id": True, "rating": 4}, "invalid_field"),
        ({"type": "leave_message", "client_id": "lm"}, "no_open_conversation"),
        ({"type": "hello", "token": "whatever"}, "already_authenticated"),
    ]
    for frame, code in cases:
        await visitor.send(frame)
        await visitor.expect("error", code=code)
    await still_served(visitor, operator=False)
    assert not server_errors.records, server_errors.text()


async def test_field_errors_of_the_operator_frames(server: Server, server_errors: ErrorRecords) -> None:
    operator = await operator_client(server)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"type": "status", "status": 1}, "invalid_field"),
        ({"type": "status", "status": "asleep"}, "unknown_status"),
        ({"type": "status"}, "missing_field"),
        ({"type": "message", "client_id": "c", "text": "hi"}, "missing_field"),
        ({"type": "message", "client_id": "c", "text": "hi", "conversation_id": 2**70}, "invalid_field"),
        ({"type": "message", "client_id": "c", "text": "hi", "conversation_id": 1.5}, "invalid_field"),
        ({"type": "message", "client_id": "c", "text": "hi", "conversation_id": 9}, "not_your_conversation"),
        ({"type": "typing", "on": True, "conversation_id": "9"}, "invalid_field"),
        ({"type": "close", "conversation_id": None}, "missing_field"),
        ({"type": "close", "conversation_id": 2**63}, "invalid_field"),
        ({"type": "transfer", "conversation_id": 9, "reason": "r", "benefit": "b"}, "not_your_conversation"),
        ({"type": "transfer_accept", "conversation_id": 2**100}, "invalid_field"),
        ({"type": "transfer_accept", "conversation_id": 9}, "no_transfer_offer"),
        ({"type": "transfer_decline", "conversation_id": [9]}, "invalid_field"),
        ({"type": "transfer_cancel", "conversation_id": {}}, "invalid_field"),
        ({"type": "library_search", "query": 5}, "invalid_field"),
        ({"type": "library_search", "query": "x", "conversation_id": 2**64}, "invalid_field"),
        ({"type": "library_search", "query": "x", "language": 3}, "invalid_field"),
        ({"type": "hello", "token": "x"}, "already_authenticated"),
    ]
    for frame, code in cases:
        await operator.send(frame)
        await operator.expect("error", code=code)
    await still_served(operator, operator=True)
    assert not server_errors.records, server_errors.text()


async def test_transfer_fields_of_every_wrong_kind(server: Server, server_errors: ErrorRecords) -> None:
    """On a chat the operator holds, so that the checks behind the ownership check run too."""
    _, token = await server.add_operator("Olga")
    operator = await server.operator(token)
    visitor, _ = await server.visitor()
    await visitor.say("hello")
    cid = (await operator.expect("assigned"))["conversation_id"]
    base = {"type": "transfer", "conversation_id": cid, "reason": "r", "benefit": "b"}
    cases: list[tuple[dict[str, Any], str]] = [
        ({**base, "reason": 5}, "transfer_reason_required"),
        ({**base, "benefit": ["b"]}, "transfer_reason_required"),
        ({**base, "to": "billing"}, "missing_field"),
        ({**base, "to": {"operator_id": "1"}}, "invalid_field"),
        ({**base, "to": {"operator_id": 2**64}}, "invalid_field"),
        ({**base, "to": {"operator_id": True}}, "invalid_field"),
        ({**base, "to": {"team": 4}}, "invalid_field"),
        ({**base, "to": {"team": "a", "operator_id": 1}}, "invalid_field"),
        ({**base, "to": {"team": "a"}, "queue": "yes"}, "invalid_field"),
        ({**base, "to": {"team": "a"}, "text": 12}, "invalid_field"),
        ({**base, "to": {"team": "nobody-here"}}, "unknown_transfer_target"),
        ({**base, "to": {"operator_id": 2**63 - 1}}, "unknown_transfer_target"),
    ]
    for frame, code in cases:
        await operator.send(frame)
        await operator.expect("error", code=code)
    await operator.send({"type": "typing", "conversation_id": cid, "on": "x"})
    await operator.expect("error", code="invalid_field")
    await still_served(operator, operator=True)
    await still_served(visitor, operator=False)
    assert not server_errors.records, server_errors.text()


async def test_binary_frames_are_read_as_utf8_text(server: Server, server_errors: ErrorRecords) -> None:
    operator = await operator_client(server)
    await operator.ws.send(json.dumps({"type": "status", "status": "away"}).encode())
    await operator.expect("status", status="away")
    await operator.ws.send(b"\x00\x01\x02")
    await operator.expect("error", code="invalid_json")
    await still_served(operator, operator=True)
    assert not server_errors.records, server_errors.text()


@pytest.mark.parametrize("path", ["/ws/visitor", "/ws/operator"])
async def test_an_oversized_frame_closes_with_1009(
    server: Server, server_errors: ErrorRecords, path: str
) -> None:
    client = await server.connect(path, None)
    await client.send({"type": "hello", "token": "x" * (17 * 1024)})
    with pytest.raises(ConnectionClosed) as closed:
        await client.next()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    visitor, _ = await server.visitor()
    await still_served(visitor, operator=False)
    assert not server_errors.records, server_errors.text()


HELLO_TOKENS: list[Any] = [
    None,
    12,
    1.5,
    True,
    [],
    {"token": "x"},
    "",
    ".",
    "a.b.c",
    "é.é",
    "\u0000.\u0000",
    "a" * 15000,
    "eyJr." + "ą" * 10,
    "ok.\ud800",
]


@pytest.mark.parametrize("path", ["/ws/visitor", "/ws/operator"])
async def test_a_hello_with_a_token_of_any_shape_closes_4401(
    server: Server, server_errors: ErrorRecords, path: str
) -> None:
    raws: list[str | bytes] = [json.dumps({"type": "hello", "token": t}) for t in HELLO_TOKENS]
    raws += [
        '{"type": "hello"}',
        '{"type": "hello", "token": NaN}',
        '{"type": "message", "client_id": "c", "text": "before hello"}',
        "[" * 15000,
        "not json",
        b"\xff",
        b'{"type": "hello", "token": "a.b"}',
    ]
    for raw in raws:
        async with connect(server.ws_url + path, open_timeout=5) as ws:
            await ws.send(raw)
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd is not None, raw
            assert closed.value.rcvd.code == 4401 and closed.value.rcvd.reason, raw
    visitor, _ = await server.visitor()
    await still_served(visitor, operator=False)
    assert not server_errors.records, server_errors.text()


async def test_a_resume_of_any_shape_is_ignored(server: Server, server_errors: ErrorRecords) -> None:
    data = await server.visitor_session()
    for resume in [
        {"conversation_id": 2**64, "last_seq": 0},
        {"conversation_id": 1, "last_seq": 2**64},
        {"conversation_id": 1, "last_seq": -1},
        {"conversation_id": "1"},
        [1, 2],
        "x",
    ]:
        client = await server.connect("/ws/visitor", data["token"], resume=resume)
        await still_served(client, operator=False)
        await client.close()
    assert not server_errors.records, server_errors.text()
