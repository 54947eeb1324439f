"""Only the bridge speaks for the bridge: each attack an ordinary room member (or another room)
could make, and what must happen instead."""

from __future__ import annotations

from typing import Any

import asyncpg

from . import factories as f
from .conftest import Homeserver, count

ROOM, OTHER = "!trust", "!elsewhere"
PHONE, PHONE2 = "15551234567", "15557654321"
ALICE, BOB = f.ghost(PHONE), f.ghost(PHONE2)
STRANGER = f"@mallory:{f.DOMAIN}"
OWN_LID = f.ghost("lid-990001")  # the business's own number, as the bridge names it in LID chats


async def _portals(hs: Homeserver) -> None:
    await hs.ok([*f.portal(ROOM, PHONE, "Alice"), *f.portal(OTHER, PHONE2, "Bob")])


async def _message(db: asyncpg.Pool, event_id: str) -> asyncpg.Record:
    row = await db.fetchrow("SELECT * FROM messages WHERE event_id = $1", event_id)
    assert row is not None, event_id
    return row


async def _error(db: asyncpg.Pool, event_id: str) -> str | None:
    error: str | None = await db.fetchval(
        "SELECT error FROM raw_events WHERE event_id = $1", event_id
    )
    return error


def _bridge_content(receiver: str) -> dict[str, Any]:
    return {
        "bridgebot": STRANGER,
        "protocol": {"id": "whatsapp"},
        "channel": {"id": f"{PHONE}@s.whatsapp.net", "fi.mau.receiver": receiver},
        "com.beeper.room_type": "dm",
    }


async def test_forged_bridge_state_changes_nothing(hs: Homeserver, db: asyncpg.Pool) -> None:
    """A timeline m.bridge from any member, or a state one from a ghost or a stranger, used to
    rewrite the conversation's bridge bot and receiver: the customer's messages then came out
    as the business's, and the forger's notices as the system's."""
    await _portals(hs)
    before = await db.fetchrow(
        "SELECT bridge_bot, receiver FROM conversations WHERE room_id=$1", ROOM
    )
    forged = [
        f.event(ROOM, "m.bridge", ALICE, _bridge_content(PHONE)),  # timeline, from the customer
        f.event(ROOM, "m.bridge", ALICE, _bridge_content(PHONE), state_key="x"),
        f.event(ROOM, "uk.half-shot.bridge", STRANGER, _bridge_content(PHONE), state_key=""),
        f.event(ROOM, "m.bridge", f.BRIDGE_BOT, _bridge_content(PHONE)),  # no state key
    ]
    await hs.ok(forged)
    after = await db.fetchrow(
        "SELECT bridge_bot, receiver FROM conversations WHERE room_id=$1", ROOM
    )
    assert dict(after) == dict(before) == {"bridge_bot": f.BRIDGE_BOT, "receiver": f.OWNER_PHONE}
    for event in forged:
        assert await _error(db, event["event_id"]) is not None
    hello = f.text(ROOM, ALICE, "still me")
    await hs.ok([hello])
    assert (await _message(db, hello["event_id"]))["direction"] == "in"


async def test_the_conversations_bridge_bot_is_the_state_events_sender(
    hs: Homeserver, db: asyncpg.Pool
) -> None:
    await hs.ok([f.member(ROOM, f.BOT, None, membership="invite")])
    state = f.bridge_state(ROOM, f"{PHONE}@s.whatsapp.net")
    state["content"]["bridgebot"] = STRANGER  # the content's word is not taken
    await hs.ok([state])
    assert await db.fetchval("SELECT bridge_bot FROM conversations") == f.BRIDGE_BOT


async def test_send_statuses_count_only_from_the_rooms_bridge_bot(
    hs: Homeserver, db: asyncpg.Pool
) -> None:
    await _portals(hs)
    ours = f.text(ROOM, f.BOT, "our reply")
    await hs.ok([ours])

    def fail(room: str, sender: str) -> dict[str, Any]:
        return f.event(
            room,
            "com.beeper.message_send_status",
            sender,
            {
                "m.relates_to": {"rel_type": "m.reference", "event_id": ours["event_id"]},
                "status": "FAIL_PERMANENT",
                "message": "forged failure",
            },
        )

    notice = f.event(
        ROOM,
        "m.room.message",
        ALICE,
        {
            "msgtype": "m.notice",
            "body": "⚠️ Your message was not bridged: forged",
            "m.relates_to": {"m.in_reply_to": {"event_id": ours["event_id"]}},
        },
    )
    other_room_notice = f.event(
        OTHER,
        "m.room.message",
        f.BRIDGE_BOT,
        {
            "msgtype": "m.notice",
            "body": "⚠️ Your message was not bridged: wrong room",
            "m.relates_to": {"m.in_reply_to": {"event_id": ours["event_id"]}},
        },
    )
    await hs.ok(
        [fail(OTHER, f.BRIDGE_BOT), fail(ROOM, ALICE), fail(ROOM, STRANGER), notice,
         other_room_notice]
    )  # fmt: skip
    message = await _message(db, ours["event_id"])
    assert (message["status"], message["error"]) == ("sent", None)
    # The ghost's "notice" is just the customer's message.
    assert (await _message(db, notice["event_id"]))["body"].endswith("forged")
    # A delivery receipt from another room's point of view, or a stranger's read receipt.
    await hs.ok(
        [],
        ephemeral=[
            f.receipt(OTHER, ours["event_id"], f.BRIDGE_BOT),
            f.receipt(ROOM, ours["event_id"], STRANGER),
            f.receipt(OTHER, ours["event_id"], BOB),
        ],
    )
    assert (await _message(db, ours["event_id"]))["status"] == "sent"
    # The room's own bridge bot is believed.
    await hs.ok([fail(ROOM, f.BRIDGE_BOT)])
    message = await _message(db, ours["event_id"])
    assert (message["status"], message["error"]) == ("failed", "forged failure")


async def test_relations_apply_only_within_their_room(hs: Homeserver, db: asyncpg.Pool) -> None:
    """A redaction in one room deleted a message in another; reactions and edits likewise."""
    await _portals(hs)
    target = f.text(ROOM, ALICE, "original")
    await hs.ok([target])
    tid = target["event_id"]
    attacks = [
        f.event(OTHER, "m.room.redaction", BOB, {"redacts": tid}, redacts=tid),
        f.event(OTHER, "m.room.redaction", f.BRIDGE_BOT, {"redacts": tid}, redacts=tid),
        f.event(
            OTHER,
            "m.reaction",
            BOB,
            {"m.relates_to": {"rel_type": "m.annotation", "event_id": tid, "key": "💩"}},
        ),
        f.event(
            OTHER,
            "m.room.message",
            ALICE,  # even the author, from a room the message is not in
            {
                "msgtype": "m.text",
                "body": "* rewritten",
                "m.new_content": {"msgtype": "m.text", "body": "rewritten"},
                "m.relates_to": {"rel_type": "m.replace", "event_id": tid},
            },
        ),
    ]
    await hs.ok(attacks)
    message = await _message(db, tid)
    assert (message["body"], message["deleted_at"]) == ("original", None)
    assert await count(db, "reactions") == 0
    assert await count(db, "message_edits") == 0


async def test_a_redaction_only_from_the_sender_or_the_bridge_bot(
    hs: Homeserver, db: asyncpg.Pool
) -> None:
    group = "!group"
    await hs.ok(
        [
            f.bridge_state(group, "120363000000001@g.us", name="Team", dm=False),
            f.member(group, f.BOT, None, membership="invite"),
            f.member(group, ALICE, "Alice (WA)"),
            f.member(group, BOB, "Bob (WA)"),
        ]
    )
    mine, yours = f.text(group, ALICE, "mine"), f.text(group, ALICE, "also mine")
    reaction = f.event(
        group,
        "m.reaction",
        ALICE,
        {"m.relates_to": {"rel_type": "m.annotation", "event_id": mine["event_id"], "key": "👍"}},
    )
    await hs.ok([mine, yours, reaction])
    await hs.ok(
        [
            f.event(group, "m.room.redaction", BOB, {}, redacts=mine["event_id"]),
            f.event(group, "m.room.redaction", BOB, {}, redacts=reaction["event_id"]),
        ]
    )
    assert (await _message(db, mine["event_id"]))["deleted_at"] is None
    assert await db.fetchval("SELECT deleted_at FROM reactions") is None
    await hs.ok(
        [
            f.event(group, "m.room.redaction", ALICE, {}, redacts=mine["event_id"]),
            f.event(group, "m.room.redaction", f.BRIDGE_BOT, {}, redacts=yours["event_id"]),
            f.event(group, "m.room.redaction", ALICE, {}, redacts=reaction["event_id"]),
        ]
    )
    assert (await _message(db, mine["event_id"]))["deleted_at"] is not None
    assert (await _message(db, yours["event_id"]))["deleted_at"] is not None
    assert await db.fetchval("SELECT deleted_at FROM reactions") is not None


async def test_only_the_ghost_or_the_bridge_bot_renames_a_contact(
    hs: Homeserver, db: asyncpg.Pool
) -> None:
    await _portals(hs)
    renames = [
        f.event(ROOM, "m.room.member", STRANGER,
                {"membership": "invite", "displayname": "Scammer"}, state_key=ALICE),
        f.event(ROOM, "m.room.member", BOB,
                {"membership": "invite", "displayname": "Also not Alice"}, state_key=ALICE),
    ]  # fmt: skip
    await hs.ok(renames)
    name = "SELECT display_name FROM contacts WHERE mxid = $1"
    assert await db.fetchval(name, ALICE) == "Alice"
    assert await _error(db, renames[0]["event_id"]) is not None
    await hs.ok([f.member(ROOM, ALICE, "Alice Cooper (WA)")])
    assert await db.fetchval(name, ALICE) == "Alice Cooper"
    await hs.ok(
        [
            f.event(
                ROOM,
                "m.room.member",
                f.BRIDGE_BOT,
                {"membership": "invite", "displayname": "Alice C. (WA)"},
                state_key=ALICE,
            )
        ]
    )
    assert await db.fetchval(name, ALICE) == "Alice C."


async def test_a_strangers_events_are_kept_raw_and_flagged(
    hs: Homeserver, db: asyncpg.Pool
) -> None:
    await _portals(hs)
    events = [
        f.text(ROOM, STRANGER, "I am the customer now"),
        f.event(ROOM, "m.room.name", STRANGER, {"name": "Renamed"}, state_key=""),
        f.event(
            ROOM,
            "m.reaction",
            STRANGER,
            {"m.relates_to": {"rel_type": "m.annotation", "event_id": "$x", "key": "👍"}},
        ),
    ]
    await hs.ok(events)
    assert await count(db, "messages") == 0
    assert await db.fetchval("SELECT title FROM conversations WHERE room_id = $1", ROOM) == "Alice"
    for event in events:
        assert "not the bridge" in (await _error(db, event["event_id"]) or "")


async def test_the_business_own_ghosts_write_outgoing_messages(
    hs: Homeserver, db: asyncpg.Pool
) -> None:
    """The receiver comes from `fi.mau.receiver`; the business's phone writes as its phone
    ghost, or (in LID chats) as its LID ghost, which is then known in groups too."""
    lid_room, group = "!lid", "!grp"
    await hs.ok(
        [
            f.bridge_state(lid_room, "880001@lid", name="Carol"),
            f.member(lid_room, f.BOT, None, membership="invite"),
            f.member(lid_room, f.ghost("lid-880001"), "Carol (WA)"),
            f.member(lid_room, OWN_LID, "Shop (WA)"),
            f.bridge_state(group, "120363000000002@g.us", name="Buyers", dm=False),
            f.member(group, f.BOT, None, membership="invite"),
        ]
    )
    conv = await db.fetchrow("SELECT * FROM conversations WHERE room_id = $1", lid_room)
    assert conv["receiver"] == f.OWNER_PHONE
    assert conv["customer_remote_id"] == "lid-880001"
    contact = await db.fetchval("SELECT mxid FROM contacts WHERE id = $1", conv["contact_id"])
    assert contact == f.ghost("lid-880001")  # not the business's own ghost
    from_phone = f.text(lid_room, f.ghost(f.OWNER_PHONE), "typed on the shop's phone")
    from_lid = f.text(lid_room, OWN_LID, "also the shop")
    customer = f.text(lid_room, f.ghost("lid-880001"), "the customer")
    await hs.ok([from_phone, from_lid, customer])
    directions = [(await _message(db, e["event_id"]))["direction"]
                  for e in (from_phone, from_lid, customer)]  # fmt: skip
    assert directions == ["out", "out", "in"]
    in_group = f.text(group, OWN_LID, "hello all")
    member = f.text(group, f.ghost("lid-880002"), "hi")
    await hs.ok([in_group, member])
    assert (await _message(db, in_group["event_id"]))["direction"] == "out"
    assert (await _message(db, member["event_id"]))["direction"] == "in"
    # The business reading the chat on its phone is no read receipt of the customer's.
    ours = f.text(lid_room, f.BOT, "our reply")
    await hs.ok([ours])
    await hs.ok([], ephemeral=[f.receipt(lid_room, customer["event_id"], OWN_LID)])
    await hs.ok([], ephemeral=[f.receipt(lid_room, ours["event_id"], OWN_LID)])
    assert (await _message(db, ours["event_id"]))["status"] == "sent"
    await hs.ok([], ephemeral=[f.receipt(lid_room, ours["event_id"], f.ghost("lid-880001"))])
    assert (await _message(db, ours["event_id"]))["status"] == "read"


async def test_spaces_and_status_broadcasts_are_no_conversations(
    hs: Homeserver, db: asyncpg.Pool
) -> None:
    space = f.bridge_state("!space", "15550000001", dm=False)
    space["content"]["com.beeper.room_type.v2"] = "space"
    status = f.bridge_state("!status", "status@broadcast", dm=False)
    await hs.ok(
        [
            space,
            status,
            f.member("!space", f.BOT, None, membership="invite"),
            f.member("!status", f.BOT, None, membership="invite"),
        ]
    )
    assert await count(db, "conversations") == 0


async def test_failures_read_as_what_happened(hs: Homeserver, db: asyncpg.Pool) -> None:
    """A generic failure says only `m.event_not_handled`: the manager reads the bridge's
    detail; a notice the bridge is not sure of counts like a certain one."""
    await _portals(hs)
    ours = [f.text(ROOM, f.BOT, f"reply {i}") for i in range(4)]
    await hs.ok(ours)

    def status(target: dict[str, Any], **content: Any) -> dict[str, Any]:
        relates = {"rel_type": "m.reference", "event_id": target["event_id"]}
        return f.event(ROOM, "com.beeper.message_send_status", f.BRIDGE_BOT,
                       {"m.relates_to": relates, **content})  # fmt: skip

    unsure = f.event(
        ROOM,
        "m.room.message",
        f.BRIDGE_BOT,
        {
            "msgtype": "m.notice",
            "body": "⚠️ Your message may not have been bridged: timed out",
            "m.relates_to": {"m.in_reply_to": {"event_id": ours[3]["event_id"]}},
        },
    )
    await hs.ok(
        [
            status(ours[0], status="FAIL_RETRIABLE", reason="m.event_not_handled", message="",
                   internal_error="failed to send: \n  websocket not connected"),
            status(ours[1], status="FAIL_PERMANENT", reason="m.no_permission"),
            status(ours[2], status="FAIL_PERMANENT", reason="org.example.new_reason"),
            unsure,
        ]
    )  # fmt: skip
    errors = [(await _message(db, e["event_id"]))["error"] for e in ours]
    assert errors == [
        "The WhatsApp bridge could not send the message: failed to send: websocket not connected",
        "Sending in this chat is not allowed",
        "The WhatsApp bridge could not send the message",
        "⚠️ Your message may not have been bridged: timed out",
    ]
    assert await count(db, "messages") == 4
