"""Reading the config's values one key at a time: each checked against what it must be, and a
bad one reported as a ConfigError naming the key, never the value (it may be a secret)."""

from __future__ import annotations

from collections.abc import Callable
import ipaddress
import re
from typing import TYPE_CHECKING, Any, TypeVar

from yarl import URL

if TYPE_CHECKING:
    from .config import Config

TOKEN_PLACEHOLDER = "This value is generated when generating the registration"  # noqa: S105

T = TypeVar("T")


class ConfigError(Exception):
    """A missing or invalid config value; the message names the key and never its value."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


class Reader:
    """Reads one key at a time from the YAML, raising ConfigError on the first bad value."""

    def __init__(self, config: Config) -> None:
        self.config = config

    def _get(self, key: str, check: Callable[[Any], T | None], expected: str) -> T:
        value = self.config.raw(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ConfigError(key, f"missing (expected {expected})")
        result = check(value)
        if result is None:
            raise ConfigError(key, f"invalid (expected {expected})")
        return result

    def text(self, key: str, pattern: re.Pattern[str] | None = None, what: str = "text") -> str:
        def check(v: Any) -> str | None:
            if not isinstance(v, str):
                return None
            if pattern and not pattern.match(v):
                return None
            return v.strip()

        return self._get(key, check, what)

    def optional_str(self, key: str) -> str | None:
        value = self.config.raw(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise ConfigError(key, "invalid (expected text)")
        return value

    def integer(self, key: str, low: int, high: int) -> int:
        def check(v: Any) -> int | None:
            if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
                return None
            return v

        return self._get(key, check, f"an integer from {low} to {high}")

    def number(self, key: str, low: float, high: float) -> float:
        def check(v: Any) -> float | None:
            if isinstance(v, bool) or not isinstance(v, int | float) or not low <= v <= high:
                return None
            return float(v)

        return self._get(key, check, f"a number from {low:g} to {high:g}")

    def boolean(self, key: str) -> bool:
        return self._get(key, lambda v: v if isinstance(v, bool) else None, "true or false")

    def url(self, key: str, schemes: tuple[str, ...] = ("http", "https")) -> URL:
        def check(v: Any) -> URL | None:
            if not isinstance(v, str):
                return None
            try:
                url = URL(v.strip())
            except ValueError:
                return None
            if url.scheme not in schemes or not url.host:
                return None
            return url

        return self._get(key, check, f"a {' or '.join(schemes)} URL")

    def choice(self, key: str, choices: tuple[str, ...]) -> str:
        def check(v: Any) -> str | None:
            return str(v) if v in choices else None

        return self._get(key, check, f"one of {', '.join(choices)}")

    def string_list(self, key: str, pattern: re.Pattern[str] | None = None) -> tuple[str, ...]:
        def check(v: Any) -> tuple[str, ...] | None:
            if not isinstance(v, list) or not all(isinstance(p, str) and p for p in v):
                return None
            if pattern and not all(pattern.match(p) for p in v):
                return None
            return tuple(v)

        return self._get(key, check, "a list of strings")

    def networks(self, key: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        def check(v: Any) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] | None:
            if not isinstance(v, list):
                return None
            try:
                return tuple(ipaddress.ip_network(str(n).strip()) for n in v)
            except ValueError:
                return None

        value = self.config.raw(key)
        if value in (None, []):
            return ()
        return self._get(key, check, "a list of addresses or networks, e.g. [172.30.29.80/32]")

    def regex_list(self, key: str, allow_empty: bool = False) -> tuple[str, ...]:
        def check(v: Any) -> tuple[str, ...] | None:
            if not isinstance(v, list) or not all(isinstance(p, str) and p for p in v):
                return None
            if not v and not allow_empty:
                return None
            for p in v:
                try:
                    re.compile(p)
                except re.error:
                    return None
            return tuple(v)

        return self._get(key, check, "a list of localpart regular expressions")

    def mapping(self, key: str) -> dict[str, Any]:
        return self._get(key, lambda v: dict(v) if hasattr(v, "items") else None, "a mapping")

    def token(self, key: str) -> str | None:
        value = self.config.raw(key)
        if value is None or value == "" or value == TOKEN_PLACEHOLDER:
            return None
        if not isinstance(value, str) or len(value) < 16:
            raise ConfigError(key, "invalid (expected a token of at least 16 characters)")
        return str(value)

    def database_url(self, key: str) -> str:
        def check(v: Any) -> str | None:
            if not isinstance(v, str):
                return None
            if v == "embedded":
                return v
            if not v.startswith(("postgres://", "postgresql://")):
                return None
            try:
                url = URL(v)
            except ValueError:
                return None
            if url.scheme not in ("postgres", "postgresql") or not url.path.strip("/"):
                return None
            return v

        return self._get(key, check, "`embedded` or postgresql://user:password@host/dbname")
