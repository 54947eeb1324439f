"""The one way a test waits for something: poll until it holds, or fail saying what never came.

A check may be a plain function or a coroutine function; while the database or a server is still
coming up (a connection refused, a PostgreSQL hiccup) that counts as "not yet", not as a failure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import inspect
import time
from typing import Any

import aiohttp
import asyncpg

WAIT = 45.0
NOT_YET = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, aiohttp.ClientError)


async def until(
    check: Callable[[], Any],
    what: str = "the expected state",
    timeout: float = WAIT,
    interval: float = 0.05,
) -> Any:
    """Poll `check` until it returns something true, and return that."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if inspect.isawaitable(result):
                result = await result
        except NOT_YET:
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(interval)


async def healthy(
    url: str, proc: asyncio.subprocess.Process, what: str = "the CRM", timeout: float = 60
) -> Any:
    """Wait until GET `url` answers 200 (its JSON, if any), failing at once if `proc` exits."""
    async with aiohttp.ClientSession() as http:

        async def answered() -> Any:
            assert proc.returncode is None, f"{what} exited during start"
            async with http.get(url) as resp:
                if resp.status != 200:
                    return None
                is_json = resp.content_type == "application/json"
                return (await resp.json()) if is_json else True

        return await until(answered, f"{what} to answer {url}", timeout, interval=0.1)
