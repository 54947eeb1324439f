"""The config file (:mod:`.file`), the settings it is read into with every key declared once
(:mod:`.settings`), and the kinds of value a key may hold (:mod:`.kinds`)."""

from .file import Config, load
from .kinds import ConfigError
from .settings import (
    AppserviceSettings,
    BridgeSettings,
    DatabaseSettings,
    HomeserverSettings,
    MediaSettings,
    OutboxSettings,
    Settings,
    SMTPSettings,
    WebSettings,
)

__all__ = [
    "AppserviceSettings",
    "BridgeSettings",
    "Config",
    "ConfigError",
    "DatabaseSettings",
    "HomeserverSettings",
    "MediaSettings",
    "OutboxSettings",
    "SMTPSettings",
    "Settings",
    "WebSettings",
    "load",
]
