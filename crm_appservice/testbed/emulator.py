"""A bridge emulator: a second appservice that plays mautrix-whatsapp on a real Synapse.

WhatsApp cannot be reached from here, so this emulator does what the bridge does in Matrix, with
the same event formats (see the bridge-events notes in the shared docs): ghost users
`@whatsapp_<phone>`, the bridge bot `@whatsappbot`, portal rooms carrying `m.bridge` state with the
CRM's user invited, every message kind (media uploaded to Synapse's media repository), replies,
edits, reactions, deletions, and backfill with past timestamps (`?ts=`). When the CRM's user sends
into a portal it answers like the bridge: a `com.beeper.message_send_status` event, the bot's
delivery receipt and the contact's read receipt, or a failure with an error notice.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
import hmac
import itertools
import logging
import secrets
from typing import Any
from urllib.parse import quote

import aiohttp
from aiohttp import web

from .answers import Outcome, answer
from .client import AppserviceClient
from .provisioning import Provisioning

log = logging.getLogger("crm.testbed.emulator")

BOT_LOCALPART = "whatsappbot"
GHOST_PREFIX = "whatsapp_"
APPSERVICE_ID = "whatsapp"


def registration(domain: str, url: str, as_token: str, hs_token: str) -> dict[str, Any]:
    """The emulator's own registration, the way mautrix-whatsapp generates one."""
    escaped = domain.replace(".", "\\.")
    return {
        "id": APPSERVICE_ID,
        "url": url,
        "as_token": as_token,
        "hs_token": hs_token,
        "sender_localpart": BOT_LOCALPART,
        "namespaces": {
            "users": [
                {"exclusive": True, "regex": f"@{BOT_LOCALPART}:{escaped}"},
                {"exclusive": True, "regex": f"@{GHOST_PREFIX}.*:{escaped}"},
            ],
            "aliases": [],
            "rooms": [],
        },
        "rate_limited": False,
        "receive_ephemeral": True,
        "de.sorunome.msc2409.push_ephemeral": True,
    }


@dataclass
class Portal:
    room_id: str
    chat_id: str
    name: str
    is_group: bool
    phones: list[str]


@dataclass
class SentByCRM:
    """A message the CRM's user sent into a portal, as the emulator saw it."""

    room_id: str
    event_id: str
    content: dict[str, Any]


@dataclass
class BridgeEmulator(AppserviceClient):
    homeserver: str
    domain: str
    crm_user: str
    owner_phone: str = "15550000001"
    as_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    hs_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    port: int = 0
    outcome: Outcome = field(default_factory=Outcome)
    provisioning_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))

    def __post_init__(self) -> None:
        self.bot = f"@{BOT_LOCALPART}:{self.domain}"
        self.portals: dict[str, Portal] = {}
        self.sent_by_crm: list[SentByCRM] = []
        # (room, event) of every read receipt of the CRM's user in a portal: the bridge marks
        # the chat read on WhatsApp up to that message.
        self.read_by_crm: list[tuple[str, str]] = []
        self._txn_ids = itertools.count(1)
        self._registered: set[str] = set()
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.provisioning = Provisioning(self, self.provisioning_secret)

    # --- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def registration(self) -> dict[str, Any]:
        return registration(self.domain, self.url, self.as_token, self.hs_token)

    async def listen(self) -> None:
        """Start the HTTP side (transactions from Synapse, the provisioning API)."""
        app = web.Application()
        app.router.add_put("/_matrix/app/v1/transactions/{txn_id}", self._transaction)
        app.router.add_post("/_matrix/app/v1/ping", self._ping)
        self.provisioning.register(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        if not self.port:
            server = site._server
            assert server is not None
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def start(self) -> None:
        """Connect to the homeserver (after it has loaded the registration)."""
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        await self.ensure_user(self.bot)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._runner:
            await self._runner.cleanup()
        if self._session:
            await self._session.close()

    def ghost(self, phone: str) -> str:
        return f"@{GHOST_PREFIX}{phone}:{self.domain}"

    # --- portals ----------------------------------------------------------------------------

    async def create_portal(
        self,
        phone: str,
        name: str,
        *,
        group: str | None = None,
        members: dict[str, str] | None = None,
        owner: str | None = None,
        receiver: str | None = None,
    ) -> Portal:
        """A one-to-one portal with `phone` (or a group named `group` with `members`), of the
        CRM's user, or of `owner`: another Matrix user logged in to the same bridge with the
        WhatsApp number `receiver`, whose portals the homeserver pushes to the CRM too."""
        people = members or {phone: name}
        for member_phone, member_name in people.items():
            await self.ensure_user(self.ghost(member_phone), f"{member_name} (WA)")
        chat_id = f"{secrets.randbelow(10**12)}@g.us" if group else f"{phone}@s.whatsapp.net"
        title = group or name
        bridge_content: dict[str, Any] = {
            "bridgebot": self.bot,
            "creator": self.bot,
            "protocol": {
                "id": "whatsapp",
                "displayname": "WhatsApp",
                "external_url": "https://whatsapp.com",
            },
            "channel": {"id": chat_id, "displayname": title},
        }
        if not group:  # groups are one room for every login: no receiver (bridgev2)
            bridge_content["channel"]["fi.mau.receiver"] = receiver or self.owner_phone
        if not group:
            bridge_content["com.beeper.room_type"] = "dm"
            bridge_content["com.beeper.room_type.v2"] = "dm"
        # The state key is the bridge's unique id, "<domain>/<appservice id>" (bridgev2's
        # GetUniqueBridgeID).
        initial_state = [
            {"type": t, "state_key": f"{self.domain}/{APPSERVICE_ID}", "content": bridge_content}
            for t in ("m.bridge", "uk.half-shot.bridge")
        ]
        body: dict[str, Any] = {
            "preset": "private_chat",
            "initial_state": initial_state,
            "invite": [self.ghost(p) for p in people],
        }
        if group:
            body["name"] = group
        resp = await self.request("POST", "/_matrix/client/v3/createRoom", self.bot, body)
        room_id = str(resp["room_id"])
        for member_phone in people:
            await self.request(
                "POST",
                f"/_matrix/client/v3/rooms/{quote(room_id)}/join",
                user_id=self.ghost(member_phone),
                body={},
            )
        await self.request(
            "POST",
            f"/_matrix/client/v3/rooms/{quote(room_id)}/invite",
            self.bot,
            {"user_id": owner or self.crm_user},
        )
        portal = Portal(room_id, chat_id, title, bool(group), list(people))
        self.portals[room_id] = portal
        log.info("Portal %s for %s (%s)", room_id, title, chat_id)
        return portal

    # --- what contacts do ------------------------------------------------------------------

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
        content: dict[str, Any] = {
            "msgtype": msgtype,
            "body": caption or filename,
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
        self, portal: Portal, phone: str, lat: float, lon: float, name: str = "Location"
    ) -> str:
        content = {"msgtype": "m.location", "body": name, "geo_uri": f"geo:{lat},{lon};u=20"}
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

    async def receipt(self, room_id: str, user_id: str, event_id: str) -> None:
        await self.request(
            "POST",
            f"/_matrix/client/v3/rooms/{quote(room_id)}/receipt/m.read/{quote(event_id)}",
            user_id=user_id,
            body={},
        )

    # --- what the bridge does with the CRM's messages --------------------------------------

    def _check(self, request: web.Request) -> bool:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        return hmac.compare_digest(token.encode(), self.hs_token.encode())

    async def _ping(self, request: web.Request) -> web.Response:
        if not self._check(request):
            return web.json_response({"errcode": "M_FORBIDDEN"}, status=403)
        return web.json_response({})

    async def _transaction(self, request: web.Request) -> web.Response:
        if not self._check(request):
            return web.json_response({"errcode": "M_FORBIDDEN"}, status=403)
        body = await request.json()
        for event in body.get("events", []):
            if (
                event.get("type") == "m.room.message"
                and event.get("sender") == self.crm_user
                and event.get("room_id") in self.portals
            ):
                sent = SentByCRM(event["room_id"], event["event_id"], event.get("content", {}))
                self.sent_by_crm.append(sent)
                task = asyncio.create_task(answer(self, sent))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        ephemeral = body.get("ephemeral") or body.get("de.sorunome.msc2409.ephemeral") or []
        for edu in ephemeral:
            if edu.get("type") != "m.receipt" or edu.get("room_id") not in self.portals:
                continue
            for event_id, receipts in (edu.get("content") or {}).items():
                if self.crm_user in (receipts.get("m.read") or {}):
                    self.read_by_crm.append((edu["room_id"], event_id))
        return web.json_response({})
