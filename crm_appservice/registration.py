"""The appservice registration file that the homeserver loads.

The CRM claims its own users (`@<user_prefix>.*`) exclusively and the bridges' ghosts
non-exclusively: the latter is what makes Synapse push a portal's events before the CRM's user has
even joined, while leaving the ghosts owned by the bridge.
"""

from __future__ import annotations

import os
import re
import secrets
from typing import Any

from ruamel.yaml import YAML

from .config import Config, ConfigError, Settings
from .secret_files import OWNER_ONLY


def new_token() -> str:
    """A random token with 384 bits from the OS's CSPRNG."""
    return secrets.token_urlsafe(48)


def user_regex(localpart_regex: str, domain: str) -> str:
    return f"@{localpart_regex}:{re.escape(domain)}"


def build_registration(settings: Settings, as_token: str, hs_token: str) -> dict[str, Any]:
    """The registration as the appservice spec defines it, with MSC2409 for ephemeral events."""
    aps = settings.appservice
    domain = settings.homeserver.domain
    users: list[dict[str, Any]] = [
        {"exclusive": True, "regex": user_regex(re.escape(aps.user_prefix) + ".*", domain)}
    ]
    if not aps.bot_username.startswith(aps.user_prefix):
        users.append({"exclusive": True, "regex": user_regex(re.escape(aps.bot_username), domain)})
    users.extend(
        {"exclusive": False, "regex": user_regex(pattern, domain)} for pattern in aps.bridge_ghosts
    )
    return {
        "id": aps.id,
        "url": str(aps.address),
        "as_token": as_token,
        "hs_token": hs_token,
        "sender_localpart": aps.bot_username,
        "namespaces": {"users": users, "aliases": [], "rooms": []},
        "rate_limited": False,
        "receive_ephemeral": True,
        "de.sorunome.msc2409.push_ephemeral": True,
    }


def _write(registration: dict[str, Any], path: str) -> None:
    """To a temporary file renamed into place: a reader never sees half a registration."""
    yaml = YAML()
    yaml.default_flow_style = False
    tmp = f"{path}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, OWNER_ONLY)
    os.fchmod(fd, OWNER_ONLY)  # a leftover temporary file keeps its mode through O_TRUNC
    with os.fdopen(fd, "w") as stream:
        yaml.dump(registration, stream)
    os.replace(tmp, path)


def generate_registration(config: Config, settings: Settings, path: str) -> dict[str, Any]:
    """Make fresh tokens, write the registration to `path` and the tokens back into the config.

    The registration is written first, so a failure never leaves a config whose tokens no
    registration knows.
    """
    as_token, hs_token = new_token(), new_token()
    registration = build_registration(settings, as_token, hs_token)
    _write(registration, path)
    config.set_tokens(as_token, hs_token)
    config.save()
    return registration


def write_registration(settings: Settings, path: str) -> dict[str, Any]:
    """The registration for the tokens the config already has: for a set-up that made them and
    gave the as_token to others too (the bridge's double puppeting)."""
    aps = settings.appservice
    if not (aps.as_token and aps.hs_token):
        raise ConfigError("appservice.as_token", "--keep-tokens needs both tokens in the config")
    registration = build_registration(settings, aps.as_token, aps.hs_token)
    _write(registration, path)
    return registration
