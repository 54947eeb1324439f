"""The typed keys of the objects the aiohttp application shares between its parts."""

from __future__ import annotations

from aiohttp import web

from .config import Settings
from .matrix.client import MatrixClient
from .media.cache import MediaCache
from .media.rows import MediaRows
from .outbox.spool import Spool
from .store.database import Pool

SETTINGS = web.AppKey("settings", Settings)
POOL = web.AppKey("pool", Pool)
MATRIX = web.AppKey("matrix", MatrixClient)
SPOOL = web.AppKey("spool", Spool)
MEDIA_CACHE = web.AppKey("media_cache", MediaCache)
MEDIA_ROWS = web.AppKey("media_rows", MediaRows)
