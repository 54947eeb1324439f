"""The typed keys of the objects the aiohttp application shares between its parts."""

from __future__ import annotations

from aiohttp import web

from .config import Settings
from .store.database import Pool

SETTINGS = web.AppKey("settings", Settings)
POOL = web.AppKey("pool", Pool)
