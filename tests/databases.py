"""Fresh databases made ahead of the tests that need them.

A CREATE DATABASE … TEMPLATE costs 50 to 500 ms here, mostly waiting on the disk; made one by one
in each test's setup, that was most of the quick loop's time. A thread of its own keeps a few
copies of the template ready and drops the used ones, while the tests run. Each test still gets
a database nobody else has touched, and its own copy is gone (dropped WITH FORCE) after it.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import uuid

import asyncpg

from crm_appservice.store.embedded import EmbeddedPostgres

AHEAD = 3


class FreshDatabases:
    def __init__(self, server: EmbeddedPostgres, template: str, ahead: int = AHEAD) -> None:
        self.server = server
        self.template = template
        self.ahead = ahead
        self.ready: queue.Queue[str] = queue.Queue()
        self._used: queue.Queue[str | None] = queue.Queue()
        self._wanted = threading.Semaphore(ahead)
        self._thread = threading.Thread(target=self._run, name="fresh-databases", daemon=True)
        self._errors: list[BaseException] = []
        self._thread.start()

    def take(self) -> str:
        """The name of a new copy of the template (waits for one if none is ready yet)."""
        while True:
            if self._errors:
                raise RuntimeError("the databases' thread failed") from self._errors[0]
            try:
                name = self.ready.get(timeout=0.5)
            except queue.Empty:
                continue
            self._wanted.release()
            return name

    def give_back(self, name: str) -> None:
        """The test is done with `name`: it is dropped in the background."""
        self._used.put(name)

    def stop(self) -> None:
        self._used.put(None)
        self._wanted.release()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        try:
            asyncio.run(self._loop())
        except BaseException as e:  # reported to the next test that asks for a database
            self._errors.append(e)

    async def _loop(self) -> None:
        conn = await asyncpg.connect(self.server.dsn("postgres"))
        try:
            while True:
                while not self._used.empty():
                    used = self._used.get_nowait()
                    if used is None:
                        return
                    await conn.execute(f'DROP DATABASE IF EXISTS "{used}" WITH (FORCE)')
                if not await asyncio.to_thread(self._wanted.acquire, True, 0.2):
                    continue
                name = f"t_{uuid.uuid4().hex[:16]}"
                await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
                self.ready.put(name)
        finally:
            await conn.close()
