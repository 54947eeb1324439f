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
from dataclasses import dataclass, field, replace
import hmac
import itertools
import logging
import secrets
from typing import Any
from urllib.parse import quote

import aiohttp
from aiohttp import web

from crm_appservice.config import Settings

from .answers import Outcome, answer
from .chats import DOUBLE_PUPPET_KEY, GHOST_PREFIX, ChatActions, Portal
from .provisioning import Provisioning

log = logging.getLogger("crm.testbed.emulator")

BOT_LOCALPART = "whatsappbot"
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


def shown_name(name: str) -> str:
    """A ghost's display name as the bridge's template makes it (pkg/connector/config.go:
    `{{or .BusinessName .PushName .Phone .RedactedPhone "Unknown user"}} (WA)`)."""
    return name if name.endswith(" (WA)") else f"{name} (WA)"


@dataclass
class SentByCRM:
    """A message the CRM's user sent into a portal, as the emulator saw it."""

    room_id: str
    event_id: str
    content: dict[str, Any]


@dataclass
class BridgeEmulator(ChatActions):
    homeserver: str
    domain: str
    crm_user: str
    owner_phone: str = "15550000001"
    as_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    hs_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    port: int = 0
    outcome: Outcome = field(default_factory=Outcome)
    provisioning_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    # The bridge's `double_puppet.secrets` has the CRM's token: what the business types on its
    # phone, and its own reads, come as the CRM's user; without it, as the ghost of its own
    # number, which the bridge puts into every one-to-one chat (chatinfo.go wrapDMInfo).
    double_puppet: bool = False
    crm_as_token: str | None = None
    # bridge.personal_filtering_spaces and network.enable_status_broadcast, at the bridge's
    # defaults (the deployment turns both off).
    filtering_space: bool = False
    status_broadcast: bool = False

    def __post_init__(self) -> None:
        self.bot = f"@{BOT_LOCALPART}:{self.domain}"
        self.portals: dict[str, Portal] = {}
        self.sent_by_crm: list[SentByCRM] = []
        # What WhatsApp shows of the CRM's reactions: one per message (a new one replaces the
        # account's earlier one), by the reacted message's event id; and each reaction event
        # the CRM sent, with its target, so its redaction takes it back.
        self.reactions_on_whatsapp: dict[str, str] = {}
        self._crm_reactions: dict[str, tuple[str, str]] = {}
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

    @staticmethod
    def redacted(phone: str) -> str:
        """A phone number as the bridge shows one it may not tell: `+1∙∙∙∙∙∙∙∙80`."""
        plus = f"+{phone}"
        return plus[:2] + "∙" * (len(plus) - 4) + plus[-2:]

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
            await self.ensure_user(self.ghost(member_phone), shown_name(member_name))
        # A one-to-one chat is keyed by the customer's LID when known, else the phone's JID
        # (pkg/waid MakeUserID, mautrix/whatsapp #944).
        if group:
            chat_id = f"{secrets.randbelow(10**12)}@g.us"
        elif phone.startswith("lid-"):
            chat_id = f"{phone[4:]}@lid"
        else:
            chat_id = f"{phone}@s.whatsapp.net"
        title = group or name
        # Without double puppeting the business's own ghost is in every one-to-one chat.
        own = [] if group or self.double_puppet or owner else [self.owner_phone]
        if own:
            await self.ensure_user(self.own_ghost, f"+{self.owner_phone} (WA)")
        if not group:  # private_chat_portal_meta: the room has the ghost's name, suffix and all
            title = shown_name(name)
        initial_state = self.bridge_state(chat_id, title, group=bool(group),
                                          receiver=receiver or self.owner_phone)  # fmt: skip
        body: dict[str, Any] = {
            "preset": "private_chat",
            "initial_state": initial_state,
            "invite": [self.ghost(p) for p in [*people, *own]],
            "name": title,
        }
        resp = await self.request("POST", "/_matrix/client/v3/createRoom", self.bot, body)
        room_id = str(resp["room_id"])
        for member_phone in [*people, *own]:
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
        portal = Portal(room_id, chat_id, group or name, bool(group), list(people),
                        None if group else receiver or self.owner_phone)  # fmt: skip
        self.portals[room_id] = portal
        log.info("Portal %s for %s (%s)", room_id, title, chat_id)
        return portal

    def bridge_state(
        self, chat_id: str, title: str, *, group: bool, receiver: str | None
    ) -> list[dict[str, Any]]:
        """A portal's `m.bridge` and `uk.half-shot.bridge`, as bridgev2 writes them."""
        content: dict[str, Any] = {
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
            content["channel"]["fi.mau.receiver"] = receiver
            content["com.beeper.room_type"] = "dm"
            content["com.beeper.room_type.v2"] = "dm"
        # The state key is the bridge's unique id, "<domain>/<appservice id>" (bridgev2's
        # GetUniqueBridgeID).
        return [
            {"type": t, "state_key": f"{self.domain}/{APPSERVICE_ID}", "content": content}
            for t in ("m.bridge", "uk.half-shot.bridge")
        ]

    async def create_login_rooms(self) -> list[str]:
        """The rooms the bridge makes for a login that are no chat, as its config asks: the
        personal filtering space (bridgev2 space.go: an m.bridge with state key "", room type
        "personal_filtering_space", chat id "__personal_filtering_space__") and the status
        broadcast room (chatinfo.go, "WhatsApp Status Broadcast")."""
        rooms = []
        made: list[tuple[str | None, str, str]] = []
        if self.filtering_space:
            made.append(("personal_filtering_space", "__personal_filtering_space__", "WhatsApp"))
        if self.status_broadcast:
            made.append((None, "status@broadcast", "WhatsApp Status Broadcast"))
        for room_type, chat_id, name in made:
            content: dict[str, Any] = {
                "bridgebot": self.bot, "creator": self.bot,
                "protocol": {"id": "whatsapp", "displayname": "WhatsApp"},
                "channel": {"id": chat_id, "displayname": name,
                            "fi.mau.receiver": self.owner_phone},
            }  # fmt: skip
            key = "" if room_type else f"{self.domain}/{APPSERVICE_ID}"
            body: dict[str, Any] = {"preset": "private_chat", "name": name, "initial_state": [
                {"type": "m.bridge", "state_key": key, "content": content}]}  # fmt: skip
            if room_type:
                content["com.beeper.room_type.v2"] = room_type
                body["creation_content"] = {"type": "m.space"}
            resp = await self.request("POST", "/_matrix/client/v3/createRoom", self.bot, body)
            room_id = str(resp["room_id"])
            await self.request("POST", f"/_matrix/client/v3/rooms/{quote(room_id)}/invite",
                               self.bot, {"user_id": self.crm_user})  # fmt: skip
            rooms.append(room_id)
        return rooms

    # --- what the bridge does with the CRM's messages --------------------------------------

    def _check(self, request: web.Request) -> bool:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        return hmac.compare_digest(token.encode(), self.hs_token.encode())

    def _reaction_on_whatsapp(self, event: dict[str, Any]) -> None:
        content = event.get("content") or {}
        if event.get("type") == "m.reaction":
            relates = content.get("m.relates_to") or {}
            target, key = relates.get("event_id"), relates.get("key")
            if isinstance(target, str) and isinstance(key, str):
                self._crm_reactions[event["event_id"]] = (target, key)
                self.reactions_on_whatsapp[target] = key
        elif event.get("type") == "m.room.redaction":
            redacted = event.get("redacts") or content.get("redacts")
            found = self._crm_reactions.pop(redacted, None) if isinstance(redacted, str) else None
            if found and self.reactions_on_whatsapp.get(found[0]) == found[1]:
                del self.reactions_on_whatsapp[found[0]]

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
                and DOUBLE_PUPPET_KEY not in (event.get("content") or {})  # its own echo
            ):
                sent = SentByCRM(event["room_id"], event["event_id"], event.get("content", {}))
                self.sent_by_crm.append(sent)
                task = asyncio.create_task(answer(self, sent))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            if event.get("sender") == self.crm_user and event.get("room_id") in self.portals:
                self._reaction_on_whatsapp(event)
        ephemeral = body.get("ephemeral") or body.get("de.sorunome.msc2409.ephemeral") or []
        for edu in ephemeral:
            if edu.get("type") != "m.receipt" or edu.get("room_id") not in self.portals:
                continue
            for event_id, receipts in (edu.get("content") or {}).items():
                if self.crm_user in (receipts.get("m.read") or {}):
                    self.read_by_crm.append((edu["room_id"], event_id))
        return web.json_response({})


def with_bridge(settings: Settings, emu: BridgeEmulator, **bridge: Any) -> Settings:
    """The settings with the emulator's provisioning API configured (and `bridge` keys): the
    Team → WhatsApp page and "+ New conversation" talk to it as to the bridge's."""
    url = f"{emu.url}/_matrix/provision"
    return replace(settings, bridge=replace(settings.bridge, provisioning_url=url,
                                            provisioning_secret=emu.provisioning_secret,
                                            **bridge))  # fmt: skip
