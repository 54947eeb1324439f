"""Through a real Synapse, the emulator doing what mautrix-whatsapp does when it learns a
customer's LID: the chat re-keyed in its room, or the phone room tombstoned into the LID room.
The customer stays one contact with one conversation, and nothing they wrote is lost."""

from __future__ import annotations

import uuid

import aiohttp

from crm_appservice.live.phonebook import Phonebook
from testbed.emulator import with_bridge
from testbed.lids import merge_rooms, migrate_to_lid

from .matrix_world import World


async def _bodies(world: World, conversation_id: int) -> list[str]:
    inbox = await world.inbox()
    status, bundle = await inbox.call("GET", f"/api/v1/conversations/{conversation_id}")
    assert status == 200, bundle
    return [m["body"] for m in bundle["messages"]["items"]]


async def test_a_rekeyed_chat_keeps_its_conversation_contact_and_replies(world: World) -> None:
    emu = world.emulator
    portal, conversation = await world.customer_writes("15551320001", "Mia", "Hi there")
    contact = await world.db.fetchval(
        "SELECT contact_id FROM conversations WHERE id = $1", conversation
    )
    await migrate_to_lid(emu, portal, "lid-9132001")
    later = await emu.send_text(portal, "lid-9132001", "Is the blue one still there?")
    row = await world.message(later)
    assert (row["conversation_id"], row["direction"], row["sender_contact_id"]) == (
        conversation, "in", contact)  # fmt: skip
    assert await _bodies(world, conversation) == ["Hi there", "Is the blue one still there?"]
    people = await world.db.fetch("SELECT id, display_name FROM contacts WHERE merged_into IS NULL"
                                  " AND id IN (SELECT contact_id FROM ghosts WHERE remote_id"
                                  " IN ('15551320001', 'lid-9132001'))")  # fmt: skip
    assert [(p["id"], p["display_name"]) for p in people] == [(contact, "Mia")]

    # A reply still reaches the customer, in the same room.
    inbox = await world.inbox()
    status, reply = await inbox.call(
        "POST", f"/api/v1/conversations/{conversation}/messages",
        json={"client_txn_id": uuid.uuid4().hex, "body": "Yes, one left"},
    )  # fmt: skip
    assert status in (201, 202), reply
    await world.until(
        lambda: any(s.content.get("body") == "Yes, one left" for s in emu.sent_by_crm),
        "the reply to reach the bridge",
    )
    assert [s.room_id for s in emu.sent_by_crm] == [portal.room_id]


async def test_a_tombstoned_room_is_one_row_with_the_whole_history(world: World) -> None:
    emu = world.emulator
    old, old_id = await world.customer_writes("15551320002", "Noor", "from my number")
    new, new_id = await world.customer_writes("lid-9132002", "Noor", "and from my LID")
    await merge_rooms(emu, old, new)
    await world.until(
        lambda: world.db.fetchval(
            "SELECT merged_into = $2 FROM conversations WHERE id = $1", old_id, new_id
        ),
        "the old conversation to be merged",
    )
    inbox = await world.inbox()
    status, page = await inbox.call("GET", "/api/v1/conversations")
    assert status == 200
    assert [c["id"] for c in page["items"]] == [new_id]
    assert await _bodies(world, new_id) == ["from my number", "and from my LID"]
    contacts = await world.db.fetch(
        "SELECT DISTINCT contact_id FROM conversations WHERE id = ANY($1::bigint[])",
        [old_id, new_id],
    )
    assert len(contacts) == 1


async def test_a_lid_customers_number_comes_from_the_bridges_contact_list(world: World) -> None:
    emu = world.emulator
    emu.provisioning.logins.append(emu.owner_phone)
    phone = "15551320003"
    emu.provisioning.numbers.add(phone)
    emu.provisioning.saved.add(phone)  # a contact of the phone's address book
    _, conversation = await world.customer_writes(emu.provisioning.lid(phone), "Ines", "Olá")
    settings = with_bridge(world.crm.settings, emu)
    async with aiohttp.ClientSession() as http:
        book = Phonebook(world.db, settings, http)
        assert await book.due()  # never read yet
        await book.check()
        assert not await book.due()
        inbox = await world.inbox()
        status, bundle = await inbox.call("GET", f"/api/v1/conversations/{conversation}")
        assert status == 200 and bundle["contact"]["phone"] == f"+{phone}"
        # A LID customer the bridge has no number for: read again at once, and nothing invented.
        _, stranger = await world.customer_writes("lid-9132004", "Rui", "Boa tarde")
        assert await book.due()
        await book.check()
        assert not await book.due()
        status, bundle = await inbox.call("GET", f"/api/v1/conversations/{stranger}")
        assert bundle["contact"]["phone"] is None


async def test_a_customer_never_saved_in_the_address_book_is_found_by_the_users_search(
    world: World,
) -> None:
    """Most customers of a sales number are in nobody's address book: the bridge's contact
    list leaves them out, its user search has them (by the name they gave WhatsApp). A bridge
    without the search still gives its contact list."""
    emu = world.emulator
    emu.provisioning.logins.append(emu.owner_phone)
    saved, unsaved = "15551320005", "15551320006"
    emu.provisioning.numbers.update({saved, unsaved})
    emu.provisioning.saved.add(saved)
    _, known = await world.customer_writes(emu.provisioning.lid(saved), "Saved Sam", "Hi")
    _, walk_in = await world.customer_writes(emu.provisioning.lid(unsaved), "Walk-in Wu", "Hi")
    settings = with_bridge(world.crm.settings, emu)
    inbox = await world.inbox()

    async def phone_of(conversation: int) -> str | None:
        status, bundle = await inbox.call("GET", f"/api/v1/conversations/{conversation}")
        assert status == 200
        phone: str | None = bundle["contact"]["phone"]
        return phone

    async with aiohttp.ClientSession() as http:
        listed = await http.get(
            f"{emu.url}/_matrix/provision/v3/contacts",
            headers={"Authorization": f"Bearer {emu.provisioning.secret}"},
        )
        assert [c["name"] for c in (await listed.json())["contacts"]] == ["+" + saved]
        emu.provisioning.search_supported = False
        await Phonebook(world.db, settings, http).check()
        assert (await phone_of(known), await phone_of(walk_in)) == (f"+{saved}", None)
        emu.provisioning.search_supported = True
        await Phonebook(world.db, settings, http).check()
        assert await phone_of(walk_in) == f"+{unsaved}"
        found = await http.post(
            f"{emu.url}/_matrix/provision/v3/search_users",
            json={"query": "WALK"},
            headers={"Authorization": f"Bearer {emu.provisioning.secret}"},
        )
        assert [r["identifiers"] for r in (await found.json())["results"]] == [[f"tel:+{unsaved}"]]
