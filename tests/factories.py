"""Raw events shaped like the ones Synapse pushes for mautrix-whatsapp portals."""

from __future__ import annotations

import itertools
from typing import Any

DOMAIN = "crm.localhost"
BOT = f"@crm_bot:{DOMAIN}"
BRIDGE_BOT = f"@whatsappbot:{DOMAIN}"
OWNER_PHONE = "15550000001"

_ids = itertools.count(1)
_clock = itertools.count(1_700_000_000_000, 1000)


def ghost(phone: str) -> str:
    return f"@whatsapp_{phone}:{DOMAIN}"


def event(
    room_id: str,
    event_type: str,
    sender: str,
    content: dict[str, Any],
    state_key: str | None = None,
    ts: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    ev: dict[str, Any] = {
        "event_id": f"$ev{next(_ids)}",
        "room_id": room_id,
        "type": event_type,
        "sender": sender,
        "origin_server_ts": ts if ts is not None else next(_clock),
        "content": content,
        "unsigned": {"age": 5},
    }
    if state_key is not None:
        ev["state_key"] = state_key
    ev.update(extra)
    return ev


def bridge_state(
    room_id: str,
    chat_id: str,
    name: str | None = "Chat",
    dm: bool = True,
    platform: str = "whatsapp",
    state_type: str = "m.bridge",
) -> dict[str, Any]:
    content: dict[str, Any] = {
        "bridgebot": BRIDGE_BOT,
        "creator": BRIDGE_BOT,
        "protocol": {"id": platform, "displayname": platform.title()},
        "channel": {"id": chat_id, "displayname": name, "fi.mau.receiver": OWNER_PHONE},
    }
    if dm:
        content["com.beeper.room_type"] = "dm"
    # mautrix-go's bridgev2: "<homeserver domain>/<appservice id>" (GetUniqueBridgeID).
    return event(room_id, state_type, BRIDGE_BOT, content, state_key=f"{DOMAIN}/{platform}")


def member(
    room_id: str, user_id: str, name: str | None, membership: str = "join"
) -> dict[str, Any]:
    content: dict[str, Any] = {"membership": membership}
    if name is not None:
        content["displayname"] = name
    sender = user_id if membership == "join" else BRIDGE_BOT
    return event(room_id, "m.room.member", sender, content, state_key=user_id)


def invite(room_id: str) -> dict[str, Any]:
    """The bridge bot inviting the CRM's user: what makes a room the CRM's."""
    return member(room_id, BOT, None, membership="invite")


def text(room_id: str, sender: str, body: str, **kw: Any) -> dict[str, Any]:
    return event(room_id, "m.room.message", sender, {"msgtype": "m.text", "body": body}, **kw)


def portal(room_id: str, phone: str, name: str = "Alice") -> list[dict[str, Any]]:
    """A new one-to-one portal: bridge state, the contact's ghost and the CRM's invite."""
    return [
        bridge_state(room_id, f"{phone}@s.whatsapp.net", name=name),
        member(room_id, ghost(phone), f"{name} (WA)"),
        invite(room_id),
    ]


def receipt(room_id: str, event_id: str, user_id: str) -> dict[str, Any]:
    return {
        "type": "m.receipt",
        "room_id": room_id,
        "content": {event_id: {"m.read": {user_id: {"ts": next(_clock)}}}},
    }
