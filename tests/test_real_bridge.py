"""Through a real Synapse, the emulator sending what mautrix-whatsapp v26.08 sends where it is
less kind than a textbook bridge: LID chats, the business's own ghost, the double puppet, stand-in
names, captionless photos, locations in the bridge's words, a changed reaction, rooms that are no
chat."""

from __future__ import annotations

from typing import Any
import uuid

from testbed.media import png

from .matrix_world import World


async def _conversation(world: World, room_id: str) -> dict[str, Any]:
    inbox = await world.inbox()
    conversation_id = await world.conversation_id(room_id)
    status, body = await inbox.call("GET", f"/api/v1/conversations/{conversation_id}")
    assert status == 200, body
    return dict(body["conversation"])


async def _reply(world: World, room_id: str, text: str) -> int:
    inbox = await world.inbox()
    conversation_id = await world.conversation_id(room_id)
    status, message = await inbox.call(
        "POST", f"/api/v1/conversations/{conversation_id}/messages",
        json={"client_txn_id": uuid.uuid4().hex, "body": text},
    )  # fmt: skip
    assert status == 202, message
    return int(message["id"])


async def test_a_lid_chat_is_its_customer_and_the_business_phone_speaks_as_the_business(
    world: World,
) -> None:
    emu = world.emulator
    emu.outcome.read_by_contact = False  # who reads is what this test says
    lena = await world.portal("lid-4242001", "Lena")
    row = await world.db.fetchrow(
        "SELECT c.remote_chat_id, ct.remote_id, ct.phone, c.contact_id IS NOT NULL AS has"
        "  FROM conversations c JOIN contacts ct ON ct.id = c.contact_id WHERE c.room_id = $1",
        lena.room_id,
    )
    # The business's own ghost is in the room too: the customer is the ghost of channel.id.
    assert row is not None and (row["remote_chat_id"], row["remote_id"]) == (
        "4242001@lid", "lid-4242001")  # fmt: skip
    assert row["phone"] is None  # a LID says no number
    assert (await _conversation(world, lena.room_id))["title"] == "Lena"

    hello = await emu.send_text(lena, "lid-4242001", "Hi, is the blue one in stock?")
    assert (await world.message(hello))["direction"] == "in"
    typed = await emu.send_from_phone(lena, "Yes, two left")  # typed on the business phone
    mine = await world.message(typed)
    assert (mine["direction"], mine["sender_contact_id"]) == ("out", None)

    reply_id = await _reply(world, lena.room_id, "I can hold one for you")

    async def sent() -> bool:
        status = await world.db.fetchval("SELECT status FROM messages WHERE id = $1", reply_id)
        return status in ("sent", "delivered")

    await world.until(sent, "the bridge to take the reply")
    reply_event = await world.db.fetchval("SELECT event_id FROM messages WHERE id = $1", reply_id)
    # The owner opening the chat on the phone reads it: that is not the customer reading.
    await emu.read_on_phone(lena, reply_event)
    canary = await emu.send_text(lena, "lid-4242001", "ok")
    await world.message(canary)  # the receipt's transaction has been through
    assert await world.db.fetchval("SELECT status FROM messages WHERE id = $1", reply_id) != "read"
    await emu.read(lena, "lid-4242001", reply_event)

    async def read() -> bool:
        status = await world.db.fetchval("SELECT status FROM messages WHERE id = $1", reply_id)
        return bool(status == "read")

    await world.until(read, "the customer's read receipt")


async def test_with_double_puppeting_the_phone_speaks_as_the_crm_user(world: World) -> None:
    emu = world.emulator
    emu.double_puppet = True
    mark = await world.portal("15551340001", "Mark")
    members = await emu.request("GET", f"/_matrix/client/v3/rooms/{mark.room_id}/joined_members",
                                emu.bot)  # fmt: skip
    assert emu.own_ghost not in members["joined"]  # no ghost of the business's own number
    typed = await emu.send_from_phone(mark, "Your order ships today")
    row = await world.message(typed)
    assert (row["direction"], row["sender_manager_id"]) == ("out", None)
    # The bridge does not answer its own echo as if the CRM had sent it.
    assert all(s.event_id != typed for s in emu.sent_by_crm)


async def test_titles_and_names_without_the_suffix_and_real_names_before_stand_ins(
    world: World,
) -> None:
    emu = world.emulator
    hidden = emu.redacted("15551350080")
    anon = await world.portal("15551350080", hidden)  # "+1∙∙∙∙∙∙∙∙80 (WA)"
    # A stand-in name: the known phone number reads better.
    assert (await _conversation(world, anon.room_id))["title"] == "+15551350080"
    await emu.ensure_user(emu.ghost("15551350080"), "Anna Berg (WA)")  # WhatsApp gave a name

    async def named() -> Any:
        return (await _conversation(world, anon.room_id))["title"]

    assert await world.until(lambda: _is(named, "Anna Berg"), "the real name") is True
    await emu.ensure_user(emu.ghost("15551350080"), "Unknown user (WA)")  # and lost it again
    canary = await emu.send_text(anon, "15551350080", "hello")
    await world.message(canary)
    contact = await world.db.fetchval(
        "SELECT ct.display_name FROM contacts ct JOIN conversations c ON c.contact_id = ct.id"
        " WHERE c.room_id = $1", anon.room_id)  # fmt: skip
    assert contact == "Anna Berg" and await named() == "Anna Berg"

    nobody = await world.portal("lid-777001", "Unknown user")  # no name, no number: all we have
    assert (await _conversation(world, nobody.room_id))["title"] == "Unknown user"


async def _is(value: Any, expected: Any) -> bool:
    return bool(await value() == expected)


async def test_captionless_photos_locations_and_a_changed_reaction_as_the_bridge_sends_them(
    world: World,
) -> None:
    emu = world.emulator
    olga = await world.portal("15551360001", "Olga")
    photo = await emu.send_media(olga, "15551360001", "m.image", png(8, 8), "image/jpeg",
                                 "image.jpg")  # fmt: skip
    row = await world.message(photo)
    assert (row["body"], row["media_filename"], row["kind"]) == (None, "image.jpg", "image")
    place = await emu.send_location(olga, "15551360001", 52.37021, 4.89517, "Shop",
                                    "Damrak 1, Amsterdam")  # fmt: skip
    row = await world.message(place)
    assert row["body"] == "Shop\nDamrak 1, Amsterdam"
    assert (row["latitude"], row["longitude"]) == (52.37021, 4.89517)
    conversation = await _conversation(world, olga.room_id)
    last = conversation["last_message"]
    # Its parts: the web words them "📍 Location: Shop Damrak 1, Amsterdam" (preview-cases.json).
    assert (last["kind"], last["text"]) == ("location", "Shop Damrak 1, Amsterdam")
    unnamed = await world.message(await emu.send_location(olga, "15551360001", -33.9, 18.4))
    assert unnamed["body"] == "33.9000° S 18.4000° E"

    thumbs = await emu.react(olga, "15551360001", place, "👍")
    heart = await emu.change_reaction(olga, "15551360001", thumbs, place, "❤️")

    async def reactions() -> list[str]:
        rows = await world.db.fetch(
            "SELECT r.key FROM reactions r JOIN messages m ON m.id = r.message_id"
            " WHERE m.event_id = $1 AND r.deleted_at IS NULL", place)  # fmt: skip
        return [r["key"] for r in rows]

    async def only_heart() -> bool:
        return await reactions() == ["❤️"]

    await world.until(only_heart, "the changed reaction")
    assert heart


async def test_the_filtering_space_and_status_broadcasts_are_no_conversations(
    world: World,
) -> None:
    """At the bridge's defaults (which the deployment turns off) it makes both; the CRM keeps
    neither as a conversation."""
    emu = world.emulator
    emu.filtering_space = emu.status_broadcast = True
    rooms = await emu.create_login_rooms()
    assert len(rooms) == 2
    after = await world.portal("15551370001", "Pia")  # made after both: they have been through
    await world.conversation_id(after.room_id)
    assert await world.db.fetchval(
        "SELECT count(*) FROM conversations WHERE room_id = ANY($1)", rooms) == 0  # fmt: skip
