"""The load generator against a real server: three simulated analysts of different scopes sign in
and work for a few seconds; any error, wrong count, row out of scope or lost widget value fails."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.loadtest.cli import parse_args, report, run

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # about 25 s: a demo build, a server start and 12 s of load
def test_three_sessions_of_different_scopes_see_only_right_answers(tmp_path):
    env = {**os.environ, "ORDERDESK_DB": str(tmp_path / "orders.duckdb"),
           "ORDERDESK_USERS": str(tmp_path / "users.yaml")}
    done = subprocess.run([sys.executable, "-m", "core", "demo", "--orders", "3000", "--seed", "7"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    args = parse_args([
        "--serve", "--db", str(tmp_path / "orders.duckdb"),
        "--users-file", str(tmp_path / "users.yaml"),
        "--sessions", "3", "--users", "admin,viewer,viewer.store",
        "--interval", "0.5", "--duration", "12", "--seed", "5",
    ])
    result = run(args)
    assert result["signed_in"] == 3, report(result)
    assert result["errors"] == 0, report(result)
    kinds = {row["kind"]: row["count"] for row in result["kinds"]}
    assert kinds.get("sign_in") == 3
    assert result["interactions"] >= 3 + 3 + 6, report(result)  # connect, sign-in, the mix
    assert result["server_cpu_s"] > 0
