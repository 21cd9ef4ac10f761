"""The deployment examples agree with the code that starts the same processes: the systemd
replica unit runs the launcher's command, the nginx example's replicas are on the ports the
launcher and the unit use, and the settings file names only settings the app reads."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

from scripts.serve_replicas import CONF, FIRST_PORT, replica_command

ROOT = Path(__file__).resolve().parents[2]
SYSTEMD = ROOT / "deploy" / "systemd"


def _directives(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines()
                if line and not line.startswith(("#", "[")))


def test_the_replica_unit_runs_the_launchers_command():
    unit = _directives(SYSTEMD / "orderdesk@.service")
    command = shlex.split(unit["ExecStart"])
    assert command == replica_command("%i", "/srv/orderdesk/.venv/bin/python")
    assert unit["Restart"] == "always"
    assert unit["EnvironmentFile"] == "/etc/orderdesk/orderdesk.env"


def test_the_nginx_example_lists_the_first_two_replicas():
    ports = re.findall(r"^\s+server 127\.0\.0\.1:(\d+) ", CONF.read_text(), re.MULTILINE)
    assert ports == [str(FIRST_PORT), str(FIRST_PORT + 1)]


def test_the_settings_file_names_only_settings_the_app_reads():
    settings = (ROOT / "core" / "settings.py").read_text()
    example = _directives(SYSTEMD / "orderdesk.env.example")
    assert example["ORDERDESK_DB"].startswith("postgresql://")
    for name in example:
        assert f'"{name}"' in settings, name


def test_the_import_unit_runs_the_import_command_on_a_timer():
    unit = _directives(SYSTEMD / "orderdesk-import.service")
    command = shlex.split(unit["ExecStart"])
    assert command[1:4] == ["-m", "core", "import"] and unit["Type"] == "oneshot"
    assert _directives(SYSTEMD / "orderdesk-import.timer")["OnCalendar"] == "hourly"
