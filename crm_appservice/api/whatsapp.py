"""Connecting WhatsApp and starting chats, through the bridge's provisioning API.

The browser talks to the CRM only: the CRM calls the bridge with the shared secret, which never
leaves the server. Logging in is the bridge's step machine passed through: start a flow (`qr` or
`phone`), then wait on a `display_and_wait` step (a new QR code, or `complete`) or answer a
`user_input` step (the phone number, which gives a pairing code). The bridge's waits are long and
its errors terse: the CRM cuts the waits into calls a proxy lets through and words the errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any, Literal
from urllib.parse import quote

from aiohttp import web
from pydantic import ValidationError

from .. import bridge
from ..ingest.mautrix import E164, LID_ID
from ..keys import MATRIX, POOL, SETTINGS
from ..store import conversations as store, feed, logins, people
from . import responses
from .bridge_models import (
    LoginStepOut,
    NewChatPendingOut,
    NewConversationBody,
    NumberNameBody,
    NumberStateOut,
    WhatsAppOut,
)
from .middleware import current, ensure_visible, require_admin
from .models import NumberList, NumberOut
from .resources import conversation_out

routes = web.RouteTableDef()
LOGIN = r"/api/v1/whatsapp/login/{login_id:[A-Za-z0-9_.:-]+}"
NEW_PORTAL_WAIT = 15.0


async def _bridge(
    request: web.Request,
    method: str,
    path: str,
    body: Any = None,
    *,
    query: dict[str, str] | None = None,
    limit: float | None = None,
    login: bool = False,
) -> Any:
    """A call of the bridge, its errors as the inbox's (a login's in words of their own)."""
    try:
        return await bridge.request(request.app[MATRIX].session, request.app[SETTINGS], method,
                                    path, body, query=query, limit=limit)  # fmt: skip
    except bridge.BridgeRefused as e:
        known = bridge.LOGIN_ERRORS.get(e.errcode or "") if login else None
        if known:
            code, message = known
            status = 410 if code.startswith("login_") else 422
            field = "phone_number" if code == "phone_rejected" else None
            raise responses.APIError(status, code, message, field) from None
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


# What the bridge's login states mean for the page (bridgev2 status: StateEvent and, for a
# passing disconnection, mautrix-whatsapp's error codes).
PHONE_OFFLINE = "wa-phone-offline"
State = Literal["connected", "connecting", "phone_offline", "logged_out", "error"]
STATES: dict[str, State] = {
    "CONNECTED": "connected", "BACKFILLING": "connected", "CONNECTING": "connecting",
    "TRANSIENT_DISCONNECT": "connecting", "BAD_CREDENTIALS": "logged_out",
    "LOGGED_OUT": "logged_out",
}  # fmt: skip


def numbers_of(whoami: Any) -> list[NumberStateOut]:
    """Each login of the bridge's whoami with its state (names are the CRM's: filled in by the
    caller); malformed ones left out."""
    items = whoami.get("logins") if isinstance(whoami, dict) else None
    numbers = []
    for item in items if isinstance(items, list) else []:
        login_id = item.get("id") if isinstance(item, dict) else None
        if not isinstance(login_id, str) or not LOGIN_ID.fullmatch(login_id):
            continue
        state = item.get("state") if isinstance(item.get("state"), dict) else {}
        event, error = state.get("state_event"), state.get("error")
        shown: State = (
            "phone_offline" if error == PHONE_OFFLINE else STATES.get(str(event), "error")
        )
        profile = item.get("profile") if isinstance(item.get("profile"), dict) else {}
        phone = profile.get("phone")
        numbers.append(NumberStateOut(
            login_id=login_id, name=None, state=shown,
            phone=phone if isinstance(phone, str) and E164.fullmatch(phone) else None,
        ))  # fmt: skip
    return numbers


@routes.get("/api/v1/whatsapp")
async def status(request: web.Request) -> web.Response:
    """The bridge's WhatsApp logins, each with its name and state (admin)."""
    require_admin(request)
    whoami = await _bridge(request, "GET", "/v3/whoami")  # the logins, with their states
    async with request.app[POOL].acquire() as conn:
        numbers = numbers_of(whoami)
        await logins.remember(conn, "whatsapp", [n.login_id for n in numbers])
        named = await logins.names(conn, "whatsapp")
    numbers = [n.model_copy(update={"name": named.get(n.login_id)}) for n in numbers]
    return responses.json_response(WhatsAppOut(logins=[n.login_id for n in numbers],
                                               numbers=numbers))  # fmt: skip


@routes.get("/api/v1/numbers")
async def numbers(request: web.Request) -> web.Response:
    """The business's WhatsApp numbers the CRM knows, with their names: what a manager
    chooses from to open a chat (no call to the bridge)."""
    current(request)
    async with request.app[POOL].acquire() as conn:
        named = await logins.names(conn, "whatsapp")
    items = [NumberOut(login_id=i, name=named[i]) for i in sorted(named)]
    return responses.json_response(NumberList(items=items))


@routes.put(r"/api/v1/whatsapp/logins/{login_id:[0-9]{5,20}}/name")
async def rename(request: web.Request) -> web.Response:
    """Name one of the business's numbers ("Shop", "Warehouse"): shown beside its
    conversations (admin)."""
    require_admin(request)
    login_id = request.match_info["login_id"]
    body = NumberNameBody.model_validate_json(await request.read())
    async with request.app[POOL].acquire() as conn, conn.transaction():
        if not await logins.rename(conn, "whatsapp", login_id, body.name):
            raise responses.not_found("number of this CRM")
        changed = await logins.conversations_of(conn, "whatsapp", login_id)
        await feed.record(conn, [("conversation.updated", i) for i in changed])
    return responses.json_response(NumberOut(login_id=login_id, name=body.name))


# What the bridge holds long: starting a QR login (until the first code, up to 30 s), sending
# the phone number (connecting, then asking WhatsApp for a code: up to about a minute).
LOGIN_CALL_LIMIT = 90.0
TXN_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
LOGIN_ID = re.compile(r"[0-9]{5,20}")


async def _login_call(
    request: web.Request,
    path: str,
    body: Any = None,
    query: dict[str, str] | None = None,
    limit: float = LOGIN_CALL_LIMIT,
) -> LoginStepOut:
    """A login call; a passkey step, which no browser can answer for web.whatsapp.com, ends
    the login with that said."""
    answer = await _bridge(request, "POST", path, body, query=query, limit=limit, login=True)
    step = _step(answer)
    if step.type == "webauthn":
        # Best effort: what the manager must read is the passkey, not a failed cancel.
        with contextlib.suppress(responses.APIError):
            await _bridge(request, "POST", f"/v3/login/cancel/{quote(step.login_id)}")
        code, message = bridge.LOGIN_ERRORS["COM.BEEPER.WEBAUTHN_UNSUPPORTED"]
        raise responses.APIError(422, code, message)
    return step


@routes.post(r"/api/v1/whatsapp/login/{flow:qr|phone}")
async def start(request: web.Request) -> web.Response:
    """Start logging in: a QR code to scan, or a phone number to ask for (admin)."""
    require_admin(request)
    step = await _login_call(request, f"/v3/login/start/{request.match_info['flow']}")
    return responses.json_response(step)


@routes.post(LOGIN + r"/{step_id:[A-Za-z0-9_.:-]+}/wait")
async def wait(request: web.Request) -> web.Response:
    """The next step of a login: a fresh QR code, or `complete` once the phone linked. The
    bridge holds this for up to a minute (a QR code) or until the phone enters the pairing code;
    after bridge.login_wait seconds the browser is told to ask again (204), and its next call,
    naming the step's txn_id, joins the bridge's wait where it is."""
    require_admin(request)
    login, step = request.match_info["login_id"], request.match_info["step_id"]
    txn_id = request.query.get("txn_id")
    if txn_id is not None and not TXN_ID.match(txn_id):
        raise responses.bad_request("txn_id is the step's txn_id", "txn_id")
    path = f"/v3/login/step/{login}/{step}/display_and_wait"
    hold = request.app[SETTINGS].bridge.login_wait
    # The bridge call itself outlasts the hold: it is the hold that ends it, with a 204.
    query = {"txn_id": txn_id} if txn_id else None
    call = _login_call(request, path, query=query, limit=hold + LOGIN_CALL_LIMIT)
    try:
        answer = await asyncio.wait_for(call, hold)
    except TimeoutError:
        return web.Response(status=204)
    return responses.json_response(answer)


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
    answer = await _login_call(request, f"/v3/login/step/{login}/{step}/user_input", fields)
    return responses.json_response(answer)


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
    if body.login_id is None:
        connected = (await _bridge(request, "GET", "/v3/logins")).get("login_ids") or []
        if len(connected) > 1:  # the bridge would pick one; the manager says which
            raise responses.invalid("login_id", "Choose which of your numbers to write from")
    query = {"login_id": body.login_id} if body.login_id else None
    answer = await _bridge(request, "POST", f"/v3/create_dm/{quote(phone, safe='+')}",
                           query=query)  # fmt: skip
    room_id = answer.get("dm_room_mxid") if isinstance(answer, dict) else None
    if not isinstance(room_id, str):
        raise responses.APIError(502, "bridge_unavailable", "The bridge opened no chat")
    # Since v26.08 the chat is with the number's LID ghost (the answer's id), whose events carry
    # no number: it is the one asked for, whenever the ghost's contact is made.
    remote_id = answer.get("id")
    if isinstance(remote_id, str) and LID_ID.fullmatch(remote_id) and E164.fullmatch(phone):
        learned = {"platform": "whatsapp", "remote_id": remote_id, "phone": phone,
                   "source": "create_dm"}  # fmt: skip
        async with request.app[POOL].acquire() as conn, conn.transaction():
            changed = await people.learn_phones(conn, [learned])
            await feed.record(conn, [("conversation.updated", i) for i in changed])
    loop = asyncio.get_running_loop()
    deadline = loop.time() + NEW_PORTAL_WAIT
    while True:
        async with request.app[POOL].acquire() as conn:
            row = await store.by_room(conn, room_id)
        if row is not None:
            # A colleague's conversation stays theirs (404, as everywhere for what a manager
            # who sees only their own may not see); an unassigned one is the opener's.
            ensure_visible(request, row["assignee_id"], "conversation")
            if row["assignee_id"] is None and request.app[SETTINGS].web.assign_on_reply:
                async with request.app[POOL].acquire() as conn, conn.transaction():
                    if await store.take(conn, row["id"], current(request).manager.id):
                        await feed.record(conn, [("conversation.updated", row["id"])])
                    row = await store.by_room(conn, room_id)
                assert row is not None
            return responses.json_response(conversation_out(row), 201)
        if loop.time() > deadline:
            return responses.json_response(NewChatPendingOut(room_id=room_id), 202)
        await asyncio.sleep(0.2)
