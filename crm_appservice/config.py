"""The YAML config file and the typed settings read from it.

The file is handled by mautrix's config classes so that comments survive: at every start the
user's values are copied onto the commented example (``do_update``), which is how a new release
adds keys without the admin editing anything. The rest of the program never reads the YAML: it
gets a :class:`Settings` object, validated once, so a bad value fails at start with one line that
names the key instead of deep inside a request handler.
"""

from __future__ import annotations

from dataclasses import dataclass
import ipaddress
import logging
import os
import re
import tempfile
from typing import Any, TypeVar

from mautrix.util.config import BaseFileConfig, ConfigUpdateHelper
from mautrix.util.config.file import yaml
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from yarl import URL

from . import secret_files
from .config_values import ConfigError as ConfigError, Reader

EXAMPLE_CONFIG = "pkg://crm_appservice/example-config.yaml"

T = TypeVar("T")
log = logging.getLogger("crm.config")


class Config(BaseFileConfig):
    """The config file, kept as a ruamel.yaml document so comments survive rewrites."""

    def __init__(self, path: str) -> None:
        super().__init__(path, EXAMPLE_CONFIG)

    def load(self) -> None:
        try:
            super().load()
        except FileNotFoundError:
            raise ConfigError(
                "--config", f"{self.path} does not exist (copy config.example.yaml to it)"
            ) from None
        except MarkedYAMLError as e:
            mark = e.problem_mark
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise ConfigError("--config", f"{self.path} is not valid YAML{where}") from None
        except YAMLError:
            raise ConfigError("--config", f"{self.path} is not valid YAML") from None
        except OSError as e:
            raise ConfigError("--config", f"cannot read {self.path}: {e.strerror}") from None
        if not hasattr(self._data, "items"):
            raise ConfigError("--config", f"{self.path} must be a YAML mapping")

    def do_update(self, helper: ConfigUpdateHelper) -> None:
        copy = helper.copy
        for key in (
            "homeserver.address",
            "homeserver.domain",
            "homeserver.verify_ssl",
            "appservice.address",
            "appservice.hostname",
            "appservice.port",
            "appservice.max_body_size",
            "appservice.id",
            "appservice.bot_username",
            "appservice.bot_displayname",
            "appservice.user_prefix",
            "appservice.bridge_ghosts",
            "appservice.bridge_bots",
            "appservice.accept_invites_from",
            "appservice.ghost_name_suffixes",
            "appservice.foreign_room_grace",
            "appservice.as_token",
            "appservice.hs_token",
            "database.url",
            "database.embedded_dir",
            "database.embedded_bin_dir",
            "database.pool_min_size",
            "database.pool_max_size",
            "database.statement_timeout",
            "database.migration_lock_timeout",
            "web.public_url",
            "web.cookie_name",
            "web.cookie_samesite",
            "web.session_lifetime",
            "web.managers_see",
            "web.assign_on_reply",
            "web.static_dir",
            "web.metrics_token",
            "web.allowed_origins",
            "web.trusted_proxies",
            "smtp.host",
            "smtp.port",
            "smtp.tls",
            "smtp.username",
            "smtp.password",
            "smtp.from",
            "smtp.notify_period",
            "bridge.provisioning_url",
            "bridge.provisioning_secret",
            "bridge.login_wait",
            "media.max_upload_size",
            "media.cache_dir",
            "media.cache_size",
            "media.spool_dir",
            "outbox.concurrency",
            "outbox.retry_initial_delay",
            "outbox.retry_max_delay",
            "outbox.max_attempts",
            "outbox.max_age",
            "outbox.read_receipts",
            "logging",
        ):
            copy(key)

    def save(self) -> None:
        """Write the file atomically, for its owner only (it holds the tokens: mkstemp makes it
        0600, whatever mode the old file had); unlike mautrix's, failures raise."""
        fd, tmp = tempfile.mkstemp(suffix=".yaml", dir=os.path.dirname(os.path.abspath(self.path)))
        try:
            with os.fdopen(fd, "w") as stream:
                yaml.dump(self._data, stream)
            os.replace(tmp, self.path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def set_tokens(self, as_token: str, hs_token: str) -> None:
        self["appservice.as_token"] = as_token
        self["appservice.hs_token"] = hs_token

    def raw(self, key: str) -> Any:
        return self[key]


@dataclass(frozen=True)
class HomeserverSettings:
    address: URL
    domain: str
    verify_ssl: bool


@dataclass(frozen=True)
class AppserviceSettings:
    address: URL
    hostname: str
    port: int
    max_body_size: int
    id: str
    bot_username: str
    bot_displayname: str
    user_prefix: str
    bridge_ghosts: tuple[str, ...]
    bridge_bots: tuple[str, ...]
    accept_invites_from: tuple[str, ...]
    ghost_name_suffixes: tuple[str, ...]
    foreign_room_grace: float
    as_token: str | None
    hs_token: str | None

    @property
    def has_tokens(self) -> bool:
        return bool(self.as_token and self.hs_token)


@dataclass(frozen=True)
class DatabaseSettings:
    url: str
    embedded_dir: str
    embedded_bin_dir: str | None
    pool_min_size: int
    pool_max_size: int
    statement_timeout: float
    migration_lock_timeout: float

    @property
    def embedded(self) -> bool:
        return self.url == "embedded"


@dataclass(frozen=True)
class WebSettings:
    public_url: URL
    cookie_name: str
    cookie_samesite: str
    session_lifetime_hours: float
    managers_see: str
    assign_on_reply: bool
    static_dir: str
    metrics_token: str | None
    allowed_origins: tuple[str, ...]
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.scheme == "https"


@dataclass(frozen=True)
class SMTPSettings:
    host: str | None
    port: int
    tls: str
    username: str | None
    password: str | None
    sender: str
    notify_period: float

    @property
    def enabled(self) -> bool:
        return self.host is not None

    @property
    def notifications(self) -> bool:
        return self.enabled and self.notify_period > 0


@dataclass(frozen=True)
class MediaSettings:
    max_upload_size: int
    cache_dir: str
    cache_size: int
    spool_dir: str


@dataclass(frozen=True)
class OutboxSettings:
    concurrency: int
    retry_initial_delay: float
    retry_max_delay: float
    max_attempts: int
    max_age: float
    read_receipts: bool


@dataclass(frozen=True)
class BridgeSettings:
    provisioning_url: str | None
    provisioning_secret: str | None
    login_wait: float


@dataclass(frozen=True)
class Settings:
    path: str
    homeserver: HomeserverSettings
    appservice: AppserviceSettings
    database: DatabaseSettings
    web: WebSettings
    smtp: SMTPSettings
    media: MediaSettings
    outbox: OutboxSettings
    logging: dict[str, Any]
    bridge: BridgeSettings


_LOCALPART = re.compile(r"^[a-z0-9._=\-/+]+$")
_DOMAIN = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")
# A browser's Origin: scheme, host and an optional port, nothing after it.
_ORIGIN = re.compile(
    r"^https?://[A-Za-z0-9.\-]+(:\d{1,5})?$|^https?://\[[0-9A-Fa-f:.]+\](:\d{1,5})?$"
)
MiB = 1024 * 1024


def _plain(value: Any) -> Any:
    """ruamel's commented containers as plain dicts and lists, for logging.config."""
    if hasattr(value, "items"):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def read_settings(config: Config) -> Settings:
    """Validate every key and build the typed settings. Raises ConfigError on the first bad one."""
    r = Reader(config)
    homeserver = HomeserverSettings(
        address=r.url("homeserver.address"),
        domain=r.text("homeserver.domain", _DOMAIN, "a server name such as example.com"),
        verify_ssl=r.boolean("homeserver.verify_ssl"),
    )
    user_prefix = r.text("appservice.user_prefix", _LOCALPART, "a lowercase localpart prefix")
    appservice = AppserviceSettings(
        address=r.url("appservice.address"),
        hostname=r.text("appservice.hostname", what="a host name or IP address"),
        port=r.integer("appservice.port", 1, 65535),
        max_body_size=r.integer("appservice.max_body_size", 1, 1024) * MiB,
        id=r.text("appservice.id", re.compile(r"^[A-Za-z0-9_.\-]+$"), "an identifier"),
        bot_username=r.text("appservice.bot_username", _LOCALPART, "a lowercase localpart"),
        bot_displayname=r.text("appservice.bot_displayname"),
        user_prefix=user_prefix,
        bridge_ghosts=r.regex_list("appservice.bridge_ghosts"),
        bridge_bots=r.string_list("appservice.bridge_bots", _LOCALPART),
        accept_invites_from=r.regex_list("appservice.accept_invites_from", allow_empty=True),
        ghost_name_suffixes=r.string_list("appservice.ghost_name_suffixes"),
        foreign_room_grace=r.number("appservice.foreign_room_grace", 0, 7 * 86400),
        as_token=r.token("appservice.as_token"),
        hs_token=r.token("appservice.hs_token"),
    )
    if appservice.as_token and appservice.as_token == appservice.hs_token:
        raise ConfigError("appservice.hs_token", "must differ from appservice.as_token")
    pool_min = r.integer("database.pool_min_size", 1, 1000)
    pool_max = r.integer("database.pool_max_size", 1, 1000)
    if pool_max < pool_min:
        raise ConfigError("database.pool_max_size", "must be at least database.pool_min_size")
    bin_dir = r.optional_str("database.embedded_bin_dir")
    database = DatabaseSettings(
        url=r.database_url("database.url"),
        embedded_dir=os.path.abspath(r.text("database.embedded_dir", what="a directory")),
        embedded_bin_dir=os.path.abspath(bin_dir) if bin_dir else None,
        pool_min_size=pool_min,
        pool_max_size=pool_max,
        statement_timeout=r.number("database.statement_timeout", 0, 86400),
        migration_lock_timeout=r.number("database.migration_lock_timeout", 1, 86400),
    )
    web = WebSettings(
        public_url=r.url("web.public_url"),
        cookie_name=r.text("web.cookie_name", re.compile(r"^[A-Za-z0-9_\-]+$"), "a cookie name"),
        cookie_samesite=r.choice("web.cookie_samesite", ("Lax", "Strict")),
        session_lifetime_hours=r.number("web.session_lifetime", 0.1, 24 * 366),
        managers_see=r.choice("web.managers_see", ("all", "assigned")),
        assign_on_reply=r.boolean("web.assign_on_reply"),
        static_dir=os.path.abspath(static) if (static := r.optional_str("web.static_dir")) else "",
        metrics_token=r.optional_str("web.metrics_token"),
        allowed_origins=r.string_list("web.allowed_origins", _ORIGIN),
        trusted_proxies=r.networks("web.trusted_proxies"),
    )
    smtp = SMTPSettings(
        host=r.optional_str("smtp.host"),
        port=r.integer("smtp.port", 1, 65535),
        tls=r.choice("smtp.tls", ("none", "starttls", "tls")),
        username=r.optional_str("smtp.username"),
        password=r.optional_str("smtp.password"),
        sender=r.text("smtp.from", what="an e-mail address"),
        notify_period=r.number("smtp.notify_period", 0, 7 * 86400),
    )
    media = MediaSettings(
        max_upload_size=r.integer("media.max_upload_size", 1, 4096) * MiB,
        cache_dir=os.path.abspath(r.text("media.cache_dir", what="a directory")),
        cache_size=r.integer("media.cache_size", 1, 10_000_000) * MiB,
        spool_dir=os.path.abspath(r.text("media.spool_dir", what="a directory")),
    )
    outbox = OutboxSettings(
        concurrency=r.integer("outbox.concurrency", 1, 64),
        retry_initial_delay=r.number("outbox.retry_initial_delay", 0.01, 3600),
        retry_max_delay=r.number("outbox.retry_max_delay", 0.01, 86400),
        max_attempts=r.integer("outbox.max_attempts", 1, 1000),
        max_age=r.number("outbox.max_age", 1, 30 * 86400),
        read_receipts=r.boolean("outbox.read_receipts"),
    )
    if outbox.retry_max_delay < outbox.retry_initial_delay:
        raise ConfigError("outbox.retry_max_delay", "must be at least outbox.retry_initial_delay")
    return Settings(
        path=config.path,
        homeserver=homeserver,
        appservice=appservice,
        database=database,
        web=web,
        smtp=smtp,
        media=media,
        outbox=outbox,
        logging=_plain(r.mapping("logging")),
        bridge=BridgeSettings(
            provisioning_url=r.optional_str("bridge.provisioning_url"),
            provisioning_secret=r.optional_str("bridge.provisioning_secret"),
            login_wait=r.number("bridge.login_wait", 1, 600),
        ),
    )


def load(path: str, update: bool = True) -> tuple[Config, Settings]:
    """Load the file, upgrade it onto the current example (comments kept), and validate it."""
    config = Config(path)
    config.load()
    exposed = secret_files.exposed_mode(path)
    if update:
        try:
            config.update(save=False)
        except (AttributeError, TypeError):
            raise ConfigError("--config", f"{path} does not have the config's structure") from None
        try:
            config.save()
        except OSError as e:
            log.warning("Could not write the upgraded config to %s: %s", path, e.strerror)
    if exposed is not None:
        if secret_files.exposed_mode(path) is None:
            log.warning("%s held secrets readable by other users (mode %04o): now 0600",
                        path, exposed)  # fmt: skip
        else:
            log.warning(secret_files.describe(path, exposed))
    return config, read_settings(config)
