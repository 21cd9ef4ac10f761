"""The importer's two halves: the pure rules and orchestration in core/importer/, all of its SQL in
core/db/importing/. Each half imports the other; either may be imported first."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MODULES = sorted(
    ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
    for folder in ("core/importer", "core/db/importing") for path in (REPO / folder).glob("*.py")
)


@pytest.mark.parametrize("module", MODULES)
def test_each_module_can_be_imported_first(module):
    subprocess.run([sys.executable, "-c", f"import {module}; from core.importer import import_files"],
                   cwd=REPO, check=True)


@pytest.mark.parametrize("path", sorted((REPO / "core/importer").glob("*.py")), ids=lambda p: p.name)
def test_the_importer_runs_no_sql_itself(path):
    text = path.read_text(encoding="utf-8")
    assert ".execute(" not in text and "import duckdb" not in text and "streamlit" not in text
