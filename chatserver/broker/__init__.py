"""Cross-process messaging: fan-out of chat messages, chat ownership, presence, counters."""

from __future__ import annotations

from .base import Broker, Subscription
from .memory import MemoryBroker

__all__ = ["Broker", "MemoryBroker", "Subscription"]
