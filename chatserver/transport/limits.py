"""Abuse limits: plain synchronous bookkeeping keyed by strings, with ``now`` passed in.

No clock and no I/O here: the routes pass ``ServerState.clock()``, tests pass numbers. Every
table is bounded: past ``max_keys`` the least recently touched key is forgotten (for a rate
that only lets an evicted key start afresh, never locks anyone out wrongly).

- ``RateLimiter``: a token bucket per key, ``limit`` events per ``window_s`` with bursts up to
  ``limit`` (visitor sessions per client IP).
- ``FailureLockout``: per key, after ``free_failures`` failures in a row each further one locks
  the key for a delay that doubles, up to ``max_s``; a success clears it (operator logins per
  account and per IP).
- ``SocketCounter``: open sockets per key, refused past ``limit`` (websockets per IP, per visitor,
  per operator).

All of it is per process: with several processes each one counts its own clients.
"""

from __future__ import annotations

import contextlib
import ipaddress
import math
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chatserver.settings import Settings

MAX_KEYS = 100_000

# Close code of a websocket refused for a limit (like HTTP 429); the reason names the limit.
CLOSE_TOO_MANY = 4429


def retry_seconds(delay_s: float) -> int:
    """Whole seconds for ``Retry-After`` and ``retry_after_s``: rounded up, at least 1."""
    return max(1, math.ceil(delay_s - 1e-9))


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """``limit`` events per ``window_s`` per key (a token bucket); ``limit`` 0 means no limit."""

    def __init__(self, limit: int, window_s: float, *, max_keys: int = MAX_KEYS) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, key: str, now: float) -> float:
        """Count one event; 0.0 when allowed, else the seconds until one would be (nothing counted)."""
        if self.limit <= 0:
            return 0.0
        rate = self.limit / self.window_s
        bucket = self._buckets.pop(key, None)
        if bucket is None:
            bucket = _Bucket(float(self.limit), now)
        else:
            bucket.tokens = min(float(self.limit), bucket.tokens + max(0.0, now - bucket.at) * rate)
            bucket.at = now
        self._buckets[key] = bucket
        self._evict()
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / rate

    def _evict(self) -> None:
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)

    def __len__(self) -> int:
        return len(self._buckets)


@dataclass(slots=True)
class _Failures:
    count: int
    last: float
    locked_until: float


class FailureLockout:
    """Growing delays after failures in a row: ``base_s``, twice that, … up to ``max_s``.

    The first ``free_failures`` failures cost nothing; each one after locks the key for
    ``base_s * 2**(n - free_failures - 1)`` seconds (n counting the failures). While locked
    every attempt is refused without being tried, so a right guess gains nothing. A success
    clears the key; so does ``max_s`` seconds without a failure.
    """

    def __init__(self, free_failures: int, base_s: float, max_s: float, *, max_keys: int = MAX_KEYS) -> None:
        self.free_failures = free_failures
        self.base_s = base_s
        self.max_s = max_s
        self.max_keys = max_keys
        self._keys: OrderedDict[str, _Failures] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.base_s > 0

    def locked(self, key: str, now: float) -> float:
        """0.0 when an attempt may be tried now, else the seconds until one may."""
        entry = self._keys.get(key)
        if entry is None:
            return 0.0
        if now - entry.last >= self.max_s and now >= entry.locked_until:
            del self._keys[key]
            return 0.0
        return max(0.0, entry.locked_until - now)

    def failed(self, key: str, now: float) -> float:
        """Count a failure; the lockout it starts (0.0 while failures are still free)."""
        if not self.enabled:
            return 0.0
        entry = self._keys.pop(key, None)
        if entry is None or (now - entry.last >= self.max_s and now >= entry.locked_until):
            entry = _Failures(0, now, now)
        entry.count += 1
        entry.last = now
        over = entry.count - self.free_failures
        delay = 0.0
        if over > 0:
            delay = min(self.max_s, self.base_s * 2 ** min(over - 1, 62))
            entry.locked_until = now + delay
        self._keys[key] = entry
        while len(self._keys) > self.max_keys:
            self._keys.popitem(last=False)
        return delay

    def succeeded(self, key: str) -> None:
        self._keys.pop(key, None)

    def __len__(self) -> int:
        return len(self._keys)


class SocketCounter:
    """Open sockets per key; ``limit`` 0 means no limit. Memory: one entry per key with a socket open."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: dict[str, int] = {}

    def acquire(self, key: str) -> bool:
        """Count a socket for ``key``; False (nothing counted) when that would pass the limit."""
        count = self._open.get(key, 0)
        if self.limit > 0 and count >= self.limit:
            return False
        self._open[key] = count + 1
        return True

    def release(self, key: str) -> None:
        count = self._open.get(key, 0) - 1
        if count > 0:
            self._open[key] = count
        else:
            self._open.pop(key, None)

    def count(self, key: str) -> int:
        return self._open.get(key, 0)


@dataclass
class Limits:
    """One process's limits, built from its settings."""

    settings: Settings = field(default_factory=Settings)
    visitor_sessions: RateLimiter = field(init=False)
    login_accounts: FailureLockout = field(init=False)
    login_addresses: FailureLockout = field(init=False)
    sockets_per_ip: SocketCounter = field(init=False)
    sockets_per_visitor: SocketCounter = field(init=False)
    sockets_per_operator: SocketCounter = field(init=False)

    def __post_init__(self) -> None:
        s = self.settings
        self.visitor_sessions = RateLimiter(s.visitor_sessions_per_minute, 60.0)
        self.login_accounts = FailureLockout(s.login_free_failures, s.login_lockout_s, s.login_lockout_max_s)
        self.login_addresses = FailureLockout(
            s.login_ip_free_failures, s.login_lockout_s, s.login_lockout_max_s
        )
        self.sockets_per_ip = SocketCounter(s.sockets_per_ip)
        self.sockets_per_visitor = SocketCounter(s.sockets_per_visitor)
        self.sockets_per_operator = SocketCounter(s.sockets_per_operator)

    def sockets_of(self, token_kind: str) -> SocketCounter:
        """The per-account socket count of an endpoint: ``visitor`` or ``operator``."""
        return self.sockets_per_visitor if token_kind == "visitor" else self.sockets_per_operator


def client_ip(scope: Mapping[str, Any], trust_forwarded_for: bool) -> str:
    """The client's address: the TCP peer, or with a trusted proxy the last ``X-Forwarded-For`` entry.

    Only the last entry is the proxy's own word (a client can put anything before it), so
    this trusts exactly one proxy hop in front of the server.
    """
    if trust_forwarded_for:
        forwarded = [value for name, value in scope.get("headers", ()) if name == b"x-forwarded-for"]
        if forwarded:
            last = forwarded[-1].decode("latin-1").split(",")[-1].strip()
            with contextlib.suppress(ValueError):
                return str(ipaddress.ip_address(last))
    client = scope.get("client")
    return str(client[0]) if client else "unknown"
