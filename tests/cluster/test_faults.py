"""Faults of a service of several processes: a process killed (-9), the leader killed, Redis restarted.

Timings are short (grace 3 s, hold messages every second) so that each test runs in seconds;
the lease is the code's (3 s, renewed every 0.5 s).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx

from tests.transport.conftest import Client

from .conftest import Cluster, ClusterFactory, RedisServer

LEASE_S = 3.0  # ClusterMember's default lease
GRACE_S = 3.0
OUTAGE_S = 4.0
LOST_TEXT = "Your consultant lost their connection"


async def readyz(cluster: Cluster, index: int) -> dict[str, Any] | None:
    """The process's /readyz answer, None if it does not answer at all."""
    try:
        response = await cluster[index].http.get("/readyz", timeout=1.0)
    except httpx.TransportError:
        return None
    body: dict[str, Any] = response.json()
    assert (response.status_code == 200) == body["ready"], (response.status_code, body)
    return body


async def wait_until_ready(cluster: Cluster, indexes: list[int], ready: bool, timeout: float) -> float:
    """Poll /readyz of these processes until each says ``ready``; the seconds it took."""
    start = time.monotonic()
    deadline = start + timeout
    pending = set(indexes)
    while pending:
        for index in list(pending):
            body = await readyz(cluster, index)
            if body is not None and body["ready"] is ready:
                pending.discard(index)
        if time.monotonic() > deadline:
            raise AssertionError(f"processes {sorted(pending)} not ready={ready} within {timeout} s")
        await asyncio.sleep(0.05)
    return time.monotonic() - start


async def leader_of(cluster: Cluster, indexes: list[int], timeout: float = 10.0) -> int:
    """The one process among ``indexes`` that says it leads (waiting until exactly one does)."""
    deadline = time.monotonic() + timeout
    while True:
        leaders = [i for i in indexes if ((await readyz(cluster, i)) or {}).get("leader")]
        if len(leaders) == 1:
            return leaders[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"no single leader among {indexes}: {leaders}")
        await asyncio.sleep(0.05)


async def wait_for_log(cluster: Cluster, index: int, text: str, timeout: float, *, times: int = 1) -> None:
    """Wait until process ``index`` has written ``text`` to its log (``times`` times)."""
    deadline = time.monotonic() + timeout
    while cluster.nodes[index].output().count(text) < times:
        if time.monotonic() > deadline:
            raise AssertionError(f"process {index} never logged {text!r}:\n{cluster.nodes[index].output()}")
        await asyncio.sleep(0.05)


def abandon(client: Client) -> None:
    """Drop a socket whose process was killed (a closing handshake would wait for nobody)."""
    client.ws.transport.abort()


async def replay(client: Client, until: str) -> list[dict[str, Any]]:
    """The ``message`` frames a visitor gets after ``welcome`` until the frame of type ``until``."""
    messages = []
    while (frame := await client.next()).get("type") != until:
        if frame.get("type") == "message":
            messages.append(frame)
    return messages


async def test_an_operator_whose_only_process_dies_keeps_the_grace_period(
    start_cluster: ClusterFactory,
) -> None:
    cluster = await start_cluster(3, CHAT_OPERATOR_GRACE_S=str(GRACE_S))
    leader = await leader_of(cluster, [0, 1, 2])
    others = [i for i in range(3) if i != leader]
    anna = await cluster.add_operator("Anna", capacity=2)
    boris = await cluster.add_operator("Boris", capacity=2)

    # Anna is on a follower, her visitor on the leader: the follower dies with her only socket.
    doomed = others[0]
    operator = await cluster[doomed].operator(await cluster.sign_in(anna, on=doomed))
    visitor, _ = await cluster[leader].visitor()
    await visitor.say("Hello, where is my parcel?")
    cid = (await operator.expect("assigned"))["conversation_id"]
    await visitor.expect("assigned", conversation_id=cid)
    killed_at = time.monotonic()
    cluster.kill9(doomed)

    # Within lease + grace the chat goes back to the front of the line and the visitor is told.
    told = await visitor.expect("message", timeout=LEASE_S + GRACE_S + 3, sender="system")
    lost_after = time.monotonic() - killed_at
    assert told["text"].startswith(LOST_TEXT), told
    queued = await visitor.expect("queue", conversation_id=cid)
    assert queued["position"] == 1 and queued["operators_online"] == 0, queued
    assert lost_after > GRACE_S, lost_after  # not before the grace period ran out
    print(f"visitor told the operator was lost {lost_after:.1f} s after kill -9")

    # Boris comes online elsewhere: the chat goes to him.
    helper = await cluster[others[1]].operator(await cluster.sign_in(boris, on=others[1]))
    assert (await helper.expect("assigned"))["conversation_id"] == cid
    await visitor.expect("assigned", conversation_id=cid)

    # Boris' process dies too; he reconnects to the leader within the grace period: still his.
    second = others[1]
    cluster.kill9(second)
    await wait_for_log(cluster, leader, "stopped answering", timeout=LEASE_S + 3, times=2)  # grace started
    again = await cluster[leader].operator(await cluster.sign_in(boris, on=leader))
    assert (await again.expect("assigned"))["conversation_id"] == cid
    history = await again.expect("message", text="Hello, where is my parcel?")
    assert history["conversation_id"] == cid
    reply = await again.say("I am still here", conversation_id=cid)
    got = await visitor.expect("message", sender="operator")
    assert got["seq"] == reply["seq"] and got["text"] == "I am still here"
    # Past the grace period nothing moves: no "lost" line, no release.
    try:
        lost = await visitor.expect("message", timeout=GRACE_S + 1, sender="system")
    except AssertionError:
        pass
    else:
        raise AssertionError(f"the chat was taken from an operator who came back in time: {lost}")
    assert again.unread("released") == []
    late = await again.say("Your parcel is on its way", conversation_id=cid)
    assert late["seq"] == reply["seq"] + 1
    abandon(operator)
    abandon(helper)
    for client in (visitor, again):
        await client.close()


async def test_a_visitor_whose_process_dies_resumes_on_another_without_loss_or_repeats(
    start_cluster: ClusterFactory,
) -> None:
    cluster = await start_cluster(2)
    anna = await cluster.add_operator("Anna")
    operator = await cluster[1].operator(await cluster.sign_in(anna, on=1))
    data = await cluster[0].visitor_session()
    visitor = await cluster[0].connect("/ws/visitor", data["token"])
    first = await visitor.say("Hello")
    cid = (await operator.expect("assigned"))["conversation_id"]
    await visitor.expect("assigned", conversation_id=cid)
    reply = await operator.say("Hi, how can I help?", conversation_id=cid)
    seen = await visitor.expect("message", seq=reply["seq"])
    assert first["seq"] == 1 and seen["sender"] == "operator"

    # A burst sent without waiting; the process dies while some of it is in flight.
    burst = [f"v-{uuid.uuid4().hex[:8]}-{n}" for n in range(20)]
    for n, client_id in enumerate(burst):
        await visitor.send({"type": "message", "client_id": client_id, "text": f"line {n}"})
    acked = {client_id: (await visitor.expect("ack", client_id=client_id))["seq"] for client_id in burst[:3]}
    last_seen = max(
        [seen["seq"]] + [frame["seq"] for frame in visitor.seen if frame.get("type") == "message"]
    )
    cluster.kill9(0)
    # The operator goes on talking while the visitor is away.
    while_away = [await operator.say(f"Away {n}", conversation_id=cid) for n in range(3)]

    # The visitor comes back on the other process and resumes where it was.
    back = await cluster[1].connect(
        "/ws/visitor", data["token"], resume={"conversation_id": cid, "last_seq": last_seen}
    )
    missed = await replay(back, until="assigned")
    seqs = [m["seq"] for m in missed]
    assert seqs == sorted(set(seqs)), f"replayed out of order or twice: {seqs}"
    assert seqs and seqs[0] == last_seen + 1, (last_seen, seqs)
    assert {m["seq"] for m in while_away} <= set(seqs)
    # Whatever of the burst was not acked is sent again with the same client_id: stored once.
    resent = [client_id for client_id in burst if client_id not in acked]
    for client_id in resent:
        await back.send({"type": "message", "client_id": client_id, "text": f"line {burst.index(client_id)}"})
    for client_id in resent:
        acked[client_id] = (await back.expect("ack", client_id=client_id))["seq"]
    # This socket sees every message after last_seen, in order, each once (replay and live).
    got = await messages_seen(back, until=max(acked.values()))
    assert got == list(range(last_seen + 1, got[-1] + 1)), got

    # The whole conversation, read from scratch: 1..N without gaps, every message once.
    fresh = await cluster[1].connect("/ws/visitor", data["token"])
    transcript = await replay(fresh, until="assigned")
    numbers = [m["seq"] for m in transcript]
    assert numbers == list(range(1, len(numbers) + 1)), numbers
    by_client = [m.get("client_id") for m in transcript if m["sender"] == "visitor"]
    assert sorted(c for c in by_client if c in acked) == sorted(acked), by_client
    assert len(by_client) == len(set(by_client)), by_client
    for m in transcript:
        if m.get("client_id") in acked:
            assert m["seq"] == acked[m["client_id"]], m
    abandon(visitor)
    for client in (back, fresh, operator):
        await client.close()


async def messages_seen(client: Client, *, until: int) -> list[int]:
    """The seqs of every ``message`` frame this socket got, in arrival order, once it has ``until``."""

    def seqs() -> list[int]:
        return [frame["seq"] for frame in client.seen if frame.get("type") == "message"]

    while until not in seqs():
        await client.expect("message")  # one more frame read (or a timeout)
    return seqs()


async def test_when_the_leader_dies_another_takes_over_timers_fire_once(
    start_cluster: ClusterFactory,
) -> None:
    cluster = await start_cluster(2, CHAT_HOLD_INTERVAL_S="1")
    leader = await leader_of(cluster, [0, 1])
    follower = 1 - leader
    anna = await cluster.add_operator("Anna", capacity=1)
    operator = await cluster[follower].operator(await cluster.sign_in(anna, on=follower))
    busy, _ = await cluster[follower].visitor()
    await busy.say("I came first")
    busy_cid = (await operator.expect("assigned"))["conversation_id"]
    waiting, _ = await cluster[follower].visitor()
    await waiting.say("I am waiting")
    wait_cid = (await waiting.expect("queue"))["conversation_id"]
    await waiting.expect("hold", timeout=3, conversation_id=wait_cid)

    killed_at = time.monotonic()
    cluster.kill9(leader)
    assert await leader_of(cluster, [follower], timeout=LEASE_S + 3) == follower
    took_over = time.monotonic() - killed_at
    print(f"the follower leads {took_over:.2f} s after kill -9 of the leader")

    # Hold messages go on at one per interval, never two at once.
    arrivals = []
    holds = []
    for _ in range(4):
        holds.append(await waiting.expect("hold", timeout=LEASE_S + 3, conversation_id=wait_cid))
        arrivals.append(time.monotonic())
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    assert all(0.6 < gap < 1.6 for gap in gaps), gaps

    # Routing still works: the operator frees a slot, the waiting visitor gets it; a new one queues.
    await operator.send({"type": "close", "conversation_id": busy_cid})
    await busy.expect("closed", conversation_id=busy_cid)
    assert (await operator.expect("assigned"))["conversation_id"] == wait_cid
    await waiting.expect("assigned", conversation_id=wait_cid)
    newcomer, _ = await cluster[follower].visitor()
    await newcomer.say("I am new here")
    new_cid = (await newcomer.expect("queue", position=1))["conversation_id"]
    await operator.send({"type": "close", "conversation_id": wait_cid})
    assert (await operator.expect("assigned"))["conversation_id"] == new_cid
    await newcomer.expect("assigned", conversation_id=new_cid)
    for client in (busy, waiting, newcomer, operator):
        await client.close()


async def test_a_redis_restart_loses_no_queue_operator_or_message(
    start_cluster: ClusterFactory, private_redis: RedisServer
) -> None:
    cluster = await start_cluster(2)
    anna = await cluster.add_operator("Anna", capacity=1)
    operator = await cluster[1].operator(await cluster.sign_in(anna, on=1))
    data = await cluster[0].visitor_session()
    busy = await cluster[0].connect("/ws/visitor", data["token"])
    await busy.say("I came first")
    busy_cid = (await operator.expect("assigned"))["conversation_id"]
    await busy.expect("assigned", conversation_id=busy_cid)
    waiting, _ = await cluster[0].visitor()
    await waiting.say("I am waiting")
    wait_cid = (await waiting.expect("queue"))["conversation_id"]
    acked = await busy.say("Please do not lose this")

    private_redis.stop()
    down = await wait_until_ready(cluster, [0, 1], ready=False, timeout=5)
    await asyncio.sleep(OUTAGE_S)  # the outage itself: long enough for every retry to back off
    private_redis.start()
    up = await wait_until_ready(cluster, [0, 1], ready=True, timeout=10)
    print(f"not ready {down:.2f} s after Redis stopped; ready again {up:.2f} s after it was back")

    # The operator connected before is still routed: a slot frees, the waiting visitor gets it.
    await operator.send({"type": "close", "conversation_id": busy_cid})
    await busy.expect("closed", conversation_id=busy_cid)
    assert (await operator.expect("assigned", timeout=10))["conversation_id"] == wait_cid
    await waiting.expect("assigned", conversation_id=wait_cid)
    # A new visitor on either process is routed too (queued: the operator is busy).
    newcomer, _ = await cluster[1].visitor()
    await newcomer.say("I am new here")
    await newcomer.expect("queue", position=1)
    # The message acked before the restart is still in the conversation.
    back = await cluster[1].connect(
        "/ws/visitor", data["token"], resume={"conversation_id": busy_cid, "last_seq": 0}
    )
    texts = [m["text"] for m in await replay(back, until="closed")]
    assert texts.count("Please do not lose this") == 1, texts
    assert acked["seq"] == 2
    for client in (busy, waiting, newcomer, back, operator):
        await client.close()
