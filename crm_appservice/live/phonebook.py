"""The numbers of LID contacts, from the bridge's contact list.

Since mautrix-whatsapp v26.08 a customer usually writes as a LID ghost (`@whatsapp_lid-<n>`),
and no room event carries their number: the bridge's provisioning API does, each item's
`identifiers` holding `tel:+…`. Its contact list (`GET /v3/contacts?login_id=`) has only the
people saved in the business phone's address book (the bridge skips those without a first or
full name, pkg/connector/startchat.go); most customers of a sales number never are, and only its
user search with an empty query (`POST /v3/search_users {"query": ""}`) lists them, by the
name they gave WhatsApp. Both are read, each on its own (a bridge without the search still
gives its contact list). Every instance
looks every CHECK seconds whether a LID ghost without a number has appeared since its last read
(`ghosts_created_idx`), and reads the list then, or every `bridge.contacts_interval` seconds
anyway (a customer's number can change). Learning the same number twice changes nothing, so
instances reading at once do no harm. The bridge's answer is hostile input like any other: only
a LID id with a well-formed E.164 number is taken, never a number made up from an id.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
import logging
import time
from typing import Any

import aiohttp

from .. import bridge
from ..config import Settings
from ..ingest.mautrix import E164, LID_ID
from ..store import feed, people
from ..store.database import Pool, every

log = logging.getLogger("crm.phonebook")

CHECK = 30.0
MAX_CONTACTS = 200_000  # of one login's answer, read at most

_NEW_LID_WITHOUT_PHONE = """
SELECT EXISTS (
    SELECT 1 FROM ghosts g JOIN contacts ct ON ct.id = g.contact_id
     WHERE g.created_at > $1 AND g.platform = 'whatsapp' AND g.remote_id LIKE 'lid-%'
       AND ct.phone IS NULL)
"""


# Where numbers come from: the address book, and everyone the account has talked to.
_SOURCES = [("GET", "/v3/contacts", None, "contacts"),
            ("POST", "/v3/search_users", {"query": ""}, "results")]  # fmt: skip


def numbers(answer: Any, key: str = "contacts") -> list[dict[str, str]]:
    """The LID ids and numbers of a contact list answer (`{"contacts": [...]}`, a search's
    `{"results": [...]}`), as `people.learn_phones` takes them; anything malformed is left out."""
    items = answer.get(key) if isinstance(answer, dict) else None
    if not isinstance(items, list):
        return []
    found = []
    for item in items[:MAX_CONTACTS]:
        if not isinstance(item, dict):
            continue
        remote_id, identifiers = item.get("id"), item.get("identifiers")
        if not isinstance(remote_id, str) or not LID_ID.fullmatch(remote_id):
            continue
        if not isinstance(identifiers, list):
            continue
        phone = next(
            (
                i[4:]
                for i in identifiers
                if isinstance(i, str) and i.startswith("tel:") and E164.fullmatch(i[4:])
            ),
            None,
        )
        if phone:
            learned = {"platform": "whatsapp", "remote_id": remote_id, "phone": phone}
            found.append({**learned, "source": "contacts" if key == "contacts" else "search"})
    return found


class Phonebook:
    def __init__(self, pool: Pool, settings: Settings, session: aiohttp.ClientSession) -> None:
        self.pool = pool
        self.settings = settings
        self.session = session
        self.read_at: datetime | None = None
        self._next = 0.0

    async def read(self) -> int:
        """Read every login's contact list and learn its numbers; how many conversations
        changed (their contact's phone)."""
        learned: list[dict[str, str]] = []
        failed: list[str] = []
        for login in await bridge.logins(self.session, self.settings):
            query = {"login_id": login}
            for method, path, body, key in _SOURCES:
                try:
                    answer = await bridge.request(self.session, self.settings, method, path,
                                                  body, query=query)  # fmt: skip
                except (bridge.BridgeError, ValueError) as e:
                    failed.append(f"{path} of {login}: {e}")
                    continue
                learned += numbers(answer, key)
        if failed and not learned:
            raise bridge.BridgeError("; ".join(failed))
        for reason in failed:
            log.warning("Part of the bridge's contacts could not be read: %s", reason)
        async with self.pool.acquire() as conn, conn.transaction():
            changed = await people.learn_phones(conn, learned)
            await feed.record(conn, [("conversation.updated", i) for i in changed])
        return len(changed)

    async def due(self) -> bool:
        if self.read_at is None or time.monotonic() >= self._next:
            return True
        async with self.pool.acquire() as conn:
            return bool(await conn.fetchval(_NEW_LID_WITHOUT_PHONE, self.read_at))

    async def check(self) -> None:
        if not await self.due():
            return
        # The database's clock, as the ghosts' creation times are (not this host's).
        async with self.pool.acquire() as conn:
            started: datetime = await conn.fetchval("SELECT now()")
        try:
            changed = await self.read()
        except (bridge.BridgeError, ValueError) as e:  # ValueError: an answer that is no JSON
            log.warning("The bridge's contact list could not be read: %s", e)
        else:
            if changed:
                log.info("Numbers from the bridge changed %d conversation(s)", changed)
        # Also after a failure: the next try waits for the next new ghost or the interval.
        self.read_at = started
        self._next = time.monotonic() + self.settings.bridge.contacts_interval

    async def run(self, stopping: asyncio.Event, interval: float = CHECK) -> None:
        await every(interval, stopping, self.check, "Reading the bridge's contacts", log)
