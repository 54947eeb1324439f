"""Connecting WhatsApp and starting chats, through the bridge's provisioning API.

The browser talks to the CRM only: the CRM calls the bridge with the shared secret, which never
leaves the server. Logging in is the bridge's step machine passed through: start a flow (`qr` or
`phone`), then wait on a `display_and_wait` step (a new QR code, or `complete`) or answer a
`user_input` step (the phone number, which gives a pairing code).
"""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import quote

from aiohttp import web
from pydantic import ValidationError

from .. import bridge
from ..keys import MATRIX, POOL, SETTINGS
from ..store import conversations as store, logins
from . import responses
from .middleware import require_admin
from .models import LoginStepOut, NewChatPendingOut, NewConversationBody, WhatsAppOut
from .resources import conversation_out

routes = web.RouteTableDef()
LOGIN = r"/api/v1/whatsapp/login/{login_id:[A-Za-z0-9_.:-]+}"
NEW_PORTAL_WAIT = 15.0


async def _bridge(request: web.Request, method: str, path: str, body: Any = None) -> Any:
    try:
        return await bridge.request(
            request.app[MATRIX].session, request.app[SETTINGS], method, path, body
        )
    except bridge.BridgeRefused as e:
        status = 422 if e.status < 500 else 502
        raise responses.APIError(status, "bridge_refused", str(e)) from None
    except bridge.BridgeError as e:
        raise responses.APIError(502, "bridge_unavailable", str(e)) from None


def _step(answer: Any) -> LoginStepOut:
    """The bridge's login step, checked: a browser never has to guess at a malformed one."""
    try:
        return LoginStepOut.model_validate(answer)
    except ValidationError:
        raise responses.APIError(
            502, "bridge_unavailable", "The bridge answered with a login step it did not describe"
        ) from None


@routes.get("/api/v1/whatsapp")
async def status(request: web.Request) -> web.Response:
    """The bridge's WhatsApp logins (admin)."""
    require_admin(request)
    answer = await _bridge(request, "GET", "/v3/logins")
    out = WhatsAppOut(logins=answer.get("login_ids") or [])
    async with request.app[POOL].acquire() as conn:
        await logins.remember(conn, "whatsapp", out.logins)
    return responses.json_response(out)


@routes.post(r"/api/v1/whatsapp/login/{flow:qr|phone}")
async def start(request: web.Request) -> web.Response:
    """Start logging in: a QR code to scan, or a phone number to ask for (admin)."""
    require_admin(request)
    step = await _bridge(request, "POST", f"/v3/login/start/{request.match_info['flow']}")
    return responses.json_response(_step(step))


@routes.post(LOGIN + r"/{step_id:[A-Za-z0-9_.:-]+}/wait")
async def wait(request: web.Request) -> web.Response:
    """The next step of a login: a fresh QR code, or `complete` once the phone scanned it."""
    require_admin(request)
    login, step = request.match_info["login_id"], request.match_info["step_id"]
    answer = await _bridge(request, "POST", f"/v3/login/step/{login}/{step}/display_and_wait")
    return responses.json_response(_step(answer))


@routes.post(LOGIN + r"/{step_id:[A-Za-z0-9_.:-]+}/input")
async def user_input(request: web.Request) -> web.Response:
    """Answer a `user_input` step (the phone number); the next step holds the pairing code."""
    require_admin(request)
    fields = await request.json()
    if not isinstance(fields, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and len(v) < 200 for k, v in fields.items()
    ):
        raise responses.bad_request("Send the step's fields as a JSON object of strings")
    login, step = request.match_info["login_id"], request.match_info["step_id"]
    answer = await _bridge(request, "POST", f"/v3/login/step/{login}/{step}/user_input", fields)
    return responses.json_response(_step(answer))


@routes.post(LOGIN + "/cancel")
async def cancel(request: web.Request) -> web.Response:
    require_admin(request)
    await _bridge(request, "POST", f"/v3/login/cancel/{request.match_info['login_id']}")
    return responses.json_response({})


@routes.post(r"/api/v1/whatsapp/logout/{login_id:[A-Za-z0-9_.:-]+}")
async def logout(request: web.Request) -> web.Response:
    require_admin(request)
    await _bridge(request, "POST", f"/v3/logout/{request.match_info['login_id']}")
    return responses.json_response({})


@routes.post("/api/v1/conversations/new")
async def new_conversation(request: web.Request) -> web.Response:
    """Open a chat with a phone number: the bridge makes (or finds) the portal, which reaches
    the CRM through the normal ingest path; the answer is its conversation once it has arrived
    (201), or the room id if it takes longer (202, it appears on the live connection)."""
    body = NewConversationBody.model_validate_json(await request.read())
    # One spelling for the bridge: +<digits>, whatever spaces or dashes the manager typed.
    phone = "+" + re.sub(r"\D", "", body.phone)
    answer = await _bridge(request, "POST", f"/v3/create_dm/{quote(phone, safe='+')}")
    room_id = answer.get("dm_room_mxid") if isinstance(answer, dict) else None
    if not isinstance(room_id, str):
        raise responses.APIError(502, "bridge_unavailable", "The bridge opened no chat")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + NEW_PORTAL_WAIT
    while True:
        async with request.app[POOL].acquire() as conn:
            row = await store.by_room(conn, room_id)
        if row is not None:
            return responses.json_response(conversation_out(row), 201)
        if loop.time() > deadline:
            return responses.json_response(NewChatPendingOut(room_id=room_id), 202)
        await asyncio.sleep(0.2)
