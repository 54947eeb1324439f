"""One status rule for outgoing messages: every signal from every status, through the table,
its SQL, and each path that carries the signal in the product."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import itertools
from types import SimpleNamespace
from typing import Any

import asyncpg
import pytest

from crm_appservice import delivery
from crm_appservice.ingest.messages import CRM_MESSAGE_KEY
from crm_appservice.store import actions, outbox

from . import factories as f
from .conftest import Homeserver
from .unit.test_status_rule import CASES, SIGNALS


async def test_the_sql_is_the_same_rule(pool: asyncpg.Pool) -> None:
    rows = await pool.fetch(
        f"SELECT s, g, {delivery.sql('s', 'g')} AS new"
        " FROM unnest($1::text[]) AS s CROSS JOIN unnest($2::text[]) AS g",
        list(delivery.STATES),
        list(SIGNALS),
    )
    got = {(r["s"], r["g"]): r["new"] for r in rows}
    assert got == {(s, g): e for s, g, e in CASES}


# --- each path of each signal -----------------------------------------------------------------

_rooms = itertools.count()
Path = Callable[[Homeserver, asyncpg.Pool, dict[str, Any]], Awaitable[None]]


async def _our_message(
    hs: Homeserver, db: asyncpg.Pool, status: str, sent: bool
) -> dict[str, Any]:
    """A conversation with one reply of ours in `status` (in the room or not yet) and a later
    message of the customer's."""
    n = next(_rooms)
    room, phone = f"!d{n}", f"1555000{n:04d}"
    await hs.ok(f.portal(room, phone))
    conv = await db.fetchval("SELECT id FROM conversations WHERE room_id = $1", room)
    event_id = f"$ours{n}" if sent else None
    message_id = await db.fetchval(
        "INSERT INTO messages (conversation_id, event_id, direction, sender_mxid, kind, body,"
        " status, created_at) VALUES ($1, $2, 'out', $3, 'text', 'our reply', $4,"
        " '2000-01-01') RETURNING id",
        conv, event_id, f.BOT, status,
    )  # fmt: skip
    later = f.text(room, f.ghost(phone), "thanks")
    await hs.ok([later])
    await db.execute(
        "INSERT INTO outbox (message_id, conversation_id, action, lane, payload, txn_id, state)"
        " VALUES ($1, $2, 'send', 'matrix', '{}', $3, 'failed')",
        message_id, conv, f"txn{n}",
    )  # fmt: skip
    return {"room": room, "phone": phone, "id": message_id, "event_id": event_id,
            "conversation": conv, "later": later["event_id"]}  # fmt: skip


def _status_event(m: dict[str, Any], value: str, **extra: Any) -> dict[str, Any]:
    return f.event(
        m["room"],
        "com.beeper.message_send_status",
        f.BRIDGE_BOT,
        {"m.relates_to": {"rel_type": "m.reference", "event_id": m["event_id"]},
         "status": value, **extra},
    )  # fmt: skip


async def _echo(hs: Homeserver, db: asyncpg.Pool, m: dict[str, Any]) -> None:
    event = f.text(m["room"], f.BOT, "our reply")
    event["content"][CRM_MESSAGE_KEY] = m["id"]
    await hs.ok([event])


async def _mark_sent(hs: Homeserver, db: asyncpg.Pool, m: dict[str, Any]) -> None:
    entry = SimpleNamespace(id=0, message_id=m["id"], reply_to_event_id=None)
    async with db.acquire() as conn:
        await outbox.mark_sent(conn, entry, f"$sent{m['id']}")  # type: ignore[arg-type]


async def _mailed(hs: Homeserver, db: asyncpg.Pool, m: dict[str, Any]) -> None:
    async with db.acquire() as conn:
        await outbox.mark_mailed(conn, SimpleNamespace(id=0, message_id=m["id"]))  # type: ignore[arg-type]


async def _success(hs: Homeserver, db: asyncpg.Pool, m: dict[str, Any]) -> None:
    await hs.ok([_status_event(m, "SUCCESS")])


async def _bot_receipt(hs: Homeserver, db: asyncpg.Pool, m: dict[str, Any]) -> None:
    await hs.ok([], ephemeral=[f.receipt(m["room"], m["event_id"], f.BRIDGE_BOT)])


async def _delivered(hs: Homeserver, db: asyncpg.Pool, m: dict[str, Any]) -> None:
    await hs.ok([_status_event(m, "SUCCESS", delivered_to_users=[f.ghost(m["phone"])])])


async def _read(hs: Homeserver, db: asyncpg.Pool, m: dict[str, Any]) -> None:
    await hs.ok([], ephemeral=[f.receipt(m["room"], m["later"], f.ghost(m["phone"]))])


async def _fail_status(hs: Homeserver, db: asyncpg.Pool, m: dict[str, Any]) -> None:
    await hs.ok([_status_event(m, "FAIL_PERMANENT", message="blocked")])


async def _error_notice(hs: Homeserver, db: asyncpg.Pool, m: dict[str, Any]) -> None:
    notice = {"msgtype": "m.notice", "body": "⚠️ Your message was not bridged: timeout",
              "m.relates_to": {"m.in_reply_to": {"event_id": m["event_id"]}}}  # fmt: skip
    await hs.ok([f.event(m["room"], "m.room.message", f.BRIDGE_BOT, notice)])


async def _gave_up(hs: Homeserver, db: asyncpg.Pool, m: dict[str, Any]) -> None:
    async with db.acquire() as conn:
        await outbox.fail_message(conn, m["id"], "gave up")


async def _retry(hs: Homeserver, db: asyncpg.Pool, m: dict[str, Any]) -> None:
    async with db.acquire() as conn:
        await actions.retry(conn, m["id"])


# signal → its paths: (name, path, whether the message is in the room already). The event
# coming back and the worker recording the send happen before the message has an event id;
# the bridge's signals refer to its event.
PATHS: dict[str, list[tuple[str, Path, bool]]] = {
    "accepted": [("echo", _echo, False), ("mark_sent", _mark_sent, False),
                 ("mail", _mailed, False)],
    "bridged": [("SUCCESS", _success, True), ("bot receipt", _bot_receipt, True)],
    "delivered": [("SUCCESS to the customer", _delivered, True)],
    "read": [("customer's receipt", _read, True)],
    "bridge_failed": [("FAIL status", _fail_status, True), ("error notice", _error_notice, True)],
    "gave_up": [("outbox gave up", _gave_up, False)],
    "retry": [("manager retries", _retry, True)],
}  # fmt: skip
PATH_CASES = [
    pytest.param(status, signal, path, sent, expected, id=f"{status}-{name}")
    for status, signal, expected in CASES
    for name, path, sent in PATHS[signal]
]


@pytest.mark.parametrize(("status", "signal", "path", "sent", "expected"), PATH_CASES)
async def test_each_path_follows_the_rule(
    hs: Homeserver, db: asyncpg.Pool, status: str, signal: str, path: Path, sent: bool,
    expected: str,
) -> None:  # fmt: skip
    message = await _our_message(hs, db, status, sent)
    await path(hs, db, message)
    row = await db.fetchrow("SELECT status, error FROM messages WHERE id = $1", message["id"])
    assert row["status"] == expected
    if expected != "failed":
        assert row["error"] is None or status == expected
