"""Joining the portals the bridges invite the CRM's user to.

The invite is recorded in the database by the transaction that brought it, and this worker joins
after the commit: a homeserver that is slow or down never delays acknowledging a transaction, and
invites left pending by a crash or an outage are joined at the next start. A `NOTIFY` from the
ingest wakes the worker at once. Invites are leased in one statement, joined with no database
transaction open, and the result recorded in a short one (a room's state read after the join is
written like a transaction's events): several instances never join the same room at once, and a
slow homeserver never holds the ingest lock.
"""

from __future__ import annotations

import asyncio
import json
import logging

from ..appservice import body
from ..ingest.events import Parser
from ..ingest.namespaces import Namespaces
from ..store import invites as store
from ..store.database import (
    DB_ERRORS,
    Conn,
    Pool,
    listen_until_stopped,
    wait_for_either,
)
from ..store.ingest import INVITES_CHANNEL, write_events
from .client import HOMESERVER_ERRORS, MatrixClient

log = logging.getLogger("crm.matrix.invites")

POLL_INTERVAL = 30.0
LEASE = 300.0
RECONNECT_DELAY = 5.0


class InviteWorker:
    def __init__(self, pool: Pool, matrix: MatrixClient, namespaces: Namespaces) -> None:
        self.pool = pool
        self.matrix = matrix
        self.parse = Parser(namespaces)
        self.wake = asyncio.Event()

    def _notified(self, *_: object) -> None:
        self.wake.set()

    async def run(self, stopping: asyncio.Event) -> None:
        """Work until stopped; a lost database connection is re-established."""
        await listen_until_stopped(
            self.pool,
            INVITES_CHANNEL,
            self._notified,
            lambda listener: self._work(stopping, listener),
            stopping,
            RECONNECT_DELAY,
        )

    async def _work(self, stopping: asyncio.Event, listener: Conn) -> None:
        while not stopping.is_set() and not listener.is_closed():
            self.wake.clear()
            try:
                more = await self.process_due()
            except DB_ERRORS as e:
                log.warning("Could not process invites: %r", e)
                more = False
            except Exception:
                log.exception("Unexpected error while processing invites")
                more = False
            if not more:
                await wait_for_either(self.wake, stopping, POLL_INTERVAL)

    async def process_due(self) -> bool:
        """Handle the invites that are due; True if there may be more right away."""
        async with self.pool.acquire() as conn:
            due = await store.claim_due(conn, LEASE)
            try:
                for invite in due:
                    await self._handle(conn, invite)
            finally:
                await store.release(conn, [i.room_id for i in due])
        return len(due) == 20

    async def _handle(self, conn: Conn, invite: store.Invite) -> None:
        try:
            if invite.accept:
                await self.matrix.join(invite.room_id)
                log.info("Joined %s (invited by %s)", invite.room_id, invite.inviter)
                if not await store.has_conversation(conn, invite.room_id):
                    await self._read_portal_state(conn, invite.room_id)
            else:
                await self.matrix.decline(invite.room_id)
                log.info("Declined the invite to %s from %s", invite.room_id, invite.inviter)
        except HOMESERVER_ERRORS as e:
            log.warning("Invite to %s not handled yet: %s", invite.room_id, e)
            await store.mark_failed_attempt(conn, invite.room_id, str(e))
            return
        await store.mark_done(conn, invite.room_id)

    async def _read_portal_state(self, conn: Conn, room_id: str) -> None:
        """A portal whose bridge state was sent before the CRM could see the room."""
        state = await self.matrix.room_state(room_id)
        # Mended like a transaction's body: the state is anybody's to set (NULs, surrogates).
        read = body.read(json.dumps({"events": state}).encode())
        batch = self.parse(read.parsed["events"], [])
        batch.invites.clear()
        await write_events(conn, read.text, batch, self.parse)
