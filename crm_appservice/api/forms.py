"""Reading a multipart/form-data upload (a reply's attachment, a quick reply's file): parts as
they come, each refused with a plain reason, never the whole body in memory at once."""

from __future__ import annotations

from collections.abc import Iterable
import re
from typing import Any
import unicodedata
from urllib.parse import unquote

from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.hdrs import CONTENT_TYPE

from ..keys import MATRIX, SETTINGS
from . import responses
from .file_kinds import media_type

FIELD_LIMIT = 128 * 1024
_MIMETYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
_UNREADABLE = "Not a readable multipart/form-data body"


def upload_limit(request: web.Request) -> int:
    """The configured limit, or the homeserver's `m.upload.size` if that is smaller."""
    limit = request.app[SETTINGS].media.max_upload_size
    homeserver = request.app[MATRIX].upload_limit
    return min(limit, homeserver) if homeserver else limit


def too_large(limit: int) -> responses.APIError:
    return responses.APIError(
        413, "too_large", f"The file is larger than the limit of {limit // (1024 * 1024)} MiB",
        "file",
    )  # fmt: skip


def safe_filename(name: str | None) -> str:
    """The last path component, without control characters, at most 255 characters.

    Percent-encoding is undone first (RFC 7578 allows it, and some clients use it), so an
    encoded path cannot slip through either."""
    base = re.split(r"[\\/]", unquote(name or ""))[-1]
    cleaned = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip()
    return cleaned[:255] or "file"


def declared_type(part: BodyPartReader) -> str:
    """The part's type as file_kinds reads it; anything that is no type is a plain file."""
    mimetype = media_type(part.headers.get(CONTENT_TYPE, ""))
    return mimetype if _MIMETYPE.match(mimetype) else "application/octet-stream"


async def form_field(part: BodyPartReader) -> str:
    data = bytearray()
    while chunk := await part.read_chunk(8192):
        data += chunk
        if len(data) > FIELD_LIMIT:
            raise responses.APIError(413, "too_large", "A form field is too long", part.name)
    return data.decode("utf-8", errors="strict")


async def read_field(part: BodyPartReader, fields: dict[str, str], names: Iterable[str]) -> None:
    """A text field the form has (`names`) into `fields`; any other is refused."""
    name = part.name
    if name is None or name not in set(names):
        raise responses.invalid(name or "?", "Unknown form field")
    try:
        fields[name] = await form_field(part)
    except UnicodeDecodeError:
        raise responses.invalid(name, "Not UTF-8 text") from None


async def open_multipart(request: web.Request) -> MultipartReader:
    try:
        return await request.multipart()
    except ValueError:  # no boundary, or one aiohttp cannot use
        raise responses.bad_request(_UNREADABLE) from None


async def next_part(reader: MultipartReader) -> BodyPartReader | None:
    """The next part, or None at the end; a nested multipart body is refused."""
    try:
        part: Any = await reader.next()
    except (ValueError, AssertionError, UnicodeDecodeError):  # framing that does not parse
        raise responses.bad_request(_UNREADABLE) from None
    if part is not None and not isinstance(part, BodyPartReader):
        raise responses.bad_request("Nested multipart bodies are not accepted")
    return part
