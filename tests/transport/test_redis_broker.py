"""The same chat over a server whose fan-out and claims go through the real Redis."""

from __future__ import annotations

from .conftest import ServerFactory


async def test_chat_and_resume_work_with_fan_out_through_redis(
    start_server: ServerFactory, redis_url: str
) -> None:
    server = await start_server(redis_url=redis_url)
    _oid, token = await server.add_operator("Anna")
    anna = await server.operator(token)
    visitor, session = await server.visitor()
    await visitor.say("hello through redis")
    cid = (await anna.expect("assigned"))["conversation_id"]
    assert (await anna.expect("message", conversation_id=cid))["text"] == "hello through redis"
    await visitor.close()
    await anna.say("reply while you were away", conversation_id=cid)
    back = await server.connect(
        "/ws/visitor", session["token"], resume={"conversation_id": cid, "last_seq": 1}
    )
    missed = await back.expect("message")
    assert (missed["seq"], missed["text"]) == (2, "reply while you were away")
    await anna.say("and a live one", conversation_id=cid)
    live = await back.expect("message", seq=3)
    assert live["text"] == "and a live one"
    holder = await server.state.broker.holder(f"claim:conv:{cid}")
    assert holder is not None and holder.startswith("operator:")
