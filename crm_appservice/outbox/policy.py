"""The one retry policy of every send: exponential backoff with jitter, bounded in attempts and
age. Kept apart from the worker so its rules are stated (and tested) in one place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
import random

from ..config import OutboxSettings


@dataclass(frozen=True)
class RetryPolicy:
    initial_delay: float = 1.0
    max_delay: float = 180.0
    max_attempts: int = 12
    max_age: float = 3600.0

    @classmethod
    def from_settings(cls, settings: OutboxSettings) -> RetryPolicy:
        return cls(
            initial_delay=settings.retry_initial_delay,
            max_delay=settings.retry_max_delay,
            max_attempts=settings.max_attempts,
            max_age=settings.max_age,
        )

    def delay(self, failed_attempts: int, rng: random.Random | None = None) -> float:
        """Seconds before the next attempt, after `failed_attempts` (≥ 1) failures.

        Doubling from `initial_delay` up to `max_delay`, each drawn between half and all of
        that ("equal jitter"): instances that failed together do not retry together, and the
        wait never drops to nothing.
        """
        base = min(self.max_delay, self.initial_delay * 2.0 ** min(failed_attempts - 1, 30))
        return base / 2 + (rng or random).uniform(0, base / 2)

    def gives_up(self, failed_attempts: int, queued_at: datetime, now: datetime) -> bool:
        """Whether a message that failed this often since `queued_at` is given up as failed."""
        age = (now - queued_at).total_seconds()
        return failed_attempts >= self.max_attempts or age >= self.max_age
