"""What mautrix-whatsapp (v26.08 and later) does when it learns a customer's LID: it re-keys the
phone-number chat to the LID in the same room, or, when the customer already has a LID room,
tombstones the phone room into it. See ../shared/docs/bridge-events.md, "Who a contact is".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .emulator import BridgeEmulator, shown_name

if TYPE_CHECKING:
    from .chats import Portal

# What the bridge puts on the member changes of a re-key: hidden from clients' timelines.
MIGRATING = {"reason": "Migrating to LIDs", "com.beeper.exclude_from_timeline": True}
MERGED = "This room has been merged"


async def _member(
    emu: BridgeEmulator, room_id: str, sender: str, user_id: str, content: dict[str, Any]
) -> None:
    path = f"/_matrix/client/v3/rooms/{quote(room_id)}/state/m.room.member/{quote(user_id)}"
    await emu.request("PUT", path, sender, content)


async def migrate_to_lid(emu: BridgeEmulator, portal: Portal, lid: str) -> None:
    """Re-key a one-to-one chat from its phone ghost to the customer's LID ghost `lid`
    (`lid-<n>`), in the same room: the phone ghost leaves, the bridge bot invites the LID ghost,
    which joins, then the bridge state is sent again with the new chat id."""
    assert not portal.is_group and lid.startswith("lid-")
    phone_ghost, lid_ghost = emu.ghost(portal.phones[0]), emu.ghost(lid)
    shown = shown_name(portal.name)
    await emu.ensure_user(lid_ghost, shown)
    await _member(emu, portal.room_id, phone_ghost, phone_ghost,
                  {"membership": "leave", **MIGRATING})  # fmt: skip
    await _member(emu, portal.room_id, emu.bot, lid_ghost,
                  {"membership": "invite", "displayname": shown, **MIGRATING})  # fmt: skip
    await _member(emu, portal.room_id, lid_ghost, lid_ghost,
                  {"membership": "join", "displayname": shown, **MIGRATING})  # fmt: skip
    portal.chat_id = f"{lid.removeprefix('lid-')}@lid"
    portal.phones = [lid]
    for state in emu.bridge_state(portal.chat_id, shown, group=False, receiver=portal.receiver):
        path = (
            f"/_matrix/client/v3/rooms/{quote(portal.room_id)}/state/{state['type']}/"
            f"{quote(state['state_key'], safe='')}"
        )
        await emu.request("PUT", path, emu.bot, state["content"])


async def merge_rooms(emu: BridgeEmulator, old: Portal, new: Portal) -> None:
    """Merge the phone room `old` into the customer's LID room `new`: a tombstone pointing at
    it, then the ghosts and the bridge bot leave the old room."""
    path = f"/_matrix/client/v3/rooms/{quote(old.room_id)}/state/m.room.tombstone/"
    await emu.request("PUT", path, emu.bot, {"body": MERGED, "replacement_room": new.room_id})
    for ghost in [emu.ghost(p) for p in old.phones]:
        await emu.request("POST", f"/_matrix/client/v3/rooms/{quote(old.room_id)}/leave",
                          ghost, {})  # fmt: skip
    await emu.request("POST", f"/_matrix/client/v3/rooms/{quote(old.room_id)}/leave", emu.bot, {})
    emu.portals.pop(old.room_id, None)
