"""Read receipts: opening unread messages queues one receipt up to the contact's newest message
(`outbox.read_receipts`, on by default), and nothing when there was nothing unread or when it is
turned off. Sending it through Synapse to the bridge: tests/test_outbox.py."""

from __future__ import annotations

import asyncpg
import pytest

from crm_appservice.config import Settings

from . import factories as f
from .conftest import API, ConfigFactory, Homeserver, offline_settings


@pytest.fixture(params=[True, False], ids=["receipts on", "receipts off"])
def settings(request: pytest.FixtureRequest, make_config: ConfigFactory) -> Settings:
    return offline_settings(make_config, {"outbox.read_receipts": request.param})


async def test_reading_queues_one_receipt_up_to_the_newest_message(
    api: API, hs: Homeserver, db: asyncpg.Pool, settings: Settings
) -> None:
    phone = "4915000000077"
    first = f.text("!r", f.ghost(phone), "Hello?")
    newest = f.text("!r", f.ghost(phone), "Anyone there?")
    await hs.ok([*f.portal("!r", phone, "Rita"), first, newest])
    conv_id = await db.fetchval("SELECT id FROM conversations WHERE room_id = '!r'")
    status, read = await api.call("POST", f"/api/v1/conversations/{conv_id}/read")
    assert status == 200 and read["unread_count"] == 0
    status, _ = await api.call("POST", f"/api/v1/conversations/{conv_id}/read")
    assert status == 200
    queued = await db.fetch(
        "SELECT o.lane, m.event_id FROM outbox o JOIN messages m ON m.id = o.message_id"
        " WHERE o.action = 'read'"
    )
    if settings.outbox.read_receipts:
        assert [(r["lane"], r["event_id"]) for r in queued] == [("matrix", newest["event_id"])]
    else:
        assert queued == []
    status, err = await api.call("POST", "/api/v1/conversations/999999/read")
    assert (status, err["error"]["code"]) == (404, "not_found")
