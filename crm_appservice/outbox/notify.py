"""Queues mail notifications of offline managers: a conversation assigned to them received
messages they have not read (store.mail has the rule). The mails themselves go out through the
outbox like every other send, with its retries."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from ..store import mail as mail_store
from ..store.database import DB_ERRORS, Pool

log = logging.getLogger("crm.outbox")

LONGEST_CHECK = 30.0


async def queue_notifications(pool: Pool, period: float, stopping: asyncio.Event) -> None:
    """Look for due notifications a few times per period (at least every LONGEST_CHECK s)."""
    interval = min(LONGEST_CHECK, max(0.2, period / 4))
    while not stopping.is_set():
        try:
            async with pool.acquire() as conn:
                queued = await mail_store.queue_due_notifications(conn, period)
            if queued:
                log.info("Queued %d mail notification(s) of offline managers", queued)
        except DB_ERRORS as e:
            log.warning("Notifications not checked (%r)", e)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), interval)
