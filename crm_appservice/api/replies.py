"""Managers' replies: queued in the outbox and answered at once (202), sent by the worker.

The answer carries the message as stored (status `pending`); every later change of its status
reaches the browser as `message.updated` on the WebSocket.
"""

from __future__ import annotations

from aiohttp import web

from ..keys import POOL, SETTINGS
from ..store import live, messages as message_store, outbox
from ..store.database import Conn
from . import responses
from .conversations import CONVERSATION, message_out
from .middleware import current
from .models import MessageOut, ReplyBody

routes = web.RouteTableDef()


def crm_user(request: web.Request) -> str:
    settings = request.app[SETTINGS]
    return f"@{settings.appservice.bot_username}:{settings.homeserver.domain}"


async def _message(conn: Conn, request: web.Request, message_id: int) -> MessageOut:
    """The message as this transaction wrote it (the worker cannot have moved it yet)."""
    rows = await message_store.by_ids(conn, [message_id])
    return message_out(rows[0], current(request).manager.id)


@routes.post(CONVERSATION + "/messages")
async def send(request: web.Request) -> web.Response:
    """Queue a reply. The same `client_txn_id` again answers with the first message (200)."""
    conversation_id = int(request.match_info["conversation_id"])
    body = ReplyBody.model_validate_json(await request.read())
    reply = outbox.Reply(
        conversation_id=conversation_id,
        client_txn_id=body.client_txn_id,
        channel="matrix",
        sender_mxid=crm_user(request),
        manager_id=current(request).manager.id,
        body=body.body,
        reply_to=body.reply_to,
    )
    async with request.app[POOL].acquire() as conn, conn.transaction():
        if body.reply_to is not None and not await outbox.reply_target_exists(
            conn, conversation_id, body.reply_to
        ):
            raise responses.invalid("reply_to", "No message with that id in this conversation")
        message_id, created = await outbox.create_reply(conn, reply)
        if message_id is None:
            raise responses.not_found("conversation")
        if created:
            await live.record(
                conn, [("message.created", message_id), ("conversation.updated", conversation_id)]
            )
        message = await _message(conn, request, message_id)
    return responses.json_response(message, 202 if created else 200)


@routes.post(r"/api/v1/messages/{message_id:\d+}/retry")
async def retry(request: web.Request) -> web.Response:
    """Send a failed reply again (a new send: the homeserver is asked again)."""
    message_id = int(request.match_info["message_id"])
    async with request.app[POOL].acquire() as conn, conn.transaction():
        state = await outbox.message_state(conn, message_id)
        if state is None:
            raise responses.not_found("message")
        if state["direction"] != "out" or state["status"] != "failed":
            raise responses.conflict("Only a failed reply can be sent again")
        if not await outbox.retry(conn, message_id):
            raise responses.conflict("Only a failed reply can be sent again")
        await live.record(conn, [("message.updated", message_id)])
        message = await _message(conn, request, message_id)
    return responses.json_response(message, 202)
