"""The demo's two halves: the plan and name tables in core/demo/, its SQL in core/db/demo_data/.
Each half imports the other; either may be imported first."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MODULES = sorted(
    ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
    for folder in ("core/demo", "core/db/demo_data") for path in (REPO / folder).glob("*.py")
)


@pytest.mark.parametrize("module", MODULES)
def test_each_module_can_be_imported_first(module):
    subprocess.run([sys.executable, "-c", f"import {module}; from core.demo import build_demo"],
                   cwd=REPO, check=True)


@pytest.mark.parametrize("path", sorted((REPO / "core/demo").glob("*.py")), ids=lambda p: p.name)
def test_the_demo_plan_runs_no_sql_itself(path):
    text = path.read_text(encoding="utf-8")
    assert ".execute(" not in text and "import duckdb" not in text and "streamlit" not in text
