"""One customer is one contact, however the bridge names them: a chat re-keyed from the phone
ghost to the LID ghost, a phone room tombstoned into the LID room (events as mautrix-whatsapp
sends them, pushed as Synapse does)."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from crm_appservice.store import people

from . import factories as f
from .conftest import API, Homeserver

PHONE, LID = "15551310001", "lid-9130001"
MIGRATING = {"reason": "Migrating to LIDs", "com.beeper.exclude_from_timeline": True}


def _migration(room: str) -> list[list[dict[str, Any]]]:
    """The re-key as the bridge does it: the phone ghost leaves, the LID ghost is invited and
    joins, then the bridge state is sent again with the LID chat id."""
    leave = f.event(room, "m.room.member", f.ghost(PHONE), {"membership": "leave", **MIGRATING},
                    state_key=f.ghost(PHONE))  # fmt: skip
    invite = f.event(room, "m.room.member", f.BRIDGE_BOT,
                     {"membership": "invite", "displayname": "Mia (WA)", **MIGRATING},
                     state_key=f.ghost(LID))  # fmt: skip
    join = f.event(room, "m.room.member", f.ghost(LID),
                   {"membership": "join", "displayname": "Mia (WA)", **MIGRATING},
                   state_key=f.ghost(LID))  # fmt: skip
    state = f.bridge_state(room, f"{LID.removeprefix('lid-')}@lid", name="Mia (WA)")
    return [[leave], [invite], [join], [state]]


async def _people(db: asyncpg.Pool) -> list[asyncpg.Record]:
    return list(await db.fetch("SELECT * FROM contacts WHERE merged_into IS NULL ORDER BY id"))


@pytest.mark.parametrize("transactions", ["one each", "all in one", "bridge state first"])
async def test_a_chat_rekeyed_to_the_lid_keeps_its_contact_and_history(
    hs: Homeserver, db: asyncpg.Pool, api: API, transactions: str
) -> None:
    await hs.ok([*f.portal("!mia", PHONE, "Mia"), f.text("!mia", f.ghost(PHONE), "Hi there")])
    conversation = await db.fetchrow("SELECT * FROM conversations WHERE room_id = '!mia'")
    assert conversation is not None
    steps = _migration("!mia")
    if transactions == "all in one":
        steps = [[e for step in steps for e in step]]
    elif transactions == "bridge state first":
        steps = [steps[3], *steps[:3]]
    for step in steps:
        await hs.ok(step)
    await hs.ok([f.text("!mia", f.ghost(LID), "Is it still available?")])

    people = await _people(db)
    assert [p["id"] for p in people] == [conversation["contact_id"]]
    assert people[0]["display_name"] == "Mia"
    ghosts = await db.fetch("SELECT mxid, contact_id FROM ghosts ORDER BY mxid")
    assert {g["mxid"]: g["contact_id"] for g in ghosts} == {
        f.ghost(LID): conversation["contact_id"],
        f.ghost(PHONE): conversation["contact_id"],
    }
    rows = await db.fetch("SELECT * FROM messages ORDER BY created_at")
    assert [(m["body"], m["direction"], m["sender_contact_id"]) for m in rows] == [
        ("Hi there", "in", conversation["contact_id"]),
        ("Is it still available?", "in", conversation["contact_id"]),
    ]
    listed = (await api.get("/api/v1/conversations"))["items"]
    assert [(c["id"], c["contact"]["id"], c["unread_count"]) for c in listed] == [
        (conversation["id"], conversation["contact_id"], 2)
    ]
    bundle = await api.get(f"/api/v1/conversations/{conversation['id']}")
    # The member changes of the re-key are no part of the thread.
    bodies = [m["body"] for m in bundle["messages"]["items"]]
    assert bodies == ["Hi there", "Is it still available?"]
    assert await db.fetchval("SELECT remote_chat_id FROM conversations") == "9130001@lid"


async def test_a_lid_ghost_known_as_someone_else_is_merged_when_the_bridge_rekeys_to_it(
    hs: Homeserver, db: asyncpg.Pool
) -> None:
    """The LID ghost wrote in a group first (a contact of its own), then the bridge re-keys the
    customer's phone chat to it: one person."""
    group = f.bridge_state("!grp", "120363000001@g.us", name="Buyers", dm=False)
    await hs.ok([group, f.invite("!grp"), f.member("!grp", f.ghost(LID), "Mia (WA)"),
                 f.text("!grp", f.ghost(LID), "hello group")])  # fmt: skip
    await hs.ok([*f.portal("!mia", PHONE, "Mia"), f.text("!mia", f.ghost(PHONE), "Hi there")])
    assert len(await _people(db)) == 2
    for step in _migration("!mia"):
        await hs.ok(step)
    people = await _people(db)
    assert len(people) == 1
    senders = await db.fetch("SELECT DISTINCT sender_contact_id FROM messages")
    merged = await db.fetchval("SELECT merged_into FROM contacts WHERE merged_into IS NOT NULL")
    assert merged == people[0]["id"]
    # Messages keep the contact they were stored with; it points at the person now.
    assert len(senders) == 2
    ghost_owners = await db.fetch("SELECT DISTINCT contact_id FROM ghosts")
    assert [g["contact_id"] for g in ghost_owners] == [people[0]["id"]]


def _lid_portal(room: str, lid: str, name: str) -> list[dict[str, Any]]:
    return [
        f.bridge_state(room, f"{lid.removeprefix('lid-')}@lid", name=f"{name} (WA)"),
        f.member(room, f.ghost(lid), f"{name} (WA)"),
        f.invite(room),
    ]


def _tombstone(room: str, replacement: str, sender: str = f.BRIDGE_BOT) -> dict[str, Any]:
    content = {"body": "This room has been merged", "replacement_room": replacement}
    return f.event(room, "m.room.tombstone", sender, content, state_key="")


@pytest.mark.parametrize("order", ["replacement known", "replacement later"])
async def test_a_tombstoned_phone_room_becomes_one_row_with_the_whole_history(
    hs: Homeserver, db: asyncpg.Pool, api: API, order: str
) -> None:
    await hs.ok([*f.portal("!old", PHONE, "Mia"), f.text("!old", f.ghost(PHONE), "first")])
    old = await db.fetchval("SELECT id FROM conversations WHERE room_id = '!old'")
    status, note = await api.call("POST", f"/api/v1/conversations/{old}/notes",
                                  json={"body": "wants the blue one"})  # fmt: skip
    assert status == 201, note
    if order == "replacement known":
        await hs.ok([*_lid_portal("!new", LID, "Mia"), f.text("!new", f.ghost(LID), "second")])
        await hs.ok([_tombstone("!old", "!new")])
    else:
        await hs.ok([_tombstone("!old", "!new")])
        await hs.ok([*_lid_portal("!new", LID, "Mia"), f.text("!new", f.ghost(LID), "second")])
    new = await db.fetchval("SELECT id FROM conversations WHERE room_id = '!new'")

    listed = (await api.get("/api/v1/conversations"))["items"]
    assert [(c["id"], c["unread_count"]) for c in listed] == [(new, 2)]
    assert (await api.get("/api/v1/conversations?archived=true"))["items"] == []
    counts = await api.get("/api/v1/conversations/counts")
    assert counts["all_open"] == 1
    bundle = await api.get(f"/api/v1/conversations/{new}")
    assert [m["body"] for m in bundle["messages"]["items"]] == ["first", "second"]
    assert [n["body"] for n in bundle["notes"]] == ["wants the blue one"]
    gone = await api.get(f"/api/v1/conversations/{old}")
    assert gone["conversation"]["merged_into"] == new
    assert len(await _people(db)) == 1
    # What still arrives in the old room is the kept conversation's.
    await hs.ok([f.text("!old", f.ghost(PHONE), "late")])
    bundle = await api.get(f"/api/v1/conversations/{new}")
    assert [m["body"] for m in bundle["messages"]["items"]] == ["first", "second", "late"]


async def test_only_the_bridge_bot_merges_rooms(hs: Homeserver, db: asyncpg.Pool) -> None:
    await hs.ok([*f.portal("!a", PHONE, "Mia"), *f.portal("!b", "15551310002", "Noor")])
    forged = [
        _tombstone("!a", "!b", sender=f.ghost(PHONE)),  # a ghost
        _tombstone("!a", "!b", sender="@mallory:elsewhere.org"),  # a stranger
        # not room state
        f.event("!a", "m.room.tombstone", f.BRIDGE_BOT, {"replacement_room": "!b"}),
        _tombstone("!a", "not a room"),
        _tombstone("!a", "!" + "x" * 300),
    ]
    await hs.ok(forged)
    flagged = await db.fetchval(
        "SELECT count(*) FROM raw_events"
        " WHERE event_type = 'm.room.tombstone' AND error IS NOT NULL"
    )
    assert flagged == len(forged)
    rows = await db.fetch("SELECT merged_into, replacement_room, contact_id FROM conversations")
    assert [(r["merged_into"], r["replacement_room"]) for r in rows] == [(None, None)] * 2
    assert len({r["contact_id"] for r in rows}) == 2


async def test_a_tombstone_into_a_room_that_is_not_the_crms_merges_nothing(
    hs: Homeserver, db: asyncpg.Pool, api: API
) -> None:
    await hs.ok([*f.portal("!a", PHONE, "Mia"), f.text("!a", f.ghost(PHONE), "hi")])
    await hs.ok([_tombstone("!a", "!elsewhere")])
    # Someone else's room, never the CRM's: the conversation stays as it was.
    await hs.ok([f.bridge_state("!elsewhere", "9130001@lid", name="Mia (WA)")])
    listed = (await api.get("/api/v1/conversations"))["items"]
    assert len(listed) == 1 and listed[0]["merged_into"] is None


async def test_a_phone_ghost_leaving_a_group_for_its_lid_changes_nobody(
    hs: Homeserver, db: asyncpg.Pool
) -> None:
    group = f.bridge_state("!grp", "120363000001@g.us", name="Buyers", dm=False)
    await hs.ok([group, f.invite("!grp"), f.member("!grp", f.ghost(PHONE), "Mia (WA)"),
                 f.text("!grp", f.ghost(PHONE), "hello")])  # fmt: skip
    before = await _people(db)
    leave = f.event("!grp", "m.room.member", f.ghost(PHONE),
                    {"membership": "leave", **MIGRATING}, state_key=f.ghost(PHONE))  # fmt: skip
    await hs.ok([leave, f.member("!grp", f.ghost(LID), "Mia (WA)")])
    after = await _people(db)
    assert [p["id"] for p in after][: len(before)] == [p["id"] for p in before]
    assert before[0]["display_name"] == after[0]["display_name"] == "Mia"
    conversation = await db.fetchrow("SELECT * FROM conversations")
    assert conversation is not None and conversation["merged_into"] is None


def _learnt(remote_id: str, phone: str) -> dict[str, str]:
    return {"platform": "whatsapp", "remote_id": remote_id, "phone": phone, "source": "contacts"}


async def test_a_lid_contacts_number_comes_from_the_bridge_and_stays_current(
    hs: Homeserver, db: asyncpg.Pool, api: API
) -> None:
    await hs.ok([*_lid_portal("!lid", LID, "Mia"), f.text("!lid", f.ghost(LID), "hello")])
    contact = await db.fetchrow("SELECT * FROM contacts")
    assert contact is not None and contact["phone"] is None  # a LID says no number
    async with db.acquire() as conn:
        changed = await people.learn_phones(conn, [_learnt(LID, "+351912345678")])
        assert changed == [await conn.fetchval("SELECT id FROM conversations")]
        # Said again: nothing changes. A new number: the current one, the old one kept.
        assert await people.learn_phones(conn, [_learnt(LID, "+351912345678")]) == []
        assert len(await people.learn_phones(conn, [_learnt(LID, "+351900000001")])) == 1
    listed = (await api.get("/api/v1/conversations"))["items"]
    assert listed[0]["contact"]["phone"] == "+351900000001"
    phones = await db.fetch("SELECT phone FROM contact_phones WHERE contact_id = $1 ORDER BY"
                            " first_seen, phone", contact["id"])  # fmt: skip
    assert [p["phone"] for p in phones] == ["+351912345678", "+351900000001"]


async def test_a_number_learnt_before_the_customer_writes_is_theirs_from_the_start(
    hs: Homeserver, db: asyncpg.Pool
) -> None:
    async with db.acquire() as conn:
        assert await people.learn_phones(conn, [_learnt(LID, "+351912345678")]) == []
    await hs.ok([*_lid_portal("!lid", LID, "Mia"), f.text("!lid", f.ghost(LID), "hello")])
    assert await db.fetchval("SELECT phone FROM contacts") == "+351912345678"
    # The re-key of a phone chat to that LID gives the existing contact the bridge's number.
    await hs.ok([*f.portal("!mia", "15551310009", "Noor"), f.text("!mia", f.ghost("15551310009"),
                                                                  "hi")])  # fmt: skip
    async with db.acquire() as conn:
        await people.learn_phones(conn, [_learnt("lid-9130009", "+15551310010")])
    state = f.bridge_state("!mia", "9130009@lid", name="Noor (WA)")
    await hs.ok([state, f.member("!mia", f.ghost("lid-9130009"), "Noor (WA)")])
    noor = await db.fetchrow(
        "SELECT c.contact_id, ct.phone FROM conversations c"
        " JOIN contacts ct ON ct.id = c.contact_id WHERE c.room_id = '!mia'"
    )
    assert noor is not None and noor["phone"] == "+15551310010"
    phones = await db.fetch("SELECT phone FROM contact_phones WHERE contact_id = $1",
                            noor["contact_id"])  # fmt: skip
    assert {p["phone"] for p in phones} == {"+15551310009", "+15551310010"}


async def test_the_bridge_saying_a_lids_number_makes_its_phone_ghost_the_same_person(
    hs: Homeserver, db: asyncpg.Pool
) -> None:
    """In a group the bridge swaps a member's phone ghost for their LID ghost (two contacts
    until then); its contact list then says the LID's number: one person."""
    group = f.bridge_state("!grp", "120363000001@g.us", name="Buyers", dm=False)
    await hs.ok([group, f.invite("!grp"), f.member("!grp", f.ghost(PHONE), "Mia (WA)"),
                 f.text("!grp", f.ghost(PHONE), "hello")])  # fmt: skip
    await hs.ok([f.member("!grp", f.ghost(LID), "Mia (WA)"), f.text("!grp", f.ghost(LID), "me")])
    assert len(await _people(db)) == 2
    async with db.acquire() as conn:
        await people.learn_phones(conn, [_learnt(LID, f"+{PHONE}")])
    people_left = await _people(db)
    assert len(people_left) == 1 and people_left[0]["phone"] == f"+{PHONE}"
    owners = await db.fetch("SELECT DISTINCT contact_id FROM ghosts")
    assert [o["contact_id"] for o in owners] == [people_left[0]["id"]]


async def test_what_the_old_room_said_with_its_tombstone_is_kept(
    hs: Homeserver, db: asyncpg.Pool, api: API
) -> None:
    """Synapse may hand over the old room's last events and its tombstone in one transaction:
    an edit and a reaction sent before the merge still apply, in the conversation kept."""
    first = f.text("!old", f.ghost(PHONE), "first")
    await hs.ok([*f.portal("!old", PHONE, "Mia"), first])
    await hs.ok([*_lid_portal("!new", LID, "Mia"), f.text("!new", f.ghost(LID), "second")])
    edit = f.event("!old", "m.room.message", f.ghost(PHONE), {
        "msgtype": "m.text", "body": "* first, edited",
        "m.new_content": {"msgtype": "m.text", "body": "first, edited"},
        "m.relates_to": {"rel_type": "m.replace", "event_id": first["event_id"]}})  # fmt: skip
    react = f.event("!old", "m.reaction", f.ghost(PHONE), {"m.relates_to": {
        "rel_type": "m.annotation", "event_id": first["event_id"], "key": "👍"}})  # fmt: skip
    await hs.ok([edit, react, _tombstone("!old", "!new")])
    new = await db.fetchval("SELECT id FROM conversations WHERE room_id = '!new'")
    bundle = await api.get(f"/api/v1/conversations/{new}")
    kept = {m["body"]: m for m in bundle["messages"]["items"]}
    assert set(kept) == {"first, edited", "second"}
    assert [r["key"] for r in kept["first, edited"]["reactions"]] == ["👍"]
