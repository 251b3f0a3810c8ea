"""SIGTERM on a real ``chatserver serve``: what was acked is stored, sockets close with 1001, exit 0."""

from __future__ import annotations

import asyncio
import json
import signal
import time
import uuid

from sqlalchemy import text
from websockets.exceptions import ConnectionClosed

from chatserver.storage.db import create_db_engine

from .conftest import STOP_TIMEOUT_S, ClusterFactory

BURST = 3000


async def test_sigterm_answers_what_was_taken_closes_with_1001_and_exits_0(
    start_cluster: ClusterFactory, pg_database: str
) -> None:
    cluster = await start_cluster(1, CHAT_WS_FRAMES_PER_S="0")  # a burst far past the frame limit, on purpose
    visitor, _ = await cluster[0].visitor()
    sent = [uuid.uuid4().hex for _ in range(BURST)]
    for client_id in sent:
        await visitor.send({"type": "message", "client_id": client_id, "text": f"burst {client_id}"})
    await visitor.expect("ack")  # the server is working through the burst
    process = cluster.nodes[0].process
    assert process is not None
    process.send_signal(signal.SIGTERM)
    acked: set[str] = set()
    code = None
    try:
        while True:
            frame = json.loads(await asyncio.wait_for(visitor.ws.recv(), 15))
            if frame.get("type") == "ack":
                acked.add(frame["client_id"])
    except ConnectionClosed as closed:
        code = closed.rcvd.code if closed.rcvd else None
    acked.update(f["client_id"] for f in visitor.seen if f.get("type") == "ack")
    assert code == 1001
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while process.poll() is None and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert process.returncode == 0, cluster.nodes[0].output()[-3000:]
    engine = create_db_engine(pg_database)
    try:
        with engine.connect() as conn:
            stored = {row[0] for row in conn.execute(text("SELECT client_id FROM message"))}
    finally:
        engine.dispose()
    assert acked, "no message was acked"
    assert acked <= stored, f"acked but not stored: {sorted(acked - stored)[:5]}"
