"""Batches of records as statement parameters: a JSON array, read as rows."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson


def records(param: str, alias: str, columns: str) -> str:
    """The rows of a JSON array parameter, as a FROM item.

    The planner takes any set-returning function to return 100 rows; for the small batches
    (a few edits, reactions or receipts) that makes a hash join over a whole table look cheaper
    than a few index lookups. A LIMIT it cannot evaluate when planning (a sub-select) counts as
    10 rows, in custom and generic plans alike, so the prepared statement keeps one generic
    plan and its lookups stay index lookups.
    """
    return (
        f"(SELECT * FROM jsonb_to_recordset({param}::jsonb) AS _r({columns})"
        f" LIMIT (SELECT jsonb_array_length({param}::jsonb))) AS {alias}"
    )


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
