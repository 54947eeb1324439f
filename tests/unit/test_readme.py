"""The README's layout table shows the whole structure: every folder and module of the package,
the testbed and the benchmarks is named in it, and nothing it names is missing."""

from __future__ import annotations

from pathlib import Path
import re

ROOT = Path(__file__).resolve().parents[2]


def _layout_rows() -> dict[str, str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Layout", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0].startswith("`"):
            rows[cells[0]] = cells[1]
    return rows


def _modules(folder: Path) -> set[str]:
    return {p.stem for p in folder.glob("*.py") if p.stem != "__init__"}


def test_every_module_is_in_the_layout_table() -> None:
    rows = _layout_rows()
    named_files = {Path(name).stem for key in rows for name in re.findall(r"`([^`]+\.py)`", key)}
    top_level = _modules(ROOT / "crm_appservice")
    assert top_level - named_files == set(), "top-level modules missing from the README"
    folders = {
        "`crm_appservice/" + p.name + "/`": p
        for p in (ROOT / "crm_appservice").iterdir()
        if p.is_dir() and (p / "__init__.py").exists()
    }
    folders["`testbed/`"] = ROOT / "testbed"
    for key, folder in folders.items():
        assert key in rows, f"{key} is not in the README's layout table"
        named = set(re.findall(r"`([a-z_]+)`", rows[key]))
        assert _modules(folder) - named == set(), f"modules of {key} missing from its row"
    bench = (ROOT / "bench" / "README.md").read_text(encoding="utf-8")
    assert _modules(ROOT / "bench") - set(re.findall(r"`([a-z_]+)`", bench)) == set()


def test_the_layout_table_names_nothing_that_is_not_there() -> None:
    rows = _layout_rows()
    for key in rows:
        for path in re.findall(r"`([^`]+)`", key):
            assert (ROOT / path).exists() or (ROOT / "crm_appservice" / path).exists(), path
