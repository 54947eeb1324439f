"""Sending a cached file: range requests, conditional requests and HEAD, with sendfile.

Video players seek with `Range` requests (Safari refuses to play a video whose server does not
answer them with 206), and a browser revalidating its copy sends `If-None-Match`. The ETag is
made from the file's identity, not from the cache file's timestamp, so it stays the same when
the file is evicted and fetched again.
"""

from __future__ import annotations

import asyncio
import os
import re
from typing import BinaryIO

from aiohttp import hdrs, web

CHUNK = 256 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str | None, size: int) -> tuple[int, int] | bool | None:
    """(first, last) byte of a single satisfiable range; None to send the whole file (no
    header, a malformed one or several ranges, which a server may ignore); False when the
    range cannot be satisfied."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None:
        return None
    first_text, last_text = match.groups()
    if not first_text:
        if not last_text:
            return None
        suffix = int(last_text)
        if suffix == 0 or size == 0:
            return False
        return max(0, size - suffix), size - 1
    first = int(first_text)
    last = int(last_text) if last_text else size - 1
    if last_text and last < first:
        return None
    if first >= size:
        return False
    return first, min(last, size - 1)


def _etag_matches(header: str, etag: str) -> bool:
    """If-None-Match uses the weak comparison: W/"x" matches "x"."""
    candidates = [part.strip().removeprefix("W/") for part in header.split(",")]
    return "*" in candidates or etag in candidates


def _open(path: str) -> tuple[BinaryIO, int]:
    f = open(path, "rb")  # noqa: SIM115 (closed by the caller)
    return f, os.fstat(f.fileno()).st_size


async def send_file(
    request: web.Request, path: str, etag: str, headers: dict[str, str]
) -> web.StreamResponse:
    """Answer a GET or HEAD for the file at `path` with the given headers; FileNotFoundError
    if it is gone."""
    f, size = await asyncio.to_thread(_open, path)
    try:
        return await _send(request, f, size, etag, headers)
    finally:
        f.close()


async def _send(
    request: web.Request, f: BinaryIO, size: int, etag: str, headers: dict[str, str]
) -> web.StreamResponse:
    headers = {**headers, hdrs.ETAG: etag, hdrs.ACCEPT_RANGES: "bytes"}
    if_none_match = request.headers.get(hdrs.IF_NONE_MATCH)
    if if_none_match is not None and _etag_matches(if_none_match, etag):
        return web.Response(status=304, headers=headers)
    wanted = parse_range(request.headers.get(hdrs.RANGE), size)
    if_range = request.headers.get(hdrs.IF_RANGE)
    if if_range is not None and if_range.strip() != etag:
        wanted = None  # the client's copy is another version: it gets the whole file
    if wanted is False:
        headers[hdrs.CONTENT_RANGE] = f"bytes */{size}"
        return web.Response(status=416, headers=headers)
    status, first, count = 200, 0, size
    if isinstance(wanted, tuple):
        first, last = wanted
        status, count = 206, last - first + 1
        headers[hdrs.CONTENT_RANGE] = f"bytes {first}-{last}/{size}"
    response = web.StreamResponse(status=status, headers=headers)
    response.content_length = count
    if request.method == "HEAD" or count == 0:
        await response.prepare(request)
        await response.write_eof()
        return response
    writer = await response.prepare(request)
    assert writer is not None
    transport = request.transport
    if transport is None:
        raise ConnectionResetError("Connection lost")
    await writer.drain()
    try:
        await asyncio.get_running_loop().sendfile(transport, f, first, count)
    except NotImplementedError:  # TLS terminated here, or no sendfile: copy in chunks
        await _copy(response, f, first, count)
    await response.write_eof()
    return response


async def _copy(response: web.StreamResponse, f: BinaryIO, first: int, count: int) -> None:
    await asyncio.to_thread(f.seek, first)
    while count > 0:
        chunk = await asyncio.to_thread(f.read, min(CHUNK, count))
        if not chunk:
            break
        await response.write(chunk)
        count -= len(chunk)
