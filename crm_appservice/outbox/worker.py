"""The outbox worker: sends queued replies to the homeserver, exactly once and in order.

It runs in the CRM's event loop, wakes on the `NOTIFY` the API sends with every queued reply
(no polling delay), and keeps `concurrency` sends in flight. Each send holds its outbox row's
lock until the result is recorded: a second instance skips that row, and if this process dies
mid-send the lock goes with its connection, so the entry is picked up again at once. The Matrix
transaction id of a send is fixed when the reply is queued: sending it again after a timeout or
a crash gives back the same event instead of a second one.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
import logging
from typing import Any

from mautrix.errors import IntentError, MatrixConnectionError, MatrixRequestError
from mautrix.types import EventType, RoomID

from ..ingest.events import CRM_MESSAGE_KEY
from ..matrix.client import HOMESERVER_ERRORS, MatrixClient
from ..store import live, outbox as store
from ..store.database import DB_ERRORS, Conn, Pool, listen_until_stopped, wait_for_either
from .policy import RetryPolicy
from .spool import Spool

log = logging.getLogger("crm.outbox")

IDLE_CHECK = 30.0
BLOCKED_CHECK = 1.0
RECONNECT_DELAY = 2.0


class SendError(Exception):
    """A send that did not happen, with the reason a manager reads and whether to retry."""

    def __init__(self, reason: str, retriable: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retriable = retriable


def explain(error: Exception) -> SendError:
    """Turn a homeserver error into a readable reason: 4xx (except 429) is final."""
    if isinstance(error, MatrixRequestError):
        status = getattr(error, "http_status", 0)
        detail = " ".join(p for p in (error.errcode, error.message) if p) or str(error)
        if status == 429:
            return SendError(f"The homeserver is rate-limiting the CRM ({detail})", True)
        if 400 <= status < 500:
            return SendError(f"The homeserver refused the message: {detail}", False)
        return SendError(f"The homeserver failed ({status}: {detail})", True)
    if isinstance(error, IntentError):
        return SendError(f"The CRM's user cannot send in this room: {error}", False)
    if isinstance(error, MatrixConnectionError | OSError | TimeoutError):
        return SendError(f"The homeserver is unreachable ({error or type(error).__name__})", True)
    return SendError(f"Sending failed: {error!r}", True)


_MSGTYPES = {"image": "m.image", "video": "m.video", "audio": "m.audio", "voice": "m.audio"}


def media_content(entry: store.Entry, url: str, voice: bool) -> dict[str, Any]:
    """The content keys of an attachment: the caption is the body, the file name separate."""
    info: dict[str, Any] = {"mimetype": entry.media_mimetype, "size": entry.media_size}
    if entry.media_width and entry.media_height:
        info.update(w=entry.media_width, h=entry.media_height)
    if entry.media_duration_ms:
        info["duration"] = entry.media_duration_ms
    content: dict[str, Any] = {
        "msgtype": _MSGTYPES.get(entry.kind, "m.file"),
        "body": entry.body or entry.media_filename or "file",
        "filename": entry.media_filename,
        "url": url,
        "info": info,
    }
    if voice:
        content["org.matrix.msc3245.voice"] = {}
        content["org.matrix.msc1767.audio"] = {"duration": entry.media_duration_ms or 0}
    return content


class OutboxWorker:
    def __init__(
        self,
        pool: Pool,
        matrix: MatrixClient,
        spool: Spool,
        policy: RetryPolicy,
        concurrency: int,
    ) -> None:
        self.pool = pool
        self.matrix = matrix
        self.spool = spool
        self.policy = policy
        self._wakes = [asyncio.Event() for _ in range(concurrency)]

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
        async with self.pool.acquire() as conn, conn.transaction():
            entry = await store.claim(conn)
            if entry is None:
                return False
            done = await self._handle(conn, entry)
        spooled = entry.payload.get("file")
        if done and isinstance(spooled, str):
            await self.spool.discard(spooled)  # only once the send is committed
        return True

    async def _handle(self, conn: Conn, entry: store.Entry) -> bool:
        """Send the entry and record the outcome; True if it needs nothing more."""
        if entry.event_id is not None:
            # Its event came back from the homeserver before the send was recorded (a crash
            # in between): the message is in the room already.
            await store.mark_done(conn, entry)
            return True
        try:
            event_id = await self._send(conn, entry)
        except HOMESERVER_ERRORS as e:
            return await self._failed(conn, entry, explain(e))
        except SendError as e:
            return await self._failed(conn, entry, e)
        if await store.mark_sent(conn, entry, event_id):
            await live.record(conn, [("message.updated", entry.message_id)])
        return True

    async def _upload(self, conn: Conn, entry: store.Entry, name: str) -> str:
        """Put the spooled attachment in the homeserver's media repository (once)."""
        if entry.media_url:
            return entry.media_url
        try:
            data = await self.spool.stream(name)
        except FileNotFoundError:
            raise SendError(
                "The attachment's file is missing on the CRM's server", False
            ) from None
        url = await self.matrix.bot.upload_media(
            data, mime_type=entry.media_mimetype, filename=entry.media_filename,
            size=entry.media_size,
        )  # fmt: skip
        await store.set_media_url(conn, entry, str(url))
        return str(url)

    async def _send(self, conn: Conn, entry: store.Entry) -> str:
        if entry.action != "send":
            raise SendError(f"The CRM cannot {entry.action} messages yet", False)
        # A plain dict: mautrix sends it as it is (its typed contents would drop our key).
        content: Any = {
            "msgtype": "m.text",
            "body": entry.body or "",
            CRM_MESSAGE_KEY: entry.message_id,
        }
        spooled = entry.payload.get("file")
        if isinstance(spooled, str):
            url = await self._upload(conn, entry, spooled)
            content.update(media_content(entry, url, bool(entry.payload.get("voice"))))
        if entry.reply_to_event_id:
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": entry.reply_to_event_id}}
        event_id = await self.matrix.bot.send_message_event(
            RoomID(entry.room_id), EventType.ROOM_MESSAGE, content, txn_id=entry.txn_id
        )
        return str(event_id)

    async def _failed(self, conn: Conn, entry: store.Entry, error: SendError) -> bool:
        """Schedule a retry (False) or give up (True: the message is failed)."""
        attempts = entry.attempts + 1
        if error.retriable and not self.policy.gives_up(
            attempts, entry.queued_at, datetime.now(UTC)
        ):
            delay = self.policy.delay(attempts)
            log.info("Message %d not sent (%s), retry in %.1f s", entry.message_id, error, delay)
            await store.schedule_retry(conn, entry, error.reason, delay)
            return False
        reason = error.reason
        if error.retriable:
            reason += f" (gave up after {attempts} attempts)"
        log.warning("Message %d failed: %s", entry.message_id, reason)
        await store.mark_failed(conn, entry, reason)
        await live.record(conn, [("message.updated", entry.message_id)])
        return False  # kept: a manager may send it again
