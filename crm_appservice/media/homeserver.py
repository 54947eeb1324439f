"""Downloads from the homeserver's authenticated media API, streamed to disk.

Only `mxc://<server>/<media id>` URIs of the shape the spec allows are ever turned into a
request, and always to the configured homeserver: a stored URI cannot point the proxy at another
host or path.
"""

from __future__ import annotations

import asyncio
import re
from typing import BinaryIO

import aiohttp

from ..matrix.client import MatrixClient

CHUNK = 256 * 1024
# Server names (RFC 1123 host or IP literal, optional port) and media ids ([A-Za-z0-9_-]).
_MXC = re.compile(
    r"^mxc://(?P<server>(?:[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?)"
    r"/(?P<media>[A-Za-z0-9_\-]+)$"
)
_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
THUMBNAIL_SIZE = (320, 240)


class MediaMissing(Exception):
    """The homeserver does not have the file (anymore)."""


class MediaUnavailable(Exception):
    """The homeserver could not be asked, or failed."""


def parse_mxc(uri: str | None) -> tuple[str, str] | None:
    match = _MXC.match(uri or "")
    return (match["server"], match["media"]) if match else None


def content_type_of(value: str | None) -> str:
    """A well-formed type, or the one that makes a browser download instead of guess."""
    value = (value or "").split(";")[0].strip().lower()
    return value if _CONTENT_TYPE.match(value) else "application/octet-stream"


async def download(
    matrix: MatrixClient, mxc: tuple[str, str], dest: str, limit: int, thumbnail: bool = False
) -> str:
    """Write the file (or the homeserver's thumbnail of it) to `dest`; its Content-Type."""
    server, media_id = mxc
    kind = "thumbnail" if thumbnail else "download"
    url = matrix.api.base_url / "_matrix/client/v1/media" / kind / server / media_id
    params = {"allow_redirect": "true"}
    if thumbnail:
        width, height = THUMBNAIL_SIZE
        params.update(width=str(width), height=str(height), method="scale")
    headers = {"Authorization": f"Bearer {matrix.settings.appservice.as_token}"}
    try:
        async with matrix.session.get(url, params=params, headers=headers) as resp:
            if resp.status == 404:
                raise MediaMissing(f"{server}/{media_id}")
            if resp.status != 200:
                raise MediaUnavailable(f"the homeserver answered {resp.status}")
            f = await asyncio.to_thread(open, dest, "wb")
            try:
                await _copy(resp.content, f, limit)
            finally:
                await asyncio.to_thread(f.close)
            return content_type_of(resp.headers.get("Content-Type"))
    except (aiohttp.ClientError, OSError, TimeoutError) as e:
        raise MediaUnavailable(f"the homeserver is unreachable ({e or type(e).__name__})") from e


async def _copy(stream: aiohttp.StreamReader, f: BinaryIO, limit: int) -> None:
    size = 0
    async for chunk in stream.iter_chunked(CHUNK):
        size += len(chunk)
        if size > limit:
            raise MediaUnavailable("the file is larger than the media cache allows")
        await asyncio.to_thread(f.write, chunk)
