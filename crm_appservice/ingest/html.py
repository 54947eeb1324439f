"""The HTML a message may carry, in one list: ingest keeps only this, the API publishes it in
its OpenAPI document (`x-rules.html`), and the web inbox's sanitizer is built from that.

A message's HTML is untrusted (it comes from another network through a bridge). The list is
what WhatsApp's formatting becomes through the bridge (bold, italic, strikethrough, monospace,
quotes, lists, mentions as links) and what the inbox draws; no images (an `<img>` would make
every manager's browser fetch a URL chosen by the sender), no classes or styles (a message that
borrows the inbox's own look could pass for part of it).
"""

from __future__ import annotations

from typing import Any, Final

import nh3

TAGS: Final = frozenset({
    "a", "b", "blockquote", "br", "code", "del", "em", "i", "li", "ol", "p", "pre", "s",
    "strike", "strong", "u", "ul",
})  # fmt: skip
ATTRIBUTES: Final = {"a": frozenset({"href"}), "ol": frozenset({"start"})}
URL_SCHEMES: Final = frozenset({"http", "https", "mailto", "tel"})
LINK_REL: Final = "noopener noreferrer nofollow"
# Past this many tags a body is shown as its plain text: the HTML parser's cost grows with the
# square of how deeply tags nest (10,000 nested `<div>` take 0.2 s).
MAX_TAGS: Final = 1000

_CLEANER = nh3.Cleaner(
    tags=set(TAGS),
    clean_content_tags={"mx-reply", "script", "style"},
    attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
    url_schemes=set(URL_SCHEMES),
    link_rel=LINK_REL,
)


def sanitize(html: str) -> str | None:
    """The allowed part of a message's HTML; None when nothing is left or it has too many
    tags."""
    if html.count("<") > MAX_TAGS:
        return None
    cleaned = _CLEANER.clean(html).strip()
    return cleaned or None


def rules() -> dict[str, Any]:
    """The list as the API publishes it."""
    return {
        "tags": sorted(TAGS),
        "attributes": {tag: sorted(names) for tag, names in sorted(ATTRIBUTES.items())},
        "url_schemes": sorted(URL_SCHEMES),
        "link_rel": LINK_REL,
    }
