"""The README's promises that code can check: demo users, settings, commands."""
from pathlib import Path

from core.demo import DEMO_USERS

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_every_demo_user_is_listed_with_password_and_role():
    for username, password, role, *_ in DEMO_USERS:
        assert f"| `{username}` | `{password}` | {role} |" in README


def test_settings_and_commands_are_documented():
    for name in ("ORDERDESK_DB", "ORDERDESK_USERS", "ORDERDESK_COOKIE_KEY", "ORDERDESK_TZ",
                 "bash scripts/serve.sh", "bash scripts/test.sh", "scripts/bench.py"):
        assert name in README
    ci = (Path(__file__).resolve().parents[2] / ".ci" / "run").read_text()
    assert "bash scripts/test.sh" in ci
