"""The outbox's spool: attachments on disk from the API's answer until the homeserver has them.

The API streams an upload into a file here (never the whole file in memory) and syncs it before
the reply is committed, so an accepted attachment survives a crash like the reply itself. The
worker streams it to the homeserver's media repository and removes it once the message is sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
import os
from typing import BinaryIO
import uuid

from aiohttp import BodyPartReader

CHUNK = 256 * 1024


class TooLarge(Exception):
    pass


def _close_synced(f: BinaryIO) -> None:
    f.flush()
    os.fsync(f.fileno())
    f.close()


class Spool:
    def __init__(self, directory: str) -> None:
        self.directory = directory

    def path(self, name: str) -> str:
        return os.path.join(self.directory, os.path.basename(name))

    async def receive(self, part: BodyPartReader, limit: int) -> tuple[str, int]:
        """Write the part to a new file; (its name in the spool, size). TooLarge past `limit`
        bytes. The name, not the path, is stored: the directory may move."""
        await asyncio.to_thread(os.makedirs, self.directory, 0o700, True)
        name = uuid.uuid4().hex
        path = self.path(name)
        f = await asyncio.to_thread(open, path, "wb")
        size = 0
        try:
            while chunk := await part.read_chunk(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise TooLarge
                await asyncio.to_thread(f.write, chunk)
            await asyncio.to_thread(_close_synced, f)
        except BaseException:
            f.close()
            await self.discard(name)
            raise
        return name, size

    async def write(self, data: bytes) -> tuple[str, int]:
        """A copy of bytes kept elsewhere (a quick reply's file in the database), synced as a
        received file is: (its name in the spool, size)."""
        await asyncio.to_thread(os.makedirs, self.directory, 0o700, True)
        name = uuid.uuid4().hex
        try:
            await asyncio.to_thread(self._write_synced, self.path(name), data)
        except BaseException:  # a full disk, a cancelled request: no half file left behind
            await asyncio.shield(self.discard(name))
            raise
        return name, len(data)

    @staticmethod
    def _write_synced(path: str, data: bytes) -> None:
        with open(path, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())

    async def discard(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(os.unlink, self.path(name))

    def read(self, name: str) -> bytes:
        """The whole file (for an e-mail attachment; call in a thread)."""
        with open(self.path(name), "rb") as f:
            return f.read()

    async def stream(self, name: str) -> AsyncIterator[bytes]:
        """The file's bytes in chunks; FileNotFoundError at once if it is gone."""
        f = await asyncio.to_thread(open, self.path(name), "rb")
        return self._chunks(f)

    async def _chunks(self, f: BinaryIO) -> AsyncIterator[bytes]:
        try:
            while chunk := await asyncio.to_thread(f.read, CHUNK):
                yield chunk
        finally:
            f.close()
