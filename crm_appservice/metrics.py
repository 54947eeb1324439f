"""The counters the rest of the CRM feeds, served by `GET /metrics` (api/metrics.py).

Counters and the transaction histogram are updated where things happen; the gauges (outbox
depth, live connections, database pool, media cache) are read when Prometheus scrapes, so no
timer updates them in between. Each application has its own registry: several instances in one
process (the tests) never mix their figures.

"""

from __future__ import annotations

from collections import Counter as Tally

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)

# Event types counted by name; anything else counts as "other" (a label per arbitrary type
# would let a homeserver grow the series without bound).
KNOWN_TYPES = frozenset({
    "m.room.message", "m.sticker", "m.reaction", "m.room.redaction", "m.room.member",
    "m.room.name", "m.room.avatar", "m.room.topic", "m.room.encrypted", "m.bridge",
    "uk.half-shot.bridge", "com.beeper.message_send_status", "m.receipt", "m.typing",
    "m.presence", "m.room.create", "m.room.power_levels", "m.room.join_rules",
})  # fmt: skip


class Metrics:
    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self.transactions = Counter(
            "crm_appservice_transactions", "Appservice transactions received", registry=r
        )
        self.events = Counter(
            "crm_appservice_events", "Events received in transactions, by type", ["type"],
            registry=r,
        )  # fmt: skip
        self.transaction_seconds = Histogram(
            "crm_appservice_transaction_seconds",
            "Time to store a transaction and answer it",
            buckets=(0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=r,
        )
        self.sent = Counter(
            "crm_outbox_sent", "Outbox entries sent, by channel", ["channel"], registry=r
        )
        self.retries = Counter(
            "crm_outbox_retries", "Outbox sends scheduled again, by channel", ["channel"],
            registry=r,
        )  # fmt: skip
        self.failures = Counter(
            "crm_outbox_failures", "Outbox entries given up, by channel", ["channel"], registry=r
        )
        self.outbox_depth = Gauge(
            "crm_outbox_depth", "Outbox entries waiting to be sent, by channel", ["channel"],
            registry=r,
        )  # fmt: skip
        self.websockets = Gauge(
            "crm_websocket_connections", "Live connections held by this instance", registry=r
        )
        self.pool_in_use = Gauge(
            "crm_database_pool_in_use", "Database connections in use", registry=r
        )
        self.pool_size = Gauge("crm_database_pool_size", "Database connections open", registry=r)
        self.media_hits = Gauge(
            "crm_media_cache_hits", "Media requests served from the cache", registry=r
        )
        self.media_misses = Gauge(
            "crm_media_cache_misses", "Media requests that waited for a download", registry=r
        )
        self.media_bytes = Gauge("crm_media_cache_bytes", "Size of the media cache", registry=r)

    def received(self, event_types: list[str | None]) -> None:
        self.transactions.inc()
        for name, count in Tally(t if t in KNOWN_TYPES else "other" for t in event_types).items():
            self.events.labels(name).inc(count)
