"""Reading one field of an event: a field the event cannot do without is checked and a bad one
raises BadEvent (the event is flagged, the transaction goes on); an optional one is None when it
is not a non-empty string."""

from __future__ import annotations

from typing import Any

from .content import BadEvent


def required(obj: dict[str, Any], key: str, prefix: str = "") -> str:
    """``obj[key]``, a string starting with ``prefix`` and longer than it (``$`` of an event id,
    ``@`` of a user id)."""
    value = obj.get(key)
    if not isinstance(value, str) or not value.startswith(prefix) or len(value) <= len(prefix):
        raise BadEvent(f"{key} is missing or invalid")
    return value


def optional(obj: Any, key: str) -> str | None:
    if not isinstance(obj, dict):
        return None
    value = obj.get(key)
    return value if isinstance(value, str) and value else None
