"""The aiohttp application: one app, one event loop, every HTTP surface of the product.

Shared objects live under typed `web.AppKey`s; resources that open and close with the app (the
database pool, the homeserver client, background workers) are `cleanup_ctx` generators, so tests
build exactly what production runs with `create_app`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
import logging

import aiohttp
from aiohttp import web
import asyncpg

from . import api, bridge, headers, secret, webapp
from .api.metrics import metrics
from .api.middleware import find_session
from .api.resources import render_live
from .appservice import namespaces_from
from .appservice.sweep import sweep_until_stopped
from .appservice.transactions import AppserviceAPI
from .config import Settings
from .keys import (
    APPSERVICE,
    GUARD,
    HUB,
    MATRIX,
    MEDIA_CACHE,
    MEDIA_ROWS,
    METRICS,
    POOL,
    PRESENCE,
    SESSIONS,
    SETTINGS,
    SPOOL,
)
from .live.guard import Guard
from .live.hub import Hub
from .live.phonebook import Phonebook
from .live.presence import Presence
from .live.snooze import wake_snoozed
from .matrix.client import MatrixClient
from .matrix.invites import InviteWorker
from .media.cache import MediaCache
from .media.rows import MediaRows
from .metrics import Metrics
from .outbox.mail import MailSender
from .outbox.matrix import MatrixSender
from .outbox.notify import queue_notifications
from .outbox.policy import RetryPolicy
from .outbox.spool import Spool
from .outbox.worker import OutboxWorker
from .store.database import DB_ERRORS, create_pool

log = logging.getLogger("crm.server")


HEALTH_TIMEOUT = 2.0


async def may_see_details(request: web.Request) -> bool:
    """An admin signed in, or the metrics token: the readiness checks name internal URLs and
    the bridge's state, which are nobody else's business."""
    token = request.app[SETTINGS].web.metrics_token
    sent = request.headers.get("Authorization", "").removeprefix("Bearer ")
    if token and secret.matches(sent, token):
        return True
    try:
        session, _ = await find_session(request)
    except DB_ERRORS:
        return False
    return session is not None and session.manager.role == "admin"


async def readyz(request: web.Request) -> web.Response:
    """Readiness: the database answers, the homeserver can be reached and (when its provisioning
    API is configured) the bridge has a WhatsApp login. 503 when not; what is not ready is
    named to an admin or with the metrics token, anyone else gets the bare status."""
    settings = request.app[SETTINGS]
    checks: dict[str, str] = {}
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT):
            await request.app[POOL].fetchval("SELECT 1")
        checks["database"] = "ok"
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
        checks["database"] = "unreachable"
    matrix = request.app[MATRIX]
    try:
        async with (
            asyncio.timeout(HEALTH_TIMEOUT),
            matrix.session.get(matrix.api.base_url / "_matrix/client/versions") as resp,
        ):
            checks["homeserver"] = "ok" if resp.status == 200 else f"answered {resp.status}"
    except (aiohttp.ClientError, OSError, TimeoutError):
        checks["homeserver"] = "unreachable"
    if settings.bridge.provisioning_url:
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT):
                found = await bridge.logins(matrix.session, settings)
            checks["bridge"] = "ok" if found else "not logged in to WhatsApp"
        except (bridge.BridgeError, TimeoutError) as e:
            checks["bridge"] = str(e) or "no answer"
    ready = all(v == "ok" for v in checks.values())
    answer: dict[str, str] = {"status": "ready" if ready else "unavailable"}
    if await may_see_details(request):
        answer.update(checks)
    return web.json_response(answer, status=200 if ready else 503)


async def healthz(request: web.Request) -> web.Response:
    """Liveness: 200 while the database answers."""
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT):
            await request.app[POOL].fetchval("SELECT 1")
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
        return web.json_response({"status": "unavailable", "database": "unreachable"}, status=503)
    return web.json_response({"status": "ok", "database": "ok"})


# Bytes of a request line (method, path and query) the server reads.
MAX_REQUEST_LINE = 32 * 1024


def create_app(settings: Settings, dsn: str) -> web.Application:
    aps = settings.appservice
    if not (aps.as_token and aps.hs_token):
        raise ValueError("the appservice tokens must be configured before the app is created")
    app = web.Application(
        client_max_size=max(aps.max_body_size, settings.media.max_upload_size + 1024 * 1024),
        # Whoever serves the app (the process, a test's runner) reads request lines this long:
        # every query the API describes fits (five attribute conditions of 300 characters,
        # percent-encoded, ten labels, a search), so the API's own checks answer it in JSON
        # rather than the HTTP parser in plain text (its limit is 8190 bytes).
        handler_args={"max_line_size": MAX_REQUEST_LINE},
    )
    app[SETTINGS] = settings
    app[SPOOL] = Spool(settings.media.spool_dir)
    app[MEDIA_CACHE] = MediaCache(settings.media.cache_dir, settings.media.cache_size)
    app[MEDIA_ROWS] = MediaRows()
    namespaces = namespaces_from(settings)
    appservice = AppserviceAPI(aps.hs_token, namespaces, aps.max_body_size)
    app[METRICS] = appservice.metrics = Metrics()
    app[APPSERVICE] = appservice
    stopping = asyncio.Event()

    async def database(app: web.Application) -> AsyncIterator[None]:
        app[POOL] = appservice.pool = await create_pool(dsn, settings.database)
        try:
            yield
        finally:
            await app[POOL].close()

    async def matrix(app: web.Application) -> AsyncIterator[None]:
        app[MATRIX] = client = MatrixClient(settings)
        await app[MEDIA_CACHE].load()
        try:
            yield
        finally:
            await client.close()

    async def workers(app: web.Application) -> AsyncIterator[None]:
        client = app[MATRIX]
        invites = InviteWorker(app[POOL], client, namespaces)
        smtp = settings.smtp
        mail = MailSender(smtp, settings.web.public_url, app[SPOOL]) if smtp.enabled else None
        outbox = OutboxWorker(
            app[POOL],
            MatrixSender(client, app[SPOOL]),
            mail,
            app[SPOOL],
            RetryPolicy.from_settings(settings.outbox),
            settings.outbox.concurrency,
        )
        outbox.metrics = app[METRICS]
        hub = app[HUB] = Hub(app[POOL], render_live)
        guard = app[GUARD] = Guard(app[POOL], hub)
        hub.watchers += [app[MEDIA_ROWS].changed, app[SESSIONS].changed, guard.changed]
        await hub.start()
        tasks = [
            asyncio.create_task(client.keep_handshaking(stopping), name="homeserver-handshake"),
            asyncio.create_task(invites.run(stopping), name="invite-worker"),
            asyncio.create_task(hub.run(stopping), name="live-hub"),
            asyncio.create_task(guard.run(stopping), name="live-guard"),
            asyncio.create_task(outbox.run(stopping), name="outbox"),
            asyncio.create_task(wake_snoozed(app[POOL], stopping), name="snooze"),
            asyncio.create_task(
                sweep_until_stopped(app[POOL], settings.appservice.foreign_room_grace, stopping),
                name="foreign-room-sweep",
            ),
        ]
        if settings.bridge.provisioning_url:  # LID contacts' numbers, from the bridge
            phonebook = Phonebook(app[POOL], settings, client.session)
            tasks.append(asyncio.create_task(phonebook.run(stopping), name="phonebook"))
        if smtp.notifications:
            presence = app[PRESENCE] = Presence(app[POOL], hub)
            tasks += [
                asyncio.create_task(presence.run(stopping), name="presence"),
                asyncio.create_task(
                    queue_notifications(app[POOL], smtp.notify_period, stopping),
                    name="notifications",
                ),
            ]
        try:
            yield
        finally:
            stopping.set()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def close_sockets(app: web.Application) -> None:
        if HUB in app:
            await app[HUB].close_all()

    app.cleanup_ctx.extend([database, matrix, workers])
    app.on_shutdown.append(close_sockets)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    appservice.register(app)
    api.setup(app)
    webapp.setup(app)
    headers.setup(app)
    return app
