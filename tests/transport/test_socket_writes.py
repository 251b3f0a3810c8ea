"""What a sender gets for one message (its echo and its ack) leaves the server in one write.

A real server on a free port whose websocket protocol is the shipped one, with every
``transport.write`` of its sockets recorded on the way out (nothing is changed). Fewer writes
per message is fewer system calls on the server and fewer wake-ups on the client.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from chatserver.app import create_app
from chatserver.settings import Settings
from chatserver.transport.ws_protocol import BufferedWebSocketProtocol, uvicorn_config

from .conftest import Server, free_port

WRITES: list[bytes] = []


class RecordedWrites(BufferedWebSocketProtocol):
    """The shipped protocol; its socket's writes are also appended to ``WRITES``."""

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        write = transport.write

        def recorded(data: bytes) -> None:
            WRITES.append(bytes(data))
            write(data)

        transport.write = recorded


@contextlib.asynccontextmanager
async def recorded_server(tmp_path: Path) -> AsyncIterator[Server]:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/chat.db")
    port = free_port()
    app = create_app(settings)
    config = uvicorn_config(
        app, host="127.0.0.1", port=port, max_frame_bytes=settings.max_frame_bytes, log_level="warning"
    )
    config.ws = RecordedWrites
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        try:
            yield Server(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", http, app)
        finally:
            server.should_exit = True
            await task


async def test_the_echo_and_the_ack_of_a_message_go_out_in_one_write(tmp_path: Path) -> None:
    async with recorded_server(tmp_path) as server:
        _, token = await server.add_operator("Anna")
        operator = await server.operator(token)
        visitor, _ = await server.visitor()
        await visitor.say("Hello, my parcel did not arrive", client_id="v-1")
        cid = (await operator.expect("assigned"))["conversation_id"]
        for n in range(2, 6):
            WRITES.clear()
            ack = await visitor.say(f"Are you there? ({n})", client_id=f"v-{n}")
            echo = await visitor.expect("message", client_id=f"v-{n}")
            assert echo["seq"] == ack["seq"]
            seen = await operator.expect("message", conversation_id=cid, client_id=f"v-{n}")
            assert seen["seq"] == ack["seq"]
            mine = f'"v-{n}"'.encode()
            # the visitor's write holds the echo and the ack; the operator's, the message alone
            assert sorted(w.count(mine) for w in WRITES if mine in w) == [1, 2], WRITES
