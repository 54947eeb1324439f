"""`crm-appservice doctor`: checks a deployment piece by piece and says what to fix.

Each check prints one line, `ok` or `FAIL` with the reason and the fix; the exit status is 1 if
any failed. The checks follow the path data takes: the config, the database and its schema, the
registration the homeserver was given, the homeserver accepting the CRM's token, the homeserver
reaching the CRM (the appservice ping, which needs the CRM running), and the bridge's
provisioning API with a WhatsApp login.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import asyncpg
from ruamel.yaml import YAML

from . import bridge, secret_files
from .config import Settings
from .store import migrate
from .store.database import database_dsn
from .store.embedded import EmbeddedDatabaseError

TIMEOUT = aiohttp.ClientTimeout(total=15)


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


class Doctor:
    def __init__(self, settings: Settings, registration_path: str) -> None:
        self.settings = settings
        self.registration_path = registration_path
        self.dsn: str | None = None

    async def run(self, write: Callable[[str], Any] = print) -> bool:
        write(f"config: ok ({self.settings.path})")
        results: list[bool] = []

        async def check(name: str, step: Callable[[], Awaitable[str]]) -> None:
            try:
                write(f"{name}: ok ({await step()})")
                results.append(True)
            except Problem as p:
                write(f"{name}: FAIL: {p}")
                results.append(False)

        try:
            async with database_dsn(self.settings.database) as dsn:
                self.dsn = dsn
                await check("database", self.database)
                await check("schema", self.schema)
        except (OSError, EmbeddedDatabaseError) as e:
            write(f"database: FAIL: the embedded PostgreSQL does not start ({e})")
            results.append(False)
        await check("registration", self.registration)
        await check("homeserver", self.homeserver)
        await check("homeserver reaches the CRM", self.ping)
        await check("bridge", self.bridge)
        return all(results)

    async def database(self) -> str:
        dsn = self.dsn or self.settings.database.url
        try:
            conn = await asyncpg.connect(dsn, timeout=10)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as e:
            self.dsn = None
            raise Problem(
                f"cannot connect ({e}); check database.url and that PostgreSQL runs"
            ) from None
        try:
            version = await conn.fetchval("SHOW server_version")
        finally:
            await conn.close()
        return f"PostgreSQL {version}"

    async def schema(self) -> str:
        if self.dsn is None:
            raise Problem("not checked: the database cannot be reached")
        waiting = await asyncio.to_thread(migrate.pending, self.dsn)
        if waiting:
            raise Problem(
                f"{len(waiting)} migration(s) not applied ({', '.join(waiting)}): run"
                " `crm-appservice migrate`, or start the CRM, which applies them"
            )
        return "every migration applied"

    async def registration(self) -> str:
        aps = self.settings.appservice
        try:
            data = await asyncio.to_thread(_read_yaml, self.registration_path)
        except OSError as e:
            raise Problem(
                f"cannot read {self.registration_path} ({e.strerror}): run"
                " `crm-appservice generate-registration` and give it to the homeserver"
            ) from None
        if not isinstance(data, dict):
            raise Problem(f"{self.registration_path} is not a registration")
        if data.get("as_token") != aps.as_token or data.get("hs_token") != aps.hs_token:
            raise Problem(
                f"the tokens in {self.registration_path} differ from the config's: give the"
                " homeserver the registration that belongs to this config and restart it"
            )
        if data.get("url") != str(aps.address):
            raise Problem(f"it sends the homeserver to {data.get('url')}, the config says"
                          f" {aps.address}: generate it again")  # fmt: skip
        mode = secret_files.exposed_mode(self.registration_path)
        if mode is not None:  # works, but its tokens are anyone's: said, not failed
            warning = secret_files.describe(self.registration_path, mode)
            return f"matches the config; WARNING: {warning}"
        return f"{self.registration_path} matches the config"

    def _user(self) -> str:
        return bridge.acting_user(self.settings)

    async def _homeserver(self, method: str, path: str, **kw: Any) -> tuple[int, Any]:
        hs = self.settings.homeserver
        headers = {"Authorization": f"Bearer {self.settings.appservice.as_token}"}
        url = str(hs.address).rstrip("/") + path
        try:
            async with (
                aiohttp.ClientSession(timeout=TIMEOUT) as http,
                http.request(method, url, headers=headers, ssl=hs.verify_ssl, **kw) as resp,
            ):
                return resp.status, await resp.json(content_type=None)
        except (aiohttp.ClientError, OSError, TimeoutError) as e:
            raise Problem(
                f"cannot reach {hs.address} ({e or type(e).__name__}):"
                " check homeserver.address and that the homeserver runs"
            ) from None

    async def homeserver(self) -> str:
        status, body = await self._homeserver(
            "GET", "/_matrix/client/v3/account/whoami", params={"user_id": self._user()}
        )
        if status != 200:
            errcode = body.get("errcode") if isinstance(body, dict) else None
            raise Problem(f"it refused the appservice token ({status} {errcode}): add the"
                          " registration to app_service_config_files and restart it")  # fmt: skip
        return f"the CRM's token is accepted, as {body.get('user_id')}"

    async def ping(self) -> str:
        aps = self.settings.appservice
        status, body = await self._homeserver(
            "POST", f"/_matrix/client/v1/appservice/{aps.id}/ping", json={}
        )
        if status != 200:
            errcode = body.get("errcode") if isinstance(body, dict) else None
            raise Problem(f"the homeserver could not call the CRM at {aps.address} ({status}"
                          f" {errcode}): start the CRM, and check appservice.address is"
                          " reachable from the homeserver")  # fmt: skip
        return f"answered in {body.get('duration_ms', '?')} ms"

    async def bridge(self) -> str:
        try:
            async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
                found = await bridge.logins(http, self.settings)
        except bridge.BridgeError as e:
            raise Problem(str(e)) from None
        if not found:
            raise Problem("the bridge has no WhatsApp login: connect WhatsApp from the inbox's"
                          " admin page")  # fmt: skip
        return f"{len(found)} login(s)"


class Problem(Exception):
    """A failed check: what is wrong and what to do."""


def _read_yaml(path: str) -> Any:
    with open(path) as f:
        return YAML(typ="safe").load(f)
