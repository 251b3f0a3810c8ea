"""The harness itself: processes come back after SIGKILL on their port, Redis restarts empty."""

from __future__ import annotations

import redis

from .conftest import Cluster, RedisServer


async def test_a_process_killed_with_sigkill_starts_again_on_its_port(cluster: Cluster) -> None:
    port = cluster.nodes[0].port
    cluster.kill9(0)
    assert (await cluster[1].http.get("/healthz")).status_code == 200
    again = await cluster.start(0)
    assert again.base_url.endswith(f":{port}")
    assert (await again.http.get("/healthz")).json() == {"status": "ok"}
    assert cluster.nodes[0].starts == 2


def test_private_redis_restarts_on_the_same_port_with_nothing_kept(private_redis: RedisServer) -> None:
    with redis.Redis.from_url(private_redis.url) as client:
        client.set("kept?", "no")
    private_redis.restart()
    with redis.Redis.from_url(private_redis.url) as client:
        assert client.get("kept?") is None
