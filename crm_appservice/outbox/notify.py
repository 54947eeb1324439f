"""Queues mail notifications of offline managers: a conversation assigned to them received
messages they have not read (store.mail has the rule). The mails themselves go out through the
outbox like every other send, with its retries."""

from __future__ import annotations

import asyncio
import logging

from ..store import mail as mail_store
from ..store.database import Pool, every

log = logging.getLogger("crm.outbox")

LONGEST_CHECK = 30.0


async def queue_notifications(pool: Pool, period: float, stopping: asyncio.Event) -> None:
    """Look for due notifications a few times per period (at least every LONGEST_CHECK s)."""

    async def check() -> None:
        async with pool.acquire() as conn:
            queued = await mail_store.queue_due_notifications(conn, period)
        if queued:
            log.info("Queued %d mail notification(s) of offline managers", queued)

    interval = min(LONGEST_CHECK, max(0.2, period / 4))
    await every(interval, stopping, check, "Checking for notifications", log)
