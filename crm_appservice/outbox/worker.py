"""The outbox worker: sends queued work exactly once and in order, through its channel.

It runs in the CRM's event loop, wakes on the `NOTIFY` the API sends with every queued entry
(no polling delay), and keeps `concurrency` sends in flight. Each send leases its entry in one
short statement, calls the homeserver (or mail server) outside any database transaction, and
records the result in another short one: a homeserver that takes seconds never holds a lock
that ingest or the API wait for. A second instance skips a leased entry; if this process dies
mid-send, its connection goes and the lease with it, so the entry is picked up again at once.
The Matrix transaction id of a send is fixed when the entry is queued: sending it again after a
timeout or a crash gives back the same event instead of a second one.

Which channel sends an entry follows from its action alone (the conversation's room and the
SMTP settings are at hand), so nothing is looked up per send just to decide that.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
import logging
from typing import TYPE_CHECKING

from ..store import actions, feed, outbox as store
from ..store.database import DB_ERRORS, Conn, Pool, listen_until_stopped, wait_for_either
from .errors import SendError
from .mail import MailSender
from .matrix import Finish, MatrixSender
from .policy import RetryPolicy
from .spool import Spool

if TYPE_CHECKING:
    from ..metrics import Metrics

log = logging.getLogger("crm.outbox")

IDLE_CHECK = 30.0
# Longest a send may take before another worker may take its entry over (a crashed worker's
# entry is free at once: its connection is gone).
LEASE = 600.0
BLOCKED_CHECK = 1.0
RECONNECT_DELAY = 2.0

Handler = Callable[[Conn, store.Entry], Awaitable[Finish]]


class OutboxWorker:
    def __init__(
        self,
        pool: Pool,
        matrix: MatrixSender | None,
        mail: MailSender | None,
        spool: Spool,
        policy: RetryPolicy,
        concurrency: int,
    ) -> None:
        self.pool = pool
        self.spool = spool
        self.policy = policy
        self._wakes = [asyncio.Event() for _ in range(concurrency)]
        self._handlers: dict[str, Handler] = {}
        self.metrics: Metrics | None = None
        if matrix is not None:
            self._handlers.update(send=matrix.send, react=matrix.react, unreact=matrix.unreact,
                                  edit=matrix.edit, redact=matrix.redact,
                                  read=matrix.read)  # fmt: skip
        if mail is not None:
            self._handlers.update(email=mail.reply, notify=mail.notify)

    def _notified(self, *_: object) -> None:
        for wake in self._wakes:
            wake.set()

    async def run(self, stopping: asyncio.Event) -> None:
        """Send until stopped; a lost database connection is re-established."""
        await listen_until_stopped(
            self.pool,
            store.OUTBOX_CHANNEL,
            self._notified,
            lambda listener: self._work(stopping, listener),
            stopping,
            RECONNECT_DELAY,
        )

    async def _work(self, stopping: asyncio.Event, listener: Conn) -> None:
        senders = [
            asyncio.create_task(self._sender(wake, stopping, listener), name=f"outbox-{i}")
            for i, wake in enumerate(self._wakes)
        ]
        try:
            await asyncio.gather(*senders)
        finally:
            for task in senders:
                task.cancel()
            await asyncio.gather(*senders, return_exceptions=True)

    async def _sender(self, wake: asyncio.Event, stopping: asyncio.Event, listener: Conn) -> None:
        while not stopping.is_set() and not listener.is_closed():
            wake.clear()
            try:
                if await self.send_next():
                    continue
                delay = await self._idle_delay()
            except DB_ERRORS as e:
                log.warning("Outbox: database error (%r)", e)
                delay = RECONNECT_DELAY
            except Exception:
                log.exception("Outbox: unexpected error")
                delay = RECONNECT_DELAY
            await wait_for_either(wake, stopping, delay)

    async def _idle_delay(self) -> float:
        """How long to sleep when nothing could be claimed: until the next retry is due."""
        async with self.pool.acquire() as conn:
            due = await store.next_due(conn)
        if due is None:
            return IDLE_CHECK
        seconds = (due - datetime.now(UTC)).total_seconds()
        # Due but not claimable: another sender holds it (or the conversation's earlier one).
        return BLOCKED_CHECK if seconds <= 0 else min(seconds, IDLE_CHECK)

    async def send_next(self) -> bool:
        """Claim and send one entry; False when nothing is due."""
        async with self.pool.acquire() as conn:
            entry = await store.claim(conn, LEASE)
            if entry is None:
                return False
            try:
                finished = await self._handle(conn, entry)
            finally:
                await store.release(conn, entry)
        spooled = entry.payload.get("file")
        if finished and (entry.action == "send" or entry.deleted) and isinstance(spooled, str):
            # Only once the outcome is committed, and only when the homeserver has the file (or
            # the message is gone): a sent e-mail's attachment stays the inbox's copy of it.
            await self.spool.discard(spooled)
        return True

    async def _handle(self, conn: Conn, entry: store.Entry) -> bool:
        """Send the entry (no transaction is open meanwhile), then record the outcome in one
        short transaction; True if nothing is left to do for it."""
        if entry.action in ("send", "email") and entry.deleted and entry.event_id is None:
            # Deleted while it waited (or between failed attempts): it is never sent.
            assert entry.message_id is not None
            async with conn.transaction():
                await store.mark_done(conn, entry)
                await store.fail_message(conn, entry.message_id, "Deleted before it was sent")
                await feed.record(conn, [("message.updated", entry.message_id)])
            return True
        handler = self._handlers.get(entry.action)
        try:
            if handler is None:
                what = "e-mail" if entry.lane != "matrix" else "the homeserver"
                raise SendError(f"Sending to {what} is not set up on this CRM", False)
            finish = await handler(conn, entry)
        except SendError as e:
            async with conn.transaction():
                return await self._failed(conn, entry, e)
        except DB_ERRORS:
            raise  # the database, not this entry: the sender waits and reconnects
        except Exception as e:
            # A bug or an input nobody foresaw is this entry's failure like any other: retried
            # with backoff, then failed with a reason, while every other entry goes on. (Left
            # to the sender, the entry would stay the oldest due one, claimed again at once,
            # and a few such entries would hold every sender.)
            log.exception("Outbox entry %d (%s): unexpected error", entry.id, entry.action)
            error = SendError(f"An unexpected error on the CRM ({type(e).__name__})", True)
            async with conn.transaction():
                return await self._failed(conn, entry, error)
        async with conn.transaction():
            await feed.record(conn, await finish(conn))
        if self.metrics:
            self.metrics.sent.labels(entry.lane).inc()
        return True

    async def _failed(self, conn: Conn, entry: store.Entry, error: SendError) -> bool:
        """Schedule a retry, or give up and show why (False: a manager may send it again)."""
        attempts = entry.attempts + 1
        if error.retriable and not self.policy.gives_up(
            attempts, entry.queued_at, datetime.now(UTC)
        ):
            delay = self.policy.delay(attempts)
            log.info("Outbox entry %d (%s) not sent (%s), retry in %.1f s",
                     entry.id, entry.action, error, delay)  # fmt: skip
            await store.schedule_retry(conn, entry, error.reason, delay)
            if self.metrics:
                self.metrics.retries.labels(entry.lane).inc()
            return False
        reason = error.reason
        if error.retriable:
            reason += f" (gave up after {attempts} attempts)"
        log.warning("Outbox entry %d (%s, message %s) failed: %s",
                    entry.id, entry.action, entry.message_id, reason)  # fmt: skip
        await store.mark_failed(conn, entry, reason)
        if self.metrics:
            self.metrics.failures.labels(entry.lane).inc()
        await self._show_failure(conn, entry, reason)
        return False

    async def _show_failure(self, conn: Conn, entry: store.Entry, reason: str) -> None:
        """What a given-up entry means for the inbox."""
        message_id = entry.message_id
        if message_id is None or entry.action == "read":
            return  # a notification or a read receipt: the log says it
        if entry.action in ("send", "email"):
            await store.fail_message(conn, message_id, reason)
        elif entry.action == "react":
            await actions.drop_reaction(conn, int(entry.payload["reaction_id"]))
        else:
            what = {"edit": "The edit", "redact": "The deletion",
                    "unreact": "Removing the reaction"}[entry.action]  # fmt: skip
            await actions.note_error(conn, message_id, f"{what} did not reach the chat: {reason}")
        await feed.record(conn, [("message.updated", message_id)])
