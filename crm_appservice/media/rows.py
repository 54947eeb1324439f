"""What the media proxy knows of a message, kept in memory between requests.

A video player sends a range request every second or so, each of which would otherwise read the
same message row again. The rows are dropped as soon as the live feed says their message or its
conversation changed (a deletion, a new assignee), on every instance, since every instance's hub
reads the whole feed; a row also expires after TTL seconds in case the feed stalls.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
import time
from typing import Any

import asyncpg

TTL = 60.0
SIZE = 10_000


class MediaRows:
    def __init__(self) -> None:
        self._rows: OrderedDict[int, tuple[float, asyncpg.Record]] = OrderedDict()
        self._by_conversation: dict[int, set[int]] = {}

    def get(self, message_id: int) -> asyncpg.Record | None:
        found = self._rows.get(message_id)
        if found is None:
            return None
        stored_at, row = found
        if time.monotonic() - stored_at > TTL:
            self._drop(message_id)
            return None
        return row

    def put(self, row: asyncpg.Record) -> None:
        message_id = row["id"]
        self._drop(message_id)
        self._rows[message_id] = (time.monotonic(), row)
        self._by_conversation.setdefault(row["conversation_id"], set()).add(message_id)
        while len(self._rows) > SIZE:
            self._drop(next(iter(self._rows)))

    def changed(self, events: Sequence[Any]) -> None:
        """Called by the live hub with every batch of the feed's events."""
        for event in events:
            kind = event["type"]
            if kind.startswith("message."):
                self._drop(event["ref_id"])
            elif kind.startswith("conversation."):
                for message_id in list(self._by_conversation.get(event["ref_id"], ())):
                    self._drop(message_id)

    def _drop(self, message_id: int) -> None:
        found = self._rows.pop(message_id, None)
        if found is not None:
            conversation_id = found[1]["conversation_id"]
            ids = self._by_conversation.get(conversation_id)
            if ids is not None:
                ids.discard(message_id)
                if not ids:
                    del self._by_conversation[conversation_id]
