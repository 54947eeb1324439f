"""The one place media URLs are made, and the rule of which messages have a thumbnail: the
API's `media.url` and `media.thumbnail_url` and the proxy's answers follow the same rule."""

from __future__ import annotations

# Images the homeserver can scale (it does not rasterise SVG).
_SCALABLE = ("image/png", "image/jpeg", "image/gif", "image/webp")


def thumbnail_source(kind: str, mimetype: str | None, thumbnail_url: str | None) -> str | None:
    """Where a message's thumbnail comes from: `stored` (the bridge sent one: videos, mostly),
    `scaled` (the homeserver scales the image), or None."""
    if thumbnail_url:
        return "stored"
    if kind in ("image", "sticker") and (mimetype or "").lower() in _SCALABLE:
        return "scaled"
    return None


def media_urls(
    message_id: int, kind: str, mimetype: str | None, thumbnail_url: str | None
) -> tuple[str, str | None]:
    """The CRM's own media proxy, never the homeserver: (file URL, thumbnail URL or None)."""
    url = f"/api/v1/media/{message_id}"
    has_thumbnail = thumbnail_source(kind, mimetype, thumbnail_url) is not None
    return url, f"{url}/thumbnail" if has_thumbnail else None
