"""The load generator against a real server, in the default run: ten simulated analysts of four
scopes sign in and work for 20 s, the refunders and admins refunding through the real dialog; any
error, wrong count, row out of scope, lost widget value or refund not stored exactly once fails."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_ten_sessions_of_four_scopes_see_only_right_answers_and_refund_once(tmp_path):
    env = {**os.environ, "ORDERDESK_DB": str(tmp_path / "orders.duckdb"),
           "ORDERDESK_USERS": str(tmp_path / "users.yaml")}
    done = subprocess.run([sys.executable, "-m", "core", "demo", "--orders", "3000", "--seed", "7"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    # As a user runs it (its own process: the browser tests leave an event loop in this one).
    load = subprocess.run([
        sys.executable, "scripts/loadgen.py", "--serve", "--db", str(tmp_path / "orders.duckdb"),
        "--users-file", str(tmp_path / "users.yaml"),
        "--sessions", "10", "--users", "admin,refunder,viewer,viewer.store",
        "--interval", "1", "--duration", "20", "--seed", "5", "--refunds",
        "--mix", "next=6,previous=2,filter=2,search=2,sort=2,open=6,open_link=2,export=1",
        "--json", str(tmp_path / "load.json"),
    ], cwd=ROOT, capture_output=True, text=True, timeout=240)
    report = load.stdout + load.stderr[-3000:]
    assert load.returncode == 0, report
    result = json.loads((tmp_path / "load.json").read_text())
    assert result["signed_in"] == 10, report
    assert result["errors"] == 0, report
    kinds = {row["kind"]: row["count"] for row in result["kinds"]}
    assert kinds.get("sign_in") == 10
    assert kinds.get("page turn", 0) > 10 and kinds.get("open order", 0) > 5, report
    assert result["refunds"]["confirmed"] > 0 and not result["refunds"]["problems"], report
    assert result["server_cpu_s"] > 0
