"""The tables of cases a rule is tested against on both sides: kept beside the web's tests
(web/src/test/), read here by name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SHARED = Path(__file__).resolve().parent.parent / "web" / "src" / "test"


def shared(name: str) -> Any:
    """web/src/test/<name>.json, as the web's tests read it too."""
    return json.loads((SHARED / f"{name}.json").read_text(encoding="utf-8"))
