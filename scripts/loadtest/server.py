"""The server under load: started on a copy of the database, or found by its port, and sampled.

``start_server`` runs ``streamlit run app.py`` on a free port of 127.0.0.1 with a temporary copy
of the database and users file and a fresh cookie key (the benchmark starts its server with it
too); ``ServerProcess`` reads the server's CPU seconds and resident memory from /proc (Linux),
whoever started it.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from scripts.loadtest.page import TIMEZONE

ROOT = Path(__file__).resolve().parents[2]


class ServerProcess:
    """CPU seconds and RSS of the server process, read from /proc (Linux)."""

    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        self.ticks = os.sysconf("SC_CLK_TCK")
        self.rss_start = self.rss_peak = self.rss()

    def cpu_seconds(self) -> float | None:
        if not self.pid:
            return None
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / self.ticks

    def rss(self) -> int | None:
        if not self.pid:
            return None
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            return None
        return None

    def sample(self) -> None:
        rss = self.rss()
        if rss and (self.rss_peak is None or rss > self.rss_peak):
            self.rss_peak = rss


def pid_listening_on(port: int) -> int | None:
    """The process listening on 127.0.0.1:port, found through /proc (only our own are readable)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                parts = line.split()
                if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(parts[9])
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (proc / "fd").iterdir():
                link = os.readlink(fd)
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return int(proc.name)
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@dataclass
class Served:
    process: subprocess.Popen
    port: int
    workdir: Path
    log_path: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def prepare_copy(db: Path, users: Path, workdir: Path) -> tuple[Path, Path]:
    """A copy of the database and users file: the load (and its refunds) never touch the original."""
    workdir.mkdir(parents=True, exist_ok=True)
    db_copy, users_copy = workdir / "orders.duckdb", workdir / "users.yaml"
    shutil.copy2(db, db_copy)
    wal = db.with_name(db.name + ".wal")
    if wal.exists():
        shutil.copy2(wal, db_copy.with_name(db_copy.name + ".wal"))
    shutil.copy2(users, users_copy)
    return db_copy, users_copy


def app_env(db: Path, users: Path, tz: str = TIMEZONE) -> dict[str, str]:
    """The settings the app reads (README "Settings"): this database and users file, the time
    zone, and a fresh cookie key, so that no sign-in cookie from another run is valid."""
    alphabet = string.ascii_letters + string.digits
    return {
        "ORDERDESK_DB": str(db),
        "ORDERDESK_USERS": str(users),
        "ORDERDESK_COOKIE_KEY": "".join(secrets.choice(alphabet) for _ in range(48)),
        "ORDERDESK_TZ": tz,
    }


def start_server(workdir: Path, db_copy: Path, users_copy: Path, extra_args: list[str],
                 timeout_s: float = 60, tz: str = TIMEZONE, poll_s: float = 0.2) -> Served:
    """`streamlit run app.py` on a free port of 127.0.0.1, on the copy, with a fresh cookie key;
    returned once it answers its health check (polled every ``poll_s``: the benchmark times that
    moment, so it polls more often)."""
    port = free_port()
    env = {**os.environ, **app_env(db_copy, users_copy, tz)}
    log_path = workdir / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
             *extra_args],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    served = Served(process, port, workdir, log_path)
    deadline = time.monotonic() + timeout_s
    while not healthy(f"http://127.0.0.1:{port}"):
        if process.poll() is not None or time.monotonic() > deadline:
            served.stop()
            log_tail = log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"the server did not become healthy:\n{log_tail}")
        time.sleep(poll_s)
    return served
