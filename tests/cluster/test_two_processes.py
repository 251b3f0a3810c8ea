"""Visitors and operators on different server processes are one service: one queue, one roster."""

from __future__ import annotations

from typing import Any

from tests.transport.conftest import Client

from .conftest import Cluster, ClusterFactory


async def _chat(visitor: Client, operator: Client, cid: int) -> None:
    """The visitor is told who serves them; the first message and the reply each reach the other."""
    told = await visitor.expect("assigned", conversation_id=cid)
    assert told["operator"] == {"name": "Anna", "title": "Customer care"}
    incoming = await operator.expect("message", conversation_id=cid, sender="visitor")
    assert incoming["text"] == "Hello, my parcel did not arrive"
    reply = await operator.say("Let me check that for you", conversation_id=cid)
    got = await visitor.expect("message", sender="operator")
    assert got["text"] == "Let me check that for you" and got["seq"] == reply["seq"] == 2
    await visitor.close()
    await operator.close()


async def test_one_process_on_postgresql_and_redis_serves_a_visitor_end_to_end(
    start_cluster: ClusterFactory,
) -> None:
    cluster = await start_cluster(1)
    anna = await cluster.add_operator("Anna")
    operator = await cluster[0].operator(await cluster.sign_in(anna, on=0))
    visitor, _ = await cluster[0].visitor()
    await visitor.say("Hello, my parcel did not arrive")
    cid = (await operator.expect("assigned"))["conversation_id"]
    await _chat(visitor, operator, cid)


async def test_a_visitor_on_one_process_is_served_by_the_only_operator_on_another(cluster: Cluster) -> None:
    anna = await cluster.add_operator("Anna")
    operator = await cluster[1].operator(await cluster.sign_in(anna, on=1))
    visitor, session = await cluster[0].visitor()
    await visitor.say("Hello, my parcel did not arrive")
    assigned = await operator.expect("assigned")
    cid = assigned["conversation_id"]
    assert assigned["visitor"]["id"] == session["visitor_id"]
    await _chat(visitor, operator, cid)


async def test_visitors_arriving_on_both_processes_queue_in_arrival_order(cluster: Cluster) -> None:
    anna = await cluster.add_operator("Anna", capacity=1)
    operator = await cluster[1].operator(await cluster.sign_in(anna, on=1))
    busy, _ = await cluster[1].visitor()
    await busy.say("I came first")
    busy_cid = (await operator.expect("assigned"))["conversation_id"]
    await busy.expect("assigned", conversation_id=busy_cid)

    waiting = []
    first_frames: list[dict[str, Any]] = []
    for position, node in enumerate((0, 1, 0, 1), start=1):
        visitor, _ = await cluster[node].visitor()
        await visitor.say(f"I am number {position} in line, on process {node}")
        queued = await visitor.expect("queue")  # before the next one arrives: arrival order is certain
        assert queued["operators_online"] == 1, queued
        assert queued["estimated_wait_s"] is not None, queued
        assert queued["position"] == position, queued
        waiting.append(visitor)
        first_frames.append(queued)
    assert operator.unread("assigned") == []

    # The slot frees: the longest-waiting visitor (on the other process) goes first, the rest move up.
    await operator.send({"type": "close", "conversation_id": busy_cid})
    await busy.expect("closed", conversation_id=busy_cid)
    next_cid = first_frames[0]["conversation_id"]
    assert (await operator.expect("assigned"))["conversation_id"] == next_cid
    await waiting[0].expect("assigned", conversation_id=next_cid)
    for position, visitor in enumerate(waiting[1:], start=1):
        await visitor.expect("queue", position=position)
    for client in (*waiting, busy, operator):
        await client.close()
