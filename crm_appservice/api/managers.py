"""Admins manage the team: list, add, change role or name, reset a password, deactivate."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from .. import passwords
from ..keys import POOL, SESSIONS
from ..store import managers as store
from . import responses
from .middleware import ids, require_admin
from .models import (
    ManagerAdminOut,
    ManagerBody,
    ManagerList,
    ManagerPatch,
    TeamList,
    TeamMemberOut,
)

routes = web.RouteTableDef()


def manager_out(manager: store.Manager) -> ManagerAdminOut:
    return ManagerAdminOut.model_validate(manager, from_attributes=True)


@routes.get("/api/v1/managers")
async def list_managers(request: web.Request) -> web.Response:
    require_admin(request)
    managers = await store.list_all(request.app[POOL])
    return responses.json_response(ManagerList(items=[manager_out(m) for m in managers]))


@routes.get("/api/v1/team")
async def team(request: web.Request) -> web.Response:
    """Every active manager's name, for everyone: assignee pickers and avatars."""
    managers = await store.list_all(request.app[POOL])
    members = [TeamMemberOut.model_validate(m, from_attributes=True) for m in managers
               if m.is_active]  # fmt: skip
    return responses.json_response(TeamList(items=members))


@routes.post("/api/v1/managers")
async def add_manager(request: web.Request) -> web.Response:
    require_admin(request)
    body = ManagerBody.model_validate_json(await request.read())
    password_hash = await asyncio.to_thread(passwords.hash_password, body.password)
    try:
        manager, _ = await store.create(
            request.app[POOL], body.email.lower(), body.name, body.role, password_hash
        )
    except store.ManagerExists:
        raise responses.conflict("A manager with that e-mail already exists") from None
    return responses.json_response(manager_out(manager), status=201)


@routes.patch(ids("/api/v1/managers/{manager_id:id}"))
async def patch_manager(request: web.Request) -> web.Response:
    session = require_admin(request)
    manager_id = int(request.match_info["manager_id"])
    body = ManagerPatch.model_validate_json(await request.read())
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    if manager_id == session.manager.id and (
        changes.get("is_active") is False or changes.get("role") == "manager"
    ):
        raise responses.forbidden("Admins cannot deactivate or demote themselves")
    if "password" in changes:
        changes["password_hash"] = await asyncio.to_thread(
            passwords.hash_password, changes.pop("password")
        )
    if not changes:
        raise responses.bad_request("Nothing to change")
    # A new password or a deactivation ends the manager's sessions and API tokens (an admin
    # changing their own password keeps the session they are using).
    keep = session.id if manager_id == session.manager.id else None
    manager = await store.update(request.app[POOL], manager_id, changes, keep)
    if manager is None:
        raise responses.not_found("manager")
    request.app[SESSIONS].drop_manager(manager_id)  # a new name shows here at once
    return responses.json_response(manager_out(manager))
