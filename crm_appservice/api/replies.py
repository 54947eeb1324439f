"""Managers' replies: queued in the outbox and answered at once (202), sent by the worker.

A reply is JSON (`client_txn_id`, `body`, `reply_to`) or, with an attachment, a multipart form
with the same fields and one `file` part, streamed to the outbox's spool. The answer carries the
message as stored (status `pending`); every later change of its status reaches the browser as
`message.updated` on the WebSocket.
"""

from __future__ import annotations

from aiohttp import web
import asyncpg

from .. import placeholders
from ..ingest.content import Media, MessageContent, preview
from ..keys import POOL, SETTINGS, SPOOL
from ..outbox.spool import TooLarge
from ..store import (
    actions,
    conversations as conversation_store,
    drafts,
    feed,
    mail as mail_store,
    messages as message_store,
    quick_replies as quick_reply_store,
)
from ..store.database import Conn
from . import forms, own_replies, responses
from .conversations import CONVERSATION, visible_conversation
from .file_kinds import kind_of
from .middleware import current, ensure_visible, ids
from .models import AttachmentForm, EditBody, MessageOut, ReactionBody, ReplyBody
from .resources import message_out

routes = web.RouteTableDef()


def crm_user(request: web.Request) -> str:
    settings = request.app[SETTINGS]
    return f"@{settings.appservice.bot_username}:{settings.homeserver.domain}"


async def _read_form(request: web.Request) -> tuple[AttachmentForm, actions.Attachment]:
    """Read the multipart reply; the file goes to the spool (removed again on any error)."""
    spool = request.app[SPOOL]
    fields: dict[str, str] = {}
    spooled: tuple[str, int] | None = None
    mimetype = filename = ""
    try:
        reader = await forms.open_multipart(request)
        while (part := await forms.next_part(reader)) is not None:
            if part.name == "file":
                if spooled is not None:
                    raise responses.invalid("file", "One file per message")
                mimetype = forms.declared_type(part)
                filename = forms.safe_filename(part.filename)
                limit = forms.upload_limit(request)
                try:
                    spooled = await spool.receive(part, limit)
                except TooLarge:
                    raise forms.too_large(limit) from None
            else:
                await forms.read_field(part, fields, AttachmentForm.model_fields)
        if spooled is None:
            raise responses.invalid("file", "A multipart reply needs a file")
        if spooled[1] == 0:
            raise responses.invalid("file", "The file is empty")
        form = AttachmentForm.model_validate(fields)
    except BaseException:
        if spooled is not None:
            await spool.discard(spooled[0])
        raise
    attachment = actions.Attachment(
        path=spooled[0],
        mimetype=mimetype,
        size=spooled[1],
        filename=filename,
        width=form.width,
        height=form.height,
        duration_ms=form.duration_ms,
        voice=form.voice,
    )
    return form, attachment


async def _message(conn: Conn, request: web.Request, message_id: int) -> MessageOut:
    """The message as this transaction wrote it (the worker cannot have moved it yet)."""
    rows = await message_store.by_ids(conn, [message_id])
    return message_out(rows[0], current(request).manager.id)


def _reply(request: web.Request, body: ReplyBody | AttachmentForm,
           attachment: actions.Attachment | None) -> actions.Reply:  # fmt: skip
    text = body.body or None
    kind, media = "text", None
    if attachment is not None:
        kind = kind_of(attachment.mimetype, attachment.voice)
        media = Media("", attachment.mimetype, attachment.size, None, None, None,
                      attachment.filename, None, None, None, None)  # fmt: skip
    return actions.Reply(
        conversation_id=int(request.match_info["conversation_id"]),
        client_txn_id=body.client_txn_id,
        channel=body.channel,
        sender_mxid=crm_user(request) if body.channel == "matrix" else None,
        manager_id=current(request).manager.id,
        kind=kind,
        body=text,
        preview=preview(MessageContent(kind, text, None, media)),
        reply_to=body.reply_to,
        attachment=attachment,
        subject=body.subject if body.channel == "email" else None,
    )


async def _check_email(conn: Conn, request: web.Request, conversation_id: int) -> None:
    """An e-mail reply needs a mail server and the contact's address (the mail server itself
    is only asked by the outbox)."""
    if not request.app[SETTINGS].smtp.enabled:
        raise responses.invalid("channel", "E-mail is not set up on this CRM")
    contact = await mail_store.recipient(conn, conversation_id)
    if contact is None:
        raise responses.not_found("conversation")
    if not contact["email"]:
        raise responses.invalid("channel", "The contact has no e-mail address")


def _no_variables_left(text: str | None) -> None:
    """A quick reply's variable with no value here stays in its text until the manager fills
    it in: never sent as it is, nor as a blank (placeholders.py)."""
    left = placeholders.left_in(text or "")
    if left:
        raise responses.invalid(
            "body", f"Fill in {{{{{left[0]}}}}} first: it has no value for this customer"
        )


async def _quick_reply_file(request: web.Request, file_id: int) -> actions.Attachment:
    """A quick reply's file the manager sees, copied into the spool to go out as an upload."""
    async with request.app[POOL].acquire() as conn:
        found = await quick_reply_store.file(conn, file_id, current(request).manager.id)
    if found is None:
        raise responses.invalid("quick_reply_file", "No such file of a quick reply")
    path, size = await request.app[SPOOL].write(found["data"])
    return actions.Attachment(
        path=path, mimetype=found["mimetype"], size=size, filename=found["filename"],
        width=found["width"], height=found["height"],
    )  # fmt: skip


@routes.post(CONVERSATION + "/messages")
async def send(request: web.Request) -> web.Response:
    """Queue a reply. The same `client_txn_id` again answers with the first message (200)."""
    attachment = None
    body: ReplyBody | AttachmentForm
    if request.content_type == "multipart/form-data":
        body, attachment = await _read_form(request)
    elif request.content_type == "application/x-www-form-urlencoded":
        raise responses.APIError(
            415, "unsupported_media_type",
            "Send the reply as JSON, or as multipart/form-data with a file",
        )  # fmt: skip
    else:
        body = ReplyBody.model_validate_json(await request.read())
    if isinstance(body, ReplyBody) and body.body is None and body.quick_reply_file is None:
        raise responses.invalid("body", "A reply needs a body or a file")
    _no_variables_left(body.body)
    if isinstance(body, ReplyBody) and body.quick_reply_file is not None:
        # Seen and new before the file is read and copied: a retry of a send that went
        # through is its message, even if the file has been removed since.
        async with request.app[POOL].acquire() as conn:
            conversation = await visible_conversation(conn, request)
            before = await actions.sent_before(conn, conversation["id"], body.client_txn_id)
            if before is not None:
                return responses.json_response(await _message(conn, request, before))
        attachment = await _quick_reply_file(request, body.quick_reply_file)
    created = False
    try:
        reply = _reply(request, body, attachment)
        async with request.app[POOL].acquire() as conn, conn.transaction():
            await visible_conversation(conn, request)
            if body.channel == "email":
                await _check_email(conn, request, reply.conversation_id)
            if body.reply_to is not None and not await actions.reply_target_exists(
                conn, reply.conversation_id, body.reply_to
            ):
                raise responses.invalid("reply_to", "No message with that id in this conversation")
            message_id, created = await actions.create_reply(conn, reply)
            if message_id is None:
                raise responses.not_found("conversation")
            if created:
                # Sent: the manager's draft of it is gone with it, on every device.
                await drafts.remove(conn, reply.manager_id, reply.conversation_id)
            if created and request.app[SETTINGS].web.assign_on_reply:
                # Whoever answers an unassigned customer has them: a colleague sees it.
                await conversation_store.take(conn, reply.conversation_id, reply.manager_id)
            if created:
                await feed.record(
                    conn,
                    [("message.created", message_id),
                     ("conversation.updated", reply.conversation_id)],
                )  # fmt: skip
            message = await _message(conn, request, message_id)
    finally:
        if attachment is not None and not created:
            await request.app[SPOOL].discard(attachment.path)
    return responses.json_response(message, 202 if created else 200)


@routes.post(ids("/api/v1/messages/{message_id:id}/retry"))
async def retry(request: web.Request) -> web.Response:
    """Send a failed reply again (a new send: the homeserver is asked again)."""
    message_id = int(request.match_info["message_id"])
    async with request.app[POOL].acquire() as conn, conn.transaction():
        state = await actions.message_state(conn, message_id)
        if state is None:
            raise responses.not_found("message")
        ensure_visible(request, state["conversation_assignee_id"], "message")
        if state["direction"] != "out" or state["status"] != "failed":
            raise responses.conflict("Only a failed reply can be sent again")
        if not await actions.retry(conn, message_id):
            raise responses.conflict("Only a failed reply can be sent again")
        await feed.record(conn, [("message.updated", message_id)])
        message = await _message(conn, request, message_id)
    return responses.json_response(message, 202)


# --- reactions, edits and deletions ---------------------------------------------------------

MESSAGE = ids("/api/v1/messages/{message_id:id}")


async def _locked_message(conn: Conn, request: web.Request) -> asyncpg.Record:
    message = await actions.lock_message(conn, int(request.match_info["message_id"]))
    if message is None:
        raise responses.not_found("message")
    ensure_visible(request, message["conversation_assignee_id"], "message")
    return message


def _own_chat_message(request: web.Request, message: asyncpg.Record, what: str) -> None:
    """Managers change their own replies in the chat; admins anyone's (own_replies.py)."""
    manager = current(request).manager
    refused = own_replies.refusal(message, manager.id, manager.role, what)
    if refused is not None:
        raise refused


def _in_chat(message: asyncpg.Record) -> bool:
    """Whether the message is in the room or on its way there (not failed before it got in)."""
    return message["event_id"] is not None or message["status"] == "pending"


async def _answer(
    conn: Conn, request: web.Request, message_id: int, changes: list[tuple[str, int]], status: int
) -> web.Response:
    await feed.record(conn, changes)
    return responses.json_response(await _message(conn, request, message_id), status)


@routes.post(MESSAGE + "/reactions")
async def react(request: web.Request) -> web.Response:
    """React as the team's user (202); the same reaction again changes nothing (200)."""
    body = ReactionBody.model_validate_json(await request.read())
    async with request.app[POOL].acquire() as conn, conn.transaction():
        message = await _locked_message(conn, request)
        if message["deleted_at"] is not None or message["channel"] != "matrix":
            raise responses.conflict("Only messages in the chat can be reacted to")
        if message["event_id"] is None and message["status"] != "pending":
            raise responses.conflict("The message is not in the chat")
        added = await actions.add_reaction(
            conn, message, crm_user(request), current(request).manager.id, body.key
        )
        changes = [("message.updated", message["id"])] if added else []
        return await _answer(conn, request, message["id"], changes, 202 if added else 200)


@routes.delete(MESSAGE + "/reactions/{key}")
async def unreact(request: web.Request) -> web.Response:
    """Take the team's reaction back (202)."""
    key = request.match_info["key"]
    async with request.app[POOL].acquire() as conn, conn.transaction():
        message = await _locked_message(conn, request)
        if not await actions.remove_reaction(conn, message, crm_user(request), key):
            raise responses.not_found("reaction")
        return await _answer(conn, request, message["id"], [("message.updated", message["id"])],
                             202)  # fmt: skip


@routes.patch(MESSAGE)
async def edit(request: web.Request) -> web.Response:
    """Change the text of an own reply (202); the chat gets an edit, earlier text is kept."""
    body = EditBody.model_validate_json(await request.read())
    async with request.app[POOL].acquire() as conn, conn.transaction():
        message = await _locked_message(conn, request)
        _own_chat_message(request, message, "edited")
        if message["deleted_at"] is not None:
            raise responses.conflict("A deleted message cannot be edited")
        if message["kind"] != "text":
            raise responses.conflict("Only text messages can be edited")
        if body.body == message["body"]:
            return await _answer(conn, request, message["id"], [], 200)
        _no_variables_left(body.body)
        text = preview(MessageContent("text", body.body, None, None))
        # A failed reply is not in the chat: its new text goes out with the retry.
        in_chat = _in_chat(message)
        conversation_changed = await actions.edit_message(conn, message, body.body, text, in_chat)
        changes = [("message.updated", message["id"])]
        if conversation_changed:
            changes.append(("conversation.updated", message["conversation_id"]))
        return await _answer(conn, request, message["id"], changes, 202)


@routes.delete(MESSAGE)
async def delete(request: web.Request) -> web.Response:
    """Delete an own reply (202): it is redacted in the chat, or not sent if still queued."""
    files: list[str] = []
    async with request.app[POOL].acquire() as conn, conn.transaction():
        message = await _locked_message(conn, request)
        _own_chat_message(request, message, "deleted")
        if message["deleted_at"] is not None:
            return await _answer(conn, request, message["id"], [], 200)
        conversation_changed = await actions.delete_message(conn, message, _in_chat(message))
        files = await actions.spooled_files(conn, message["id"])
        changes = [("message.updated", message["id"])]
        if conversation_changed:
            changes.append(("conversation.updated", message["conversation_id"]))
        answer = await _answer(conn, request, message["id"], changes, 202)
    for name in files:
        await request.app[SPOOL].discard(name)
    return answer
