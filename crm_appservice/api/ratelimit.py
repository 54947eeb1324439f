"""Who a login attempt is, for counting its failures (store/attempts.py).

Failures count per account from one client address (PER_CLIENT in WINDOW: a guesser is stopped,
and a colleague behind the same address signing in to their own account is not) and per account
from everywhere (PER_ACCOUNT: a guesser with many addresses is stopped too, which locks that one
account). No key spans accounts: failures on one account never lock out another.

The client address is the peer's, or, when the peer is one of `web.trusted_proxies`, the last
address in `X-Forwarded-For` that is not a trusted proxy: nginx's `$proxy_add_x_forwarded_for`
appends the address it was reached from, and whatever comes before was written by the client.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
import ipaddress

from aiohttp import web

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

WINDOW = timedelta(minutes=15)
PER_CLIENT = 10
PER_ACCOUNT = 100


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address: object, proxies: Sequence[Network]) -> bool:
    return any(address in network for network in proxies)


def client_address(request: web.Request, proxies: Sequence[Network]) -> str:
    peer = _address(request.remote or "")
    if peer is None:
        return request.remote or "unknown"
    if not _trusted(peer, proxies):
        return str(peer)
    hops = [h for header in request.headers.getall("X-Forwarded-For", ())
            for h in header.split(",")]  # fmt: skip
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return "invalid-forwarded-for"  # written by the client: one key for all such
        if not _trusted(address, proxies):
            return str(address)
    return str(peer)


def limits(email: str, address: str) -> dict[str, int]:
    return {f"account:{email}": PER_ACCOUNT, f"client:{address}:{email}": PER_CLIENT}


def client_key(email: str, address: str) -> str:
    return f"client:{address}:{email}"
