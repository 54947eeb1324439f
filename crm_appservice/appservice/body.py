"""A transaction body made storable, whatever its events hold.

Synapse's JSON is Python's: it passes on lone UTF-16 surrogates (`\\ud800`), `\\u0000` and nesting
deeper than orjson reads (1,024 levels); PostgreSQL's jsonb refuses the first two, orjson all
three. Refusing the transaction would make Synapse send it again forever, with every later event
waiting behind it, so the body is mended instead, as text and in linear time (the body is never
encoded again: orjson cannot write more than 255 levels):

- `\\u0000` escapes are removed and lone surrogates become U+FFFD, in one left-to-right pass
  that keeps escaped backslashes paired;
- if the body still does not parse, it is split into its top-level values and each event of
  `events` (and of the ephemeral lists) is parsed on its own; one that cannot be read is
  replaced by an object that keeps its text (`UNREADABLE_KEY`), so it is stored, flagged, and
  the other events of the transaction are stored as usual.
"""

from __future__ import annotations

from dataclasses import dataclass
import re
from typing import Any

import orjson

from ..ingest.messages import UNREADABLE_KEY

# How much of an unreadable event's text is kept (the raw copy is for people, not for mapping).
UNREADABLE_KEEP = 65536

# One escape at a time, left to right: a valid surrogate pair, a lone surrogate, a NUL, or any
# other escape (consumed whole, so `\\\\u0000`, an escaped backslash and the text "u0000", stays).
_ESCAPE = re.compile(
    rb"\\(?:(u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|(u[dD][89a-fA-F][0-9a-fA-F]{2})|(u0000)|.)",
    re.DOTALL,
)
_SUSPECT = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
# Strings (with their escapes) and the structural characters: enough to find where each
# top-level value starts and ends without reading it.
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{},:]', re.DOTALL)


class NotJSON(ValueError):
    """The body is not a JSON object of lists: nothing in it can be stored."""


@dataclass
class Body:
    text: str  # what the raw copies are taken from (JSON that PostgreSQL accepts)
    parsed: Any
    mended: bool = False  # whether anything was changed or replaced


def _mend_escape(match: re.Match[bytes]) -> bytes:
    if match.group(2):
        return b"\\ufffd"
    if match.group(3):
        return b""
    return match.group(0)


def mend_escapes(body: bytes) -> bytes:
    """The body with its `\\u0000` escapes removed and its lone surrogates replaced."""
    if not _SUSPECT.search(body):
        return body
    return _ESCAPE.sub(_mend_escape, body)


def read(body: bytes) -> Body:
    """The body as storable text and parsed; raises NotJSON if it has no readable shape."""
    try:
        return (
            Body(body.decode(), orjson.loads(body)) if not _SUSPECT.search(body) else _mend(body)
        )
    except (orjson.JSONDecodeError, UnicodeDecodeError):
        return _mend(body)


def _mend(body: bytes) -> Body:
    mended = mend_escapes(body)
    try:
        return Body(mended.decode(), orjson.loads(mended), mended=True)
    except (orjson.JSONDecodeError, UnicodeDecodeError):
        return _split(mended)


def _unreadable(text: bytes) -> bytes:
    kept = text[:UNREADABLE_KEEP].decode(errors="replace").replace("\x00", "")
    return orjson.dumps({UNREADABLE_KEY: kept})


def _element(text: bytes) -> tuple[bytes, Any]:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        placeholder = _unreadable(text)
        return placeholder, orjson.loads(placeholder)
    return text, value


def _split(body: bytes) -> Body:
    """Rebuild the body from its top-level members, each list's elements parsed one by one
    (a member that is no list and cannot be read is left out: Synapse sends only lists)."""
    parts: list[bytes] = []
    parsed: dict[str, Any] = {}
    for key_text, start, end, elements in _top_level_members(body):
        try:
            key = orjson.loads(key_text)
        except orjson.JSONDecodeError:
            continue
        if key in parsed:
            continue
        if elements is None:
            text = body[start:end].strip()
            try:
                value = orjson.loads(text)
            except orjson.JSONDecodeError:
                continue
        else:
            read_elements = [_element(body[a:b]) for a, b in elements]
            text = b"[" + b",".join(t for t, _ in read_elements) + b"]"
            value = [v for _, v in read_elements]
        parts.append(orjson.dumps(key) + b":" + text)
        parsed[key] = value
    return Body((b"{" + b",".join(parts) + b"}").decode(errors="replace"), parsed, mended=True)


Span = tuple[int, int]
Member = tuple[bytes, int, int, list[Span] | None]


def _top_level_members(body: bytes) -> list[Member]:
    """(key, start, end, elements) of each member of the top-level object; `elements` are the
    spans of a list value's items (None for other values). Linear: one pass over the tokens."""
    if not body.lstrip().startswith(b"{"):
        raise NotJSON("the body is not a JSON object")
    members: list[Member] = []
    depth = 0
    key: bytes | None = None
    value_start = -1
    fresh = False  # nothing of the member's value seen yet
    elements: list[Span] | None = None
    element_start = -1
    for token in _TOKEN.finditer(body):
        char, pos = token.group()[:1], token.start()
        at_top, value_opens = depth == 1, depth == 1 and fresh
        fresh = False
        if char in (b"{", b"["):
            if value_opens and char == b"[":
                elements, element_start = [], pos + 1
            depth += 1
        elif char in (b"}", b"]"):
            depth -= 1
            if depth == 1 and elements is not None and char == b"]":
                _add_element(body, elements, element_start, pos)
            elif depth == 0:
                if key is not None and value_start >= 0:
                    members.append((key, value_start, pos, elements))
                return members
        elif char == b"," and at_top:
            if key is not None and value_start >= 0:
                members.append((key, value_start, pos, elements))
            key, value_start, elements = None, -1, None
        elif char == b"," and depth == 2 and elements is not None:
            _add_element(body, elements, element_start, pos)
            element_start = pos + 1
        elif char == b":" and at_top and key is not None and value_start < 0:
            value_start, fresh = token.end(), True
        elif at_top and key is None and char == b'"':
            key = token.group()
    raise NotJSON("the body is not a complete JSON object")


def _add_element(body: bytes, elements: list[Span], start: int, end: int) -> None:
    if body[start:end].strip():
        elements.append((start, end))
