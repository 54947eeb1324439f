"""What a file a manager sends goes out as (a photo, a video, audio, a voice message or a
file), from its declared type: one rule, published as `x-rules.file_kinds` so the inbox shows
the file as it will arrive before the server has it."""

from __future__ import annotations

from typing import Any, Final, Literal

Kind = Literal["image", "video", "audio", "voice", "file"]

# By the type's major part; the rest are files.
BY_MAJOR: Final[dict[str, Kind]] = {"image": "image", "video": "video", "audio": "audio"}
# Sent as files whatever their major part: bridges and phones do not show an SVG as a photo.
AS_FILE: Final = frozenset({"image/svg+xml"})


def media_type(declared: str) -> str:
    """The type as this rule reads it: without parameters, lower case (`Image/SVG+XML;
    charset=x` is `image/svg+xml`, and goes out as a file)."""
    return declared.split(";", 1)[0].strip().lower()


def kind_of(mimetype: str, voice: bool) -> Kind:
    mimetype = media_type(mimetype)
    if mimetype in AS_FILE:
        return "file"
    kind = BY_MAJOR.get(mimetype.split("/", 1)[0], "file")
    return "voice" if kind == "audio" and voice else kind


def rules() -> dict[str, Any]:
    return {"by_major": dict(sorted(BY_MAJOR.items())), "as_file": sorted(AS_FILE)}
