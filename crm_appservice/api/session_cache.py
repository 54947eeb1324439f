"""Sessions resolved in the last few seconds, so a burst of requests (a video's range requests,
a screen's parallel reads) costs one session lookup, not one each.

A logout, a revoked token or a change to a manager takes effect at once on the instance that
made it (it drops the entries) and within TTL seconds on the others.
"""

from __future__ import annotations

import time

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
