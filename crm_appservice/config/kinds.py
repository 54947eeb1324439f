"""What a config value may be: each kind reads one YAML value, checks it, and says what was
expected when it is wrong. A bad value is reported as a ConfigError naming the key, never the
value (it may be a secret).

A kind is declared once, beside its setting (``Annotated[int, integer(1, 64)]`` in
:mod:`.settings`), and that declaration is the whole rule: its range, its error message and what
an empty value means.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
import ipaddress
import os
import re
from typing import Any, Generic, TypeVar

from yarl import URL

TOKEN_PLACEHOLDER = "This value is generated when generating the registration"  # noqa: S105

T = TypeVar("T")
U = TypeVar("U")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ConfigError(Exception):
    """A missing or invalid config value; the message names the key and never its value."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


class _Required:
    """The ``empty`` of a kind whose key must have a value."""


REQUIRED = _Required()


@dataclass(frozen=True)
class Kind(Generic[T]):
    """How one key is read. ``check`` returns None for a value it refuses; ``empty`` is what a
    missing or blank value means (REQUIRED: it is an error); ``blank`` are values that count as
    empty (a token's placeholder)."""

    expected: str
    check: Callable[[Any], T | None]
    empty: T | _Required = REQUIRED
    blank: tuple[Any, ...] = ()

    def read(self, key: str, value: Any) -> T:
        if value is None or value in self.blank or (isinstance(value, str) and not value.strip()):
            if isinstance(self.empty, _Required):
                raise ConfigError(key, f"missing (expected {self.expected})")
            return self.empty
        result = self.check(value)
        if result is None:
            raise ConfigError(key, f"invalid (expected {self.expected})")
        return result

    def then(self, convert: Callable[[T], U]) -> Kind[U]:
        """The same rule, its value converted (MiB to bytes, a path made absolute)."""

        def check(value: Any) -> U | None:
            result = self.check(value)
            return None if result is None else convert(result)

        empty = self.empty if isinstance(self.empty, _Required) else convert(self.empty)
        return Kind(self.expected, check, empty, self.blank)


@dataclass(frozen=True)
class Key:
    """The setting's name in the file when it cannot be its attribute's (``smtp.from``)."""

    name: str


def optional(kind: Kind[T]) -> Kind[T | None]:
    """The same rule, but an empty value means "not set" (None) instead of an error."""
    return Kind[T | None](kind.expected, kind.check, None, kind.blank)


def _string(pattern: re.Pattern[str] | None) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if not isinstance(value, str) or (pattern and not pattern.match(value)):
            return None
        return value.strip()

    return check


def text(pattern: re.Pattern[str] | None = None, what: str = "text") -> Kind[str]:
    return Kind(what, _string(pattern))


def directory() -> Kind[str]:
    """A directory, made absolute at start so a later chdir cannot move it."""
    return text(what="a directory").then(os.path.abspath)


def integer(low: int, high: int, unit: int = 1) -> Kind[int]:
    """An integer in [low, high], times ``unit`` (the file says MiB, the code wants bytes)."""

    def check(value: Any) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            return None
        return value * unit

    return Kind(f"an integer from {low} to {high}", check)


def number(low: float, high: float) -> Kind[float]:
    def check(value: Any) -> float | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return float(value) if low <= value <= high else None

    return Kind(f"a number from {low:g} to {high:g}", check)


def hours(low: float, high: float) -> Kind[timedelta]:
    return number(low, high).then(lambda h: timedelta(hours=h))


def boolean() -> Kind[bool]:
    return Kind("true or false", lambda v: v if isinstance(v, bool) else None)


def url(schemes: tuple[str, ...] = ("http", "https")) -> Kind[URL]:
    def check(value: Any) -> URL | None:
        if not isinstance(value, str):
            return None
        try:
            parsed = URL(value.strip())
        except ValueError:
            return None
        return parsed if parsed.scheme in schemes and parsed.host else None

    return Kind(f"a {' or '.join(schemes)} URL", check)


def choice(*choices: str) -> Kind[str]:
    return Kind(f"one of {', '.join(choices)}", lambda v: str(v) if v in choices else None)


def _strings(value: Any) -> list[str] | None:
    if not isinstance(value, list) or not all(isinstance(p, str) and p for p in value):
        return None
    return value


def string_list(pattern: re.Pattern[str] | None = None) -> Kind[tuple[str, ...]]:
    def check(value: Any) -> tuple[str, ...] | None:
        items = _strings(value)
        if items is None or (pattern and not all(pattern.match(p) for p in items)):
            return None
        return tuple(items)

    return Kind("a list of strings", check)


def regex_list(allow_empty: bool = False) -> Kind[tuple[str, ...]]:
    def check(value: Any) -> tuple[str, ...] | None:
        items = _strings(value)
        if items is None or (not items and not allow_empty):
            return None
        for pattern in items:
            try:
                re.compile(pattern)
            except re.error:
                return None
        return tuple(items)

    return Kind("a list of localpart regular expressions", check)


def networks() -> Kind[tuple[Network, ...]]:
    def check(value: Any) -> tuple[Network, ...] | None:
        if not isinstance(value, list):
            return None
        try:
            return tuple(ipaddress.ip_network(str(n).strip()) for n in value)
        except ValueError:
            return None

    return Kind("a list of addresses or networks, e.g. [172.30.29.80/32]", check, (), blank=([],))


def _plain(value: Any) -> Any:
    """ruamel's commented containers as plain dicts and lists, for logging.config."""
    if hasattr(value, "items"):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def mapping() -> Kind[dict[str, Any]]:
    return Kind("a mapping", lambda v: _plain(v) if hasattr(v, "items") else None)


def token() -> Kind[str | None]:
    """A shared secret; empty or the example's placeholder means "generate one"."""

    def check(value: Any) -> str | None:
        return value if isinstance(value, str) and len(value) >= 16 else None

    return Kind[str | None](
        "a token of at least 16 characters", check, None, blank=(TOKEN_PLACEHOLDER,)
    )


def database_url() -> Kind[str]:
    def check(value: Any) -> str | None:
        if not isinstance(value, str):
            return None
        if value == "embedded":
            return value
        if not value.startswith(("postgres://", "postgresql://")):
            return None
        try:
            parsed = URL(value)
        except ValueError:
            return None
        if parsed.scheme not in ("postgres", "postgresql") or not parsed.path.strip("/"):
            return None
        return value

    return Kind("`embedded` or postgresql://user:password@host/dbname", check)
