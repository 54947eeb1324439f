"""Removing what the homeserver pushed of rooms that are not the CRM's.

The CRM's registration claims the bridge's ghosts, so the homeserver pushes the portals of every
Matrix user of the bridge; those events are stored raw like any other (an answer other than 200
would stall the homeserver's queue), never mapped, and deleted here once they are older than the
grace period in which an invite could still make the room the CRM's.
"""

from __future__ import annotations

import asyncio
import logging

from ..store.database import Pool, every
from ..store.portals import sweep_foreign_rooms

log = logging.getLogger("crm.appservice.sweep")

INTERVAL = 60.0


async def sweep_until_stopped(
    pool: Pool, grace: float, stopping: asyncio.Event, interval: float = INTERVAL
) -> None:
    async def sweep() -> None:
        deleted = await sweep_once(pool, grace)
        if deleted:
            log.info("Removed %d raw events of rooms that are not the CRM's", deleted)

    await every(interval, stopping, sweep, "Sweeping other rooms' raw events", log)


async def sweep_once(pool: Pool, grace: float) -> int:
    """Sweep until nothing old enough is left to examine; the number of events deleted."""
    total = 0
    while True:
        async with pool.acquire() as conn:
            examined, deleted = await sweep_foreign_rooms(conn, grace)
        total += deleted
        if examined == 0:
            return total
