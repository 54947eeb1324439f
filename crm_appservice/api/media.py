"""`GET|HEAD /api/v1/media/{message_id}` and `…/thumbnail`: a message's file, from the CRM's own
origin, through the media cache.

Only files referenced by a message are served, never an mxc URI given by the client. Every
answer carries the stored type (never one guessed from the bytes), `nosniff`, and a sandbox CSP,
so an uploaded HTML or SVG file opened directly can never run script in the inbox's origin.
"""

from __future__ import annotations

from collections.abc import Callable
from hashlib import sha256
from urllib.parse import quote

from aiohttp import hdrs, web
import asyncpg

from ..keys import MATRIX, MEDIA_CACHE, MEDIA_ROWS, POOL, SETTINGS, SPOOL
from ..media.cache import Cached
from ..media.homeserver import (
    MediaMissing,
    MediaUnavailable,
    content_type_of,
    download,
    parse_mxc,
)
from ..media.serve import send_file
from ..media.urls import thumbnail_source
from ..store import messages as message_store
from . import responses
from .middleware import ensure_visible, ids

MAX_AGE = 365 * 24 * 3600
INLINE = ("image/", "video/", "audio/")

routes = web.RouteTableDef()


def disposition(mimetype: str, filename: str | None) -> str:
    """Inline for what the browser shows itself, a download for the rest; the name as an ASCII
    fallback and in full as RFC 5987 UTF-8."""
    kind = "inline" if mimetype.startswith(INLINE) else "attachment"
    if not filename:
        return kind
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\;' else "_" for c in filename)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _unavailable(error: MediaUnavailable) -> responses.APIError:
    return responses.APIError(502, "media_unavailable", f"The file could not be fetched: {error}")


async def _serve_cached(
    request: web.Request,
    mxc_uri: str | None,
    thumbnail: bool,
    headers: Callable[[Cached], dict[str, str]],
) -> web.StreamResponse:
    """Send the file of `mxc_uri` (or the homeserver's thumbnail of it) from the cache,
    downloading it first if needed; `headers` are made knowing what the homeserver sent."""
    mxc = parse_mxc(mxc_uri)
    if mxc is None:
        raise responses.not_found("file")
    variant = "thumbnail" if thumbnail else "file"
    key = sha256(f"{variant}\n{mxc[0]}/{mxc[1]}".encode()).hexdigest()
    limit = request.app[SETTINGS].media.cache_size
    matrix = request.app[MATRIX]
    cache = request.app[MEDIA_CACHE]
    for _ in range(2):
        try:
            cached = await cache.get(key, lambda d: download(matrix, mxc, d, limit, thumbnail))
        except MediaMissing:
            raise responses.not_found("file") from None
        except MediaUnavailable as e:
            raise _unavailable(e) from None
        try:
            return await send_file(request, cached.path, f'"{key[:40]}"', headers(cached))
        except FileNotFoundError:
            cache.forget(key)  # evicted by another instance sharing the directory
    raise _unavailable(MediaUnavailable("the media cache lost the file twice"))


async def _message(request: web.Request) -> asyncpg.Record:
    """The message whose file is asked for; 404 once it is deleted (its content is gone)."""
    message_id = int(request.match_info["message_id"])
    rows = request.app[MEDIA_ROWS]
    row = rows.get(message_id)
    if row is None:
        async with request.app[POOL].acquire() as conn:
            row = await message_store.media_of(conn, message_id)
        if row is not None:
            rows.put(row)
    if row is None or row["deleted_at"] is not None:
        raise responses.not_found("file")
    if not (row["media_url"] or row["spooled"]):
        raise responses.not_found("file")
    ensure_visible(request, row["conversation_assignee_id"], "file")
    return row


def file_headers(content_type: str, filename: str | None) -> dict[str, str]:
    """A file as the browser may show it (sandboxed, never sniffed) or download it."""
    return {
        hdrs.CONTENT_TYPE: content_type,
        hdrs.CONTENT_DISPOSITION: disposition(content_type, filename),
        hdrs.CACHE_CONTROL: f"private, max-age={MAX_AGE}, immutable",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",
    }


@routes.get(ids("/api/v1/media/{message_id:id}"))
async def media(request: web.Request) -> web.StreamResponse:
    """The message's file (GET or HEAD, with ranges)."""
    row = await _message(request)
    headers = file_headers(content_type_of(row["media_mimetype"]), row["media_filename"])
    if not row["media_url"]:
        # A manager's attachment the homeserver does not have yet, or an e-mail's: the copy
        # in the outbox's spool (the same bytes the homeserver will have).
        etag = f'"spool-{row["spooled"][:32]}"'
        try:
            return await send_file(request, request.app[SPOOL].path(row["spooled"]), etag, headers)
        except FileNotFoundError:
            raise responses.not_found("file") from None
    return await _serve_cached(request, row["media_url"], False, lambda _: headers)


@routes.get(ids("/api/v1/media/{message_id:id}/thumbnail"))
async def thumbnail(request: web.Request) -> web.StreamResponse:
    """The bridge's thumbnail of the file, or the homeserver's scaled copy of an image."""
    row = await _message(request)
    source = thumbnail_source(row["kind"], row["media_mimetype"], row["thumbnail_url"])
    if source == "stored":
        stored_type = row["thumbnail_mimetype"]
        return await _serve_cached(
            request, row["thumbnail_url"], False,
            lambda c: file_headers(content_type_of(stored_type or c.content_type), None),
        )  # fmt: skip
    if source == "scaled":
        return await _serve_cached(
            request,
            row["media_url"],
            True,
            lambda c: file_headers(content_type_of(c.content_type), None),
        )
    raise responses.not_found("thumbnail")
