"""`GET /metrics` in Prometheus' text format, read from the application's own registry.

The endpoint is protected by its own bearer token (`web.metrics_token`): Prometheus sends it with
`authorization: {credentials: …}`. Without a token configured it answers 403.
"""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .. import secret
from ..keys import HUB, MEDIA_CACHE, METRICS, POOL, SETTINGS
from ..store import outbox as outbox_store
from . import responses


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
