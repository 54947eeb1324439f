"""Logging in and out, the current manager, and API tokens for scripts."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from aiohttp import web

from .. import passwords
from ..keys import POOL, SESSIONS, SETTINGS
from ..store import attempts, managers, sessions
from . import ratelimit, responses
from .middleware import current, ids
from .models import LoginBody, LoginOut, ManagerOut, MePatch
from .token_models import NewTokenOut, TokenBody, TokenList, TokenOut

CSRF_COOKIE = "crm_csrf"
# Verified when the e-mail is unknown, so a failed login takes as long either way.
_DUMMY_HASH = passwords.hash_password("not a real password, only for constant-time failures")

routes = web.RouteTableDef()


def _manager_out(manager: managers.Manager) -> ManagerOut:
    return ManagerOut.model_validate(manager, from_attributes=True)


async def _check_password(
    request: web.Request, email: str, password: str, wrong: responses.APIError
) -> int:
    """The id of the active manager with this e-mail and password, else `wrong` (429 after too
    many failures). Takes as long for an unknown e-mail as for a wrong password."""
    address = ratelimit.client_address(request, request.app[SETTINGS].web.trusted_proxies)
    pool = request.app[POOL]
    async with pool.acquire() as conn:
        wait, reserved = await attempts.reserve(
            conn, ratelimit.limits(email, address), ratelimit.WINDOW
        )
    if wait:
        raise responses.rate_limited(wait)
    found = await managers.credentials(pool, email)
    password_hash = found[1] if found else _DUMMY_HASH
    ok = await asyncio.to_thread(passwords.verify_password, password_hash, password)
    if not (found and ok):
        raise wrong  # the reservation stays: one more failure
    async with pool.acquire() as conn:
        await attempts.succeeded(conn, reserved, [ratelimit.client_key(email, address)])
    return found[0]


@routes.post("/api/v1/auth/login")
async def login(request: web.Request) -> web.Response:
    # A form posted from another site can send text/plain but never application/json without
    # the browser asking first (CORS), which this server never allows.
    if request.content_type != "application/json":
        raise responses.json_only()
    body = LoginBody.model_validate_json(await request.read())
    email = body.email.lower()
    wrong = responses.invalid_credentials()
    manager_id = await _check_password(request, email, body.password, wrong)
    pool = request.app[POOL]
    settings = request.app[SETTINGS].web
    lifetime = settings.session_lifetime
    async with pool.acquire() as conn:
        old = request.cookies.get(settings.cookie_name)
        if old:  # a new session at every login: a planted cookie never becomes a logged-in one
            previous = await sessions.resolve(conn, old, lifetime)
            if previous:
                await sessions.delete(conn, previous.id)
                request.app[SESSIONS].drop_session(previous.id)
        token, session = await sessions.create(conn, manager_id, "cookie", lifetime)
    out = LoginOut(manager=_manager_out(session.manager), csrf_token=session.csrf_token)
    response = responses.json_response(out)
    max_age = int(lifetime.total_seconds())
    response.set_cookie(
        settings.cookie_name,
        token,
        max_age=max_age,
        path="/",
        httponly=True,
        secure=settings.secure_cookies,
        samesite=settings.cookie_samesite,
    )
    response.set_cookie(
        CSRF_COOKIE,
        session.csrf_token or "",
        max_age=max_age,
        path="/",
        secure=settings.secure_cookies,
        samesite=settings.cookie_samesite,
    )
    return response


@routes.post("/api/v1/auth/logout")
async def logout(request: web.Request) -> web.Response:
    session = current(request)
    async with request.app[POOL].acquire() as conn:
        await sessions.delete(conn, session.id)
    request.app[SESSIONS].drop_session(session.id)
    response = responses.json_response({})
    cookie = request.app[SETTINGS].web.cookie_name
    response.del_cookie(cookie, path="/")
    response.del_cookie(CSRF_COOKIE, path="/")
    return response


@routes.get("/api/v1/me")
async def me(request: web.Request) -> web.Response:
    session = current(request)
    return responses.json_response(
        LoginOut(manager=_manager_out(session.manager), csrf_token=session.csrf_token)
    )


@routes.patch("/api/v1/me")
async def change_me(request: web.Request) -> web.Response:
    """A manager changes their own name or password. A new password ends every other session
    and API token of theirs (this one stays signed in)."""
    session = current(request)
    body = MePatch.model_validate_json(await request.read())
    changes: dict[str, object] = {}
    if body.name is not None:
        changes["name"] = body.name
    if body.password is not None:
        if body.current_password is None:
            raise responses.invalid("current_password", "Current password: this is required")
        wrong = responses.APIError(
            403, "wrong_password", "Current password: not the right one", "current_password"
        )
        await _check_password(request, session.manager.email, body.current_password, wrong)
        changes["password_hash"] = await asyncio.to_thread(passwords.hash_password, body.password)
    if not changes:
        raise responses.bad_request("Nothing to change")
    manager = await managers.update(request.app[POOL], session.manager.id, changes, session.id)
    if manager is None:
        raise responses.not_found("manager")
    request.app[SESSIONS].drop_manager(session.manager.id)  # the new name shows at once
    return responses.json_response(
        LoginOut(manager=_manager_out(manager), csrf_token=session.csrf_token)
    )


@routes.get("/api/v1/tokens")
async def list_tokens(request: web.Request) -> web.Response:
    session = current(request)
    async with request.app[POOL].acquire() as conn:
        rows = await sessions.list_tokens(conn, session.manager.id)
    return responses.json_response(TokenList(items=[TokenOut.model_validate(r) for r in rows]))


@routes.post("/api/v1/tokens")
async def create_token(request: web.Request) -> web.Response:
    """A token for scripts, shown once. The password is asked again, and its failures count
    as failed logins: a stolen session cookie alone never mints a lasting credential."""
    session = current(request)
    body = TokenBody.model_validate_json(await request.read())
    wrong = responses.APIError(403, "wrong_password", "Wrong password", "password")
    await _check_password(request, session.manager.email, body.password, wrong)
    lifetime = timedelta(days=body.expires_in_days) if body.expires_in_days else None
    async with request.app[POOL].acquire() as conn:
        token, created = await sessions.create(
            conn, session.manager.id, "api_token", lifetime, body.label
        )
        expires_at = await sessions.expires_at(conn, created.id)
    out = NewTokenOut(id=created.id, label=body.label, token=token, expires_at=expires_at)
    return responses.json_response(out, status=201)


@routes.delete(ids("/api/v1/tokens/{token_id:id}"))
async def delete_token(request: web.Request) -> web.Response:
    session = current(request)
    async with request.app[POOL].acquire() as conn:
        deleted = await sessions.delete_token(
            conn, session.manager.id, int(request.match_info["token_id"])
        )
    if not deleted:
        raise responses.not_found("token")
    request.app[SESSIONS].drop_session(int(request.match_info["token_id"]))
    return responses.json_response({})
