"""Files that hold secrets (the config with its tokens and passwords, the registration with
the appservice's tokens) are written for their owner only, and one that others can read is
named in the log: `cp config.example.yaml config.yaml` makes a world-readable file."""

from __future__ import annotations

import logging
import os
import stat

log = logging.getLogger("crm.config")

OWNER_ONLY = 0o600


def exposed_mode(path: str) -> int | None:
    """The file's permission bits if users other than its owner may read or write it."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return None
    return mode if mode & 0o077 else None


def describe(path: str, mode: int) -> str:
    return (
        f"{path} holds secrets but other users may read it (mode {mode:04o}): `chmod 600 {path}`"
    )


def warn_if_exposed(path: str) -> bool:
    mode = exposed_mode(path)
    if mode is not None:
        log.warning(describe(path, mode))
    return mode is not None
