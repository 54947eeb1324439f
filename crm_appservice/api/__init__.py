"""The inbox REST API (`/api/v1/...`), for the web inbox and for admins' scripts."""

from __future__ import annotations

from aiohttp import web

from ..keys import SESSIONS
from . import (
    auth,
    bodies,
    bulk,
    contact_attributes,
    contact_import,
    contact_merges,
    contacts,
    conversations,
    deals,
    drafts,
    labels,
    managers,
    media,
    notes,
    openapi,
    pipelines,
    quick_replies,
    replies,
    views,
    whatsapp,
    ws,
)
from .middleware import authenticate, errors
from .session_cache import SessionCache


def setup(app: web.Application) -> None:
    app.middlewares.extend([errors, bodies.limit_bodies, authenticate])
    app[SESSIONS] = SessionCache()
    app.router.add_routes(auth.routes)
    app.router.add_routes(whatsapp.routes)  # before the conversation routes: /conversations/new
    app.router.add_routes(bulk.routes)
    app.router.add_routes(conversations.routes)
    app.router.add_routes(replies.routes)
    app.router.add_routes(quick_replies.routes)
    app.router.add_routes(drafts.routes)
    app.router.add_routes(notes.routes)
    app.router.add_routes(labels.routes)
    app.router.add_routes(views.routes)
    app.router.add_routes(pipelines.routes)
    app.router.add_routes(deals.routes)
    app.router.add_routes(contacts.routes)
    app.router.add_routes(contact_merges.routes)
    app.router.add_routes(contact_attributes.routes)
    app.router.add_routes(contact_import.routes)
    app.router.add_routes(managers.routes)
    app.router.add_routes(media.routes)
    app.router.add_routes(openapi.routes)
    app.router.add_routes(ws.routes)
