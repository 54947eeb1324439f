"""The emulator's share of the bridgev2 provisioning API (`/_matrix/provision/v3/...`).

Login flows `qr` and `phone` behave like mautrix-whatsapp's: a QR step whose code is refreshed
while nobody scans it, or a phone-number input followed by a pairing code. Whoever drives the
test "scans" with :meth:`Provisioning.complete`, or lets `auto_complete_after` do it (the demo).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
import hmac
import re
import secrets
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from .emulator import BridgeEmulator

PREFIX = "/_matrix/provision/v3"
FLOWS = [
    {"id": "qr", "name": "QR code", "description": "Scan a QR code with the WhatsApp app"},
    {"id": "phone", "name": "Pairing code",
     "description": "Enter your phone number, then a pairing code in the WhatsApp app"},
]  # fmt: skip
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PHONE = re.compile(r"^\+?[0-9]{6,15}$")


@dataclass
class LoginProcess:
    id: str
    flow: str
    step: str
    done: asyncio.Event = field(default_factory=asyncio.Event)
    cancelled: bool = False
    phone: str | None = None


def _error(status: int, errcode: str, message: str) -> web.Response:
    return web.json_response({"errcode": errcode, "error": message}, status=status)


class Provisioning:
    def __init__(self, emulator: BridgeEmulator, secret: str) -> None:
        self.emulator = emulator
        self.secret = secret
        self.logins: list[str] = []
        self.processes: dict[str, LoginProcess] = {}
        self.qr_refresh = 20.0
        self.auto_complete_after: float | None = None

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

    @web.middleware
    async def _auth_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(PREFIX):
            header = request.headers.get("Authorization", "")
            if not header.startswith("Bearer "):
                return _error(401, "M_MISSING_TOKEN", "Missing auth token")
            if not hmac.compare_digest(header[7:].encode(), self.secret.encode()):
                return _error(401, "M_UNKNOWN_TOKEN", "Invalid auth token")
        return await handler(request)

    @staticmethod
    def _display(process: LoginProcess, kind: str, data: str, instructions: str) -> dict[str, Any]:
        return {
            "login_id": process.id,
            "type": "display_and_wait",
            "step_id": process.step,
            "instructions": instructions,
            "display_and_wait": {"type": kind, "data": data},
        }

    def complete(self, login_id: str | None = None) -> None:
        """Finish a login as if the phone had scanned the code (the newest one by default)."""
        process = self.processes[login_id] if login_id else list(self.processes.values())[-1]
        process.done.set()

    def _qr_step(self, process: LoginProcess) -> dict[str, Any]:
        process.step = "fi.mau.whatsapp.login.qr"
        code = f"2@{secrets.token_urlsafe(24)},{secrets.token_urlsafe(16)},{secrets.token_hex(8)}"
        return self._display(process, "qr", code, "Scan the QR code with the WhatsApp app")

    async def whoami(self, request: web.Request) -> web.Response:
        emu = self.emulator
        logins = [
            {
                "id": login,
                "name": f"+{login}",
                "state": {"state_event": "CONNECTED", "timestamp": 0},
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
        flow = request.match_info["flow"]
        process = LoginProcess(id=secrets.token_hex(8), flow=flow, step="")
        if flow == "qr":
            self.processes[process.id] = process
            self._schedule_auto_complete(process)
            return web.json_response(self._qr_step(process))
        if flow == "phone":
            self.processes[process.id] = process
            process.step = "fi.mau.whatsapp.login.phone"
            return web.json_response(
                {
                    "login_id": process.id,
                    "type": "user_input",
                    "step_id": process.step,
                    "instructions": "Enter the phone number of your WhatsApp account",
                    "user_input": {"fields": [{"type": "phone_number", "id": "phone_number",
                                               "name": "Phone number",
                                               "description": "With the country code, e.g. +1"}]},
                }
            )  # fmt: skip
        return _error(404, "M_NOT_FOUND", "Unknown login flow")

    def _schedule_auto_complete(self, process: LoginProcess) -> None:
        if self.auto_complete_after is not None:
            loop = asyncio.get_running_loop()
            loop.call_later(self.auto_complete_after, process.done.set)

    async def user_input(self, request: web.Request) -> web.Response:
        process = self.processes.get(request.match_info["login"])
        if process is None or process.flow != "phone":
            return _error(404, "M_NOT_FOUND", "Login not found")
        try:
            data = await request.json()
        except ValueError:
            return _error(400, "M_NOT_JSON", "Failed to decode request body")
        phone = str(data.get("phone_number", ""))
        if not PHONE.match(phone):
            return _error(400, "M_BAD_STATE", "Invalid phone number")
        process.phone = phone.lstrip("+")
        process.step = "fi.mau.whatsapp.login.code"
        self._schedule_auto_complete(process)
        code = f"{secrets.token_hex(2).upper()}-{secrets.token_hex(2).upper()}"
        instructions = "Enter this code in WhatsApp: Linked devices > Link with phone number"
        return web.json_response(self._display(process, "code", code, instructions))

    async def wait(self, request: web.Request) -> web.Response:
        process = self.processes.get(request.match_info["login"])
        if process is None:
            return _error(404, "M_NOT_FOUND", "Login not found")
        try:
            await asyncio.wait_for(process.done.wait(), self.qr_refresh)
        except TimeoutError:
            if process.flow == "qr" and not process.cancelled:
                return web.json_response(self._qr_step(process))
            return _error(400, "M_BAD_STATE", "Login timed out")
        self.processes.pop(process.id, None)
        if process.cancelled:
            return _error(400, "M_BAD_STATE", "Login was cancelled")
        login_id = process.phone or self.emulator.owner_phone
        if login_id not in self.logins:
            self.logins.append(login_id)
        return web.json_response(
            {
                "login_id": process.id,
                "type": "complete",
                "step_id": "fi.mau.whatsapp.login.complete",
                "instructions": f"Successfully logged in as +{login_id}",
                "complete": {"user_login_id": login_id},
            }
        )

    async def cancel(self, request: web.Request) -> web.Response:
        process = self.processes.get(request.match_info["login"])
        if process is None:
            return _error(404, "M_NOT_FOUND", "Login not found")
        process.cancelled = True
        process.done.set()
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

    def _resolved(self, phone: str, room_id: str | None = None) -> dict[str, Any]:
        resolved: dict[str, Any] = {
            "id": phone,
            "name": f"+{phone}",
            "identifiers": [f"tel:+{phone}"],
            "mxid": self.emulator.ghost(phone),
        }
        if room_id:
            resolved["dm_room_mxid"] = room_id
        return resolved

    async def create_dm(self, request: web.Request) -> web.Response:
        if not self.logins:
            return _error(404, "M_NOT_FOUND", "Login not found")
        phone = self._identifier(request)
        if phone is None:
            return _error(404, "M_NOT_FOUND", "That phone number is not on WhatsApp")
        for portal in self.emulator.portals.values():
            if not portal.is_group and portal.phones == [phone]:
                return web.json_response(self._resolved(phone, portal.room_id))
        portal = await self.emulator.create_portal(phone, f"+{phone}")
        # A room made just now is 201 Created (bridgev2 provisioning.go, PostCreateDM).
        return web.json_response(self._resolved(phone, portal.room_id), status=201)

    async def contacts(self, request: web.Request) -> web.Response:
        contacts = [
            self._resolved(p.phones[0], p.room_id)
            for p in self.emulator.portals.values()
            if not p.is_group
        ]
        return web.json_response({"contacts": contacts})
