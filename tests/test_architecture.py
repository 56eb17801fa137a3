"""docs/architecture.md's layer diagram is the import-linter contract, word for word."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_documented_layers_are_the_checked_ones():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    documented = re.search(r"```layers\n(.*?)```", text, flags=re.S)
    assert documented, "docs/architecture.md lost its layers block"
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contract = config["tool"]["importlinter"]["contracts"][0]
    assert contract["type"] == "layers"
    assert documented.group(1).split("\n")[:-1] == contract["layers"]


def test_every_folder_and_top_module_is_on_the_map():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    package = ROOT / "src" / "tuishou"
    names = {p.name for p in package.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}
    names -= {"__init__.py", "__main__.py"}
    missing = [n for n in sorted(names) if f"`{n}`" not in text and f"`{n}/`" not in text]
    assert missing == []
