"""E-mail through the outbox, against a real SMTP server (aiosmtpd on 127.0.0.1): replies to
contacts by e-mail, and notifications of offline managers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
import os
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
import asyncpg
import pytest

from crm_appservice.config import Settings
from testbed.synapse import free_port

from . import factories as f
from .conftest import API, PASSWORD, ConfigFactory, Homeserver, offline_settings
from .polling import until

ROOM = "!mailroom"
PHONE = "33698765432"


class Mailbox:
    """What the SMTP server accepted; recipients starting with `nobody@` are refused (550)."""

    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        mail = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(mail, EmailMessage)
        self.mails.append(mail)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.mails if address in str(m["To"])]


class SMTPServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.mailbox = Mailbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    server = SMTPServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(make_config: ConfigFactory, smtp: SMTPServer) -> Settings:
    return offline_settings(
        make_config,
        {
            "smtp.host": "127.0.0.1",
            "smtp.port": smtp.port,
            "smtp.tls": "none",
            "smtp.from": "Shop <inbox@shop.example>",
            "smtp.notify_period": 2,
            "outbox.retry_initial_delay": 0.1,
            "outbox.retry_max_delay": 0.3,
            "outbox.max_attempts": 100,
        },
    )


async def _conversation(api: API, hs: Homeserver, db: asyncpg.Pool, email: str | None) -> int:
    await hs.ok([*f.portal(ROOM, PHONE, "Lea"), f.text(ROOM, f.ghost(PHONE), "Any news?")])
    conversation_id = int(
        await db.fetchval("SELECT id FROM conversations WHERE room_id = $1", ROOM)
    )
    if email is not None:
        contact = await db.fetchval(
            "SELECT contact_id FROM conversations WHERE id = $1", conversation_id
        )
        status, _ = await api.call("PATCH", f"/api/v1/contacts/{contact}", json={"email": email})
        assert status == 200
    return conversation_id


async def _mail(api: API, conversation_id: int, **body: Any) -> tuple[int, Any]:
    return await api.call(
        "POST",
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"client_txn_id": "m-1", "body": "Your order ships today.", "channel": "email",
              **body},
    )  # fmt: skip


async def _status(db: asyncpg.Pool, message_id: int, status: str) -> bool:
    return await db.fetchval("SELECT status FROM messages WHERE id = $1", message_id) == status


async def test_reply_by_email_is_delivered(
    api: API, hs: Homeserver, db: asyncpg.Pool, smtp: SMTPServer
) -> None:
    conversation_id = await _conversation(api, hs, db, "lea@customer.example")
    status, message = await _mail(api, conversation_id, subject="Order 1042")
    assert status == 202, message
    assert message["channel"] == "email" and message["status"] == "pending"
    await until(lambda: _status(db, message["id"], "sent"))
    [mail] = smtp.mailbox.mails
    assert mail["To"].addresses[0].addr_spec == "lea@customer.example"
    assert mail["To"].addresses[0].display_name == "Lea"
    assert mail["From"].addresses[0].addr_spec == "inbox@shop.example"
    assert mail["Subject"] == "Order 1042"
    txn_id = await db.fetchval("SELECT txn_id FROM outbox WHERE message_id = $1", message["id"])
    assert mail["Message-ID"] == f"<{txn_id}@shop.example>"
    assert mail.get_content().strip() == "Your order ships today."
    # The browser retrying the request does not send a second mail.
    status, again = await _mail(api, conversation_id, subject="Order 1042")
    assert status == 200 and again["id"] == message["id"]
    await asyncio.sleep(0.3)
    assert len(smtp.mailbox.mails) == 1


async def test_attachment_by_email(
    api: API, hs: Homeserver, db: asyncpg.Pool, smtp: SMTPServer
) -> None:
    conversation_id = await _conversation(api, hs, db, "lea@customer.example")
    form = aiohttp.FormData()
    for key, value in {"client_txn_id": "a-1", "channel": "email", "body": "The invoice"}.items():
        form.add_field(key, value)
    pdf = b"%PDF-1.4 " + os.urandom(4000)
    form.add_field("file", pdf, filename="invoice 1042.pdf", content_type="application/pdf")
    status, message = await api.call(
        "POST", f"/api/v1/conversations/{conversation_id}/messages", data=form
    )
    assert status == 202 and message["kind"] == "file", message
    await until(lambda: _status(db, message["id"], "sent"))
    [mail] = smtp.mailbox.mails
    [part] = list(mail.iter_attachments())
    assert part.get_filename() == "invoice 1042.pdf"
    assert part.get_content_type() == "application/pdf" and part.get_content() == pdf
    assert mail.get_body(("plain",)).get_content().strip() == "The invoice"
    # The inbox keeps the copy of what was sent, served by the media proxy.
    async with api.client.get(message["media"]["url"]) as resp:
        assert resp.status == 200 and await resp.read() == pdf
        assert resp.headers["Content-Type"] == "application/pdf"
        assert resp.headers["Content-Disposition"].startswith("attachment; filename=")


async def test_mail_server_down_then_up_delivers_once(
    api: API, hs: Homeserver, db: asyncpg.Pool, smtp: SMTPServer
) -> None:
    conversation_id = await _conversation(api, hs, db, "lea@customer.example")
    smtp.stop()
    _, message = await _mail(api, conversation_id)

    async def retried() -> Any:
        return await db.fetchrow(
            "SELECT attempts, last_error FROM outbox WHERE message_id = $1 AND attempts >= 2",
            message["id"],
        )

    row = await until(retried)
    assert "unreachable" in row["last_error"]
    assert await _status(db, message["id"], "pending")
    smtp.start()
    await until(lambda: _status(db, message["id"], "sent"))
    await asyncio.sleep(0.5)
    assert len(smtp.mailbox.mails) == 1


async def test_refused_recipient_fails_with_the_reason(
    api: API, hs: Homeserver, db: asyncpg.Pool, smtp: SMTPServer
) -> None:
    conversation_id = await _conversation(api, hs, db, "nobody@customer.example")
    _, message = await _mail(api, conversation_id)
    await until(lambda: _status(db, message["id"], "failed"))
    error = await db.fetchval("SELECT error FROM messages WHERE id = $1", message["id"])
    assert "550" in error and "No such user" in error
    assert await db.fetchval("SELECT attempts FROM outbox WHERE message_id = $1",
                             message["id"]) == 1  # fmt: skip
    assert smtp.mailbox.mails == []


async def test_email_reply_needs_an_address(api: API, hs: Homeserver, db: asyncpg.Pool) -> None:
    conversation_id = await _conversation(api, hs, db, None)
    status, answer = await _mail(api, conversation_id)
    assert status == 422 and answer["error"]["field"] == "channel"
    assert "e-mail address" in answer["error"]["message"]
    assert await db.fetchval("SELECT count(*) FROM messages WHERE direction = 'out'") == 0


async def test_offline_assignee_is_notified_once_per_period(
    api: API,
    hs: Homeserver,
    db: asyncpg.Pool,
    smtp: SMTPServer,
    client: TestClient,  # type: ignore[type-arg]
    add_manager: Callable[..., Any],
) -> None:
    conversation_id = await _conversation(api, hs, db, None)
    offline = await add_manager("olga@shop.example", name="Olga")
    online = await add_manager("omar@shop.example", name="Omar")
    await db.execute("UPDATE conversations SET assignee_id = $2 WHERE id = $1",
                     conversation_id, offline)  # fmt: skip

    # Olga is offline: the unread messages of her conversation reach her by mail.
    [mail] = await until(lambda: smtp.mailbox.to("olga@shop.example"))
    assert mail["Subject"] == "Lea: 1 new message"
    text = mail.get_content()
    assert "Any news?" in text and f"/conversations/{conversation_id}" in text
    # More messages within the period: no second mail yet; after it, one more.
    await hs.ok([f.text(ROOM, f.ghost(PHONE), "Hello?"), f.text(ROOM, f.ghost(PHONE), "Hi")])
    await asyncio.sleep(0.3)
    assert len(smtp.mailbox.to("olga@shop.example")) == 1
    mails = await until(lambda: len(smtp.mailbox.to("olga@shop.example")) == 2
                        and smtp.mailbox.to("olga@shop.example"))  # fmt: skip
    assert mails[1]["Subject"] == "Lea: 3 new messages"
    assert all(m in mails[1].get_content() for m in ("Any news?", "Hello?", "Hi"))

    # Omar has the inbox open (a live connection): no mail for him.
    omar = API(client)
    assert (await omar.login("omar@shop.example", PASSWORD))[0] == 200
    async with client.ws_connect("/api/v1/ws") as ws:
        await ws.receive_json()  # hello
        await until(lambda: db.fetchval(
            "SELECT online_until > now() FROM managers WHERE id = $1", online))  # fmt: skip
        await db.execute("UPDATE conversations SET assignee_id = $2 WHERE id = $1",
                         conversation_id, online)  # fmt: skip
        await hs.ok([f.text(ROOM, f.ghost(PHONE), "Still there?")])
        await asyncio.sleep(2.5)  # several rounds of the notifier, and a whole period
        assert smtp.mailbox.to("omar@shop.example") == []
    # Once his presence has run out (it outlives the connection by a minute: another instance
    # may hold one), what arrived after he left is mailed.
    await db.execute(
        "UPDATE managers SET online_until = (SELECT received_at - interval '1 second'"
        " FROM messages ORDER BY id DESC LIMIT 1) WHERE id = $1",
        online,
    )
    [mail] = await until(lambda: smtp.mailbox.to("omar@shop.example"))
    assert "Still there?" in mail.get_content()
