"""`GET /metrics` in Prometheus' text format, and the counters the rest of the CRM feeds.

Counters and the transaction histogram are updated where things happen; the gauges (outbox
depth, live connections, database pool, media cache) are read when Prometheus scrapes, so no
timer updates them in between. Each application has its own registry: several instances in one
process (the tests) never mix their figures.

The endpoint is protected by its own bearer token (`web.metrics_token`): Prometheus sends it with
`authorization: {credentials: …}`. Without a token configured it answers 403.
"""

from __future__ import annotations

from collections import Counter as Tally

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from . import secret
from .api import responses
from .keys import HUB, MEDIA_CACHE, METRICS, POOL, SETTINGS
from .store import outbox as outbox_store

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


async def metrics(request: web.Request) -> web.Response:
    token = request.app[SETTINGS].web.metrics_token
    if not token:
        return responses.forbidden("Metrics are off: set web.metrics_token").response()
    sent = request.headers.get("Authorization", "").removeprefix("Bearer ")
    if not secret.matches(sent, token):
        return responses.APIError(
            401, "unauthorized", "The metrics token is missing or wrong"
        ).response()
    m = request.app[METRICS]
    pool = request.app[POOL]
    async with pool.acquire() as conn:
        depth = await outbox_store.depth_by_lane(conn)
    for lane in ("matrix", "email", "notify"):
        m.outbox_depth.labels(lane).set(depth.get(lane, 0))
    m.pool_size.set(pool.get_size())
    m.pool_in_use.set(pool.get_size() - pool.get_idle_size())
    m.websockets.set(len(request.app[HUB].clients) if HUB in request.app else 0)
    cache = request.app[MEDIA_CACHE]
    m.media_hits.set(cache.hits)
    m.media_misses.set(cache.misses)
    m.media_bytes.set(cache.size)
    return web.Response(
        body=generate_latest(m.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
    )
