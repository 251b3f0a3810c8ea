"""What a sender gets for one message (its echo and its ack) leaves the server in one write.

A real server on a free port whose websocket protocol is the shipped one, with every
``transport.write`` of its sockets recorded on the way out (nothing is changed). Fewer writes
per message is fewer system calls on the server and fewer wake-ups on the client.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from chatserver.settings import Settings
from chatserver.transport.ws_protocol import BufferedWebSocketProtocol

from .conftest import Server, run_server

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
    async with run_server(settings, ws=RecordedWrites) as server:
        yield server


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
