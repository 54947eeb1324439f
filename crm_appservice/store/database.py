"""The asyncpg pool, and the one place that turns `database.url` into a reachable server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib
from contextlib import asynccontextmanager
import logging
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy
import orjson

from ..config import DatabaseSettings
from .embedded import EmbeddedPostgres

log = logging.getLogger("crm.store.database")

Pool = asyncpg.Pool
# A connection of its own or one borrowed from the pool: the store's functions take either.
Conn = asyncpg.Connection | PoolConnectionProxy


@asynccontextmanager
async def database_dsn(settings: DatabaseSettings) -> AsyncIterator[str]:
    """Yield a DSN for the configured database, starting the embedded server if needed.

    When another process (a running `crm-appservice run`) already serves the embedded data
    directory, its socket is used and the server is left running.
    """
    if not settings.embedded:
        yield settings.url
        return
    server = EmbeddedPostgres(settings.embedded_dir, settings.embedded_bin_dir)
    running = server.running_instance()
    if running:
        server.socket_dir = running[1]
        log.info("Using the embedded PostgreSQL already running (pid %d)", running[0])
        yield server.dsn()
        return
    await server.start()
    try:
        yield server.dsn()
    finally:
        await server.stop_async()
        log.info("Embedded PostgreSQL stopped")


class _Connection(asyncpg.Connection):
    """A pooled connection that goes back to the pool without a reset statement.

    asyncpg's default sends `RESET ALL; UNLISTEN *; CLOSE ALL; pg_advisory_unlock_all()` on every
    release: a second round trip for each one-query request. The store leaves no session state
    to reset: its settings are `SET LOCAL` and its advisory locks transaction-scoped, it opens no
    cursors outside transactions, and every LISTEN is undone by its owner before release. A
    transaction left open is still rolled back by the pool.
    """

    def get_reset_query(self) -> str:
        return ""


async def create_pool(dsn: str, settings: DatabaseSettings) -> Pool:
    """One pool per process, created at start and closed at shutdown."""
    server_settings = {"application_name": "crm-appservice"}
    if settings.statement_timeout:
        server_settings["statement_timeout"] = str(int(settings.statement_timeout * 1000))
    pool: Pool = await asyncpg.create_pool(
        dsn,
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        server_settings=server_settings,
        connection_class=_Connection,
        command_timeout=settings.statement_timeout + 5 if settings.statement_timeout else None,
    )
    return pool


@asynccontextmanager
async def transaction(db: Conn | Pool) -> AsyncIterator[Conn]:
    """A transaction on `db`, a connection of the caller's or one taken from the pool."""
    if isinstance(db, Pool):
        async with db.acquire() as conn, conn.transaction():
            yield conn
    else:
        async with db.transaction():
            yield db


def set_clause(
    changes: dict[str, Any], first_param: int = 2, jsonb: frozenset[str] = frozenset()
) -> tuple[str, list[Any]]:
    """`col = $n, …` and its values for an UPDATE of the given columns.

    Column names come from API models and store allow-lists, never from a client; `jsonb`
    columns are sent as JSON text and cast.
    """
    parts, values = [], []
    for i, (column, value) in enumerate(changes.items()):
        cast = "::jsonb" if column in jsonb else ""
        parts.append(f"{column} = ${first_param + i}{cast}")
        values.append(orjson.dumps(value).decode() if column in jsonb else value)
    return ", ".join(parts), values


DB_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)


async def every(
    seconds: float,
    stopping: asyncio.Event,
    job: Callable[[], Awaitable[None]],
    what: str,
    logger: logging.Logger,
) -> None:
    """Run `job` every `seconds` until the program stops; a database error is logged (`what`
    did not happen) and the next round tries again."""
    while not stopping.is_set():
        try:
            await job()
        except DB_ERRORS as e:
            logger.warning("%s not done (%r)", what, e)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), seconds)


async def wait_for_either(wake: asyncio.Event, stopping: asyncio.Event, seconds: float) -> None:
    """Sleep until a NOTIFY woke `wake`, the program is stopping, or `seconds` passed."""
    waiters = {asyncio.ensure_future(wake.wait()), asyncio.ensure_future(stopping.wait())}
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


async def listen_until_stopped(
    pool: Pool,
    channel: str,
    on_notify: Callable[..., None],
    work: Callable[[Conn], Awaitable[None]],
    stopping: asyncio.Event,
    retry_delay: float = 2.0,
) -> None:
    """Run `work(listener)` while `listener` (a pooled connection) LISTENs on `channel`.

    When the database connection is lost, `work` returns or fails; a new connection is taken
    and `work` runs again, until `stopping` is set. Background workers are written as `work`.
    """
    while not stopping.is_set():
        try:
            async with pool.acquire() as listener:
                await listener.add_listener(channel, on_notify)
                try:
                    await work(listener)
                finally:
                    if not listener.is_closed():
                        await listener.remove_listener(channel, on_notify)
        except DB_ERRORS as e:
            log.warning("Lost the database while listening on %s (%r), reconnecting", channel, e)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), retry_delay)
