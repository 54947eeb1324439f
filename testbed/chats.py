"""What happens in a portal that is not the CRM's doing: contacts writing, reacting, reading,
deleting, and the business on its own phone, each as mautrix-whatsapp sends it into Matrix."""

from __future__ import annotations

from dataclasses import dataclass
import secrets
from typing import Any
from urllib.parse import quote

from .client import AppserviceClient

# mautrix-go appservice/appservice.go: the key a double puppet's events carry, with the bridge's
# name as its value.
DOUBLE_PUPPET_KEY = "fi.mau.double_puppet_source"
# appservice.username_template `whatsapp_{{.}}`.
GHOST_PREFIX = "whatsapp_"


@dataclass
class Portal:
    room_id: str
    chat_id: str
    name: str
    is_group: bool
    phones: list[str]
    receiver: str | None = None  # the login a one-to-one chat is of (fi.mau.receiver)


class ChatActions(AppserviceClient):
    """The emulator's senders; it sets the attributes below."""

    domain: str
    crm_user: str
    owner_phone: str
    double_puppet: bool
    # The CRM's as_token, which the bridge's double puppet acts with (double_puppet.secrets).
    crm_as_token: str | None

    def ghost(self, phone: str) -> str:
        """The ghost of a remote id: a phone's digits, or `lid-<n>` (pkg/waid)."""
        return f"@{GHOST_PREFIX}{phone}:{self.domain}"

    @property
    def own_ghost(self) -> str:
        return self.ghost(self.owner_phone)

    async def send_text(
        self,
        portal: Portal,
        phone: str,
        body: str,
        *,
        html: str | None = None,
        reply_to: str | None = None,
        ts: int | None = None,
        msgtype: str = "m.text",
    ) -> str:
        content: dict[str, Any] = {"msgtype": msgtype, "body": body}
        if html:
            content["format"] = "org.matrix.custom.html"
            content["formatted_body"] = html
        if reply_to:
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
        return await self.send(portal.room_id, self.ghost(phone), content, ts=ts)

    async def send_media(
        self,
        portal: Portal,
        phone: str,
        msgtype: str,
        data: bytes,
        mimetype: str,
        filename: str,
        *,
        caption: str | None = None,
        info: dict[str, Any] | None = None,
        thumbnail: tuple[bytes, str, int, int] | None = None,
        voice: bool = False,
        ts: int | None = None,
    ) -> str:
        sender = self.ghost(phone)
        url = await self.upload(sender, data, mimetype, filename)
        media_info: dict[str, Any] = {"mimetype": mimetype, "size": len(data), **(info or {})}
        if thumbnail:
            thumb_data, thumb_type, w, h = thumbnail
            media_info["thumbnail_url"] = await self.upload(
                sender, thumb_data, thumb_type, "thumbnail"
            )
            media_info["thumbnail_info"] = {"mimetype": thumb_type, "w": w, "h": h,
                                            "size": len(thumb_data)}  # fmt: skip
        # A captionless photo's body is empty (wa-media.go sets it from the file name before it
        # names the file); a document's is its file name.
        content: dict[str, Any] = {
            "msgtype": msgtype,
            "body": caption or (filename if msgtype == "m.file" else ""),
            "filename": filename,
            "url": url,
            "info": media_info,
        }
        if voice:
            content["org.matrix.msc3245.voice"] = {}
            content["org.matrix.msc1767.audio"] = {
                "duration": media_info.get("duration", 0),
                "waveform": [0, 512, 1024, 512, 0],
            }
        return await self.send(portal.room_id, sender, content, ts=ts)

    async def send_sticker(self, portal: Portal, phone: str, data: bytes, mimetype: str) -> str:
        sender = self.ghost(phone)
        url = await self.upload(sender, data, mimetype, "sticker.webp")
        info = {"mimetype": mimetype, "w": 512, "h": 512, "size": len(data)}
        content = {"body": "sticker", "url": url, "info": info}
        return await self.send(portal.room_id, sender, content, event_type="m.sticker")

    async def send_location(
        self, portal: Portal, phone: str, lat: float, lon: float, name: str = "", address: str = ""
    ) -> str:
        """As pkg/msgconv/wa-location.go words it: a name (the coordinates when it has none),
        the address and a maps link, and geo:%.5f,%.5f."""
        if not name:
            name = (f"{abs(lat):.4f}° {'N' if lat >= 0 else 'S'} "
                    f"{abs(lon):.4f}° {'E' if lon >= 0 else 'W'}")  # fmt: skip
        url = f"https://maps.google.com/?q={lat:.5f},{lon:.5f}"
        content = {
            "msgtype": "m.location",
            "body": f"Location: {name}\n{address}\n{url}",
            "format": "org.matrix.custom.html",
            "formatted_body": f'Location: <a href="{url}">{name}</a><br>{address}',
            "geo_uri": f"geo:{lat:.5f},{lon:.5f}",
        }
        return await self.send(portal.room_id, self.ghost(phone), content)

    async def edit(self, portal: Portal, phone: str, event_id: str, body: str) -> str:
        content = {
            "msgtype": "m.text",
            "body": f"* {body}",
            "m.new_content": {"msgtype": "m.text", "body": body},
            "m.relates_to": {"rel_type": "m.replace", "event_id": event_id},
        }
        return await self.send(portal.room_id, self.ghost(phone), content)

    async def react(self, portal: Portal, phone: str, event_id: str, key: str) -> str:
        content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}
        return await self.send(portal.room_id, self.ghost(phone), content, "m.reaction")

    async def change_reaction(
        self, portal: Portal, phone: str, old_reaction: str, event_id: str, key: str
    ) -> str:
        """WhatsApp keeps one reaction per person: a new one is the old one's redaction and a
        new reaction (bridgev2 portal.go handleRemoteReaction)."""
        await self.redact(portal, phone, old_reaction)
        return await self.react(portal, phone, event_id, key)

    # --- what the business does on its own phone ------------------------------------------

    def _own(self, content: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Who speaks for the business's phone, and the mark a double puppet's events carry
        (mautrix-go appservice/intent.go, AddDoublePuppetValue)."""
        if self.double_puppet:
            return self.crm_user, {**content, DOUBLE_PUPPET_KEY: "mautrix-whatsapp"}
        return self.own_ghost, content

    async def send_from_phone(self, portal: Portal, body: str) -> str:
        sender, content = self._own({"msgtype": "m.text", "body": body})
        token = self.crm_as_token if self.double_puppet else None
        return await self.send(portal.room_id, sender, content, token=token)

    async def read_on_phone(self, portal: Portal, event_id: str) -> None:
        await self.receipt(portal.room_id, self._own({})[0], event_id,
                           token=self.crm_as_token if self.double_puppet else None)  # fmt: skip

    async def redact(self, portal: Portal, phone: str, event_id: str) -> str:
        txn = f"emu{next(self._txn_ids)}-{secrets.token_hex(4)}"
        resp = await self.request(
            "PUT",
            f"/_matrix/client/v3/rooms/{quote(portal.room_id)}/redact/{quote(event_id)}/{txn}",
            user_id=self.ghost(phone),
            body={},
        )
        return str(resp["event_id"])

    async def read(self, portal: Portal, phone: str, event_id: str) -> None:
        await self.receipt(portal.room_id, self.ghost(phone), event_id)

    async def receipt(
        self, room_id: str, user_id: str, event_id: str, token: str | None = None
    ) -> None:
        await self.request(
            "POST",
            f"/_matrix/client/v3/rooms/{quote(room_id)}/receipt/m.read/{quote(event_id)}",
            user_id=user_id,
            body={},
            token=token,
        )
