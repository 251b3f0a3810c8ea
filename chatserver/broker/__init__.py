"""Cross-process messaging: fan-out of chat messages, chat ownership, presence, counters.

Pick a backend with `broker_from_url`: in-memory for one process, Redis for many.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from .base import Broker, Subscription
from .keys import Keys
from .memory import MemoryBroker
from .redis import RedisBroker

__all__ = ["Broker", "Keys", "MemoryBroker", "RedisBroker", "Subscription", "broker_from_url"]


def broker_from_url(url: str | None) -> Broker:
    """Build the backend a URL names: None, "" or "memory://" -> memory; redis(s):// -> Redis."""
    if not url or url == "memory://":
        return MemoryBroker()
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("redis", "rediss"):
        return RedisBroker(url)
    # Only the scheme is echoed: the rest of a URL may carry a password.
    raise ValueError(
        f"unsupported broker URL scheme {scheme + '://' if scheme else '(none)'}; "
        "expected memory://, redis:// or rediss://"
    )
