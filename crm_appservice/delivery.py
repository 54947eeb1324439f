"""The status of an outgoing message, and what each signal does to it: one table.

A reply goes `pending` (queued) → `sent` (the homeserver has it; the bridge took it to
WhatsApp's server) → `delivered` (the customer's phone has it) → `read`; or `failed`, until a
manager sends it again. The signals come from several places (the outbox worker, the event
coming back in a transaction, the bridge's send statuses, error notices and receipts, the mail
server) and out of order, so every one of those paths asks this table, in Python or in the SQL
that :func:`sql` writes from it, and nothing else decides a status:

- a status only moves forward; a late signal never moves it back (read never becomes sent);
- `failed` is final for the bridge's signals; only `accepted` leaves it (the homeserver had the
  event after all: a failure recorded before that can only have been the outbox giving up, since
  the bridge's signals refer to the event) and `retry`, a manager sending it again;
- the outbox gives up only on a message still `pending`.

Each message row carries a `version` that grows with every change of the row (a trigger): the
browser keeps the copy with the higher version instead of ranking statuses itself.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

State = Literal["pending", "sent", "delivered", "read", "failed"]
STATES: Final[tuple[State, ...]] = get_args(State)

SIGNALS: Final = {
    "accepted": "the homeserver has the event: the send answered, or the event came back "
    "(for e-mail: the mail server took it)",
    "bridged": "the bridge's SUCCESS (WhatsApp's server took it), or the bridge bot's receipt",
    "delivered": "the bridge's SUCCESS naming the customer: their phone has it (DMs only)",
    "read": "the customer's read receipt on it or on a later message",
    "bridge_failed": "the bridge's FAIL_RETRIABLE / FAIL_PERMANENT status, or its error notice",
    "gave_up": "the outbox gave up (or the reply was deleted before it went out)",
    "retry": "a manager sends a failed message again",
}

# (status, signal) → the new status; every pair not listed leaves the status as it is.
TRANSITIONS: Final[dict[tuple[str, str], str]] = {
    ("pending", "accepted"): "sent",
    ("failed", "accepted"): "sent",
    ("pending", "bridged"): "sent",
    ("pending", "delivered"): "delivered",
    ("sent", "delivered"): "delivered",
    ("pending", "read"): "read",
    ("sent", "read"): "read",
    ("delivered", "read"): "read",
    ("pending", "bridge_failed"): "failed",
    ("sent", "bridge_failed"): "failed",
    ("pending", "gave_up"): "failed",
    ("failed", "retry"): "pending",
}

# When one transaction brings several of the bridge's signals for a message, the one that
# proves the most wins (a read receipt beats a late failure notice of the same batch).
PRECEDENCE: Final = ("read", "delivered", "bridged", "bridge_failed")


def after(status: str, signal: str) -> str:
    """The status a message has after `signal`."""
    if status not in STATES or signal not in SIGNALS:
        raise ValueError(f"unknown status {status!r} or signal {signal!r}")
    return TRANSITIONS.get((status, signal), status)


def moved_by(signal: str) -> tuple[str, ...]:
    """The statuses that `signal` changes."""
    return tuple(s for s in STATES if after(s, signal) != s)


def sql_in(statuses: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{s}'" for s in statuses) + ")"


def sql(status: str, signal: str) -> str:
    """The SQL expression of :func:`after`, for SQL expressions of a status and a signal."""
    branches = " ".join(
        f"WHEN '{old}/{sig}' THEN '{new}'" for (old, sig), new in sorted(TRANSITIONS.items())
    )
    return f"(CASE ({status}) || '/' || ({signal}) {branches} ELSE ({status}) END)"


def precedence_sql(signal: str) -> str:
    """An SQL sort key of a bridge signal: lower wins (see PRECEDENCE)."""
    names = ", ".join(f"'{s}'" for s in PRECEDENCE)
    return f"array_position(ARRAY[{names}], ({signal}))"
