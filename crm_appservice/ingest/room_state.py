"""Room state from the bridge: a portal's bridge state (which chat a room is, on which login)
and members (the CRM's user invited; ghosts, who are contacts). Only the bridge speaks for the
bridge: see docs/ingest-trust.md."""

from __future__ import annotations

from typing import Any

from .content import BadEvent
from .fields import optional, required
from .mautrix import NOT_CHAT_ROOM_TYPES, NOT_CHATS, RECEIVER_KEY, customer_remote_id
from .namespaces import MAX_MXID, Namespaces
from .records import Batch

BRIDGE_STATE_TYPES = ("m.bridge", "uk.half-shot.bridge")
MAX_ROOM_ID = 255  # the spec's limit of an identifier


def portal(batch: Batch, ns: Namespaces, event: dict[str, Any], content: dict[str, Any]) -> None:
    """The bridge's room state. Only a bridge bot sets it, as state: anybody else's copy (or a
    timeline event of that type) would let them say whose messages are whose."""
    if not isinstance(event.get("state_key"), str) or not ns.is_bridge_bot(event["sender"]):
        raise BadEvent("bridge state that is not a state event of a bridge bot")
    protocol, channel = content.get("protocol"), content.get("channel")
    if not isinstance(protocol, dict) or not isinstance(channel, dict):
        raise BadEvent("bridge state without protocol or channel")
    platform, chat_id = required(protocol, "id"), required(channel, "id")
    if content.get("com.beeper.room_type.v2") in NOT_CHAT_ROOM_TYPES or chat_id in NOT_CHATS:
        return  # the bridge's space of a login, or its status broadcasts: no chat
    dm = content.get("com.beeper.room_type") == "dm"
    batch.portals[event["room_id"]] = {
        "room_id": event["room_id"],
        "platform": platform,
        "remote_chat_id": chat_id,
        "kind": "dm" if dm else "group",
        "channel_name": ns.clean_name(channel.get("displayname")),
        "bridge_bot": event["sender"],
        "receiver": optional(channel, RECEIVER_KEY),
        "customer_remote_id": customer_remote_id(platform, chat_id) if dm else None,
        "avatar_url": optional(channel, "avatar_url"),
    }


def room_name(
    batch: Batch, ns: Namespaces, event: dict[str, Any], content: dict[str, Any]
) -> None:
    # A one-to-one portal is named after the ghost, the bridge's suffix included.
    batch.room_names[event["room_id"]] = {
        "room_id": event["room_id"],
        "name": ns.clean_name(content.get("name")),
    }


def tombstone(
    batch: Batch, ns: Namespaces, event: dict[str, Any], content: dict[str, Any]
) -> None:
    """The bridge merged this portal into another (a phone-number chat into the customer's LID
    chat): the two conversations become one. Only a bridge bot's state says so."""
    if event.get("state_key") != "" or not ns.is_bridge_bot(event["sender"]):
        raise BadEvent("a tombstone that is not the bridge bot's room state")
    replacement = required(content, "replacement_room", "!")
    if len(replacement) > MAX_ROOM_ID:
        raise BadEvent("replacement_room is too long for a room id")
    batch.tombstones[event["room_id"]] = {
        "room_id": event["room_id"],
        "replacement_room": replacement,
    }


def member(batch: Batch, ns: Namespaces, event: dict[str, Any], content: dict[str, Any]) -> None:
    """An invite of the CRM's user, or a ghost joining: a contact with its name and avatar."""
    user_id = required(event, "state_key", "@")
    membership = required(content, "membership")
    if ns.is_crm_user(user_id):
        if membership == "invite" and user_id == ns.bot_mxid:
            batch.invites[event["room_id"]] = {
                "room_id": event["room_id"],
                "inviter": event["sender"],
                "accept": ns.accepts_invite_from(event["sender"]),
            }
        return
    remote_id = ns.ghost_remote_id(user_id)
    if remote_id is None or membership not in ("join", "invite"):
        return
    if event["sender"] != user_id and not ns.is_bridge_bot(event["sender"]):
        return  # a ghost's name is the ghost's or the bridge bot's to say
    batch.contacts[user_id] = {
        "room_id": event["room_id"],
        "mxid": user_id,
        "remote_id": remote_id,
        "display_name": ns.clean_name(content.get("displayname")),
        "avatar_url": optional(content, "avatar_url"),
        "from_message": False,
    }


def sender_contact(batch: Batch, ns: Namespaces, event: dict[str, Any]) -> None:
    """A ghost that sent a message is a contact even before its member event arrives."""
    ghost = ns.ghost_remote_id(event["sender"])
    if ghost is not None and event["sender"] not in batch.contacts:
        batch.contacts[event["sender"]] = {
            "room_id": event["room_id"],
            "mxid": event["sender"],
            "remote_id": ghost,
            "display_name": None,
            "avatar_url": None,
            "from_message": True,
        }


def stranger(batch: Batch, ns: Namespaces, event: dict[str, Any], content: dict[str, Any]) -> None:
    """An ordinary Matrix user's event: only an invite of the CRM's user means something (it is
    declined, unless the config accepts invites from them)."""
    if (
        event["type"] == "m.room.member"
        and event.get("state_key") == ns.bot_mxid
        and content.get("membership") == "invite"
    ):
        member(batch, ns, event, content)
        return
    raise BadEvent(
        f"sent by {event['sender'][:MAX_MXID]}, who is not the bridge, one of its ghosts"
        " or the CRM"
    )
