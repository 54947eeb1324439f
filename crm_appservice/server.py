"""The aiohttp application: one app, one event loop, every HTTP surface of the product.

Shared objects live under typed `web.AppKey`s; resources that open and close with the app (the
database pool now, the homeserver client and background workers later) are `cleanup_ctx`
generators, so tests build exactly what production runs with `create_app`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import logging

from aiohttp import web
import asyncpg

from .config import Settings
from .store.database import Pool, create_pool

log = logging.getLogger("crm.server")

SETTINGS = web.AppKey("settings", Settings)
POOL = web.AppKey("pool", Pool)

HEALTH_TIMEOUT = 2.0


async def healthz(request: web.Request) -> web.Response:
    """Liveness and readiness in one: 200 only when the database answers."""
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT):
            await request.app[POOL].fetchval("SELECT 1")
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
        return web.json_response({"status": "unavailable", "database": "unreachable"}, status=503)
    return web.json_response({"status": "ok", "database": "ok"})


def create_app(settings: Settings, dsn: str) -> web.Application:
    app = web.Application(client_max_size=settings.appservice.max_body_size)
    app[SETTINGS] = settings

    async def database(app: web.Application) -> AsyncIterator[None]:
        app[POOL] = await create_pool(dsn, settings.database)
        try:
            yield
        finally:
            await app[POOL].close()

    app.cleanup_ctx.append(database)
    app.router.add_get("/healthz", healthz)
    return app
