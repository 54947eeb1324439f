"""Schema migrations: the plain SQL files in ``migrations/``, applied with yoyo-migrations.

Several CRM instances may start at once against one database. yoyo's own lock is a row in a table
(left behind if a process dies mid-migration), and yoyo's first-run creation of its bookkeeping
tables is not guarded by it, so everything runs under a PostgreSQL session advisory lock as well:
the second instance waits, then finds nothing left to apply, and a crashed holder releases the
lock with its connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
import importlib.resources
import logging
import time

import psycopg
from yoyo import get_backend, read_migrations

log = logging.getLogger("crm.store.migrate")

# An arbitrary constant that names "crm-appservice schema migrations" among advisory locks.
ADVISORY_LOCK_KEY = 0x63726D5F6D6967  # "crm_mig"


class MigrationLockTimeout(Exception):
    """Another process held the migration lock for longer than the configured timeout."""


def migrations_dir() -> str:
    return str(importlib.resources.files("crm_appservice") / "migrations")


def _yoyo_uri(dsn: str) -> str:
    scheme, sep, rest = dsn.partition("://")
    if not sep or scheme not in ("postgres", "postgresql"):
        raise ValueError("not a postgresql:// URL")
    return f"postgresql+psycopg://{rest}"


@contextmanager
def _advisory_lock(dsn: str, timeout: float) -> Iterator[None]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        deadline = time.monotonic() + timeout
        logged = False
        while True:
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (ADVISORY_LOCK_KEY,)).fetchone()
            if row and row[0]:
                break
            if time.monotonic() > deadline:
                raise MigrationLockTimeout(
                    f"another instance held the migration lock for over {timeout:g} s"
                )
            if not logged:
                log.info("Waiting for another instance to finish applying migrations")
                logged = True
            time.sleep(0.1)
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (ADVISORY_LOCK_KEY,))


def pending(dsn: str) -> list[str]:
    """Ids of the migrations not yet applied."""
    backend = get_backend(_yoyo_uri(dsn))
    try:
        return [m.id for m in backend.to_apply(read_migrations(migrations_dir()))]
    finally:
        backend.connection.close()


def apply_migrations(dsn: str, lock_timeout: float = 60) -> list[str]:
    """Apply every pending migration; returns the ids applied (empty when up to date).

    Blocking (yoyo uses a synchronous driver): call it from a thread in async code.
    """
    migrations = read_migrations(migrations_dir())
    with _advisory_lock(dsn, lock_timeout):
        backend = get_backend(_yoyo_uri(dsn))
        try:
            with backend.lock(timeout=lock_timeout):
                todo = backend.to_apply(migrations)
                for migration in todo:
                    log.info("Applying migration %s", migration.id)
                backend.apply_migrations(todo)
                return [m.id for m in todo]
        finally:
            backend.connection.close()
