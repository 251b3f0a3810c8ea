"""Bare relay: the floor the real server is compared against.

A ``websockets.asyncio.server`` with no persistence that speaks the subset of
the wire contract the benchmark uses. Tokens are synthetic (``v:<chat>`` for a
visitor, ``o:<n>`` for an operator); each visitor's first message routes the
chat to the least-loaded online operator (``--capacity`` chats each), and every
visitor message is decoded, stamped (seq, message_id, ts), re-encoded, acked to
the visitor and sent as a ``message`` frame to both participants, like the real
server does. An operator's ``message`` (the closed-loop phase) takes the same way back:
stamped, acked to the operator, sent to both. ``GET /healthz`` answers 200.

Run: ``python bench/_relay_bare.py --port P [--host 127.0.0.1] [--capacity 50]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import logging
import signal
import time
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

_ids = itertools.count(1)


class Operator:
    """An operator socket and its open chats."""

    def __init__(self, ws: ServerConnection, name: str) -> None:
        self.ws = ws
        self.name = name
        self.online = False
        self.chats: set[Conversation] = set()


class Conversation:
    """A chat between one visitor socket and (once routed) one operator."""

    def __init__(self, visitor: ServerConnection) -> None:
        self.id = f"c{next(_ids)}"
        self.visitor = visitor
        self.operator: Operator | None = None
        self.seq = 0
        self.pending: list[str] = []


class Relay:
    """In-memory routing state."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.operators: list[Operator] = []
        self.waiting: list[Conversation] = []

    def pick(self) -> Operator | None:
        """Least-loaded online operator with room, if any."""
        best: Operator | None = None
        for op in self.operators:
            if op.online and len(op.chats) < self.capacity:
                if best is None or len(op.chats) < len(best.chats):
                    best = op
        return best

    async def assign(self, conv: Conversation, op: Operator) -> None:
        """Route ``conv`` to ``op``: tell both sides, then replay what waited."""
        conv.operator = op
        op.chats.add(conv)
        who = {"name": op.name, "title": "Bench"}
        await _send(conv.visitor, {"type": "assigned", "conversation_id": conv.id, "operator": who})
        await _send(
            op.ws,
            {"type": "assigned", "conversation_id": conv.id, "visitor": {}, "customer": None},
        )
        for frame in conv.pending:
            await op.ws.send(frame)
        conv.pending.clear()

    async def drain_waiting(self) -> None:
        """Route waiting chats while operators have room."""
        while self.waiting:
            op = self.pick()
            if op is None:
                return
            await self.assign(self.waiting.pop(0), op)


async def _send(ws: ServerConnection, frame: dict[str, Any]) -> None:
    try:
        await ws.send(json.dumps(frame))
    except ConnectionClosed:
        pass


async def _visitor(relay: Relay, ws: ServerConnection) -> None:
    conv: Conversation | None = None
    await ws.send(json.dumps({"type": "welcome", "role": "visitor"}))
    async for raw in ws:
        frame = json.loads(raw)
        kind = frame.get("type")
        if kind != "message":
            if kind != "typing":
                await _send(ws, {"type": "error", "code": "unknown_type", "message": str(kind)})
            continue
        if conv is None:
            conv = Conversation(ws)
            op = relay.pick()
            if op is None:
                relay.waiting.append(conv)
                await _send(
                    ws,
                    {
                        "type": "queue",
                        "conversation_id": conv.id,
                        "position": len(relay.waiting),
                        "estimated_wait_s": 60,
                    },
                )
            else:
                await relay.assign(conv, op)
        conv.seq += 1
        message_id = next(_ids)
        client_id = frame.get("client_id")
        out = json.dumps(
            {
                "type": "message",
                "conversation_id": conv.id,
                "message_id": message_id,
                "seq": conv.seq,
                "sender": "visitor",
                "text": frame.get("text", ""),
                "ts": time.time(),
                "client_id": client_id,
            }
        )
        ack = {"type": "ack", "client_id": client_id, "message_id": message_id, "seq": conv.seq}
        await ws.send(json.dumps(ack))
        if conv.operator is None:
            conv.pending.append(out)
        else:
            try:
                await conv.operator.ws.send(out)
            except ConnectionClosed:
                pass
        await ws.send(out)
    if conv is not None and conv.operator is not None:
        conv.operator.chats.discard(conv)
        await relay.drain_waiting()
    elif conv is not None and conv in relay.waiting:
        relay.waiting.remove(conv)


async def _operator_message(op: Operator, frame: dict[str, Any]) -> None:
    """Stamp an operator's message, ack it, send it to both sides of its chat."""
    conv = next((c for c in op.chats if c.id == frame.get("conversation_id")), None)
    client_id = frame.get("client_id")
    if conv is None:
        await _send(op.ws, {"type": "error", "code": "not_assigned", "message": "", "client_id": client_id})
        return
    conv.seq += 1
    message_id = next(_ids)
    out = json.dumps(
        {
            "type": "message",
            "conversation_id": conv.id,
            "message_id": message_id,
            "seq": conv.seq,
            "sender": "operator",
            "text": frame.get("text", ""),
            "ts": time.time(),
            "client_id": client_id,
            "author": {"name": op.name, "title": "Bench"},
        }
    )
    await _send(op.ws, {"type": "ack", "client_id": client_id, "message_id": message_id, "seq": conv.seq})
    with contextlib.suppress(ConnectionClosed):
        await op.ws.send(out)
    with contextlib.suppress(ConnectionClosed):
        await conv.visitor.send(out)


async def _operator(relay: Relay, ws: ServerConnection, name: str) -> None:
    op = Operator(ws, name)
    relay.operators.append(op)
    try:
        await ws.send(json.dumps({"type": "welcome", "role": "operator"}))
        async for raw in ws:
            frame = json.loads(raw)
            kind = frame.get("type")
            if kind == "status":
                op.online = frame.get("status") == "online"
                await relay.drain_waiting()
            elif kind == "message":
                await _operator_message(op, frame)
            elif kind == "close":
                for conv in list(op.chats):
                    if conv.id == frame.get("conversation_id"):
                        op.chats.discard(conv)
                        closed = {"type": "closed", "conversation_id": conv.id}
                        await _send(conv.visitor, closed)
                        await _send(ws, closed)
                await relay.drain_waiting()
            else:
                await _send(ws, {"type": "error", "code": "unsupported", "message": str(kind)})
    finally:
        relay.operators.remove(op)


def main() -> None:
    """Parse flags and serve until SIGINT/SIGTERM."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--capacity", type=int, default=50)
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    try:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ImportError, ValueError, OSError):
        pass
    asyncio.run(_serve(args.host, args.port, args.capacity))


async def _serve(host: str, port: int, capacity: int) -> None:
    relay = Relay(capacity)

    def process_request(connection: ServerConnection, request: Request) -> Response | None:
        if request.path == "/healthz":
            return connection.respond(HTTPStatus.OK, "ok\n")
        if request.path not in ("/ws/visitor", "/ws/operator"):
            return connection.respond(HTTPStatus.NOT_FOUND, "not found\n")
        return None

    async def handler(ws: ServerConnection) -> None:
        try:
            hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
            token = str(hello.get("token", ""))
            path = ws.request.path if ws.request else ""
            if hello.get("type") != "hello":
                raise ValueError("no hello")
            if path == "/ws/visitor" and token.startswith("v:"):
                await _visitor(relay, ws)
            elif path == "/ws/operator" and token.startswith("o:"):
                await _operator(relay, ws, f"Operator {token[2:]}")
            else:
                await ws.close(4401, "bad token")
        except (TimeoutError, ValueError):
            await ws.close(4401, "no hello")
        except ConnectionClosed:
            pass

    loop = asyncio.get_running_loop()
    stop = loop.create_future()

    def on_signal() -> None:
        if not stop.done():
            stop.set_result(None)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    async with serve(handler, host, port, process_request=process_request, backlog=4096):
        await stop


if __name__ == "__main__":
    main()
