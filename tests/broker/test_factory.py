"""Choosing a backend from configuration."""

from __future__ import annotations

import subprocess
import sys

import pytest

from chatserver.broker import MemoryBroker, RedisBroker, broker_from_url


@pytest.mark.parametrize("url", [None, "", "memory://"])
def test_no_url_or_memory_gives_the_memory_backend(url: str | None) -> None:
    assert isinstance(broker_from_url(url), MemoryBroker)


@pytest.mark.parametrize("url", ["redis://localhost:6379/0", "rediss://:pw@example.com:6380"])
def test_redis_urls_give_the_redis_backend_without_connecting(url: str) -> None:
    assert isinstance(broker_from_url(url), RedisBroker)


@pytest.mark.parametrize("url", ["postgres://user:secret@db/chat", "memory", "localhost:6379"])
def test_anything_else_is_refused_without_echoing_secrets(url: str) -> None:
    with pytest.raises(ValueError, match="unsupported broker URL") as refused:
        broker_from_url(url)
    assert "secret" not in str(refused.value)


def test_importing_and_choosing_a_backend_does_not_import_redis() -> None:
    code = (
        "import sys, chatserver.broker as b; b.broker_from_url('redis://nowhere:1');"
        "print('redis' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
