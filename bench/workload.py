"""The ingest benchmarks' traffic: realistic mautrix-whatsapp transactions over ROOMS portals
(text, some HTML, replies, media, the CRM's own messages, edits, reactions, deletions, send
statuses, and read receipts as ephemeral events), the same for a given seed."""

from __future__ import annotations

import itertools
import random
from typing import Any

from .common import BOT, BRIDGE_BOT, DOMAIN

ROOMS = 500
EVENTS_PER_TXN = 100

_ids = itertools.count(1)
_clock = itertools.count(1_750_000_000_000, 7)


def next_id() -> int:
    """A number no other event or transaction of this run has."""
    return next(_ids)


def next_ts() -> int:
    """A timestamp after every earlier one of this run."""
    return next(_clock)


class Workload:
    """Realistic mautrix-whatsapp traffic over ROOMS portals."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.rooms = [f"!bench{i}:{DOMAIN}" for i in range(ROOMS)]
        self.phones = {room: f"4917{i:08d}" for i, room in enumerate(self.rooms)}
        self.incoming: list[tuple[str, str, str]] = []  # (room, sender, event_id)
        self.outgoing: list[tuple[str, str]] = []  # (room, event_id)

    def ghost(self, room: str) -> str:
        return f"@whatsapp_{self.phones[room]}:{DOMAIN}"

    def event(
        self,
        room: str,
        etype: str,
        sender: str,
        content: dict[str, Any],
        state_key: str | None = None,
    ) -> dict[str, Any]:
        ev = {
            "event_id": f"$bench{next_id()}",
            "room_id": room,
            "type": etype,
            "sender": sender,
            "origin_server_ts": next_ts(),
            "content": content,
            "unsigned": {"age": 3},
        }
        if state_key is not None:
            ev["state_key"] = state_key
        return ev

    def portals(self) -> list[list[dict[str, Any]]]:
        """Setup transactions: bridge state, the contact's ghost and the CRM's invite for every
        room."""
        events = []
        for room in self.rooms:
            phone = self.phones[room]
            events.append(
                self.event(
                    room,
                    "m.bridge",
                    BRIDGE_BOT,
                    {
                        "bridgebot": BRIDGE_BOT,
                        "com.beeper.room_type": "dm",
                        "protocol": {"id": "whatsapp", "displayname": "WhatsApp"},
                        "channel": {
                            "id": f"{phone}@s.whatsapp.net",
                            "displayname": f"Customer {phone}",
                            "fi.mau.receiver": "4915550000000",
                        },
                    },
                    state_key=f"{DOMAIN}/whatsapp",
                )
            )
            events.append(
                self.event(
                    room,
                    "m.room.member",
                    self.ghost(room),
                    {"membership": "join", "displayname": f"Customer {phone} (WA)"},
                    state_key=self.ghost(room),
                )
            )
            # The bridge invites the CRM's user: what makes the portal the CRM's.
            events.append(
                self.event(
                    room, "m.room.member", BRIDGE_BOT, {"membership": "invite"}, state_key=BOT
                )
            )
        return [events[i : i + EVENTS_PER_TXN] for i in range(0, len(events), EVENTS_PER_TXN)]

    def _text(self, room: str) -> dict[str, Any]:
        r = self.rng.random()
        body = "Hi, is the item still available? " * self.rng.randint(1, 3)
        content: dict[str, Any] = {"msgtype": "m.text", "body": body}
        if r < 0.15:
            content["format"] = "org.matrix.custom.html"
            content["formatted_body"] = "<b>Hi</b>, is the <i>item</i> still available?"
        elif r < 0.25 and self.incoming:
            target = self.rng.choice(self.incoming[-500:])
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": target[2]}}
        ev = self.event(room, "m.room.message", self.ghost(room), content)
        self.incoming.append((room, ev["sender"], ev["event_id"]))
        return ev

    def _media(self, room: str) -> dict[str, Any]:
        kind = self.rng.choice(["m.image", "m.image", "m.video", "m.audio", "m.file"])
        info: dict[str, Any] = {
            "mimetype": "image/jpeg",
            "size": 123456,
            "w": 1280,
            "h": 960,
            "thumbnail_url": f"mxc://{DOMAIN}/thumb{next_id()}",
            "thumbnail_info": {"mimetype": "image/jpeg", "w": 320, "h": 240},
        }
        content: dict[str, Any] = {
            "msgtype": kind,
            "body": "photo.jpg",
            "filename": "photo.jpg",
            "url": f"mxc://{DOMAIN}/media{next_id()}",
            "info": info,
        }
        if kind == "m.audio":
            content["org.matrix.msc3245.voice"] = {}
            content["org.matrix.msc1767.audio"] = {"duration": 4100, "waveform": [0, 9, 30]}
            info["mimetype"] = "audio/ogg"
        ev = self.event(room, "m.room.message", self.ghost(room), content)
        self.incoming.append((room, ev["sender"], ev["event_id"]))
        return ev

    def transaction(self) -> dict[str, Any]:
        events: list[dict[str, Any]] = []
        ephemeral: list[dict[str, Any]] = []
        rng = self.rng
        while len(events) < EVENTS_PER_TXN:
            room = rng.choice(self.rooms)
            r = rng.random()
            if r < 0.66 or not self.incoming:
                events.append(self._text(room))
            elif r < 0.74:
                events.append(self._media(room))
            elif r < 0.78:
                ev = self.event(
                    room,
                    "m.room.message",
                    BOT,
                    {"msgtype": "m.text", "body": "Yes, it is in stock!"},
                )
                self.outgoing.append((room, ev["event_id"]))
                events.append(ev)
            elif r < 0.83:
                t_room, sender, target = rng.choice(self.incoming[-2000:])
                events.append(
                    self.event(
                        t_room,
                        "m.room.message",
                        sender,
                        {
                            "msgtype": "m.text",
                            "body": "* corrected",
                            "m.new_content": {"msgtype": "m.text", "body": "corrected"},
                            "m.relates_to": {"rel_type": "m.replace", "event_id": target},
                        },
                    )
                )
            elif r < 0.90:
                t_room, sender, target = rng.choice(self.incoming[-2000:])
                events.append(
                    self.event(
                        t_room,
                        "m.reaction",
                        sender,
                        {
                            "m.relates_to": {
                                "rel_type": "m.annotation",
                                "event_id": target,
                                "key": "👍",
                            }
                        },
                    )
                )
            elif r < 0.92:
                t_room, sender, target = rng.choice(self.incoming[-2000:])
                events.append(self.event(t_room, "m.room.redaction", sender, {"redacts": target}))
            elif self.outgoing:
                o_room, target = rng.choice(self.outgoing[-300:])
                events.append(
                    self.event(
                        o_room,
                        "com.beeper.message_send_status",
                        BRIDGE_BOT,
                        {
                            "m.relates_to": {"rel_type": "m.reference", "event_id": target},
                            "status": "SUCCESS",
                            "delivered_to_users": [self.ghost(o_room)],
                        },
                    )
                )
        for _ in range(5):
            if self.outgoing:
                o_room, target = rng.choice(self.outgoing[-300:])
                ephemeral.append(
                    {
                        "type": "m.receipt",
                        "room_id": o_room,
                        "content": {target: {"m.read": {self.ghost(o_room): {"ts": next_ts()}}}},
                    }
                )
        return {"events": events, "ephemeral": ephemeral}
