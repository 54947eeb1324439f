"""`crm-appservice run`: the service's life from start to a clean stop.

Order matters at both ends. At start: database server, then migrations (under a lock, so two
instances starting together apply them once), then the HTTP app. At SIGTERM/SIGINT: stop
accepting requests, close the app (pool and workers), and only then stop the embedded database.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal

from aiohttp import web

from .config import Settings
from .server import create_app
from .store.database import database_dsn
from .store.migrate import apply_migrations

log = logging.getLogger("crm.program")


class Program:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.stopping = asyncio.Event()

    def _install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_signal, sig)

    def _on_signal(self, sig: signal.Signals) -> None:
        log.info("Received %s, stopping", sig.name)
        self.stopping.set()

    async def run(self) -> None:
        self._install_signal_handlers()
        db = self.settings.database
        async with database_dsn(db) as dsn:
            applied = await asyncio.to_thread(apply_migrations, dsn, db.migration_lock_timeout)
            log.info("Database schema up to date (%d migrations applied now)", len(applied))
            if self.stopping.is_set():
                return
            app = create_app(self.settings, dsn)
            runner = web.AppRunner(app, handle_signals=False, access_log=None)
            await runner.setup()
            try:
                aps = self.settings.appservice
                site = web.TCPSite(runner, aps.hostname, aps.port, reuse_address=True)
                await site.start()
                log.info("Listening on http://%s:%d", aps.hostname, aps.port)
                # Everything made while starting (modules, models, the app) lives as long as the
                # process: kept out of the collector's full passes, which would otherwise walk
                # it all again each time and stall the loop (a live fan-out to a thousand
                # sockets took 60 ms longer whenever one landed in it).
                gc.freeze()
                await self.stopping.wait()
            finally:
                await runner.cleanup()
