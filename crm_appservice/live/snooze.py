"""Snoozed conversations come back when their time is up.

A manager snoozes a conversation until tomorrow morning to have it out of the open list until
then; if nothing brought it back, a customer who never writes again would be forgotten. Every
instance reopens the due ones every INTERVAL seconds (the UPDATE takes each row once; the
partial index `conversations_snoozed_idx` holds only the snoozed ones) and pushes them as
`conversation.updated`, so every open inbox shows them again.
"""

from __future__ import annotations

import asyncio
import logging

from ..store import conversations, feed
from ..store.database import Pool, every

log = logging.getLogger("crm.live")

INTERVAL = 5.0


async def wake_snoozed(pool: Pool, stopping: asyncio.Event, interval: float = INTERVAL) -> None:
    async def wake() -> None:
        async with pool.acquire() as conn, conn.transaction():
            woken = await conversations.wake_snoozed(conn)
            await feed.record(conn, [("conversation.updated", i) for i in woken])
        if woken:
            log.info("%d snoozed conversation(s) reopened", len(woken))

    await every(interval, stopping, wake, "Reopening snoozed conversations", log)
