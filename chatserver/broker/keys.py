"""Every Redis name the broker uses, kept under one prefix.

One prefix lets several deployments (or test runs) share a Redis without
seeing each other. Pub/sub channels are prefixed too, because Redis channels
ignore the database number.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PREFIX = "chat:"


@dataclass(frozen=True, slots=True)
class Keys:
    """Builds names; each kind of data gets its own namespace so they never collide."""

    prefix: str = DEFAULT_PREFIX

    def channel(self, channel: str) -> str:
        """The Redis pub/sub channel for a broker channel."""
        return f"{self.prefix}ch:{channel}"

    def claim(self, key: str) -> str:
        """The string key holding the owner of a claim."""
        return f"{self.prefix}claim:{key}"

    def counter(self, key: str) -> str:
        """The integer key of a shared counter."""
        return f"{self.prefix}n:{key}"

    @property
    def presence_expiry(self) -> str:
        """Sorted set: member -> expiry time (server ms)."""
        return f"{self.prefix}presence:expiry"

    @property
    def presence_names(self) -> str:
        """Sorted set with all scores 0: members in lexical order, for prefix ranges."""
        return f"{self.prefix}presence:names"

    @property
    def presence_status(self) -> str:
        """Hash: member -> status."""
        return f"{self.prefix}presence:status"
