"""Who may keep a live connection: it closes as soon as its session ends or its manager's rights
change, on every instance.

A logout, a deleted API token, a deactivation, a new role or a new password writes an event to
the live feed in the transaction that makes the change (store/sessions.py, store/managers.py).
Every instance's hub reads the whole feed and hands each batch to its guard, which closes the
connections concerned: an ended session at once with `ENDED` (the browser shows the login); a
change of rights by looking up the role each connection's session holds now and closing those
opened with another one with `CHANGED` (the browser reconnects and loads its views again, seeing
what it may see now). Looked up, not closed by manager: a connection opened after the change
committed but before this instance read its event already has the new role, and closing it too
would make the browser reconnect for nothing. A session that simply expires writes nothing: the
guard looks up the sessions of its connections every SWEEP seconds and at the earliest expiry
among them, which also catches anything changed behind the feed's back.

A connection that attaches just after its session's end was handled here was authenticated
before it (a cached or in-flight lookup): the guard remembers recent ends for long enough to
refuse it too; one attached with a role looked up before a change is caught by the look-up that
every attachment wakes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
import logging
import time
from typing import Any

from ..store import managers, sessions
from ..store.database import DB_ERRORS, Pool, wait_for_either
from .hub import Client, Hub

log = logging.getLogger("crm.live")

SWEEP = 30.0
ENDED = 4001
CHANGED = 4003
# Longer than any lookup that could still hand out a session from before its event.
REMEMBER = 120.0


class Guard:
    def __init__(self, pool: Pool, hub: Hub) -> None:
        self.pool = pool
        self.hub = hub
        self._ended: dict[int, float] = {}  # session id → when its end was handled here
        self._wake = asyncio.Event()

    def changed(self, events: Sequence[Any]) -> None:
        """Called by the hub with every batch of the feed's events."""
        now = time.monotonic()
        for event in events:
            if event["type"] == sessions.SESSION_ENDED:
                self._ended[event["ref_id"]] = now
                self._close(lambda c, i=event["ref_id"]: c.session_id == i, ENDED, "logged out")
            elif event["type"] == managers.RIGHTS_CHANGED:
                self._wake.set()  # the sweep closes the connections whose role is not the one now
        self._forget(now)

    def admit(self, client: Client) -> None:
        """Close a just attached connection whose session's end was handled here already."""
        if client.session_id in self._ended:
            client.end(ENDED, "logged out")
            self.hub.detach(client)
        else:
            self._wake.set()  # its session's expiry may be the earliest now, its role stale

    def _close(self, concerned: Any, code: int, reason: str) -> None:
        for client in [c for c in self.hub.clients if concerned(c)]:
            client.end(code, reason)
            self.hub.detach(client)

    def _forget(self, now: float) -> None:
        for key in [k for k, at in self._ended.items() if at < now - REMEMBER]:
            del self._ended[key]

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            self._wake.clear()
            delay = SWEEP
            try:
                delay = await self.sweep()
            except DB_ERRORS as e:
                log.warning("Live connections' sessions not checked (%r)", e)
            await wait_for_either(self._wake, stopping, delay)

    async def sweep(self) -> float:
        """Close the connections whose session has expired or whose manager's role is no longer
        the one they connected with; returns the seconds until the next sweep is due."""
        clients = [c for c in self.hub.clients if c.session_id is not None]
        if not clients:
            return SWEEP
        async with self.pool.acquire() as conn:
            held = await sessions.valid_until(conn, sorted({c.session_id or 0 for c in clients}))
        now = datetime.now(UTC)
        delay = SWEEP
        for client in clients:
            found = held.get(client.session_id or 0)
            if found is None:
                client.end(ENDED, "session ended")
                self.hub.detach(client)
            elif found[1] != client.role:
                client.end(CHANGED, "rights")
                self.hub.detach(client)
            elif found[0] is not None:
                delay = min(delay, max(0.05, (found[0] - now).total_seconds() + 0.05))
        return delay
