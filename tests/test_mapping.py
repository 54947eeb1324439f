"""What each kind of bridged event becomes in the database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg

from . import factories as f
from .conftest import Homeserver, count

ROOM, PHONE = "!p", "15551234567"
ALICE = f.ghost(PHONE)
MXC = "mxc://crm.localhost/AbCdEf123"


async def _portal(hs: Homeserver) -> None:
    await hs.ok(f.portal(ROOM, PHONE, "Alice"))


def _msg(content: dict[str, Any], sender: str = ALICE, **kw: Any) -> dict[str, Any]:
    return f.event(ROOM, "m.room.message", sender, content, **kw)


async def _message(db: asyncpg.Pool, event_id: str) -> asyncpg.Record:
    row = await db.fetchrow("SELECT * FROM messages WHERE event_id = $1", event_id)
    assert row is not None, event_id
    return row


async def test_every_message_kind(hs: Homeserver, db: asyncpg.Pool) -> None:
    await _portal(hs)
    image_info = {
        "mimetype": "image/jpeg",
        "size": 12345,
        "w": 800,
        "h": 600,
        "thumbnail_url": "mxc://crm.localhost/thumb1",
        "thumbnail_info": {"mimetype": "image/jpeg", "w": 320, "h": 240},
    }
    events = {
        "text": _msg({"msgtype": "m.text", "body": "Hello *there*", "format":
                      "org.matrix.custom.html", "formatted_body":
                      '<b>Hello</b> <script>alert(1)</script><a href="javascript:x">l</a>'
                      '<img src="https://evil/x.png">'}),
        "notice": _msg({"msgtype": "m.notice", "body": "Missed call"}),
        "emote": _msg({"msgtype": "m.emote", "body": "waves"}),
        "image": _msg({"msgtype": "m.image", "body": "look at this", "filename": "cat.jpg",
                       "url": MXC, "info": image_info}),
        "video": _msg({"msgtype": "m.video", "body": "clip.mp4", "url": MXC,
                       "info": {"mimetype": "video/mp4", "size": 99, "w": 640, "h": 360,
                                "duration": 4200}}),
        "audio": _msg({"msgtype": "m.audio", "body": "song.mp3", "url": MXC,
                       "info": {"mimetype": "audio/mpeg", "duration": 1000}}),
        "voice": _msg({"msgtype": "m.audio", "body": "Voice message", "url": MXC,
                       "info": {"mimetype": "audio/ogg"}, "org.matrix.msc3245.voice": {},
                       "org.matrix.msc1767.audio": {"duration": 3100, "waveform": [1, 2]}}),
        "file": _msg({"msgtype": "m.file", "body": "price list.pdf", "url": MXC,
                      "info": {"mimetype": "application/pdf", "size": 5}}),
        "sticker": f.event(ROOM, "m.sticker", ALICE, {"body": "😀", "url": MXC,
                           "info": {"mimetype": "image/webp", "w": 512, "h": 512}}),
        "location": _msg({"msgtype": "m.location", "body": "Our shop",
                          "geo_uri": "geo:52.3702,4.8952;u=35"}),
    }  # fmt: skip
    await hs.ok(list(events.values()))

    text = await _message(db, events["text"]["event_id"])
    assert (text["kind"], text["direction"], text["body"]) == ("text", "in", "Hello *there*")
    assert text["html"] == '<b>Hello</b> <a rel="noopener noreferrer nofollow">l</a>'
    assert text["status"] is None
    assert text["sender_contact_id"] is not None
    assert text["created_at"] == datetime.fromtimestamp(
        events["text"]["origin_server_ts"] / 1000, UTC
    )
    assert (await _message(db, events["notice"]["event_id"]))["kind"] == "notice"
    assert (await _message(db, events["emote"]["event_id"]))["kind"] == "emote"

    image = await _message(db, events["image"]["event_id"])
    assert (
        dict(image).items()
        >= {
            "kind": "image",
            "body": "look at this",
            "media_url": MXC,
            "media_mimetype": "image/jpeg",
            "media_size": 12345,
            "media_width": 800,
            "media_height": 600,
            "media_filename": "cat.jpg",
            "thumbnail_url": "mxc://crm.localhost/thumb1",
            "thumbnail_width": 320,
            "thumbnail_height": 240,
        }.items()
    )
    video = await _message(db, events["video"]["event_id"])
    assert (video["kind"], video["media_duration_ms"], video["body"]) == ("video", 4200, None)
    assert video["media_filename"] == "clip.mp4"
    assert (await _message(db, events["audio"]["event_id"]))["kind"] == "audio"
    voice = await _message(db, events["voice"]["event_id"])
    assert (voice["kind"], voice["media_duration_ms"]) == ("voice", 3100)
    file = await _message(db, events["file"]["event_id"])
    assert (file["kind"], file["media_filename"]) == ("file", "price list.pdf")
    sticker = await _message(db, events["sticker"]["event_id"])
    assert (sticker["kind"], sticker["media_width"]) == ("sticker", 512)
    location = await _message(db, events["location"]["event_id"])
    assert (location["kind"], location["latitude"], location["longitude"]) == (
        "location",
        52.3702,
        4.8952,
    )
    conv = await db.fetchrow("SELECT * FROM conversations")
    assert conv is not None
    assert conv["unread_count"] == len(events)
    assert conv["last_message_preview"] == "Our shop"  # its words; the web adds "📍 Location"


async def test_replies_edits_reactions_deletions(hs: Homeserver, db: asyncpg.Pool) -> None:
    await _portal(hs)
    original = _msg({"msgtype": "m.text", "body": "Price is 10"})
    reply = _msg(
        {
            "msgtype": "m.text",
            "body": "> <@crm_bot:crm.localhost> hi\n\nThanks!",
            "m.relates_to": {"m.in_reply_to": {"event_id": original["event_id"]}},
        }
    )
    await hs.ok([original, reply])
    stored_reply = await _message(db, reply["event_id"])
    assert stored_reply["reply_to_event_id"] == original["event_id"]
    assert stored_reply["body"] == "Thanks!"

    def edit(body: str, sender: str = ALICE) -> dict[str, Any]:
        return _msg(
            {
                "msgtype": "m.text",
                "body": f"* {body}",
                "m.new_content": {"msgtype": "m.text", "body": body},
                "m.relates_to": {"rel_type": "m.replace", "event_id": original["event_id"]},
            },
            sender=sender,
        )

    first, second = edit("Price is 12"), edit("Price is 15")
    await hs.ok([first])
    await hs.ok([second, edit("hijack", sender=f.ghost("15559999999"))])
    await hs.ok([first])  # a repeated edit event changes nothing
    edited = await _message(db, original["event_id"])
    assert edited["body"] == "Price is 15"
    assert edited["edited_at"] == datetime.fromtimestamp(second["origin_server_ts"] / 1000, UTC)
    versions = await db.fetch(
        "SELECT body FROM message_edits WHERE message_id = $1 ORDER BY edited_at", edited["id"]
    )
    assert [v["body"] for v in versions] == ["Price is 10", "Price is 12"]
    assert await count(db, "messages") == 2

    like = f.event(
        ROOM,
        "m.reaction",
        ALICE,
        {"m.relates_to": {"rel_type": "m.annotation", "event_id": reply["event_id"], "key": "👍"}},
    )
    await hs.ok([like])
    assert await db.fetchval("SELECT key FROM reactions WHERE deleted_at IS NULL") == "👍"
    await hs.ok(
        [
            f.event(ROOM, "m.room.redaction", ALICE, {"redacts": like["event_id"]}),
            f.event(ROOM, "m.room.redaction", ALICE, {}, redacts=original["event_id"]),
        ]
    )
    assert await db.fetchval("SELECT count(*) FROM reactions WHERE deleted_at IS NULL") == 0
    assert (await _message(db, original["event_id"]))["deleted_at"] is not None
    assert (await _message(db, reply["event_id"]))["deleted_at"] is None
    # The customer deletes their last message: its words leave the list.
    await hs.ok([f.event(ROOM, "m.room.redaction", ALICE, {}, redacts=reply["event_id"])])
    assert await db.fetchval("SELECT last_message_preview FROM conversations") is None


async def test_backfill_never_moves_last_message_backwards(
    hs: Homeserver, db: asyncpg.Pool
) -> None:
    await _portal(hs)
    now = 1_800_000_000_000
    await hs.ok([_msg({"msgtype": "m.text", "body": "newest"}, ts=now)])
    await hs.ok([_msg({"msgtype": "m.text", "body": f"old {i}"}, ts=now - 10_000 * i)
                 for i in range(1, 4)])  # fmt: skip
    conv = await db.fetchrow("SELECT * FROM conversations")
    assert conv is not None
    assert conv["last_message_at"] == datetime.fromtimestamp(now / 1000, UTC)
    assert conv["last_message_preview"] == "newest"
    rows = await db.fetch("SELECT body FROM messages ORDER BY created_at, id")
    assert [r["body"] for r in rows] == ["old 3", "old 2", "old 1", "newest"]


async def test_unread_counts_only_after_last_read(hs: Homeserver, db: asyncpg.Pool) -> None:
    await _portal(hs)
    await hs.ok([_msg({"msgtype": "m.text", "body": "one"}, ts=1_800_000_000_000)])
    assert await db.fetchval("SELECT unread_count FROM conversations") == 1
    await db.execute(
        "UPDATE conversations SET unread_count = 0, last_read_at = $1", _at(1_800_000_000_500)
    )
    await hs.ok(
        [
            _msg({"msgtype": "m.text", "body": "backfilled"}, ts=1_000_000_000_000),
            _msg({"msgtype": "m.text", "body": "mine"}, sender=f.BOT, ts=1_800_000_001_000),
            _msg({"msgtype": "m.text", "body": "new"}, ts=1_800_000_002_000),
        ]
    )
    # Only "new" counts: "backfilled" is older than the read mark and "mine" is outgoing.
    assert await db.fetchval("SELECT unread_count FROM conversations") == 1


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


async def test_resolved_conversation_reopens_on_new_incoming(
    hs: Homeserver, db: asyncpg.Pool
) -> None:
    await _portal(hs)
    await hs.ok([_msg({"msgtype": "m.text", "body": "first"}, ts=1_800_000_000_000)])
    await db.execute("UPDATE conversations SET status = 'resolved'")
    await hs.ok([_msg({"msgtype": "m.text", "body": "backfill"}, ts=1_000_000_000_000)])
    assert await db.fetchval("SELECT status FROM conversations") == "resolved"
    await hs.ok([_msg({"msgtype": "m.text", "body": "again"}, ts=1_800_000_100_000)])
    assert await db.fetchval("SELECT status FROM conversations") == "open"


async def test_the_list_knows_whose_word_was_last(hs: Homeserver, db: asyncpg.Pool) -> None:
    await _portal(hs)
    last_out = "SELECT last_message_out FROM conversations"
    await hs.ok([_msg({"msgtype": "m.text", "body": "Is it in stock?"})])
    assert await db.fetchval(last_out) is False
    # Written on the business phone: still the team's word ("You: …" in the list).
    await hs.ok([_msg({"msgtype": "m.text", "body": "Yes"}, sender=f.ghost(f.OWNER_PHONE))])
    assert await db.fetchval(last_out) is True
    # History arriving late does not change who spoke last.
    await hs.ok([_msg({"msgtype": "m.text", "body": "old"}, ts=1_000_000_000_000)])
    assert await db.fetchval(last_out) is True
    await hs.ok([_msg({"msgtype": "m.text", "body": "Thanks"})])
    assert await db.fetchval(last_out) is False


async def test_outgoing_status_moves_forward_only(hs: Homeserver, db: asyncpg.Pool) -> None:
    await _portal(hs)
    ours = [_msg({"msgtype": "m.text", "body": f"reply {i}"}, sender=f.BOT) for i in range(4)]
    from_phone = _msg({"msgtype": "m.text", "body": "sent from my phone"},
                      sender=f.ghost(f.OWNER_PHONE))  # fmt: skip
    await hs.ok([*ours, from_phone])
    phone_msg = await _message(db, from_phone["event_id"])
    assert (phone_msg["direction"], phone_msg["status"]) == ("out", "sent")
    for event in ours:
        row = await _message(db, event["event_id"])
        assert (row["direction"], row["status"]) == ("out", "sent")

    def status(target: dict[str, Any], value: str, **extra: Any) -> dict[str, Any]:
        return f.event(
            ROOM,
            "com.beeper.message_send_status",
            f.BRIDGE_BOT,
            {
                "m.relates_to": {"rel_type": "m.reference", "event_id": target["event_id"]},
                "status": value,
                **extra,
            },
        )

    await hs.ok(
        [
            status(ours[0], "SUCCESS", delivered_to_users=[ALICE]),
            status(
                ours[1],
                "FAIL_PERMANENT",
                reason="m.foreign_network_error",
                message="The contact blocked you",
            ),
            _msg(
                {
                    "msgtype": "m.notice",
                    "body": "⚠️ Your message was not bridged: timeout",
                    "m.relates_to": {"m.in_reply_to": {"event_id": ours[2]["event_id"]}},
                },
                sender=f.BRIDGE_BOT,
            ),
        ]
    )
    assert (await _message(db, ours[0]["event_id"]))["status"] == "delivered"
    failed = await _message(db, ours[1]["event_id"])
    assert (failed["status"], failed["error"]) == ("failed", "The contact blocked you")
    noticed = await _message(db, ours[2]["event_id"])
    assert noticed["status"] == "failed"
    assert noticed["error"].startswith("⚠️ Your message was not bridged")
    assert await count(db, "messages") == 5  # the bridge's error notice is no message

    # The bridge bot's receipt comes when WhatsApp's server took the message (bridgev2 sends it
    # with the first SUCCESS): sent, not delivered. The contact's receipt on the last message:
    # everything sent before it is read, except what failed.
    await hs.ok([], ephemeral=[f.receipt(ROOM, ours[3]["event_id"], f.BRIDGE_BOT)])
    assert (await _message(db, ours[3]["event_id"]))["status"] == "sent"
    await hs.ok([], ephemeral=[f.receipt(ROOM, ours[3]["event_id"], ALICE)])
    statuses = [(await _message(db, e["event_id"]))["status"] for e in ours]
    assert statuses == ["read", "failed", "failed", "read"]
    # A late SUCCESS never moves a message back from read.
    await hs.ok([status(ours[3], "SUCCESS")])
    assert (await _message(db, ours[3]["event_id"]))["status"] == "read"


async def test_invites_are_recorded_for_the_join_worker(hs: Homeserver, db: asyncpg.Pool) -> None:
    await hs.ok(
        [
            f.member("!a", f.BOT, None, membership="invite"),
            f.event(
                "!b",
                "m.room.member",
                "@stranger:elsewhere.org",
                {"membership": "invite"},
                state_key=f.BOT,
            ),
        ]
    )
    rows = {r["room_id"]: r for r in await db.fetch("SELECT * FROM room_invites")}
    assert rows["!a"]["accept"] is True
    assert rows["!a"]["inviter"] == f.BRIDGE_BOT
    assert rows["!b"]["accept"] is False


async def test_events_before_the_bridge_state_are_mapped_when_it_arrives(
    hs: Homeserver, db: asyncpg.Pool
) -> None:
    """The homeserver pushes a ghost's events before the CRM can see the room's bridge state."""
    early = [
        f.member(ROOM, ALICE, "Alice (WA)"),
        _msg({"msgtype": "m.text", "body": "anyone there?"}),
    ]
    await hs.ok(early)
    await hs.ok([], ephemeral=[f.receipt(ROOM, early[1]["event_id"], ALICE)])
    assert await count(db, "conversations") == 0
    await hs.ok([f.invite(ROOM), f.bridge_state(ROOM, f"{PHONE}@s.whatsapp.net", name="Alice")])
    conv = await db.fetchrow("SELECT * FROM conversations")
    assert conv is not None
    assert (conv["unread_count"], conv["last_message_preview"]) == (1, "anyone there?")
    assert conv["contact_id"] is not None
    assert await count(db, "messages") == 1
