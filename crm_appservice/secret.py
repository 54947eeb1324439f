"""Comparing a secret someone sent with the one expected: in constant time, and as bytes, so a
header of any characters (aiohttp keeps undecodable bytes as surrogates) is a mismatch, never
an error."""

from __future__ import annotations

import hmac


def matches(sent: str, expected: str | bytes | None) -> bool:
    if not expected:
        return False
    want = expected if isinstance(expected, bytes) else expected.encode()
    return hmac.compare_digest(sent.encode("utf-8", "surrogateescape"), want)
