"""Several app replicas on one PostgreSQL database, behind nginx with sticky sessions.

Each replica is ``streamlit run app.py`` on its own loopback port with the same settings — above
all the same ``ORDERDESK_COOKIE_KEY``, so a sign-in cookie written through one replica signs the
user in on any other. nginx runs the shipped example (``deploy/nginx/orderdesk.conf``) with only
what an operator edits replaced: the listening ports, the certificate and the replicas' addresses.
The tests start the same processes through this module; on a real host systemd runs them
(``deploy/systemd/``, README "Running on PostgreSQL with several replicas").

    ORDERDESK_DB=postgresql://… ORDERDESK_USERS=… ORDERDESK_COOKIE_KEY=… \\
        python scripts/serve_replicas.py --replicas 2 --proxy 8443

starts replicas on 127.0.0.1:8501 and 8502 and, with ``--proxy``, nginx on https://127.0.0.1:8443
with a throwaway self-signed certificate (a folder of its own under ``--folder``), until Ctrl-C.
"""
from __future__ import annotations

import argparse
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "deploy" / "nginx" / "orderdesk.conf"
FIRST_PORT = 8501  # replica N listens on FIRST_PORT + N - 1, as the nginx example expects
HEALTH_TIMEOUT_S = 30
# The example's upstream lines: each replaced by the replicas actually started.
CONF_UPSTREAMS = ("    server 127.0.0.1:8501 max_fails=1 fail_timeout=10s;\n"
                  "    server 127.0.0.1:8502 max_fails=1 fail_timeout=10s;\n")
UPSTREAM_LINE = "    server {address} max_fails=1 fail_timeout=10s;\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


# --- the replicas ------------------------------------------------------------------------------


@dataclass
class Replica:
    """One ``streamlit run app.py`` process on 127.0.0.1:``port``."""

    port: int
    log_path: Path
    process: subprocess.Popen = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def wait_healthy(self, timeout_s: float = HEALTH_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout_s
        while not healthy(self.url):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"replica {self.address} did not become healthy:\n"
                                   f"{self.log_tail()}")
            time.sleep(0.2)

    def kill(self) -> None:
        """``kill -9``: no shutdown of any kind, as a crash or the OOM killer ends it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()


def replica_command(port: int | str, python: str) -> list[str]:
    """The command of one replica (deploy/systemd/orderdesk@.service runs the same, its test
    checks): loopback only, no file watcher, no usage statistics."""
    return [python, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
            "--server.address", "127.0.0.1", "--server.headless", "true",
            "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]


def start_replica(port: int, env: dict[str, str], log_path: Path,
                  extra_args: tuple[str, ...] = ()) -> Replica:
    """A replica on 127.0.0.1:``port`` with the settings ``env`` (added to this process's);
    returned at once (``wait_healthy`` waits for it)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [*replica_command(port, sys.executable), *extra_args],
            cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
        )
    return Replica(port, log_path, process)


def start_replicas(ports: list[int], env: dict[str, str], folder: Path) -> list[Replica]:
    """One replica per port, started together (each takes seconds to import its libraries) and
    returned once every one answers its health check."""
    replicas = [start_replica(port, env, folder / f"replica-{port}.log") for port in ports]
    try:
        for replica in replicas:
            replica.wait_healthy()
    except RuntimeError:
        for replica in replicas:
            replica.stop()
        raise
    return replicas


# --- nginx in front ----------------------------------------------------------------------------


@dataclass
class Proxy:
    root: Path
    http_port: int
    https_port: int
    cert: Path
    process: subprocess.Popen = field(repr=False)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def error_log(self) -> str:
        path = self.root / "error.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else "(no error log)"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def nginx_binary() -> str | None:
    return shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK)
                                     else None)


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, valid for two days, and its key."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "cert.pem", folder / "key.pem"
    done = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        capture_output=True, text=True, timeout=30,
    )
    if done.returncode != 0:
        raise RuntimeError(f"openssl could not make a certificate:\n{done.stderr}")
    return cert, key


def site_config(upstreams: list[str], http_port: int, https_port: int, cert: Path,
                key: Path) -> str:
    """The shipped site file with only the operator's edits made; each edit must find its line,
    so a change of the file's shape is noticed."""
    text = CONF.read_text()
    edits = [
        ("    listen 80;\n", f"    listen 127.0.0.1:{http_port};\n"),
        ("    listen [::]:80;\n", ""),
        ("    listen 443 ssl http2;\n", f"    listen 127.0.0.1:{https_port} ssl http2;\n"),
        ("    listen [::]:443 ssl http2;\n", ""),
        (CONF_UPSTREAMS, "".join(UPSTREAM_LINE.format(address=a) for a in upstreams)),
        ("/etc/ssl/orderdesk/fullchain.pem;", f"{cert};"),
        ("/etc/ssl/orderdesk/privkey.pem;", f"{key};"),
    ]
    for old, new in edits:
        if text.count(old) != 1:
            raise ValueError(f"{CONF.name} no longer has exactly one {old.strip()!r}")
        text = text.replace(old, new)
    return text


def _main_config(root: Path, log_format: str | None) -> str:
    """nginx's own file around the site: a private prefix, pid, logs and temp folders."""
    # Run as root, nginx's workers would drop to "nobody", who may not enter the folder.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    temp_paths = "\n".join(f"    {kind}_temp_path {root / kind};"
                           for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    access = (f"    log_format routed '{log_format}';\n    access_log {root / 'access.log'} routed;"
              if log_format else f"    access_log {root / 'access.log'};")
    return f"""{user}
worker_processes 1;
daemon off;
pid {root / 'nginx.pid'};
error_log {root / 'error.log'} info;
events {{ worker_connections 256; }}
http {{
{access}
{temp_paths}
    include {root / 'orderdesk.conf'};
}}
"""


def start_proxy(root: Path, upstreams: list[str], cert: Path, key: Path, *,
                http_port: int | None = None, https_port: int | None = None,
                log_format: str | None = None, timeout_s: float = 15) -> Proxy:
    """nginx in the foreground with the example in front of ``upstreams`` (host:port), on free
    loopback ports unless given; returned once both ports answer. ``log_format`` replaces the
    access log's (the tests log which replica served each request)."""
    nginx = nginx_binary()
    if nginx is None:
        raise FileNotFoundError("nginx is not installed (Debian: apt-get install nginx)")
    root.mkdir(parents=True, exist_ok=True)
    http_port, https_port = http_port or free_port(), https_port or free_port()
    (root / "orderdesk.conf").write_text(site_config(upstreams, http_port, https_port, cert, key))
    (root / "nginx.conf").write_text(_main_config(root, log_format))
    command = [nginx, "-p", str(root), "-c", str(root / "nginx.conf"),
               "-e", str(root / "error.log")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
    if checked.returncode != 0:
        raise RuntimeError(f"nginx -t refused the configuration:\n{checked.stderr}")
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proxy = Proxy(root, http_port, https_port, cert, process)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            for port in (https_port, http_port):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proxy
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                proxy.stop()
                raise RuntimeError(f"nginx did not start:\n{proxy.error_log()}") from None
            time.sleep(0.1)


# --- the command line --------------------------------------------------------------------------


def _settings_problem(env: dict[str, str]) -> str | None:
    if not env.get("ORDERDESK_DB", "").startswith(("postgresql://", "postgres://")):
        return ("ORDERDESK_DB must be a postgresql:// URL: a DuckDB file can be opened by one "
                "process only, so it is served by one app (scripts/serve.sh).")
    if not env.get("ORDERDESK_COOKIE_KEY"):
        return ("ORDERDESK_COOKIE_KEY is not set: every replica needs the same key, or a sign-in "
                "cookie written through one replica is refused by the others.")
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=int, default=2, help="how many (default 2)")
    parser.add_argument("--first-port", type=int, default=FIRST_PORT,
                        help=f"the first replica's port; the next ones follow (default {FIRST_PORT})")
    parser.add_argument("--proxy", type=int, metavar="HTTPS_PORT",
                        help="also start nginx with the example on this HTTPS port")
    parser.add_argument("--folder", type=Path, default=ROOT / "data" / "replicas",
                        help="logs, and nginx's files with --proxy (default data/replicas)")
    args = parser.parse_args(argv)
    if problem := _settings_problem(dict(os.environ)):
        print(problem, file=sys.stderr)
        return 1
    env = {"ORDERDESK_TRUSTED_PROXY": "1"} if args.proxy else {}
    ports = [args.first_port + n for n in range(args.replicas)]
    replicas = start_replicas(ports, env, args.folder)
    proxy = None
    try:
        if args.proxy:
            cert, key = self_signed_certificate(args.folder / "tls")
            proxy = start_proxy(args.folder / "nginx", [r.address for r in replicas], cert, key,
                                https_port=args.proxy)
            print(f"nginx: {proxy.url} (self-signed certificate {cert})", flush=True)
        for replica in replicas:
            print(f"replica: {replica.url} (log {replica.log_path})", flush=True)
        running = list(replicas)
        while running:  # the others go on serving when one ends: that is what replicas are for
            time.sleep(1)
            for replica in [r for r in running if r.process.poll() is not None]:
                print(f"replica {replica.address} exited ({replica.process.returncode}); "
                      f"its log: {replica.log_path}", file=sys.stderr, flush=True)
                running.remove(replica)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        if proxy:
            proxy.stop()
        for replica in replicas:
            replica.stop()


if __name__ == "__main__":
    raise SystemExit(main())
