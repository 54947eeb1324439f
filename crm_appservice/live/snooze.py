"""Snoozed conversations come back when their time is up.

A manager snoozes a conversation until tomorrow morning to have it out of the open list until
then; if nothing brought it back, a customer who never writes again would be forgotten. Every
instance reopens the due ones every INTERVAL seconds (the UPDATE takes each row once; the
partial index `conversations_snoozed_idx` holds only the snoozed ones) and pushes them as
`conversation.updated`, so every open inbox shows them again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from ..store import conversations, live
from ..store.database import DB_ERRORS, Pool

log = logging.getLogger("crm.live")

INTERVAL = 5.0


async def wake_snoozed(pool: Pool, stopping: asyncio.Event, interval: float = INTERVAL) -> None:
    while not stopping.is_set():
        try:
            async with pool.acquire() as conn, conn.transaction():
                woken = await conversations.wake_snoozed(conn)
                await live.record(conn, [("conversation.updated", i) for i in woken])
            if woken:
                log.info("%d snoozed conversation(s) reopened", len(woken))
        except DB_ERRORS as e:
            log.warning("Snoozed conversations not checked (%r)", e)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), interval)
