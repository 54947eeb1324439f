"""Failed-login throttling per account and per client address.

A sliding window in this process's memory: cheap, and enough to make password guessing slow.
Each instance behind a load balancer counts on its own.
"""

from __future__ import annotations

from collections import deque
import math
import time


class FailureLimiter:
    def __init__(self, max_failures: int = 10, window: float = 900.0) -> None:
        self.max_failures = max_failures
        self.window = window
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        stamps = self._failures.get(key)
        if stamps is None:
            return deque()
        while stamps and stamps[0] <= now - self.window:
            stamps.popleft()
        if not stamps:
            del self._failures[key]
        return stamps

    def retry_after(self, *keys: str) -> int:
        """Seconds until any of `keys` may try again (0: allowed now)."""
        now = time.monotonic()
        wait = 0.0
        for key in keys:
            stamps = self._recent(key, now)
            if len(stamps) >= self.max_failures:
                wait = max(wait, stamps[0] + self.window - now)
        return math.ceil(wait)

    def fail(self, *keys: str) -> None:
        now = time.monotonic()
        for key in keys:
            self._recent(key, now)
            self._failures.setdefault(key, deque()).append(now)

    def reset(self, key: str) -> None:
        self._failures.pop(key, None)
