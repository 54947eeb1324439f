"""`GET /api/v1/ws`: the live connection of one browser tab (or script)."""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import WSMsgType, web

from ..keys import GUARD, HUB, PRESENCE, SETTINGS
from ..live.hub import Client
from . import origin, responses
from .middleware import current, restricted_to

# A proxy's default idle timeout is 60-75 s (nginx: 60 s for proxy_read_timeout); pinging every
# 25 s keeps the connection busy, and a peer that misses its pong is dropped.
HEARTBEAT = 25.0

routes = web.RouteTableDef()


@routes.get("/api/v1/ws")
async def websocket(request: web.Request) -> web.WebSocketResponse:
    session = current(request)
    if not origin.allowed(request, request.app[SETTINGS].web):
        raise responses.APIError(
            403, "forbidden_origin", "Live updates are for the inbox's own pages"
        )
    since_text = request.query.get("since")
    since = None
    if since_text is not None:
        if not since_text.isdigit():
            raise responses.invalid("since", "Not a sequence number")
        since = int(since_text)
    # No permessage-deflate: its zlib state is per connection, so every frame would be
    # compressed once for each socket it goes to, which for frames of a few hundred bytes costs
    # the fan-out more CPU than it saves in bytes.
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT, max_msg_size=65536, compress=False)
    await ws.prepare(request)
    hub = request.app[HUB]
    restricted = restricted_to(request) is not None
    client = Client(ws, session.manager.id, restricted, session.id, session.manager.role)
    sender = asyncio.create_task(client.send_loop())
    try:
        await hub.attach(client, since)
        # Looked up before its session ended here: closed at once (a stale role: at the sweep).
        request.app[GUARD].admit(client)
        if PRESENCE in request.app:
            request.app[PRESENCE].connected(client.manager_id)
        async for message in ws:
            if message.type == WSMsgType.ERROR:
                break
    finally:
        hub.detach(client)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
    return ws
