"""The outbox's ordering rules, with a fake socket: replay and live frames never overtake each other."""

from __future__ import annotations

import asyncio

from chatserver.transport.outbox import Outbox


async def sent_by(outbox: Outbox, sent: list[str]) -> list[str]:
    outbox.stop()
    await asyncio.wait_for(outbox.run(), 5)
    return sent


def make() -> tuple[Outbox, list[str]]:
    sent: list[str] = []

    async def send(text: str) -> None:
        sent.append(text)

    async def close(code: int, reason: str) -> None:
        return None

    return Outbox(send, close), sent


async def test_live_frames_wait_for_the_replay_and_keep_their_order() -> None:
    outbox, sent = make()
    outbox.begin_sync(7, 0)
    outbox.deliver(7, 3, "m3 live")  # arrives while history is being read
    outbox.deliver(None, 0, "suggestions for m3")  # another channel: must not overtake m3
    outbox.deliver(7, 2, "m2 live")  # also in the history: sent once
    outbox.end_sync(7, [(1, "m1"), (2, "m2")])
    assert await sent_by(outbox, sent) == ["m1", "m2", "m3 live", "suggestions for m3"]


async def test_a_second_replay_holds_frames_until_both_are_done() -> None:
    outbox, sent = make()
    outbox.begin_sync(1, 0)
    outbox.begin_sync(2, 0)
    outbox.deliver(2, 1, "b1 live")
    outbox.end_sync(1, [(1, "a1")])
    outbox.deliver(1, 2, "a2 live")
    outbox.end_sync(2, [])
    assert await sent_by(outbox, sent) == ["a1", "b1 live", "a2 live"]


async def test_resume_sends_only_what_comes_after_last_seq_and_no_repeats() -> None:
    outbox, sent = make()
    outbox.begin_sync(5, 4)
    outbox.end_sync(5, [(5, "m5"), (6, "m6")])
    outbox.deliver(5, 6, "m6 again")
    outbox.deliver(5, 7, "m7")
    assert await sent_by(outbox, sent) == ["m5", "m6", "m7"]


async def test_frames_go_out_at_once_when_the_socket_takes_them_and_in_order_when_it_does_not() -> None:
    sent: list[str] = []
    takes = [True]
    slow_send_started = asyncio.Event()
    slow_send_may_finish = asyncio.Event()

    def send_now(text: str) -> bool:
        if takes[0]:
            sent.append(text)
        return takes[0]

    async def send(text: str) -> None:  # the ASGI send: waits while the client is not reading
        slow_send_started.set()
        await slow_send_may_finish.wait()
        sent.append(text)

    async def close(code: int, reason: str) -> None:
        return None

    outbox = Outbox(send, close, send_now=send_now)
    sender = outbox.start()
    await asyncio.sleep(0)  # the sender parks
    outbox.put("a")
    assert sent == ["a"]  # no wake-up, no await
    takes[0] = False  # the client stops reading
    outbox.put("b")
    await slow_send_started.wait()
    takes[0] = True  # it reads again, but "b" is still on its way
    outbox.put("c")
    assert sent == ["a"]  # "c" waits behind "b"
    slow_send_may_finish.set()
    outbox.stop()
    await asyncio.wait_for(sender, 5)
    assert sent == ["a", "b", "c"]
