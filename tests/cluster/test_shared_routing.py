"""One routing decision at a time across processes: capacity, single assignment, transfers, timers."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.transport.conftest import Client

from .conftest import Cluster, ClusterFactory

REASON = "Billing can change the invoice address"
BENEFIT = "It is fixed today, in this chat"


async def _transfer_to_billing(cluster: Cluster) -> tuple[Client, Client, Client, dict[str, Any], int]:
    """Anna (process 0) serves a visitor (process 2) and hands the chat to billing, where Boris
    (process 1) is; the visitor's session comes back with Anna's id as ``anna_id``."""
    anna_account = await cluster.add_operator("Anna")
    boris_account = await cluster.add_operator("Boris", teams=("billing",))
    anna = await cluster[0].operator(await cluster.sign_in(anna_account, on=0))
    visitor, session = await cluster[2].visitor()
    await visitor.say("My invoice has the wrong address")
    cid = (await anna.expect("assigned"))["conversation_id"]
    boris = await cluster[1].operator(await cluster.sign_in(boris_account, on=1))
    transfer = {"type": "transfer", "conversation_id": cid, "to": {"team": "billing"}}
    await anna.send({**transfer, "reason": REASON, "benefit": BENEFIT})
    return anna, boris, visitor, {**session, "anna_id": anna_account.id}, cid


async def test_racing_visitors_on_three_processes_never_exceed_capacity_or_share_a_chat(
    start_cluster: ClusterFactory,
) -> None:
    """100 trials: three visitors, one per process, write at the same moment to one free slot."""
    cluster = await start_cluster(3)
    anna = await cluster.add_operator("Anna", capacity=1)
    operator = await cluster[1].operator(await cluster.sign_in(anna, on=1))
    visitors = [(await cluster[node].visitor())[0] for node in range(3)]
    assigned_total: list[int] = []
    for trial in range(100):
        acks = await asyncio.gather(*(v.say(f"trial {trial}, visitor {i}") for i, v in enumerate(visitors)))
        assert len({ack["seq"] for ack in acks}) == 1  # a new conversation each: seq 1
        served: list[int] = []
        for _ in range(3):
            got = await operator.expect("assigned")
            cid = got["conversation_id"]
            # Capacity 1: nothing else is assigned while this chat is open.
            assert operator.unread("assigned") == [], (trial, operator.unread("assigned"))
            served.append(cid)
            await operator.send({"type": "close", "conversation_id": cid})
            await operator.expect("released", conversation_id=cid)
        assert len(set(served)) == 3, (trial, served)
        for visitor in visitors:
            await visitor.expect("closed")
        assigned_total += served
    assert len(assigned_total) == len(set(assigned_total)) == 300
    for client in (*visitors, operator):
        await client.close()


async def test_a_burst_of_visitors_over_three_processes_fills_every_slot_once_and_queues_the_rest(
    start_cluster: ClusterFactory,
) -> None:
    cluster = await start_cluster(3)
    tokens = []
    for node, name in enumerate(("Anna", "Boris", "Cyril")):
        account = await cluster.add_operator(name, capacity=2)
        tokens.append((node, await cluster.sign_in(account, on=node)))
    operators = [await cluster[node].operator(token) for node, token in tokens]
    visitors = [(await cluster[i % 3].visitor())[0] for i in range(60)]
    await asyncio.gather(*(v.say(f"visitor {i} needs help") for i, v in enumerate(visitors)))

    held = [[(await op.expect("assigned"))["conversation_id"] for _ in range(2)] for op in operators]
    everyone = [cid for chats in held for cid in chats]
    assert len(set(everyone)) == 6
    queue = (
        await cluster[0].http.get("/api/queue", headers={"Authorization": f"Bearer {tokens[0][1]}"})
    ).json()
    assert [row["position"] for row in queue["waiting"]] == list(range(1, 55))
    assert not {row["conversation_id"] for row in queue["waiting"]} & set(everyone)
    assert queue["operators_online"] == 3
    for op in operators:
        assert op.unread("assigned") == []  # nobody holds more than their capacity
    for client in (*visitors, *operators):
        await client.close()


async def test_a_transfer_from_an_operator_on_one_process_to_a_colleague_on_another(
    start_cluster: ClusterFactory,
) -> None:
    cluster = await start_cluster(3)
    anna, boris, visitor, session, cid = await _transfer_to_billing(cluster)
    announced = await visitor.expect("transfer", conversation_id=cid)
    assert REASON in announced["text"] and BENEFIT in announced["text"]
    assert announced["low_s"] <= announced["estimated_wait_s"] <= announced["high_s"]
    offer = await boris.expect("transfer_offer", conversation_id=cid)
    assert (offer["reason"], offer["benefit"]) == (REASON, BENEFIT)
    assert offer["from"]["id"] == session["anna_id"] and offer["visitor"]["id"] == session["visitor_id"]
    assert offer["transcript"][0]["text"] == "My invoice has the wrong address"
    await anna.expect("transfer_status", conversation_id=cid, status="offering")

    await boris.send({"type": "transfer_accept", "conversation_id": cid})
    await boris.expect("assigned", conversation_id=cid)
    history = await boris.expect("message", conversation_id=cid)
    assert history["text"] == "My invoice has the wrong address"
    await visitor.expect(
        "assigned", conversation_id=cid, operator={"name": "Boris", "title": "Customer care"}
    )
    await anna.expect("released", conversation_id=cid)
    await anna.expect("transfer_status", conversation_id=cid, status="accepted")
    await boris.say("Hello, I have your invoice open", conversation_id=cid)
    got = await visitor.expect("message", sender="operator", text="Hello, I have your invoice open")
    assert got["author"]["name"] == "Boris"
    for client in (visitor, anna, boris):
        await client.close()


async def test_silence_timers_fire_once_across_three_processes(start_cluster: ClusterFactory) -> None:
    cluster = await start_cluster(3, CHAT_SILENCE_S="0.5")
    account = await cluster.add_operator("Anna")
    operator = await cluster[1].operator(await cluster.sign_in(account, on=1))
    visitor, _ = await cluster[2].visitor()
    await visitor.say("Is anyone there?")
    cid = (await operator.expect("assigned"))["conversation_id"]
    await operator.expect("nudge", conversation_id=cid, stage="nudge")
    await operator.expect("nudge", conversation_id=cid, stage="holding_line")
    holding = await visitor.expect("message", sender="operator")
    # A second gap: its nudge is the event after which any duplicate of the first would have come.
    await operator.say("Sorry, here now", conversation_id=cid)
    await visitor.say("Thanks, one more question")
    await operator.expect("nudge", conversation_id=cid, stage="nudge")
    nudges = [frame for frame in operator.seen if frame.get("type") == "nudge"]
    assert [n["stage"] for n in nudges] == ["nudge", "holding_line", "nudge"], nudges
    holding_lines = [m for m in visitor.seen if m.get("type") == "message" and m.get("seq") == holding["seq"]]
    assert len(holding_lines) == 1
    for client in (visitor, operator):
        await client.close()


async def test_a_transfer_offer_lapses_once_across_three_processes(start_cluster: ClusterFactory) -> None:
    cluster = await start_cluster(3, CHAT_TRANSFER_OFFER_S="1", CHAT_TRANSFER_MAX_OFFERS="1")
    anna, boris, visitor, _, cid = await _transfer_to_billing(cluster)
    await boris.expect("transfer_offer", conversation_id=cid)
    # Boris does not answer: the offer lapses once, and the chat comes back to Anna once.
    await boris.expect("transfer_offer_withdrawn", conversation_id=cid, reason="expired")
    await visitor.expect("transfer_update", conversation_id=cid, status="returned")
    await anna.expect("transfer_status", conversation_id=cid, status="returned")
    # Anything that fired twice would have arrived before the reply that follows it.
    await anna.say("I will sort it out myself", conversation_id=cid)
    await visitor.expect("message", sender="operator", text="I will sort it out myself")
    assert [f for f in boris.seen if f.get("type") == "transfer_offer_withdrawn"] == [
        {"type": "transfer_offer_withdrawn", "conversation_id": cid, "reason": "expired"}
    ]
    assert len([f for f in visitor.seen if f.get("type") == "transfer_update"]) == 1
    for client in (visitor, anna, boris):
        await client.close()
