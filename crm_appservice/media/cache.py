"""The media cache: files from the homeserver on local disk, least recently used evicted.

A file viewed by five managers is fetched from the homeserver once: later requests are served
from disk, and concurrent first requests for the same file share one download. A file is
written under a temporary name and renamed when complete, so a reader never sees half a file,
also when several instances share the directory. Each entry has a sidecar with the type the
homeserver gave (needed for thumbnails it made; originals are served with the stored type).
The index of sizes and recency is kept in memory and rebuilt from the directory at start.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass
import logging
import os
import uuid

log = logging.getLogger("crm.media")

# Writes a download into the given path and returns the Content-Type it came with.
Fetch = Callable[[str], Awaitable[str]]


@dataclass(frozen=True)
class Cached:
    path: str
    size: int
    content_type: str


class MediaCache:
    def __init__(self, directory: str, max_size: int) -> None:
        self.directory = directory
        self.max_size = max_size
        self._index: OrderedDict[str, Cached] = OrderedDict()  # oldest use first
        self._total = 0
        self._inflight: dict[str, asyncio.Future[Cached]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.hits = 0
        self.misses = 0
        self.downloads = 0

    @property
    def size(self) -> int:
        return self._total

    def _path(self, key: str) -> str:
        return os.path.join(self.directory, key[:2], key)

    async def load(self) -> None:
        """Rebuild the index from the directory (oldest file first)."""
        entries = await asyncio.to_thread(self._scan)
        for key, cached in entries:
            self._index[key] = cached
            self._total += cached.size
        await self._evict()

    def _scan(self) -> list[tuple[str, Cached]]:
        found: list[tuple[float, str, Cached]] = []
        if not os.path.isdir(self.directory):
            return []
        for sub in os.scandir(self.directory):
            if not sub.is_dir():
                continue
            for entry in os.scandir(sub.path):
                name = entry.name
                if ".tmp-" in name or name.endswith(".type"):
                    if ".tmp-" in name:  # left by a crash mid-download
                        with contextlib.suppress(OSError):
                            os.unlink(entry.path)
                    continue
                try:
                    with open(entry.path + ".type") as f:
                        content_type = f.read().strip()
                    st = entry.stat()
                except OSError:
                    continue
                found.append((st.st_mtime, name, Cached(entry.path, st.st_size, content_type)))
        found.sort()
        return [(key, cached) for _, key, cached in found]

    async def get(self, key: str, fetch: Fetch) -> Cached:
        """The cached file for `key`, downloaded with `fetch` if it is not here yet."""
        cached = self._index.get(key)
        if cached is not None:
            self._index.move_to_end(key)
            self.hits += 1
            return cached
        pending = self._inflight.get(key)
        if pending is None:
            pending = asyncio.get_running_loop().create_future()
            self._inflight[key] = pending
            task = asyncio.create_task(self._download(key, fetch, pending))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self.misses += 1
        return await asyncio.shield(pending)

    async def _download(self, key: str, fetch: Fetch, done: asyncio.Future[Cached]) -> None:
        path = self._path(key)
        temp = f"{path}.tmp-{uuid.uuid4().hex}"
        self.downloads += 1
        try:
            await asyncio.to_thread(os.makedirs, os.path.dirname(path), 0o700, True)
            content_type = await fetch(temp)
            await asyncio.to_thread(self._commit, temp, path, content_type)
            size = (await asyncio.to_thread(os.stat, path)).st_size
            cached = Cached(path, size, content_type)
            self._forget(key)
            self._index[key] = cached
            self._total += size
            await self._evict(keep=key)
            done.set_result(cached)
        except BaseException as e:
            with contextlib.suppress(OSError):
                await asyncio.to_thread(os.unlink, temp)
            if not done.done():
                done.set_exception(e)
            if not isinstance(e, Exception):
                raise
        finally:
            self._inflight.pop(key, None)
            if done.done() and not done.cancelled():
                done.exception()  # retrieved: no "never retrieved" warning without waiters

    @staticmethod
    def _commit(temp: str, path: str, content_type: str) -> None:
        with open(path + ".type", "w") as f:
            f.write(content_type)
        os.replace(temp, path)

    def forget(self, key: str) -> None:
        """The file is gone from the disk (another instance sharing the directory evicted it)."""
        self._forget(key)

    def _forget(self, key: str) -> None:
        old = self._index.pop(key, None)
        if old is not None:
            self._total -= old.size

    async def _evict(self, keep: str | None = None) -> None:
        """Remove the least recently used files until the cache fits its size. A file being
        sent stays readable to its reader (it is only unlinked)."""
        victims: list[str] = []
        for key in list(self._index):
            if self._total <= self.max_size:
                break
            if key == keep:
                continue
            victims.append(self._index[key].path)
            self._forget(key)
        if victims:
            await asyncio.to_thread(_unlink_all, victims)
            log.debug("Evicted %d cached file(s)", len(victims))


def _unlink_all(paths: list[str]) -> None:
    for path in paths:
        for name in (path, path + ".type"):
            with contextlib.suppress(OSError):
                os.unlink(name)
