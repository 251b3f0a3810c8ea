"""Honest waits over a real server: a new shop whose chats end in seconds is not told minutes.

One operator with one slot, the configured default handle time 240 s, chats that last 4 s (the
server's clock is a fake one the test moves by hand). Before any chat has finished the visitor
in line is told minutes; after three finished chats the estimate is close to the real wait, and
the console shows operators the very figures the visitor was told.
"""

from __future__ import annotations

from typing import Any

from .conftest import Client, Server, ServerFactory

CHAT_S = 4.0


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def serve_one(server: Server, anna: Client, clock: FakeClock) -> tuple[Client, int]:
    visitor, _ = await server.visitor()
    await visitor.say("Hello")
    cid: int = (await anna.expect("assigned"))["conversation_id"]
    return visitor, cid


async def queued_behind(server: Server) -> tuple[Client, dict[str, Any]]:
    visitor, _ = await server.visitor()
    await visitor.say("Anyone there?")
    return visitor, await visitor.expect("queue", position=1)


async def test_estimates_follow_short_chats_within_three_finished_chats(start_server: ServerFactory) -> None:
    clock = FakeClock(1_000_000.0)
    server = await start_server(default_handle_s=240.0, clock=clock)
    _oid, token = await server.add_operator("Anna", capacity=1)
    anna = await server.operator(token)

    # Nothing finished yet: only the default to go by, so minutes.
    busy, cid = await serve_one(server, anna, clock)
    waiting, first = await queued_behind(server)
    assert first["estimated_wait_s"] > 60
    for finished in range(3):
        clock.now += CHAT_S
        await anna.send({"type": "close", "conversation_id": cid})
        await busy.expect("closed", conversation_id=cid)
        busy = waiting
        cid = (await anna.expect("assigned"))["conversation_id"]
        if finished < 2:
            waiting, _ = await queued_behind(server)

    # Three chats of 4 s finished; the chat in progress has just started, so the real wait is ~4 s.
    waiting, told = await queued_behind(server)
    assert 1 <= told["estimated_wait_s"] <= 3 * CHAT_S, told
    assert told["low_s"] <= told["estimated_wait_s"] <= told["high_s"] <= 6 * CHAT_S, told
    # The same range to the millisecond, inside the whole-second one (the promise covers all of it).
    assert told["low_s"] * 1000 <= told["low_ms"] < told["high_ms"] <= told["high_s"] * 1000, told

    # The console shows the operator what the visitor was told.
    queue = (await server.http.get("/api/queue", headers={"Authorization": f"Bearer {token}"})).json()
    (row,) = queue["waiting"]
    assert (row["estimated_wait_s"], row["low_s"], row["high_s"]) == (
        told["estimated_wait_s"],
        told["low_s"],
        told["high_s"],
    )
    clock.now += CHAT_S
    await anna.send({"type": "close", "conversation_id": cid})
    await waiting.expect("assigned")
