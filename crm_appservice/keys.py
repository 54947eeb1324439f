"""The typed keys of the objects the aiohttp application shares between its parts: all of them,
here. The later ones name their type only for the type checker, so this module imports none of
the parts that use it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from .config import Settings
from .matrix.client import MatrixClient
from .media.cache import MediaCache
from .media.rows import MediaRows
from .outbox.spool import Spool
from .store.database import Pool

if TYPE_CHECKING:
    from .api.session_cache import SessionCache
    from .appservice.transactions import AppserviceAPI
    from .live.guard import Guard
    from .live.hub import Hub
    from .live.presence import Presence
    from .metrics import Metrics

SETTINGS = web.AppKey("settings", Settings)
POOL = web.AppKey("pool", Pool)
MATRIX = web.AppKey("matrix", MatrixClient)
SPOOL = web.AppKey("spool", Spool)
MEDIA_CACHE = web.AppKey("media_cache", MediaCache)
MEDIA_ROWS = web.AppKey("media_rows", MediaRows)
SESSIONS: web.AppKey[SessionCache] = web.AppKey("session_cache")
HUB: web.AppKey[Hub] = web.AppKey("live_hub")
GUARD: web.AppKey[Guard] = web.AppKey("live_guard")
PRESENCE: web.AppKey[Presence] = web.AppKey("presence")
METRICS: web.AppKey[Metrics] = web.AppKey("metrics")
APPSERVICE: web.AppKey[AppserviceAPI] = web.AppKey("appservice")
