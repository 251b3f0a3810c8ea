"""The sockets of a bench/relay.py client worker: a visitor or an operator (see ``_relay_client``)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any

from _relay_closed import operator_answer, visitor_answered
from _relay_net import WSClient, ws_connect

if TYPE_CHECKING:
    from _relay_client import Worker

loads = json.loads
time_ns = time.time_ns


class Peer:
    """Common part of a visitor or operator socket."""

    role = "peer"

    def __init__(self, w: Worker) -> None:
        self.w = w
        self.ws: WSClient = None  # type: ignore[assignment]
        self.waiter: asyncio.Future[None] | None = None
        self.want = ""
        self.up = False

    def wait_for(self, kind: str) -> asyncio.Future[None]:
        """Future resolved by the next frame of type ``kind``."""
        self.want = kind
        self.waiter = asyncio.get_running_loop().create_future()
        return self.waiter

    def wake(self, kind: str) -> None:
        """Resolve the waiter if it waits for ``kind``."""
        if self.waiter is not None and self.want == kind and not self.waiter.done():
            self.waiter.set_result(None)

    def on_close(self, code: int, reason: str) -> None:
        """Record a close the bench did not ask for."""
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError(f"closed {code} {reason}"))
        if self.up and self.w.holding:
            self.w.unexpected_closes += 1
            self.w.error(f"{self.role}_closed", f"code {code} {reason}")

    async def connect(self, token: str, i: int) -> bool:
        """Open the socket, say hello, wait for welcome."""
        w = self.w
        path = "/ws/visitor" if self.role == "visitor" else "/ws/operator"
        t = time_ns()
        try:
            self.ws = await ws_connect(
                w.host,
                w.port,
                path,
                self.on_message,
                self.on_close,
                origin=w.origin,
                compression=w.compression,
                local_addr=w.src_for(i),
            )
            fut = self.wait_for("welcome")
            self.ws.send(json.dumps({"type": "hello", "token": token}))
            await asyncio.wait_for(fut, 15)
        except (OSError, TimeoutError, ConnectionError) as exc:
            w.error(f"{self.role}_connect", repr(exc))
            if self.ws is not None:
                self.ws.abort()
            return False
        w.hs_lat.append(time_ns() - t)
        w.deflate_sockets += self.ws.compressed
        self.waiter = None
        self.up = True
        return True

    def on_message(self, raw: str) -> None:  # pragma: no cover - overridden
        """Handle one text frame."""
        raise NotImplementedError

    def other(self, f: dict[str, Any], raw: str) -> None:
        """Frames outside the hot path."""
        kind = str(f.get("type"))
        self.w.frames[f"{self.role}:{kind}"] += 1
        if kind == "error":
            self.w.error(f"{self.role}_error_frame", raw)
        self.wake(kind)


class Visitor(Peer):
    """A visitor socket: sends numbered, timestamped messages; counts acks."""

    role = "visitor"

    def __init__(self, w: Worker, chat: int) -> None:
        super().__init__(w)
        self.chat = chat
        self.times: list[int] = []
        self.next_n = 0
        self.win_acks = 0
        self.assigned = False
        self.assigned_ns = 0
        self.answered = -1  # closed loop: the last message number the operator answered
        self.prefix = f"{w.run:08x}-{chat >> 16:04x}-{chat & 0xFFFF:04x}-0000-"
        self.head = f"bench {chat} "

    def send_next(self) -> None:
        """Send message ``next_n`` with its send time in the text."""
        n = self.next_n
        self.next_n = n + 1
        t = time_ns()
        self.times.append(t)
        w = self.w
        if n and t < w.t1_ns:
            w.sent_window += 1
        self.ws.send(
            f'{{"type":"message","client_id":"{self.prefix}{n:012x}","text":"{self.head}{n} {t} {w.pad}"}}'
        )

    def on_message(self, raw: str) -> None:
        """Acks (and in saturation, the next send); everything else is counted."""
        f = loads(raw)
        kind = f.get("type")
        w = self.w
        if kind == "ack":
            now = time_ns()
            cid = f.get("client_id") or ""
            try:
                n = int(cid[24:], 16)
            except ValueError:
                w.error("ack_client_id", raw)
                return
            if n >= 1 and n < len(self.times):
                w.ack_lat.append(now - self.times[n])
                if now < w.t1_ns:
                    w.acks_window += 1
                    self.win_acks += 1
                if w.saturating and now < w.t1_ns:
                    self.send_next()
            return
        if kind == "message":
            if w.closed and f.get("sender") == "operator":
                visitor_answered(self, f.get("text") or "")
            return
        if kind == "assigned":
            if not self.assigned:
                self.assigned_ns = time_ns()
            self.assigned = True
        elif kind == "closed":
            w.closed_frames += 1
        self.other(f, raw)


class Operator(Peer):
    """An operator socket: times each visitor message it receives."""

    role = "operator"

    def __init__(self, w: Worker, index: int) -> None:
        super().__init__(w)
        self.index = index
        self.convs: list[Any] = []  # ids as the server sent them (int or str)
        self.seqs: dict[Any, int] = {}

    def on_message(self, raw: str) -> None:
        """Visitor messages: latency, delivery, seq order; the rest is counted."""
        f = loads(raw)
        kind = f.get("type")
        if kind != "message":
            if kind == "ack" and self.w.closed:
                return
            if kind == "assigned":
                self.convs.append(f.get("conversation_id"))
            self.other(f, raw)
            return
        now = time_ns()
        w = self.w
        conv = f.get("conversation_id")
        seq = f.get("seq")
        last = self.seqs.get(conv, 0)
        if isinstance(seq, int):
            if seq == last + 1:
                self.seqs[conv] = seq
            elif seq <= last:
                w.seq_dups += 1
            else:
                w.seq_gaps += 1
                w.error("seq_gap", f"conversation {conv}: seq {seq} after {last}")
                self.seqs[conv] = seq
        text = f.get("text") or ""
        if f.get("sender") != "visitor" or not text.startswith("bench "):
            if w.closed and f.get("sender") == "operator":
                return  # its own answer, echoed
            w.frames[f"operator:message:{f.get('sender')}"] += 1
            return
        parts = text.split(" ", 4)
        chat = int(parts[1])
        n = int(parts[2])
        sent = int(parts[3])
        if chat >= w.chats_total:
            return
        if not w.cfg["chat_lo"] <= chat < w.cfg["chat_hi"]:
            w.cross.add(chat)
        recv = w.recv
        if n > recv[chat]:
            recv[chat] = n
        else:
            w.dup_msgs += 1
            return
        if w.closed:
            operator_answer(self, conv, chat, n)
        if n and sent >= w.t0_ns:
            w.delivered += 1
            w.lat.append(now - sent)
            if now < w.t1_ns:
                w.recv_window += 1
