"""Every module imports on its own, first, in a fresh interpreter: the way the server, the command
line and the scripts start. An import cycle that only resolves in one import order (the test
suite's) would otherwise break the app while every other test passes."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "ui")


def _modules() -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__main__":
                continue
            found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


def test_every_package_is_listed():
    assert {"core.db", "core.query", "core.status", "ui.context"} <= set(_modules())


@pytest.mark.parametrize("module", _modules())
def test_a_module_imports_first_in_a_fresh_interpreter(module):
    proc = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
