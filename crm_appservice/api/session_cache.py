"""Sessions resolved in the last few seconds, so a burst of requests (a video's range requests,
a screen's parallel reads) costs one session lookup, not one each.

A logout, a revoked token or a change to a manager's rights takes effect at once on every
instance: each one's live hub hands it the feed's events of those (`changed`); a change of name
shows within TTL seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
import time
from typing import Any

from ..store import managers, sessions
from ..store.sessions import Session

TTL = 5.0
SIZE = 10_000


class SessionCache:
    def __init__(self) -> None:
        self._entries: dict[bytes, tuple[float, Session]] = {}

    def get(self, token_hash: bytes) -> Session | None:
        found = self._entries.get(token_hash)
        if found is None:
            return None
        if time.monotonic() - found[0] > TTL:
            del self._entries[token_hash]
            return None
        return found[1]

    def put(self, token_hash: bytes, session: Session) -> None:
        if len(self._entries) >= SIZE:
            self._entries.clear()  # simpler than ordering: a refill costs one lookup each
        self._entries[token_hash] = (time.monotonic(), session)

    def drop_session(self, session_id: int) -> None:
        for key in [k for k, (_, s) in self._entries.items() if s.id == session_id]:
            del self._entries[key]

    def drop_manager(self, manager_id: int) -> None:
        for key in [k for k, (_, s) in self._entries.items() if s.manager.id == manager_id]:
            del self._entries[key]

    def changed(self, events: Sequence[Any]) -> None:
        """Called by the live hub with every batch of the feed's events."""
        for event in events:
            if event["type"] == sessions.SESSION_ENDED:
                self.drop_session(event["ref_id"])
            elif event["type"] == managers.RIGHTS_CHANGED:
                self.drop_manager(event["ref_id"])
