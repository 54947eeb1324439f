"""The outbox's retry policy and how a send's failure is explained: pure rules, stated once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import random

from mautrix.errors import MatrixConnectionError, MForbidden, MLimitExceeded, MUnknown

from crm_appservice.outbox.errors import explain
from crm_appservice.outbox.policy import RetryPolicy


def test_retry_policy() -> None:
    policy = RetryPolicy(initial_delay=1, max_delay=60, max_attempts=5, max_age=600)
    rng = random.Random(7)
    for attempt, base in [(1, 1), (2, 2), (3, 4), (7, 60), (40, 60)]:
        delays = [policy.delay(attempt, rng) for _ in range(200)]
        assert base / 2 <= min(delays) and max(delays) <= base
        assert max(delays) - min(delays) > base / 4  # jittered, not fixed
    now = datetime.now(UTC)
    assert not policy.gives_up(4, now - timedelta(seconds=10), now)
    assert policy.gives_up(5, now - timedelta(seconds=10), now)
    assert policy.gives_up(1, now - timedelta(seconds=601), now)


def test_errors_are_explained_and_classified() -> None:
    refused = explain(MForbidden(403, "You are not in this room"))
    assert not refused.retriable and "M_FORBIDDEN You are not in this room" in refused.reason
    limited = explain(MLimitExceeded(429, "Too many requests"))
    assert limited.retriable and "rate-limiting" in limited.reason
    broken = explain(MUnknown(502, "Bad gateway"))
    assert broken.retriable and "502" in broken.reason
    down = explain(MatrixConnectionError("Cannot connect to host"))
    assert down.retriable and "unreachable" in down.reason
