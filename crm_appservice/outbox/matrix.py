"""Outbox entries that go to the homeserver: replies (with attachments), reactions, edits and
redactions, each sent as the CRM's user with the entry's fixed transaction id.

Every event carries the id of the row it was sent for (`CRM_*_KEY`), so when it comes back in
a transaction, ingest completes that row instead of storing the event a second time. A handler
makes its network calls outside any database transaction and returns how to record the outcome:
the worker runs that in one short transaction, with the live events it returns.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from mautrix.api import Method, Path
from mautrix.types import EventID, EventType, RoomID

from ..ingest.messages import CRM_EDIT_KEY, CRM_MESSAGE_KEY, CRM_REACTION_KEY
from ..matrix.client import HOMESERVER_ERRORS, MatrixClient
from ..store import actions, outbox as store
from ..store.database import Conn
from .errors import SendError, explain
from .spool import Spool

LiveEvents = list[tuple[str, int]]
# Records a sent entry's outcome in the caller's transaction; returns the live events it caused.
Finish = Callable[[Conn], Awaitable[LiveEvents]]


def done(entry: store.Entry) -> Finish:
    """Nothing to record but that the entry is done."""

    async def finish(conn: Conn) -> LiveEvents:
        await store.mark_done(conn, entry)
        return []

    return finish


_MSGTYPES = {"image": "m.image", "video": "m.video", "audio": "m.audio", "voice": "m.audio"}


def media_content(entry: store.Entry, url: str, voice: bool) -> dict[str, Any]:
    """The content keys of an attachment: the caption is the body, the file name separate."""
    info: dict[str, Any] = {"mimetype": entry.media_mimetype, "size": entry.media_size}
    if entry.media_width and entry.media_height:
        info.update(w=entry.media_width, h=entry.media_height)
    if entry.media_duration_ms:
        info["duration"] = entry.media_duration_ms
    content: dict[str, Any] = {
        "msgtype": _MSGTYPES.get(entry.kind or "", "m.file"),
        "body": entry.body or entry.media_filename or "file",
        "filename": entry.media_filename,
        "url": url,
        "info": info,
    }
    if voice:
        content["org.matrix.msc3245.voice"] = {}
        content["org.matrix.msc1767.audio"] = {"duration": entry.media_duration_ms or 0}
    return content


def _target(entry: store.Entry, what: str) -> EventID:
    """The event a reaction, edit or redaction refers to. Entries of a conversation go out in
    order, so a reply that is still missing here was never sent (it failed)."""
    if entry.event_id is None:
        raise SendError(f"The message this {what} is for never reached the chat", False)
    return EventID(entry.event_id)


class MatrixSender:
    def __init__(self, matrix: MatrixClient, spool: Spool) -> None:
        self.matrix = matrix
        self.spool = spool

    async def _event(self, entry: store.Entry, event_type: EventType, content: Any) -> str:
        try:
            event_id = await self.matrix.bot.send_message_event(
                RoomID(entry.room_id), event_type, content, txn_id=entry.txn_id
            )
        except HOMESERVER_ERRORS as e:
            raise explain(e) from e
        return str(event_id)

    async def _redact(self, entry: store.Entry, event_id: EventID) -> None:
        # mautrix's redact() picks a transaction id of its own: a retry must reuse the entry's.
        path = Path.v3.rooms[RoomID(entry.room_id)].redact[event_id][entry.txn_id]
        try:
            await self.matrix.bot.api.request(Method.PUT, path, content={})
        except HOMESERVER_ERRORS as e:
            raise explain(e) from e

    async def send(self, conn: Conn, entry: store.Entry) -> Finish:
        """A reply: upload its attachment once, then send the message."""
        message_id = entry.message_id
        assert message_id is not None
        if entry.event_id is not None:
            # Its event came back from the homeserver before the send was recorded (a crash
            # in between): the message is in the room already.
            return done(entry)
        # A plain dict: mautrix sends it as it is (its typed contents would drop our key).
        content: Any = {
            "msgtype": "m.text",
            "body": entry.body or "",
            CRM_MESSAGE_KEY: entry.message_id,
        }
        spooled = entry.payload.get("file")
        if isinstance(spooled, str):
            url = await self._upload(conn, entry, spooled)
            content.update(media_content(entry, url, bool(entry.payload.get("voice"))))
        if entry.reply_to_event_id:
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": entry.reply_to_event_id}}
        event_id = await self._event(entry, EventType.ROOM_MESSAGE, content)

        async def finish(conn: Conn) -> LiveEvents:
            if await store.mark_sent(conn, entry, event_id):
                return [("message.updated", message_id)]
            return []

        return finish

    async def _upload(self, conn: Conn, entry: store.Entry, name: str) -> str:
        """Put the spooled attachment in the homeserver's media repository (once)."""
        if entry.media_url:
            return entry.media_url
        try:
            data = await self.spool.stream(name)
        except FileNotFoundError:
            raise SendError(
                "The attachment's file is missing on the CRM's server", False
            ) from None
        try:
            url = await self.matrix.bot.upload_media(
                data, mime_type=entry.media_mimetype, filename=entry.media_filename,
                size=entry.media_size,
            )  # fmt: skip
        except HOMESERVER_ERRORS as e:
            raise explain(e) from e
        await store.set_media_url(conn, entry, str(url))  # a retry does not upload again
        return str(url)

    async def react(self, conn: Conn, entry: store.Entry) -> Finish:
        reaction = await actions.reaction(conn, int(entry.payload["reaction_id"]))
        if reaction is None or reaction["event_id"] is not None:
            return done(entry)  # sent already (its echo came first)
        if reaction["deleted_at"] is not None:
            return done(entry)  # taken back (or replaced) before it went out: never shown
        content = {
            "m.relates_to": {
                "rel_type": "m.annotation",
                "event_id": _target(entry, "reaction"),
                "key": reaction["key"],
            },
            CRM_REACTION_KEY: reaction["id"],
        }
        event_id = await self._event(entry, EventType.REACTION, content)

        async def finish(conn: Conn) -> LiveEvents:
            await actions.set_reaction_event(conn, reaction["id"], event_id)
            await store.mark_done(conn, entry)
            return []

        return finish

    async def unreact(self, conn: Conn, entry: store.Entry) -> Finish:
        reaction = await actions.reaction(conn, int(entry.payload["reaction_id"]))
        if reaction is not None and reaction["event_id"] is not None:
            await self._redact(entry, EventID(reaction["event_id"]))
        # Without an event id the reaction never reached the room: nothing to take back.
        return done(entry)

    async def edit(self, conn: Conn, entry: store.Entry) -> Finish:
        body = str(entry.payload["body"])
        content = {
            "msgtype": "m.text",
            "body": f"* {body}",
            "m.new_content": {"msgtype": "m.text", "body": body},
            "m.relates_to": {"rel_type": "m.replace", "event_id": _target(entry, "edit")},
            CRM_EDIT_KEY: entry.payload["edit_id"],
        }
        event_id = await self._event(entry, EventType.ROOM_MESSAGE, content)

        async def finish(conn: Conn) -> LiveEvents:
            await actions.set_edit_event(conn, int(entry.payload["edit_id"]), event_id)
            await store.mark_done(conn, entry)
            return []

        return finish

    async def read(self, conn: Conn, entry: store.Entry) -> Finish:
        """The team read the contact's messages: the receipt (from the CRM's user, the bridge's
        logged-in user) makes WhatsApp show them read to the customer."""
        event_id = _target(entry, "read receipt")
        try:
            await self.matrix.bot.set_fully_read_marker(RoomID(entry.room_id), event_id, event_id)
        except HOMESERVER_ERRORS as e:
            raise explain(e) from e
        return done(entry)

    async def redact(self, conn: Conn, entry: store.Entry) -> Finish:
        # Without an event id the reply never reached the room (its send was dropped).
        if entry.event_id is not None:
            await self._redact(entry, EventID(entry.event_id))
        return done(entry)
