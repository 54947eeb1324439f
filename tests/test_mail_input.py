"""The way out never jams: addresses and header values are checked where they come in, and an
entry that breaks its sender anyway is that entry's failure, never everyone's delay."""

from __future__ import annotations

import time
from typing import Any

import asyncpg
import pytest

from crm_appservice.config import Settings
from crm_appservice.outbox.mail import MailSender

from . import factories as f, test_mail
from .conftest import API, ConfigFactory, Homeserver, offline_settings
from .test_mail import SMTPServer, until

smtp = test_mail.smtp  # a real SMTP server (aiosmtpd) on 127.0.0.1


@pytest.fixture
def settings(make_config: ConfigFactory, smtp: SMTPServer) -> Settings:
    return offline_settings(make_config, {
        "smtp.host": "127.0.0.1", "smtp.port": smtp.port, "smtp.tls": "none",
        "smtp.from": "Shop <inbox@shop.example>", "outbox.concurrency": 2,
        "outbox.retry_initial_delay": 0.2, "outbox.retry_max_delay": 0.4,
        "outbox.max_attempts": 3})  # fmt: skip


@pytest.fixture(autouse=True)
def boom_breaks_the_sender(monkeypatch: pytest.MonkeyPatch) -> None:
    """A reply whose text starts with "boom" makes sending it raise what nobody foresaw (set
    before the app starts: the worker takes its handlers then)."""
    reply = MailSender.reply

    async def breaks_on_boom(self: MailSender, conn: Any, entry: Any) -> Any:
        if (entry.body or "").startswith("boom"):
            raise ValueError("nobody foresaw this")
        return await reply(self, conn, entry)

    monkeypatch.setattr(MailSender, "reply", breaks_on_boom)


async def conversation(hs: Homeserver, db: asyncpg.Pool, n: int, email: str) -> int:
    room, phone = f"!mail{n}", f"3369000{n:04d}"
    await hs.ok([*f.portal(room, phone, f"Customer {n}"), f.text(room, f.ghost(phone), "hi")])
    conversation_id: int = await db.fetchval(
        "SELECT id FROM conversations WHERE room_id = $1", room
    )
    # As stored before the API checked addresses (or by a script writing the database).
    await db.execute(
        "UPDATE contacts SET email = $2 FROM conversations c"
        " WHERE c.id = $1 AND contacts.id = c.contact_id",
        conversation_id,
        email,
    )
    return conversation_id


async def mail(api: API, conversation_id: int, body: str) -> int:
    status, message = await api.call(
        "POST", f"/api/v1/conversations/{conversation_id}/messages",
        json={"client_txn_id": f"m-{body}", "body": body, "channel": "email"})  # fmt: skip
    assert status == 202, message
    return int(message["id"])


@pytest.mark.parametrize(
    ("path", "field", "value"),
    [
        ("contacts/{contact}", "email", "alice,bob@example.com"),
        ("contacts/{contact}", "email", "lea@customer.example\r\nBcc: all@example.com"),
        ("contacts/{contact}", "email", "not an address"),
        ("contacts/{contact}", "display_name", "Lea\r\nBcc: all@example.com"),
        ("managers", "name", "Olga\nBcc: all@example.com"),
        ("managers", "email", "olga,omar@shop.example"),
        ("conversations/{conversation}/messages", "subject", "Order\r\nBcc: all@example.com"),
    ],
)
async def test_addresses_and_header_values_are_checked_at_the_api(
    api: API, hs: Homeserver, db: asyncpg.Pool, path: str, field: str, value: str
) -> None:
    conversation_id = await conversation(hs, db, 1, "lea@customer.example")
    contact = await db.fetchval("SELECT contact_id FROM conversations WHERE id = $1",
                                conversation_id)  # fmt: skip
    url = "/api/v1/" + path.format(contact=contact, conversation=conversation_id)
    body: dict[str, Any] = {field: value}
    if path == "managers":
        body = {"email": "olga@shop.example", "name": "Olga", "password": "long enough!",
                **body}  # fmt: skip
    elif "messages" in path:
        body = {"client_txn_id": "s", "body": "hi", "channel": "email", **body}
    method = "PATCH" if path.startswith("contacts") else "POST"
    status, answer = await api.call(method, url, json=body)
    assert (status, answer["error"]["field"]) == (422, field), answer
    assert await db.fetchval("SELECT email FROM contacts WHERE id = $1", contact) == (
        "lea@customer.example"
    )


async def test_a_stored_address_that_does_not_parse_fails_at_once_and_alone(
    api: API, hs: Homeserver, db: asyncpg.Pool, smtp: SMTPServer
) -> None:
    bad = await mail(api, await conversation(hs, db, 1, "alice,bob@example.com"), "to-bad")
    second = await conversation(hs, db, 2, "lea@customer.example")
    # A WhatsApp name is the customer's to choose: nothing checked it for line breaks.
    await db.execute("UPDATE contacts SET display_name = 'Eve\r\nBcc: all@example.com'")
    good = await mail(api, second, "to-good")
    await until(lambda: test_mail._status(db, good, "sent"))
    await until(lambda: test_mail._status(db, bad, "failed"))
    error = await db.fetchval("SELECT error FROM messages WHERE id = $1", bad)
    assert "e-mail address is not valid" in error
    assert await db.fetchval("SELECT attempts FROM outbox WHERE message_id = $1", bad) == 1
    [sent] = smtp.mailbox.mails
    # The name with a line break went out as one line of the To: header, nothing more.
    assert sent["To"].addresses[0].display_name == "Eve Bcc: all@example.com"
    assert sent["Bcc"] is None


async def test_an_unexpected_error_is_that_entrys_failure_and_never_holds_the_others(
    api: API,
    hs: Homeserver,
    db: asyncpg.Pool,
    smtp: SMTPServer,
) -> None:
    """Entries whose sending raises something nobody foresaw are retried with backoff and
    then failed with a reason, while the other conversations' mail goes out at once."""
    broken = [await mail(api, await conversation(hs, db, n, f"c{n}@example.com"), f"boom{n}")
              for n in range(1, 7)]  # three times the senders  # fmt: skip
    started = time.monotonic()
    good = await mail(api, await conversation(hs, db, 9, "lea@customer.example"), "fine")
    await until(lambda: test_mail._status(db, good, "sent"))
    assert time.monotonic() - started < 2.0  # not behind the broken ones' 2 s naps
    for message_id in broken:
        await until(lambda m=message_id: test_mail._status(db, m, "failed"))
        row = await db.fetchrow(
            "SELECT m.error, o.attempts FROM messages m JOIN outbox o ON o.message_id = m.id"
            " WHERE m.id = $1",
            message_id,
        )
        assert row["attempts"] == 3
        assert row["error"].startswith("An unexpected error on the CRM (ValueError)")
