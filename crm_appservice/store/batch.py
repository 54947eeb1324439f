"""Batches of records as statement parameters: a JSON array (read as rows by
:func:`.sql.records`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson


def dumps(rows: Iterable[Any]) -> str:
    """Records as the JSON array parameter of a batch statement."""
    return orjson.dumps(list(rows)).decode()


def loads(content: str) -> Any:
    """A stored event, or None (flagged by the parser) if PostgreSQL wrote what orjson cannot
    read (a number beyond a double's range)."""
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return None
