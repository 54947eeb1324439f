"""The built web inbox (`web/dist`), served at `/` by the same application as the API.

Hashed assets (`/assets/…`) never change under their name: they are cached for a year. The page
itself is revalidated on every load, so a new release is picked up at once. Any other path that
is not the API's is the inbox's own (`/conversations/42`, the link in a notification mail) and
gets the page.
"""

from __future__ import annotations

import asyncio
import os
import re

from aiohttp import hdrs, web

from .keys import SETTINGS

_ASSET = re.compile(r"^[A-Za-z0-9._-]+$")
SOURCE_BUILD = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "web", "dist"
)
NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>Inbox</title>
<p>The web inbox is not built yet: run <code>npm ci &amp;&amp; npm run build</code>
in <code>web/</code> (the README's commands do), or set <code>web.static_dir</code>.</p>"""


def static_dir(request: web.Request) -> str:
    return request.app[SETTINGS].web.static_dir or SOURCE_BUILD


async def asset(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if not _ASSET.match(name):
        raise web.HTTPNotFound()
    return web.FileResponse(  # a missing file is its 404
        os.path.join(static_dir(request), "assets", name),
        headers={hdrs.CACHE_CONTROL: "public, max-age=31536000, immutable"},
    )


async def page(request: web.Request) -> web.StreamResponse:
    path = os.path.join(static_dir(request), "index.html")
    if not await asyncio.to_thread(os.path.isfile, path):
        return web.Response(text=NOT_BUILT, content_type="text/html", status=503)
    return web.FileResponse(
        path,
        # Its Content-Security-Policy and the other headers: headers.py.
        headers={hdrs.CACHE_CONTROL: "no-cache", hdrs.CONTENT_TYPE: "text/html; charset=utf-8"},
    )


def setup(app: web.Application) -> None:
    """Register last: the page answers every GET the API and the appservice do not."""
    app.router.add_get("/assets/{name}", asset)
    app.router.add_get("/", page)
    app.router.add_get(r"/{path:(?!api/|_matrix/|healthz).*}", page)
