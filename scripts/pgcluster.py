"""A throwaway PostgreSQL cluster on loopback, for the tests, the benchmark and trying the server
mode: ``initdb`` in a folder, ``pg_ctl start`` on a free port, databases made with ``createdb``.

PostgreSQL refuses to run as root, so under root the cluster belongs to the ``postgres`` system
user (Debian's package creates it) and every program runs through ``runuser``; its folder must
then be one that user can reach (``new_folder``: not under root's private temporary folders). Durability is
traded for speed (``fsync=off``): a throwaway cluster holds nothing that must survive a crash.

    python scripts/pgcluster.py start FOLDER   # prints the cluster's URL (database "postgres")
    python scripts/pgcluster.py stop FOLDER
"""
from __future__ import annotations

import argparse
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SYSTEM_USER = "postgres"
# The settings of a throwaway cluster: loopback only, its socket in its own folder, no fsync.
SERVER_OPTIONS = ("-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
                  "-c full_page_writes=off -c max_connections=200 -c shared_buffers=512MB")


def binaries() -> Path | None:
    """The folder of PostgreSQL's server programs (Debian: /usr/lib/postgresql/<major>/bin), the
    newest major version when several are installed; None when none is."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Cluster:
    """A cluster in ``folder`` (its data in ``folder/data``, its socket in ``folder``)."""

    folder: Path
    port: int
    user: str = "orderdesk"
    password: str = "orderdesk-test"

    def url(self, database: str = "postgres") -> str:
        return (f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{database}")

    def _run(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(binaries() / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SYSTEM_USER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True)
        if check and done.returncode != 0:
            raise RuntimeError(f"{program} failed ({done.returncode}): {done.stderr.strip()}")
        return done

    def start(self) -> "Cluster":
        data = self.folder / "data"
        if not (data / "PG_VERSION").exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            secret = self.folder / "password"
            secret.write_text(self.password + "\n")
            if os.geteuid() == 0:
                shutil.chown(self.folder, SYSTEM_USER)
                shutil.chown(secret, SYSTEM_USER)
            self._run("initdb", "-D", str(data), "-U", self.user, f"--pwfile={secret}",
                      "-A", "scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8")
        self._run("pg_ctl", "-D", str(data), "-l", str(self.folder / "server.log"), "-w",
                  "-o", f"-p {self.port} -k {self.folder} {SERVER_OPTIONS}", "start")
        (self.folder / "port").write_text(str(self.port))
        return self

    def stop(self, *, at_once: bool = False) -> None:
        """Stopped after its shutdown checkpoint, or ``at_once`` without it, for a cluster whose
        data is removed next (writing out its buffers took 30 s at the end of a test run)."""
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-m",
                  "immediate" if at_once else "fast", "-w", "stop", check=False)

    def create_database(self, name: str) -> str:
        """A new empty database ``name``; its URL."""
        env_password = {"PGPASSWORD": self.password}
        subprocess.run([str(binaries() / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                        "-U", self.user, "-T", "template0", name],
                       check=True, capture_output=True, text=True, env={**os.environ, **env_password})
        return self.url(name)


def new_folder() -> Path:
    """A new folder for a throwaway cluster, in the system's temporary folder."""
    return Path(tempfile.mkdtemp(prefix="orderdesk-postgres-"))


def start(folder: Path | str, port: int | None = None) -> Cluster:
    """Start (initialising when new) the cluster in ``folder``; a running one is stopped first."""
    folder = Path(folder)
    if (folder / "data" / "postmaster.pid").exists():
        Cluster(folder, 0).stop()
    return Cluster(folder, port or free_port()).start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("start", "stop"))
    parser.add_argument("folder", type=Path)
    parser.add_argument("--port", type=int, help="the port (default: a free one)")
    args = parser.parse_args(argv)
    if binaries() is None:
        print("PostgreSQL's server programs are not installed (Debian: apt-get install postgresql).",
              file=sys.stderr)
        return 2
    if args.action == "stop":
        Cluster(args.folder, 0).stop()
        return 0
    cluster = start(args.folder, args.port)
    for _ in range(50):  # pg_ctl -w waited; the port answers at once, but be sure
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", cluster.port)) == 0:
                break
        time.sleep(0.1)
    print(cluster.url())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
