"""The typed settings, and the one declaration of every config key.

Each section of the file is a frozen dataclass below and each key one of its fields: the field's
name is the key's (unless a :class:`Key` says otherwise), its ``Annotated`` kind is the rule (type,
range, what an empty value means, the error message). The file's upgrade (``do_update``) copies
exactly these keys and :func:`read` checks exactly these, so a key is added in one place and
the example file; a test holds that the example has the same keys. Rules between two keys are
the section's ``__post_init__``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, is_dataclass, replace
from datetime import timedelta
from functools import cache
import re
from typing import Annotated, Any, get_args, get_origin, get_type_hints

from yarl import URL

from .kinds import (
    ConfigError,
    Key,
    Kind,
    Network,
    boolean,
    choice,
    database_url,
    directory,
    hours,
    integer,
    mapping,
    networks,
    number,
    optional,
    regex_list,
    string_list,
    text,
    token,
    url,
)

MiB = 1024 * 1024
DAY = 86400.0
LOCALPART = re.compile(r"^[a-z0-9._=\-/+]+$")
SERVER_NAME = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")
# A browser's Origin: scheme, host and an optional port, nothing after it.
ORIGIN = re.compile(
    r"^https?://[A-Za-z0-9.\-]+(:\d{1,5})?$|^https?://\[[0-9A-Fa-f:.]+\](:\d{1,5})?$"
)


@dataclass(frozen=True)
class HomeserverSettings:
    address: Annotated[URL, url()]
    domain: Annotated[str, text(SERVER_NAME, "a server name such as example.com")]
    verify_ssl: Annotated[bool, boolean()]


@dataclass(frozen=True)
class AppserviceSettings:
    address: Annotated[URL, url()]
    hostname: Annotated[str, text(what="a host name or IP address")]
    port: Annotated[int, integer(1, 65535)]
    max_body_size: Annotated[int, integer(1, 1024, unit=MiB)]
    id: Annotated[str, text(re.compile(r"^[A-Za-z0-9_.\-]+$"), "an identifier")]
    bot_username: Annotated[str, text(LOCALPART, "a lowercase localpart")]
    bot_displayname: Annotated[str, text()]
    user_prefix: Annotated[str, text(LOCALPART, "a lowercase localpart prefix")]
    bridge_ghosts: Annotated[tuple[str, ...], regex_list()]
    bridge_bots: Annotated[tuple[str, ...], string_list(LOCALPART)]
    accept_invites_from: Annotated[tuple[str, ...], regex_list(allow_empty=True)]
    ghost_name_suffixes: Annotated[tuple[str, ...], string_list()]
    foreign_room_grace: Annotated[float, number(0, 7 * DAY)]
    as_token: Annotated[str | None, token()]
    hs_token: Annotated[str | None, token()]

    def __post_init__(self) -> None:
        if self.as_token and self.as_token == self.hs_token:
            raise ConfigError("appservice.hs_token", "must differ from appservice.as_token")

    @property
    def has_tokens(self) -> bool:
        return bool(self.as_token and self.hs_token)


@dataclass(frozen=True)
class DatabaseSettings:
    url: Annotated[str, database_url()]
    embedded_dir: Annotated[str, directory()]
    embedded_bin_dir: Annotated[str | None, optional(directory())]
    pool_min_size: Annotated[int, integer(1, 1000)]
    pool_max_size: Annotated[int, integer(1, 1000)]
    statement_timeout: Annotated[float, number(0, DAY)]
    migration_lock_timeout: Annotated[float, number(1, DAY)]

    def __post_init__(self) -> None:
        if self.pool_max_size < self.pool_min_size:
            raise ConfigError("database.pool_max_size", "must be at least database.pool_min_size")

    @property
    def embedded(self) -> bool:
        return self.url == "embedded"


@dataclass(frozen=True)
class WebSettings:
    public_url: Annotated[URL, url()]
    cookie_name: Annotated[str, text(re.compile(r"^[A-Za-z0-9_\-]+$"), "a cookie name")]
    cookie_samesite: Annotated[str, choice("Lax", "Strict")]
    session_lifetime: Annotated[timedelta, hours(0.1, 24 * 366)]
    managers_see: Annotated[str, choice("all", "assigned")]
    assign_on_reply: Annotated[bool, boolean()]
    static_dir: Annotated[str | None, optional(directory())]
    metrics_token: Annotated[str | None, optional(text())]
    allowed_origins: Annotated[tuple[str, ...], string_list(ORIGIN)]
    trusted_proxies: Annotated[tuple[Network, ...], networks()]

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.scheme == "https"


@dataclass(frozen=True)
class SMTPSettings:
    host: Annotated[str | None, optional(text())]
    port: Annotated[int, integer(1, 65535)]
    tls: Annotated[str, choice("none", "starttls", "tls")]
    username: Annotated[str | None, optional(text())]
    password: Annotated[str | None, optional(text())]
    sender: Annotated[str, text(what="an e-mail address"), Key("from")]
    notify_period: Annotated[float, number(0, 7 * DAY)]

    @property
    def enabled(self) -> bool:
        return self.host is not None

    @property
    def notifications(self) -> bool:
        return self.enabled and self.notify_period > 0


@dataclass(frozen=True)
class BridgeSettings:
    provisioning_url: Annotated[str | None, optional(text())]
    provisioning_secret: Annotated[str | None, optional(text())]
    login_wait: Annotated[float, number(1, 600)]
    contacts_interval: Annotated[float, number(60, DAY)]


@dataclass(frozen=True)
class MediaSettings:
    max_upload_size: Annotated[int, integer(1, 4096, unit=MiB)]
    cache_dir: Annotated[str, directory()]
    cache_size: Annotated[int, integer(1, 10_000_000, unit=MiB)]
    spool_dir: Annotated[str, directory()]


@dataclass(frozen=True)
class OutboxSettings:
    concurrency: Annotated[int, integer(1, 64)]
    retry_initial_delay: Annotated[float, number(0.01, 3600)]
    retry_max_delay: Annotated[float, number(0.01, DAY)]
    max_attempts: Annotated[int, integer(1, 1000)]
    max_age: Annotated[float, number(1, 30 * DAY)]
    read_receipts: Annotated[bool, boolean()]

    def __post_init__(self) -> None:
        if self.retry_max_delay < self.retry_initial_delay:
            raise ConfigError(
                "outbox.retry_max_delay", "must be at least outbox.retry_initial_delay"
            )


@dataclass(frozen=True)
class Settings:
    """Everything the program reads from its config file, checked once at start."""

    homeserver: HomeserverSettings
    appservice: AppserviceSettings
    database: DatabaseSettings
    web: WebSettings
    smtp: SMTPSettings
    bridge: BridgeSettings
    media: MediaSettings
    outbox: OutboxSettings
    logging: Annotated[dict[str, Any], mapping()]
    path: str = ""


@dataclass(frozen=True)
class _Field:
    attribute: str
    key: str
    kind: Kind[Any] | None
    section: type | None


@cache
def _fields(cls: type, prefix: str) -> tuple[_Field, ...]:
    """The keys a settings class declares, each with its kind (or its section's class)."""
    hints = get_type_hints(cls, include_extras=True)
    found = []
    for f in fields(cls):
        hint = hints[f.name]
        if get_origin(hint) is Annotated:
            extras = get_args(hint)[1:]
            kind = next(e for e in extras if isinstance(e, Kind))
            name = next((e.name for e in extras if isinstance(e, Key)), f.name)
            found.append(_Field(f.name, prefix + name, kind, None))
        elif isinstance(hint, type) and is_dataclass(hint):
            found.append(_Field(f.name, prefix + f.name, None, hint))
    return tuple(found)


def all_keys(cls: type = Settings, prefix: str = "") -> list[str]:
    """Every key of the file, dotted (``outbox.max_age``), in declaration order."""
    out: list[str] = []
    for f in _fields(cls, prefix):
        out.extend(all_keys(f.section, f.key + ".") if f.section else [f.key])
    return out


def _build(cls: type, prefix: str, raw: Callable[[str], Any]) -> Any:
    values = {}
    for f in _fields(cls, prefix):
        if f.section:
            values[f.attribute] = _build(f.section, f.key + ".", raw)
        elif f.kind:
            values[f.attribute] = f.kind.read(f.key, raw(f.key))
    return cls(**values)


def read(raw: Callable[[str], Any], path: str) -> Settings:
    """Check every key (``raw`` gives a dotted key's YAML value) and build the settings; raises
    ConfigError on the first bad one."""
    settings: Settings = _build(Settings, "", raw)
    return replace(settings, path=path)
