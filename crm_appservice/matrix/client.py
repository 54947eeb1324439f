"""The CRM's connection to the homeserver's client-server API.

mautrix provides the intent API (requests made as the appservice's users with the AS token);
this module owns the HTTP session and the start-up handshake: make sure the CRM's own user
exists, then ping the homeserver, which makes it retry any queued transactions at once instead of
waiting out its backoff timer after the CRM was down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import aiohttp
from mautrix.api import Method, Path
from mautrix.appservice import AppServiceAPI, IntentAPI
from mautrix.appservice.state_store import ASStateStore
from mautrix.client.state_store import MemoryStateStore
from mautrix.errors import MatrixError
from mautrix.types import RoomID, UserID

from ..config import Settings

log = logging.getLogger("crm.matrix")

HOMESERVER_ERRORS = (MatrixError, aiohttp.ClientError, asyncio.TimeoutError, OSError)


class _StateStore(MemoryStateStore, ASStateStore):
    """Membership and registration caches in memory: the database holds what matters."""

    def __init__(self) -> None:
        MemoryStateStore.__init__(self)
        ASStateStore.__init__(self)


class MatrixClient:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        aps = settings.appservice
        assert aps.as_token, "the appservice token is generated before the client starts"
        self.bot_mxid = UserID(f"@{aps.bot_username}:{settings.homeserver.domain}")
        self.session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=60, connect=10),
            connector=aiohttp.TCPConnector(limit=100, ssl=settings.homeserver.verify_ssl),
        )
        self.api = AppServiceAPI(
            base_url=str(settings.homeserver.address),
            bot_mxid=self.bot_mxid,
            token=aps.as_token,
            state_store=_StateStore(),
            client_session=self.session,
            log=logging.getLogger("crm.matrix.api"),  # type: ignore[arg-type]
        )
        self.bot: IntentAPI = self.api.bot_intent()
        # The homeserver's largest upload (`m.upload.size`), learnt at the handshake.
        self.upload_limit: int | None = None

    async def close(self) -> None:
        await self.session.close()

    async def handshake(self) -> None:
        """Register the CRM's user, set its name, and ping the homeserver."""
        await self.bot.ensure_registered()
        await self.bot.set_displayname(self.settings.appservice.bot_displayname)
        await self.bot.appservice_ping(self.settings.appservice.id)
        config = await self.bot.api.request(Method.GET, Path.v1.media.config)
        limit = config.get("m.upload.size") if isinstance(config, dict) else None
        self.upload_limit = limit if isinstance(limit, int) and limit > 0 else None

    async def keep_handshaking(self, stopping: asyncio.Event) -> None:
        """Retry the handshake with backoff until it works: the homeserver may start later."""
        delay = 1.0
        while not stopping.is_set():
            try:
                await self.handshake()
                log.info("Connected to the homeserver as %s", self.bot_mxid)
                return
            except HOMESERVER_ERRORS as e:
                log.warning("Homeserver not reachable yet (%s), retrying in %.0f s", e, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), delay)
            delay = min(delay * 2, 60)

    async def join(self, room_id: str) -> None:
        await self.bot.join_room(RoomID(room_id), max_retries=0)

    async def decline(self, room_id: str) -> None:
        await self.bot.leave_room(RoomID(room_id), reason="Invites are accepted from bridges only")

    async def room_state(self, room_id: str) -> list[dict[str, Any]]:
        """The room's current state events, as raw JSON like in a transaction."""
        state = await self.bot.api.request(Method.GET, Path.v3.rooms[RoomID(room_id)].state)
        return [dict(e, room_id=room_id) for e in state] if isinstance(state, list) else []
