"""Message content (the `content` of `m.room.message` and `m.sticker`) as CRM fields.

Everything here is pure: a dict in, a :class:`MessageContent` out, or :class:`BadEvent` naming
what is wrong. The HTML of a message is untrusted (it comes from another network through a
bridge), so it is reduced to the allow-list of :mod:`.html` here, once, at ingest; the API never
sees raw HTML.
"""

from __future__ import annotations

from dataclasses import dataclass
import re
from typing import Any

from .html import sanitize


class BadEvent(ValueError):
    """The event cannot be mapped; the message says why (stored with the raw event)."""


@dataclass(frozen=True)
class Media:
    url: str
    mimetype: str | None
    size: int | None
    width: int | None
    height: int | None
    duration_ms: int | None
    filename: str | None
    thumbnail_url: str | None
    thumbnail_mimetype: str | None
    thumbnail_width: int | None
    thumbnail_height: int | None


@dataclass(frozen=True)
class MessageContent:
    kind: str
    body: str | None
    html: str | None
    media: Media | None = None
    latitude: float | None = None
    longitude: float | None = None


_TEXT_KINDS = {"m.text": "text", "m.notice": "notice", "m.emote": "emote"}
_MEDIA_KINDS = {"m.image": "image", "m.video": "video", "m.audio": "audio", "m.file": "file"}
MXC = re.compile(r"^mxc://([A-Za-z0-9.\-:\[\]]+)/([A-Za-z0-9_\-]+)$")
_GEO = re.compile(r"^geo:(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)(?:,-?\d+(?:\.\d+)?)?(?:;.*)?$")
# Integer columns of the store: a value outside them would fail the whole transaction's write.
INT_MAX = 2**31 - 1
BIGINT_MAX = 2**63 - 1


def strip_reply_fallback(body: str) -> str:
    """Drop the `> <@sender> quoted text` lines that older clients prepend to replies: the
    leading lines that start with `> ` and the empty line after them. One pass over the lines
    (a regex over them was quadratic: a customer's 60 KB of quoted lines took seconds)."""
    if not body.startswith("> "):
        return body
    pos = 0
    while body.startswith("> ", pos):
        end = body.find("\n", pos)
        if end < 0:
            return body  # only quoted lines: nothing of the reply's own
        pos = end + 1
    if body.startswith("\n", pos):
        return body[pos + 1 :]
    return body


def _opt_int(info: dict[str, Any], key: str, limit: int = INT_MAX) -> int | None:
    """A non-negative integer that fits its column, or None."""
    value = info.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and 0 <= value <= limit:
        return value
    return None


def opt_str(obj: dict[str, Any], key: str) -> str | None:
    """A non-empty string value, or None."""
    value = obj.get(key)
    return value if isinstance(value, str) and value else None


def _mxc(value: Any, field: str) -> str:
    if not isinstance(value, str) or not MXC.match(value):
        raise BadEvent(f"{field} is not an mxc:// URI")
    return value


def _media(content: dict[str, Any]) -> Media:
    if "url" not in content and isinstance(content.get("file"), dict):
        raise BadEvent("encrypted media is not supported")
    url = _mxc(content.get("url"), "url")
    info = content.get("info")
    if not isinstance(info, dict):
        info = {}
    thumb_info = info.get("thumbnail_info")
    if not isinstance(thumb_info, dict):
        thumb_info = {}
    thumbnail_url = info.get("thumbnail_url")
    if not (isinstance(thumbnail_url, str) and MXC.match(thumbnail_url)):
        thumbnail_url = None
    duration = _opt_int(info, "duration")
    if duration is None:
        audio = content.get("org.matrix.msc1767.audio")
        if isinstance(audio, dict):
            duration = _opt_int(audio, "duration")
    filename = opt_str(content, "filename") or opt_str(content, "body")
    return Media(
        url=url,
        mimetype=opt_str(info, "mimetype"),
        size=_opt_int(info, "size", BIGINT_MAX),
        width=_opt_int(info, "w"),
        height=_opt_int(info, "h"),
        duration_ms=duration,
        filename=filename,
        thumbnail_url=thumbnail_url,
        thumbnail_mimetype=opt_str(thumb_info, "mimetype") if thumbnail_url else None,
        thumbnail_width=_opt_int(thumb_info, "w") if thumbnail_url else None,
        thumbnail_height=_opt_int(thumb_info, "h") if thumbnail_url else None,
    )


def parse_geo_uri(uri: Any) -> tuple[float, float]:
    if not isinstance(uri, str):
        raise BadEvent("geo_uri is missing")
    match = _GEO.match(uri.strip())
    if not match:
        raise BadEvent("geo_uri is not a geo: URI")
    lat, lon = float(match.group(1)), float(match.group(2))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise BadEvent("geo_uri is out of range")
    return lat, lon


def parse_message(event_type: str, content: dict[str, Any]) -> MessageContent:
    """Map one message's content; raises BadEvent for content no client could show."""
    if event_type == "m.sticker":
        return MessageContent(
            kind="sticker", body=opt_str(content, "body"), html=None, media=_media(content)
        )
    msgtype = content.get("msgtype")
    if not isinstance(msgtype, str):
        raise BadEvent("msgtype is missing")
    body = content.get("body")
    if body is not None and not isinstance(body, str):
        raise BadEvent("body is not a string")
    html = None
    if content.get("format") == "org.matrix.custom.html":
        formatted = content.get("formatted_body")
        if isinstance(formatted, str):
            html = sanitize(formatted)
    is_reply = (
        isinstance(content.get("m.relates_to"), dict)
        and "m.in_reply_to" in (content["m.relates_to"])
    )
    if body and is_reply:
        body = strip_reply_fallback(body)
    if msgtype in _TEXT_KINDS:
        if body is None:
            raise BadEvent("body is missing")
        return MessageContent(kind=_TEXT_KINDS[msgtype], body=body, html=html)
    if msgtype in _MEDIA_KINDS:
        kind = _MEDIA_KINDS[msgtype]
        if kind == "audio" and "org.matrix.msc3245.voice" in content:
            kind = "voice"
        media = _media(content)
        caption = body if body and body != media.filename else None
        return MessageContent(kind=kind, body=caption, html=html if caption else None, media=media)
    if msgtype == "m.location":
        lat, lon = parse_geo_uri(content.get("geo_uri"))
        return MessageContent(kind="location", body=body, html=None, latitude=lat, longitude=lon)
    return MessageContent(kind="unsupported", body=body, html=None)


PREVIEW_LENGTH = 200


def preview(content: MessageContent) -> str | None:
    """The message's own words as the conversation list shows them: one line, at most
    PREVIEW_LENGTH characters. A photo's or a voice message's label, length and file name are
    sent beside them (the web inbox words them), never written into this text."""
    text = " ".join((content.body or "").split())[:PREVIEW_LENGTH]
    return text or None
