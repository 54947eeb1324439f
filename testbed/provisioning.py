"""The emulator's share of the bridgev2 provisioning API (`/_matrix/provision/v3/...`).

Login flows `qr` and `phone` run as mautrix-whatsapp runs them (see login.py). Whoever drives
the test "scans" with :meth:`Provisioning.complete`, or lets `auto_complete_after` do it (the
demo).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import hashlib
import hmac
import re
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .login import LoginError, Logins

if TYPE_CHECKING:
    from .emulator import BridgeEmulator

PREFIX = "/_matrix/provision/v3"
# login.go GetLoginFlows.
_PAIR = "to pair the bridge to your WhatsApp account"
FLOWS = [
    {"id": "qr", "name": "QR", "description": f"Scan a QR code {_PAIR}"},
    {"id": "phone", "name": "Pairing code",
     "description": f"Input your phone number to get a pairing code, {_PAIR}"},
]  # fmt: skip
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PHONE = re.compile(r"^\+?[0-9]{6,15}$")


def _error(status: int, errcode: str, message: str) -> web.Response:
    return web.json_response({"errcode": errcode, "error": message}, status=status)


def _login_error(e: LoginError) -> web.Response:
    return _error(e.status, e.errcode, e.message)


class Provisioning:
    def __init__(self, emulator: BridgeEmulator, secret: str) -> None:
        self.emulator = emulator
        self.secret = secret
        self.flow = Logins(emulator.owner_phone)
        # The numbers the bridge knows for LIDs (chats opened with a number, a test's say) and
        # those saved in the business phone's address book: only these are in its contact list.
        self.numbers: set[str] = set()
        self.saved: set[str] = set()
        self.search_supported = True
        # A login's bridge state as whoami says it (CONNECTED unless a test says otherwise).
        self.states: dict[str, dict[str, Any]] = {}
        self.auto_complete_after: float | None = None

    @property
    def logins(self) -> list[str]:
        return self.flow.logins

    def register(self, app: web.Application) -> None:
        app.middlewares.append(self._auth_middleware)
        r = app.router
        r.add_get(f"{PREFIX}/whoami", self.whoami)
        r.add_get(f"{PREFIX}/login/flows", self.flows)
        r.add_get(f"{PREFIX}/logins", self.list_logins)
        r.add_post(f"{PREFIX}/login/start/{{flow}}", self.start)
        r.add_post(f"{PREFIX}/login/step/{{login}}/{{step}}/display_and_wait", self.wait)
        r.add_post(f"{PREFIX}/login/step/{{login}}/{{step}}/user_input", self.user_input)
        r.add_post(f"{PREFIX}/login/cancel/{{login}}", self.cancel)
        r.add_post(f"{PREFIX}/logout/{{login}}", self.logout)
        r.add_get(f"{PREFIX}/resolve_identifier/{{identifier}}", self.resolve)
        r.add_post(f"{PREFIX}/create_dm/{{identifier}}", self.create_dm)
        r.add_get(f"{PREFIX}/contacts", self.contacts)
        r.add_post(f"{PREFIX}/search_users", self.search_users)

    @web.middleware
    async def _auth_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(PREFIX):
            header = request.headers.get("Authorization", "")
            if not header.startswith("Bearer "):
                return _error(401, "M_MISSING_TOKEN", "Missing auth token")
            if not hmac.compare_digest(header[7:].encode(), self.secret.encode()):
                return _error(401, "M_UNKNOWN_TOKEN", "Invalid auth token")
        return await handler(request)

    def complete(self, login_id: str | None = None) -> None:
        """Finish a login as if the phone had scanned the code (the newest one by default)."""
        self.flow.complete(login_id)

    async def whoami(self, request: web.Request) -> web.Response:
        emu = self.emulator
        logins = [
            {
                "id": login,
                "name": f"+{login}",
                "state": self.states.get(login) or {"state_event": "CONNECTED", "timestamp": 0},
                "profile": {"phone": f"+{login}"},
            }
            for login in self.logins
        ]
        return web.json_response(
            {
                "network": {"displayname": "WhatsApp", "network_id": "whatsapp",
                            "network_url": "https://whatsapp.com", "network_icon": "",
                            "beeper_bridge_type": "whatsapp"},
                "login_flows": FLOWS,
                "homeserver": emu.domain,
                "bridge_bot": emu.bot,
                "command_prefix": "!wa",
                "logins": logins,
            }
        )  # fmt: skip

    async def flows(self, request: web.Request) -> web.Response:
        return web.json_response({"flows": FLOWS})

    async def list_logins(self, request: web.Request) -> web.Response:
        return web.json_response({"login_ids": self.logins})

    async def start(self, request: web.Request) -> web.Response:
        step = self.flow.start(request.match_info["flow"])
        if self.auto_complete_after is not None:
            login_id = step["login_id"]

            def scan() -> None:
                if login_id in self.flow.processes:
                    self.flow.complete(login_id)

            asyncio.get_running_loop().call_later(self.auto_complete_after, scan)
        return web.json_response(step)

    async def user_input(self, request: web.Request) -> web.Response:
        try:
            process = self.flow.get(request.match_info["login"], request.match_info["step"])
            data = await request.json()
            return web.json_response(
                self.flow.phone_number(process, str(data.get("phone_number", "")))
            )
        except LoginError as e:
            return _login_error(e)
        except (ValueError, AttributeError):
            return _error(400, "M_NOT_JSON", "Failed to decode request body")

    async def wait(self, request: web.Request) -> web.Response:
        try:
            process = self.flow.get(request.match_info["login"], request.match_info["step"])
        except LoginError as e:
            return _login_error(e)
        try:
            answer = web.json_response(await self.flow.wait(process, request.query.get("txn_id")))
        except LoginError as e:
            answer = _login_error(e)
        if request.transport is not None and not request.transport.is_closing():
            self.flow.told(process)
        return answer

    async def cancel(self, request: web.Request) -> web.Response:
        try:
            self.flow.cancel(request.match_info["login"])
        except LoginError as e:
            return _login_error(e)
        return web.json_response({})

    async def logout(self, request: web.Request) -> web.Response:
        login = request.match_info["login"]
        if login == "all":
            self.logins.clear()
        elif login in self.logins:
            self.logins.remove(login)
        else:
            return _error(404, "M_NOT_FOUND", "Login not found")
        return web.json_response({})

    def _identifier(self, request: web.Request) -> str | None:
        identifier = request.match_info["identifier"].strip()
        return identifier.lstrip("+") if PHONE.match(identifier) else None

    async def resolve(self, request: web.Request) -> web.Response:
        if not self.logins:
            return _error(404, "M_NOT_FOUND", "Login not found")
        phone = self._identifier(request)
        if phone is None:
            return _error(404, "M_NOT_FOUND", "That phone number is not on WhatsApp")
        return web.json_response(self._resolved(phone))

    def lid(self, phone: str) -> str:
        """The LID WhatsApp gives a number (made up, the same every time)."""
        return "lid-" + str(int(hashlib.sha256(phone.encode()).hexdigest(), 16) % 10**14)

    def _resolved(
        self, phone: str, room_id: str | None = None, *, listed: bool = False
    ) -> dict[str, Any]:
        """A contact as the bridge answers for a number since v26.08: its LID ghost; the number
        among its identifiers only in the contact list (`listed`): resolve_identifier and
        create_dm strip it unless the bridge puts numbers in ghost profiles (bridgev2
        ghost.go), which it does not by default."""
        lid = self.lid(phone)
        resolved: dict[str, Any] = {
            "id": lid,
            "name": f"+{phone}",
            "mxid": self.emulator.ghost(lid),
        }
        if listed:
            resolved["identifiers"] = [f"tel:+{phone}"]
        if room_id:
            resolved["dm_room_mxid"] = room_id
        return resolved

    def _login(self, request: web.Request) -> str | None:
        """The login a call is for: `?login_id=`, else the smallest id (bridgev2's
        GetDefaultLogin); None when there is no such login."""
        wanted = request.query.get("login_id")
        if wanted is None:
            return min(self.logins) if self.logins else None
        return wanted if wanted in self.logins else None

    async def create_dm(self, request: web.Request) -> web.Response:
        login = self._login(request)
        if login is None:
            return _error(404, "M_NOT_FOUND", "Login not found")
        phone = self._identifier(request)
        if phone is None:
            return _error(404, "M_NOT_FOUND", "That phone number is not on WhatsApp")
        for portal in self.emulator.portals.values():
            if (not portal.is_group and portal.phones == [self.lid(phone)]
                    and portal.receiver == login):  # fmt: skip
                return web.json_response(self._resolved(phone, portal.room_id))
        # The LID chat of that login, its ghost named after the number the bridge knows.
        self.numbers.add(phone)
        portal = await self.emulator.create_portal(self.lid(phone), f"+{phone}", receiver=login)
        # A room made just now is 201 Created (bridgev2 provisioning.go, PostCreateDM).
        return web.json_response(self._resolved(phone, portal.room_id), status=201)

    def _known(self, login: str) -> list[tuple[str, str, str | None]]:
        """(number, name, room) of everyone the login's account has a number for: its one-to-one
        chats' customers (LID ones whose number the bridge knows), as WhatsApp's contact store
        holds them."""
        numbers = {self.lid(n): n for n in self.numbers}
        known: list[tuple[str, str, str | None]] = []
        for p in self.emulator.portals.values():
            remote = p.phones[0]
            number = numbers.get(remote) or (None if remote.startswith("lid-") else remote)
            if not p.is_group and number and p.receiver == login:
                known.append((number, p.name, p.room_id))
        return known

    async def contacts(self, request: web.Request) -> web.Response:
        """The contact list: only those saved in the phone's address book (getContactList skips
        a contact without a first or full name, pkg/connector/startchat.go)."""
        login = self._login(request)
        if login is None:
            return _error(404, "M_NOT_FOUND", "Login not found")
        contacts = [self._resolved(number, room, listed=True)
                    for number, _, room in self._known(login) if number in self.saved]  # fmt: skip
        return web.json_response({"contacts": contacts})

    async def search_users(self, request: web.Request) -> web.Response:
        """Everyone in the store whose name or id holds the query (lower-cased; "" is all),
        saved or not: `{"results": [...]}` (bridgev2 provisionutil SearchUsers)."""
        if not self.search_supported:  # a network without user search
            return _error(
                400, "M_UNRECOGNIZED", "This bridge does not support searching for users"
            )
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "M_NOT_JSON", "Failed to decode request body")
        query = body.get("query") if isinstance(body, dict) else None
        if not isinstance(query, str):
            return _error(400, "M_NOT_JSON", "Failed to decode request body")
        login = self._login(request)
        if login is None:
            return _error(404, "M_NOT_FOUND", "Login not found")
        query = query.lower()
        results = [
            self._resolved(number, room, listed=True)
            for number, name, room in self._known(login)
            if any(query in text for text in (name.lower(), self.lid(number)[4:], number))
        ]
        return web.json_response({"results": results})
