"""The headers every answer carries, whichever part of the app made it.

The inbox's page gets a strict Content-Security-Policy: its code and styles come from this
server only (no inline script: an injected `<script>` or `onerror=` in a customer's message does
nothing even if it got past the sanitiser), it talks to this server only (the API and the live
connection), and it cannot be framed. Images may also be `blob:` (a file's preview before it is
sent) and `data:` (small icons the build inlines). With an https public URL every answer also
carries HSTS, so a browser that has been here once never tries plain http again.
"""

from __future__ import annotations

from aiohttp import web

from .keys import SETTINGS

CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob: data:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "manifest-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# Anything else (JSON, errors, health): nothing in it may run or be framed.
NOTHING = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
HSTS = "max-age=31536000"


async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if request.app[SETTINGS].web.public_url.scheme == "https":
        headers.setdefault("Strict-Transport-Security", HSTS)
    if response.content_type == "text/html":
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Frame-Options", "DENY")
    else:
        headers.setdefault("Content-Security-Policy", NOTHING)


def setup(app: web.Application) -> None:
    app.on_response_prepare.append(add_headers)
