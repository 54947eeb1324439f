"""Which pages may open a manager's live connection.

A WebSocket is not covered by the browser's same-origin rules nor by the CSRF header: a page on
another origin of the same site (another port, a sibling subdomain under SameSite=Lax) would
open it with the manager's cookie and read the whole live feed. Browsers always send `Origin`
with a WebSocket; it must be the inbox's own.
"""

from __future__ import annotations

from aiohttp import web
from yarl import URL

from ..config import WebSettings


def _origin(value: str) -> str | None:
    try:
        url = URL(value)
    except ValueError:
        return None
    if url.scheme not in ("http", "https") or not url.host or url.path not in ("", "/"):
        return None
    return str(url.origin()).lower()


def allowed(request: web.Request, settings: WebSettings) -> bool:
    """No Origin (a script with its own token, not a browser page), the origin of
    `web.public_url` or of `web.allowed_origins`, or the very address the request came to (the
    inbox loaded from another name of this host, as the demo may be)."""
    header = request.headers.get("Origin")
    if header is None:
        return True
    origin = _origin(header)
    if origin is None:
        return False
    if origin == str(settings.public_url.origin()).lower():
        return True
    if origin in {_origin(o) for o in settings.allowed_origins}:
        return True
    return URL(origin).host_port_subcomponent == request.host.lower()
