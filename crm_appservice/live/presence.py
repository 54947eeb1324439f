"""Which managers are online: those with a live connection on some instance.

Each instance extends `online_until` of the managers it holds a connection of, every INTERVAL
seconds and at once when a manager connects who was not connected here before. A manager whose
last connection closed counts as offline once TTL has passed (another instance may still hold
one, and would have extended it). Mail notifications go to offline managers only.
"""

from __future__ import annotations

import asyncio
import logging

from ..store import presence as store
from ..store.database import DB_ERRORS, Pool, wait_for_either
from .hub import Hub

log = logging.getLogger("crm.live")

INTERVAL = 20.0
TTL = 3 * INTERVAL


class Presence:
    def __init__(self, pool: Pool, hub: Hub) -> None:
        self.pool = pool
        self.hub = hub
        self._known: set[int] = set()
        self._wake = asyncio.Event()

    def connected(self, manager_id: int) -> None:
        if manager_id not in self._known:
            self._wake.set()

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            self._wake.clear()
            online = {client.manager_id for client in self.hub.clients}
            if online:
                try:
                    async with self.pool.acquire() as conn:
                        await store.mark_online(conn, sorted(online), TTL)
                except DB_ERRORS as e:
                    log.warning("Presence not recorded (%r)", e)
            self._known = online
            await wait_for_either(self._wake, stopping, INTERVAL)
