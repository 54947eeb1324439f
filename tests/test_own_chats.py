"""Only the CRM's own chats: the homeserver pushes the portals of every Matrix user of the
bridge (the CRM's registration claims the ghosts), and an employee's private WhatsApp chats must
never appear in the shared inbox."""

from __future__ import annotations

from typing import Any

import asyncpg

from crm_appservice.appservice.sweep import sweep_once

from . import factories as f
from .conftest import API, Homeserver, count

EMPLOYEE = f"@erin:{f.DOMAIN}"
ERIN_PHONE = "15559990000"  # the employee's own WhatsApp number, logged in to the same bridge
FRIEND = "15553330000"


def _their_portal(room: str, receiver: str = ERIN_PHONE) -> list[dict[str, Any]]:
    state = f.bridge_state(room, f"{FRIEND}@s.whatsapp.net", name="Erin's friend")
    state["content"]["channel"]["fi.mau.receiver"] = receiver
    return [
        state,
        f.member(room, f.ghost(FRIEND), "Friend (WA)"),
        f.member(room, EMPLOYEE, None, membership="invite"),
    ]


async def test_another_users_portal_is_never_shown(hs: Homeserver, db: asyncpg.Pool) -> None:
    await hs.ok([*_their_portal("!erin"), f.text("!erin", f.ghost(FRIEND), "see you tonight")])
    await hs.ok([], ephemeral=[f.receipt("!erin", "$x", f.ghost(FRIEND))])
    assert await count(db, "conversations") == 0
    assert await count(db, "messages") == 0
    assert await count(db, "contacts") == 0
    assert await count(db, "raw_events") == 5  # kept for the grace period only


async def test_other_rooms_raw_events_go_after_the_grace_period(
    hs: Homeserver, db: asyncpg.Pool
) -> None:
    await hs.ok([*f.portal("!ours", "15551234567"), f.text("!ours", f.ghost("15551234567"), "hi")])
    await hs.ok([*_their_portal("!erin"), f.text("!erin", f.ghost(FRIEND), "private")])
    declined = f.event(
        "!spam", "m.room.member", "@spammer:elsewhere.org", {"membership": "invite"},
        state_key=f.BOT,
    )  # fmt: skip
    await hs.ok([declined])
    ours = await db.fetchval("SELECT count(*) FROM raw_events WHERE room_id = '!ours'")
    assert await sweep_once(db, grace=3600) == 0  # too young
    assert await sweep_once(db, grace=0) == 5
    rooms = {r["room_id"] for r in await db.fetch("SELECT DISTINCT room_id FROM raw_events")}
    assert rooms == {"!ours"}
    assert await db.fetchval("SELECT count(*) FROM raw_events") == ours
    assert await sweep_once(db, grace=0) == 0  # nothing is examined twice
    await hs.ok([f.text("!erin", f.ghost(FRIEND), "again")])
    assert await sweep_once(db, grace=0) == 1


async def test_a_room_the_crm_is_invited_to_later_keeps_what_came_before(
    hs: Homeserver, db: asyncpg.Pool
) -> None:
    """Within the grace period an invite may still come: the room's earlier state and messages
    are mapped then, as for any portal whose events arrive before its bridge state."""
    room = "!late"
    state = f.bridge_state(room, "15551112222@s.whatsapp.net", name="Late")
    early = f.text(room, f.ghost("15551112222"), "hello?")
    await hs.ok([state, f.member(room, f.ghost("15551112222"), "Late (WA)"), early])
    assert await count(db, "conversations") == 0
    await hs.ok([f.invite(room)])
    conv = await db.fetchrow("SELECT * FROM conversations")
    assert conv is not None and conv["title"] == "Late"
    assert await db.fetchval("SELECT body FROM messages") == "hello?"
    assert await sweep_once(db, grace=0) == 0


async def test_a_portal_of_one_of_the_crms_logins_is_its_own(
    hs: Homeserver, db: asyncpg.Pool
) -> None:
    """A receiver the CRM was invited with once is one of its logins: another portal of that
    number is the CRM's before (or without) its invite, and the provisioning API's logins count
    the same way."""
    await hs.ok(f.portal("!first", "15551234567"))
    second = f.bridge_state("!second", "15557654321@s.whatsapp.net", name="Second")
    await hs.ok([second, f.text("!second", f.ghost("15557654321"), "hi")])
    assert await db.fetchval("SELECT title FROM conversations WHERE room_id = '!second'") == (
        "Second"
    )
    # Erin's number is nobody's login here until the bridge lists it for the CRM's user.
    await hs.ok(_their_portal("!erin"))
    assert await count(db, "conversations") == 2
    from crm_appservice.store import logins

    async with db.acquire() as conn:
        await logins.remember(conn, "whatsapp", [ERIN_PHONE])
    await hs.ok(_their_portal("!erin2"))
    assert await count(db, "conversations") == 3


async def test_naming_a_number_that_is_not_the_crms_makes_no_room_its(
    hs: Homeserver, db: asyncpg.Pool, api: API
) -> None:
    """An admin naming a login id (a typo, or on purpose) must not turn an employee's number
    into one of the CRM's: only the bridge's invites and its logins list say which are."""
    status, answer = await api.call("PUT", f"/api/v1/whatsapp/logins/{ERIN_PHONE}/name",
                                    json={"name": "Erin's phone"})  # fmt: skip
    assert status == 404 and answer["error"]["code"] == "not_found"
    await hs.ok([*_their_portal("!erin"), f.text("!erin", f.ghost(FRIEND), "see you tonight")])
    assert await count(db, "conversations") == 0
    assert await count(db, "own_logins") == 0
