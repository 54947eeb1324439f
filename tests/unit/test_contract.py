"""The API contract the web inbox is built against is the server's own: web/openapi.json (from
which the web's types are generated) is the document the server serves, and every kind of
live frame the server sends is one the document names."""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import get_args

from crm_appservice import delivery
from crm_appservice.api import file_kinds
from crm_appservice.api.live_models import LiveFrameOut, LiveType
from crm_appservice.api.openapi import document

from ..cases import shared

ROOT = Path(__file__).resolve().parents[2]


def test_the_webs_contract_is_the_servers() -> None:
    on_disk = json.loads((ROOT / "web" / "openapi.json").read_text(encoding="utf-8"))
    served = json.loads(json.dumps(document()))
    assert on_disk == served, (
        "web/openapi.json is not the server's document: run"
        " `.venv/bin/crm-appservice openapi web/openapi.json` and fix what the web's types refuse"
    )


def test_answers_mark_every_field_required() -> None:
    """An answer always carries each of its fields (null when empty), so the generated types
    have none optional that the web would have to test for."""
    schemas = document()["components"]["schemas"]
    for name in ("ConversationOut", "MessagePreviewOut", "MessageOut", "BundleOut"):
        schema = schemas[name]
        assert set(schema["required"]) == set(schema["properties"]), name
    # A body keeps its optional fields optional.
    assert "channel" not in schemas["ReplyBody"]["required"]


def test_every_live_frame_kind_is_in_the_contract() -> None:
    kinds = set(get_args(LiveType))
    said: set[str] = set()
    for path in (ROOT / "crm_appservice").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        said |= set(re.findall(r"\"((?:message|conversation|note|history)\.[a-z]+)\"", text))
    assert said, "no live frame found in the code"
    assert said <= kinds, sorted(said - kinds)
    schema = document()["components"]["schemas"]["LiveFrameOut"]
    assert set(schema["properties"]["type"]["enum"]) == kinds
    assert LiveFrameOut.model_fields.keys() == {"type", "seq", "data"}


def test_a_message_status_is_one_the_delivery_table_knows() -> None:
    schema = document()["components"]["schemas"]["MessageOut"]["properties"]["status"]
    enum = next(s["enum"] for s in schema["anyOf"] if "enum" in s)
    assert enum == list(delivery.STATES) == ["pending", "sent", "delivered", "read", "failed"]


def test_a_files_kind_follows_the_shared_table_of_cases() -> None:
    cases = shared("file-kind-cases")["cases"]
    assert len(cases) > 5
    for mimetype, kind in cases:
        assert file_kinds.kind_of(mimetype, voice=False) == kind, mimetype
    assert file_kinds.kind_of("audio/ogg", voice=True) == "voice"
    assert document()["x-rules"]["file_kinds"] == file_kinds.rules()
