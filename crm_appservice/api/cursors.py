"""The opaque cursors of the keyset-paged lists (the inbox, a thread, the Contacts page): the
sort key of the last row and its id, as URL-safe base64 of JSON. A cursor is input like any
other: one this API did not make is a 422, never a 500."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

import orjson

from . import responses


def encode(key: str | int | datetime | None, row_id: int) -> str:
    raw = orjson.dumps([key.isoformat() if isinstance(key, datetime) else key, row_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _bad() -> responses.APIError:
    return responses.invalid("cursor", "Not a cursor this API returned")


def _parts(cursor: str) -> tuple[object, int]:
    try:
        value, row_id = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise _bad() from None
    if not isinstance(row_id, int) or isinstance(row_id, bool) or not 0 < row_id < 2**63:
        raise _bad()
    return value, row_id


def text(cursor: str) -> tuple[str, int]:
    """A list sorted by a text (a name)."""
    value, row_id = _parts(cursor)
    if not isinstance(value, str):
        raise _bad()
    return value, row_id


def moment_or_none(cursor: str) -> tuple[datetime | None, int]:
    """A list sorted by a time some rows lack (the inbox: a chat without messages)."""
    value, row_id = _parts(cursor)
    if value is None:
        return None, row_id
    if not isinstance(value, str):
        raise _bad()
    try:
        return datetime.fromisoformat(value), row_id
    except ValueError:
        raise _bad() from None


def moment(cursor: str) -> tuple[datetime, int]:
    """A list sorted by a time every row has."""
    value, row_id = moment_or_none(cursor)
    if value is None:
        raise _bad()
    return value, row_id


def number(cursor: str) -> tuple[int, int]:
    """A list sorted by a whole number (a board's column: the cards' positions)."""
    value, row_id = _parts(cursor)
    if not isinstance(value, int) or isinstance(value, bool) or abs(value) >= 2**63:
        raise _bad()
    return value, row_id
