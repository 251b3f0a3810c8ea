"""A socket that sends too fast is refused and then closed; one that stops reading is closed;
the other chats go on as before."""

from __future__ import annotations

import asyncio
import json
import resource
import socket

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from chatserver.transport.frame_rate import ACCEPT, CLOSE, REFUSE, FrameRate

from .conftest import ServerFactory
from .hostile import ErrorRecords, server_errors, still_served

__all__ = ["server_errors"]


def test_the_bucket_allows_the_burst_then_the_rate_then_closes_a_flood() -> None:
    rate = FrameRate(rate=10, burst=3)
    assert [rate.take(0.0) for _ in range(3)] == [ACCEPT] * 3
    assert rate.take(0.0) == REFUSE
    assert rate.retry_after_ms() == 100
    assert rate.take(0.1) == ACCEPT  # one token back after 1/rate s
    assert [rate.take(0.1) for _ in range(19)] == [REFUSE] * 19  # 20 refused in a second ...
    assert rate.take(0.15) == CLOSE  # ... and the 21st closes
    calm = FrameRate(rate=10, burst=3)
    assert all(calm.take(n * 0.1) == ACCEPT for n in range(100))  # at the rate, forever
    later = FrameRate(rate=10, burst=3)
    for second in range(5):  # refusals spread over windows never close
        assert [later.take(second + 0.0) for _ in range(3)].count(CLOSE) == 0
        assert all(later.take(second + 0.5) != CLOSE for _ in range(15))


async def test_over_the_limit_a_frame_gets_rate_limited_and_a_flood_is_closed(
    start_server: ServerFactory, server_errors: ErrorRecords
) -> None:
    server = await start_server(ws_frames_per_s=5.0, ws_frames_burst=5)
    _, token = await server.add_operator("Olga")
    operator = await server.connect("/ws/operator", token)
    other, _ = await server.visitor()
    for n in range(8):
        await operator.send({"type": "status", "status": "online", "client_id": f"s-{n}"})
    assert len([await operator.expect("status") for _ in range(5)]) == 5
    limited = [await operator.expect("error", code="rate_limited") for _ in range(3)]
    assert [e["client_id"] for e in limited] == ["s-5", "s-6", "s-7"]
    assert all(0 < e["retry_after_ms"] <= 200 for e in limited)
    await asyncio.sleep(0.25)
    await still_served(operator, operator=True)  # waiting as told is enough

    for _ in range(30):  # 3x the limit and more, at once
        await operator.send("not even json")
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await operator.next()
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1008, "too many frames")
    await still_served(other, operator=False)
    assert (await other.say("still here"))["type"] == "ack"
    assert not server_errors.records, server_errors.text()


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def test_a_client_that_stops_reading_is_closed_and_the_others_go_on(
    start_server: ServerFactory, server_errors: ErrorRecords
) -> None:
    server = await start_server(ws_frames_per_s=0.0, ws_send_queue_frames=256, ws_send_queue_bytes=256 * 1024)
    _, token = await server.add_operator("Olga", capacity=2)
    operator = await server.operator(token)
    data = await server.visitor_session()
    small = socket.socket()
    small.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    small.connect(("127.0.0.1", int(server.ws_url.rsplit(":", 1)[1])))
    stuck = await connect(server.ws_url + "/ws/visitor", sock=small, max_queue=1, open_timeout=5)
    await stuck.send(json.dumps({"type": "hello", "token": data["token"]}))
    await stuck.send(json.dumps({"type": "message", "client_id": "v-1", "text": "help"}))
    stuck_cid = (await operator.expect("assigned"))["conversation_id"]
    other, _ = await server.visitor()
    await other.say("me too")
    other_cid = (await operator.expect("assigned"))["conversation_id"]
    # The stuck visitor reads nothing from here on, while the operator writes long replies.
    before = rss_mib()
    outboxes = server.state.hub
    text = "a long answer " * 280  # ~4,000 characters
    sent = 0
    for batch in range(100):
        for n in range(10):
            await operator.send(
                {"type": "message", "conversation_id": stuck_cid, "client_id": f"o-{batch}-{n}", "text": text}
            )
            sent += 1
        for n in range(10):
            await operator.expect("ack", client_id=f"o-{batch}-{n}")
        await operator.say("and you?", conversation_id=other_cid)
        await other.expect("message", text="and you?")
        if not outboxes.channels.listeners(f"visitor:{data['visitor_id']}"):
            break
    assert not outboxes.channels.listeners(f"visitor:{data['visitor_id']}"), "the stuck socket is forgotten"
    assert sent < 1000, "closed well before everything was sent"
    assert rss_mib() - before < 64
    # Reading again, the stuck client finds the close after what was already on its way.
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(stuck.recv(), 10)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (
        1008,
        "the client is not reading what it is sent",
    )
    await operator.say("the other chat is fine", conversation_id=other_cid)
    await other.expect("message", text="the other chat is fine")
    await still_served(operator, operator=True)
    assert not server_errors.records, server_errors.text()
