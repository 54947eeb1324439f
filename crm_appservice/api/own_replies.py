"""Who may change a message of the chat (edit its text, delete it): one rule.

Managers change their own replies sent from the inbox into the chat; admins anyone's; an
e-mail cannot be changed once written. The inbox offers the edit and delete buttons by the same
rule (web/src/permissions.ts), and both are tested against one table of cases
(web/src/test/change-rule-cases.json).
"""

from __future__ import annotations

from typing import Any, Protocol

from . import responses


class Fields(Protocol):
    """A message's row (an asyncpg record) or its fields in a test's case."""

    def __getitem__(self, key: str, /) -> Any: ...


def refusal(message: Fields, manager_id: int, role: str, what: str) -> responses.APIError | None:
    """Why the manager may not change the message (``what``: "edited", "deleted"), or None."""
    if message["direction"] != "out" or message["sender_manager_id"] is None:
        return responses.forbidden(f"Only replies sent from the inbox can be {what}")
    if message["sender_manager_id"] != manager_id and role != "admin":
        return responses.forbidden(f"Only your own replies can be {what}")
    if message["channel"] != "matrix":
        return responses.conflict(f"An e-mail cannot be {what} once written")
    return None


def may_edit(message: Fields, manager_id: int, role: str) -> bool:
    """Whether an edit would change the message: the rule, and a text not deleted."""
    return (
        refusal(message, manager_id, role, "edited") is None
        and message["deleted_at"] is None
        and message["kind"] == "text"
    )


def may_delete(message: Fields, manager_id: int, role: str) -> bool:
    """Whether a deletion would change the message (deleting it again changes nothing)."""
    return refusal(message, manager_id, role, "deleted") is None and message["deleted_at"] is None
