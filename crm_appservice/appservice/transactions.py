"""The appservice API: what the homeserver calls on the CRM.

mautrix's own handler answers 200 before the events are stored and forgets transaction ids on
restart; here a transaction is acknowledged only after it is committed, and the transaction id is
remembered in the database. Any failure to store answers 5xx, so the homeserver sends the same
transaction again (it retries with backoff until it gets a 2xx).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import logging
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web
import asyncpg

from .. import secret
from ..ingest.events import Parser
from ..ingest.namespaces import Namespaces
from ..ingest.records import Batch
from ..store.ingest import IngestResult, write_transaction
from . import body

if TYPE_CHECKING:
    from ..metrics import Metrics

log = logging.getLogger("crm.appservice")

EPHEMERAL_KEYS = ("ephemeral", "de.sorunome.msc2409.ephemeral")
RETRYABLE = (asyncpg.DeadlockDetectedError, asyncpg.SerializationError)
ACQUIRE_TIMEOUT = 10.0
ATTEMPTS = 3
# Bodies larger than this are read in a thread (an ordinary one takes microseconds inline).
MEND_INLINE = 256 * 1024

OnIngested = Callable[[IngestResult], Awaitable[None]]


def matrix_error(status: int, errcode: str, error: str) -> web.Response:
    return web.json_response({"errcode": errcode, "error": error}, status=status)


class AppserviceAPI:
    """Handlers for /_matrix/app/v1/* (and the legacy unprefixed paths)."""

    pool: asyncpg.Pool
    on_ingested: OnIngested | None = None
    metrics: Metrics | None = None

    def __init__(self, hs_token: str, namespaces: Namespaces, max_body_size: int) -> None:
        self._hs_token = hs_token.encode()
        self.parse = Parser(namespaces)
        # Ghosts known to have a contact row (rows are never deleted): a message from one of
        # them needs no contact upsert, which keeps that statement off the common path.
        self.known_contacts: set[str] = set()
        self.max_body_size = max_body_size

    def register(self, app: web.Application) -> None:
        for prefix in ("/_matrix/app/v1", ""):
            app.router.add_put(f"{prefix}/transactions/{{txn_id}}", self.put_transaction)
            app.router.add_get(f"{prefix}/users/{{user_id}}", self.query_user)
            app.router.add_get(f"{prefix}/rooms/{{alias}}", self.query_alias)
        app.router.add_post("/_matrix/app/v1/ping", self.ping)

    def _check_token(self, request: web.Request) -> web.Response | None:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            token = header[len("Bearer ") :]
        else:
            token = request.query.get("access_token", "")
        if not token:
            return matrix_error(401, "M_UNKNOWN_TOKEN", "Missing homeserver token")
        if not secret.matches(token, self._hs_token):
            return matrix_error(403, "M_FORBIDDEN", "Invalid homeserver token")
        return None

    async def _read_body(self, request: web.Request) -> tuple[str, Any]:
        """The body as storable text and parsed (see `body`): whatever an event holds, the
        transaction can be stored. Mending is rare and linear, but for a large body it takes a
        while: it runs in a thread, so the event loop keeps serving meanwhile."""
        if request.content_length is not None and request.content_length > self.max_body_size:
            raise _Reject(matrix_error(413, "M_TOO_LARGE", "Transaction body is too large"))
        data = bytearray()
        async for chunk in request.content.iter_chunked(65536):
            data.extend(chunk)
            if len(data) > self.max_body_size:
                raise _Reject(matrix_error(413, "M_TOO_LARGE", "Transaction body is too large"))
        raw = bytes(data)
        try:
            if len(raw) < MEND_INLINE:
                read = body.read(raw)
            else:
                read = await asyncio.to_thread(body.read, raw)
        except body.NotJSON:
            raise _Reject(matrix_error(400, "M_NOT_JSON", "Body is not valid JSON")) from None
        if read.mended:
            log.warning(
                "Transaction body mended to be stored (NUL, surrogates or unreadable events)"
            )
        return read.text, read.parsed

    async def put_transaction(self, request: web.Request) -> web.Response:
        denied = self._check_token(request)
        if denied:
            return denied
        txn_id = request.match_info["txn_id"]
        started = time.perf_counter()
        try:
            text, body = await self._read_body(request)
        except _Reject as e:
            return e.response
        if not isinstance(body, dict) or not isinstance(body.get("events"), list):
            return matrix_error(400, "M_BAD_JSON", "Body must be an object with an events list")
        events: list[Any] = body["events"]
        ephemeral: list[Any] = []
        ephemeral_key = EPHEMERAL_KEYS[0]
        for key in EPHEMERAL_KEYS:
            if isinstance(body.get(key), list):
                ephemeral, ephemeral_key = body[key], key
                break
        batch = self.parse(events, ephemeral, ephemeral_key)
        known = self.known_contacts
        batch.contacts = {
            mxid: c
            for mxid, c in batch.contacts.items()
            if not (c["from_message"] and mxid in known)
        }
        try:
            result = await self._store(txn_id, text, len(events), batch)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as e:
            log.error("Transaction %s not stored, the homeserver will retry: %r", txn_id, e)
            return matrix_error(503, "M_UNKNOWN", "Could not store the transaction, retry later")
        if result is None:
            log.debug("Transaction %s was already stored", txn_id)
        else:
            known.update(batch.contacts)
            if self.metrics:
                self.metrics.received([r["event_type"] for r in batch.raw])
                self.metrics.transaction_seconds.observe(time.perf_counter() - started)
            log.debug(
                "Transaction %s stored: %d events, %d ephemeral",
                txn_id,
                len(events),
                len(ephemeral),
            )
            if self.on_ingested:
                await self.on_ingested(result)
        return web.json_response({})

    async def _store(
        self, txn_id: str, body: str, event_count: int, batch: Batch
    ) -> IngestResult | None:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                async with self.pool.acquire(timeout=ACQUIRE_TIMEOUT) as conn:
                    return await write_transaction(
                        conn, txn_id, body, event_count, batch, self.parse
                    )
            except RETRYABLE:
                if attempt == ATTEMPTS:
                    raise
                log.info("Transaction %s hit a lock conflict, retrying", txn_id)
                await asyncio.sleep(0.01 * attempt)
        raise AssertionError("unreachable")

    async def query_user(self, request: web.Request) -> web.Response:
        """The CRM creates no users on demand: its users are made when managers are."""
        return self._check_token(request) or matrix_error(404, "M_NOT_FOUND", "No such user")

    async def query_alias(self, request: web.Request) -> web.Response:
        return self._check_token(request) or matrix_error(404, "M_NOT_FOUND", "No such room")

    async def ping(self, request: web.Request) -> web.Response:
        return self._check_token(request) or web.json_response({})


class _Reject(Exception):
    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response
