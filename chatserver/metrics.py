"""The process's metrics in Prometheus text format (``/metrics``), with ``prometheus-client``.

Each app has its own ``CollectorRegistry`` (tests run many apps in one process). Counters and
histograms are updated where things happen, without a lock of ours or an await: a histogram
observe is under a microsecond. What the core already knows (chats waiting, operators online)
is read from its views when scraped, so the chat's hot path never pays for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Seconds: an ack or a commit takes milliseconds, an assignment or a suggestion up to minutes.
FAST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
WAIT_BUCKETS = (1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
SUGGEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

SOCKET_KINDS = ("visitor", "operator")
# The limits a refusal is counted under (``chat_rate_limit_refusals_total{limit=...}``).
LIMITS = (
    "visitor_sessions",
    "login",
    "sockets_per_ip",
    "sockets_per_visitor",
    "sockets_per_operator",
    "ws_frames",
    "ws_flood",
)


class _CoreCollector(Collector):
    """Gauges read from the routing core at scrape time."""

    def __init__(self, core: Callable[[], Any]) -> None:
        self._core = core

    def collect(self) -> Iterator[GaugeMetricFamily]:
        engine = self._core()
        waiting = GaugeMetricFamily("chat_chats_waiting", "Chats waiting in line for an operator")
        online = GaugeMetricFamily("chat_operators_online", "Operators online and connected")
        if engine is not None:
            waiting.add_metric([], len(engine.queue_view))
            online.add_metric([], engine.presence.online_count())
        yield waiting
        yield online


class Metrics:
    """The metrics of one app; ``registry`` is what ``/metrics`` renders."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.open_sockets = Gauge("chat_open_sockets", "Open websockets, by kind", ["kind"], registry=r)
        self.sockets = {kind: self.open_sockets.labels(kind) for kind in SOCKET_KINDS}
        self.assignment_latency = Histogram(
            "chat_assignment_latency_seconds",
            "From a chat starting to wait to its assignment to an operator",
            buckets=WAIT_BUCKETS,
            registry=r,
        )
        self.commit_batch = Histogram(
            "chat_commit_batch_seconds",
            "Time of one group commit of messages",
            buckets=FAST_BUCKETS,
            registry=r,
        )
        self.ack_latency = Histogram(
            "chat_ack_latency_seconds",
            "From a chat message received to its ack sent",
            buckets=FAST_BUCKETS,
            registry=r,
        )
        self.suggestion_latency = Histogram(
            "chat_suggestion_latency_seconds",
            "From a visitor message asking for suggestions to the suggestions sent",
            buckets=SUGGEST_BUCKETS,
            registry=r,
        )
        self.refusals = Counter(
            "chat_rate_limit_refusals",
            "Requests, sockets and frames refused for a limit, by limit",
            ["limit"],
            registry=r,
        )
        self._refusals = {name: self.refusals.labels(name) for name in LIMITS}
        self.messages_stored = Counter(
            "chat_messages_stored", "Chat messages committed to the database", registry=r
        )
        self._core: Callable[[], Any] = lambda: None
        r.register(_CoreCollector(lambda: self._core()))

    def watch_core(self, core: Callable[[], Any]) -> None:
        """Read chats waiting and operators online from the routing core (an ``Engine``) ``core`` returns."""
        self._core = core

    def refused(self, limit: str) -> None:
        counter = self._refusals.get(limit)
        if counter is None:
            counter = self._refusals[limit] = self.refusals.labels(limit)
        counter.inc()

    def committed(self, seconds: float, messages: int) -> None:
        """One group commit of ``messages`` messages took ``seconds``."""
        self.commit_batch.observe(seconds)
        self.messages_stored.inc(messages)

    def render(self) -> bytes:
        return generate_latest(self.registry)
