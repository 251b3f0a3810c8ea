"""The abusive visitor's protocol across processes: the cool-down and the block are the service's,
not the process's where the operator took the step."""

from __future__ import annotations

import pytest
from websockets.exceptions import ConnectionClosed

from .conftest import ClusterFactory


async def test_a_cool_down_and_a_block_given_on_one_process_hold_on_the_other(
    start_cluster: ClusterFactory,
) -> None:
    cluster = await start_cluster(2, CHAT_COOL_DOWN_S="600")
    anna = await cluster.add_operator("Anna")
    sue = await cluster.add_operator("Sue", role="supervisor")
    supervisor = await cluster[0].operator(await cluster.sign_in(sue, on=0), status=None)
    operator = await cluster[1].operator(await cluster.sign_in(anna, on=1))
    visitor, session = await cluster[0].visitor()
    await visitor.say("You are all idiots")
    cid = (await operator.expect("assigned"))["conversation_id"]
    await visitor.expect("assigned", conversation_id=cid)

    await operator.send({"type": "boundary", "conversation_id": cid, "step": "cool_down", "signal": "hater"})
    until = (await visitor.expect("boundary", step="cool_down"))["until"]
    notice = await supervisor.expect("boundary_notice", step="cool_down")
    assert notice["operator"]["name"] == "Anna" and notice["signal"] == "hater"
    await visitor.send({"type": "message", "client_id": "c1", "text": "idiots"})
    refused = await visitor.expect("error", client_id="c1")
    assert refused["code"] == "cooling_down" and refused["until"] == until

    # The visitor's process restarts: it takes the service's state, cool-down included.
    await visitor.close()
    await cluster.stop(0)
    await cluster.start(0)
    back = await cluster[0].connect("/ws/visitor", session["token"])
    assert (await back.expect("boundary", step="cool_down"))["until"] == until
    await back.send({"type": "message", "client_id": "c2", "text": "still angry"})
    assert (await back.expect("error", client_id="c2"))["code"] == "cooling_down"

    # The block, given on process 1, closes the visitor's socket on process 0 and keeps them out.
    await operator.send({"type": "boundary", "conversation_id": cid, "step": "block"})
    await operator.expect("closed", conversation_id=cid)
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await back.next()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4410
    for node in (0, 1):
        again = await cluster[node].http.post(
            "/api/visitor/sessions", json={"visitor_id": session["visitor_id"]}
        )
        assert again.status_code == 403 and again.json()["error"]["code"] == "visitor_blocked"
    await operator.close()
    await supervisor.close()
