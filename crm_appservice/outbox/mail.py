"""Outbox entries that go out as e-mail: replies to contacts by e-mail, and notifications of
managers about assigned conversations that receive messages while they are offline.

aiosmtplib talks to the mail server in the event loop (never blocking it). The Message-ID is
made from the entry's fixed transaction id: if a mail is sent again after a timeout whose mail
had in fact arrived, the receiving side can tell it is the same mail.
"""

from __future__ import annotations

import asyncio
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

import aiosmtplib
import asyncpg
from email_validator import EmailNotValidError, validate_email
from yarl import URL

from ..config import SMTPSettings
from ..store import mail as mail_store, outbox as store
from ..store.database import Conn
from .errors import SendError, explain_smtp
from .matrix import Finish, LiveEvents, done
from .spool import Spool

NOTIFY_MESSAGES = 10
TIMEOUT = 60.0


def _domain(sender: str) -> str:
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] or "localhost"


def _header_text(text: str) -> str:
    """A name or title from a chat, for a header: one line, without control characters (the
    API refuses those; a customer's WhatsApp name or a room name was never checked)."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def _recipient(name: str | None, address: str | None, whose: str) -> str:
    """`To:` for an address stored before addresses were checked as strictly as now, too: one
    that does not parse is this entry's failure, said plainly, never retried."""
    if not address:
        raise SendError(f"{whose} has no e-mail address", False)
    try:
        addr_spec = validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError:
        raise SendError(f"{whose} e-mail address is not valid: {address!r}", False) from None
    return str(Address(display_name=_header_text(name or ""), addr_spec=addr_spec))


def _line(row: asyncpg.Record) -> str:
    """One message of a notification: its text, and what kind of file it carries."""
    body = row["body"] or ""
    if row["kind"] not in ("text", "notice", "emote"):
        name = f": {row['media_filename']}" if row["media_filename"] else ""
        body = f"[{row['kind']}{name}] {body}".strip()
    return f"{row['created_at']:%Y-%m-%d %H:%M} UTC  {body}"


class MailSender:
    def __init__(self, settings: SMTPSettings, public_url: URL, spool: Spool) -> None:
        self.settings = settings
        self.public_url = public_url
        self.spool = spool

    def _new_mail(self, entry: store.Entry, to: str, subject: str) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.settings.sender
        mail["To"] = to
        mail["Subject"] = subject
        mail["Date"] = formatdate(localtime=False, usegmt=True)
        mail["Message-ID"] = f"<{entry.txn_id}@{_domain(self.settings.sender)}>"
        return mail

    async def _deliver(self, mail: EmailMessage) -> None:
        s = self.settings
        try:
            await aiosmtplib.send(
                mail,
                hostname=s.host,
                port=s.port,
                username=s.username,
                password=s.password,
                use_tls=s.tls == "tls",
                start_tls=True if s.tls == "starttls" else False if s.tls == "none" else None,
                timeout=TIMEOUT,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as e:
            raise explain_smtp(e) from e

    async def reply(self, conn: Conn, entry: store.Entry) -> Finish:
        """A manager's reply to a contact, by e-mail."""
        assert entry.message_id is not None
        contact = await mail_store.recipient(conn, entry.conversation_id)
        if contact is None:
            raise SendError("The contact has no e-mail address", False)
        to = _recipient(contact["display_name"], contact["email"], "The contact's")
        subject = entry.payload.get("subject") or f"Re: {contact['title'] or 'your message'}"
        mail = self._new_mail(entry, to, _header_text(str(subject)))
        mail.set_content(entry.body or "")
        spooled = entry.payload.get("file")
        if isinstance(spooled, str):
            try:
                data = await asyncio.to_thread(self.spool.read, spooled)
            except FileNotFoundError:
                raise SendError("The attachment's file is missing on the CRM's server",
                                False) from None  # fmt: skip
            major, _, minor = (entry.media_mimetype or "application/octet-stream").partition("/")
            mail.add_attachment(data, maintype=major, subtype=minor,
                                filename=entry.media_filename or "file")  # fmt: skip
        await self._deliver(mail)
        message_id = entry.message_id

        async def finish(conn: Conn) -> LiveEvents:
            if await store.mark_mailed(conn, entry):
                return [("message.updated", message_id)]
            return []

        return finish

    async def notify(self, conn: Conn, entry: store.Entry) -> Finish:
        """Tell an offline manager what arrived in a conversation assigned to them."""
        manager_id = int(entry.payload["manager_id"])
        info = await mail_store.notification(conn, entry.conversation_id, manager_id)
        if info is None or not info["still_due"]:
            return done(entry)  # back online, read it, or no longer theirs
        who = info["display_name"] or info["phone"] or info["title"] or "A customer"
        count = info["unread_count"]
        subject = f"{who}: {count} new message{'s' if count != 1 else ''}"
        to = _recipient(info["name"], info["email"], "The manager's")
        mail = self._new_mail(entry, to, _header_text(subject))
        unread = await mail_store.unread_messages(conn, entry.conversation_id, NOTIFY_MESSAGES)
        lines = [_line(row) for row in unread]
        more = count - len(lines)
        if more > 0:
            lines.append(f"… and {more} more")
        link = self.public_url / "conversations" / str(entry.conversation_id)
        mail.set_content(
            f"Hello {info['name']},\n\n{who} wrote in a conversation assigned to you:\n\n"
            + "\n".join(lines)
            + f"\n\nOpen it in the inbox: {link}\n"
        )
        await self._deliver(mail)
        return done(entry)
