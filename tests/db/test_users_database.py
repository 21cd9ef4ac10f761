"""The server mode's users and sign-in throttle in the database (``core.db.postgres.users``), as
several processes see them: each app replica and each ``python -m core users`` command has a pool
of its own, and what one of them commits counts in every other at once.

The behaviour both backends share (what ends a session, the throttle's cases, the commands) is
tested on both in tests/unit/test_users_signin.py, tests/db/test_cli.py and
tests/pages/test_signin.py; here is what only the database does."""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import bcrypt
import pytest

from core.cli import main
from core.cli_users import demo_users
from core.db.postgres.connection import PostgresDatabase
from core.db.postgres.users import DatabaseThrottle, DatabaseUsers
from core.settings import Settings
from core.signin import FAILURE_WINDOW, session_still_valid
from core.users import User, check_password, hash_password

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def url(postgres_cluster):
    return postgres_cluster.create_database(f"users_{time.monotonic_ns()}")


@pytest.fixture
def replica(url):
    """This process's pool on the database, as one app replica has it."""
    database = PostgresDatabase(url)
    yield database
    database.close()


@pytest.fixture(autouse=True)
def quick_bcrypt(monkeypatch):
    gensalt = bcrypt.gensalt
    monkeypatch.setattr(bcrypt, "gensalt", lambda rounds=4, prefix=b"2b": gensalt(4, prefix))


def _user(username: str, role: str = "viewer", **fields) -> User:
    return User(username, username.title(), f"{username}@example.com",
                hash_password(f"{username}-password"), role, **fields)


def other_process(url: str, code: str, *args: str, env: dict | None = None) -> str:
    """Run ``code`` in a new Python process (another replica) with ``url`` as ``URL``."""
    program = "import sys\nURL = sys.argv[1]\n" + textwrap.dedent(code)
    result = subprocess.run([sys.executable, "-c", program, url, *args], cwd=REPO,
                            capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})})
    assert result.returncode == 0, result.stderr
    return result.stdout


def cli_process(url: str, *argv: str, stdin: str = "") -> subprocess.CompletedProcess:
    """``python -m core …`` in a process of its own, on the database."""
    return subprocess.run([sys.executable, "-m", "core", *argv], cwd=REPO, input=stdin,
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "ORDERDESK_DB": url})


# --- the throttle across processes ---------------------------------------------------------------

def test_five_failures_on_one_replica_throttle_the_sixth_on_another(url, replica):
    throttle = DatabaseThrottle(replica)
    assert throttle.retry_after("anna", "198.51.100.1") is None
    other_process(url, """
        from core.db.postgres.connection import PostgresDatabase
        from core.db.postgres.users import DatabaseThrottle
        with PostgresDatabase(URL) as database:
            throttle = DatabaseThrottle(database)
            for _ in range(5):
                assert throttle.retry_after("anna", "203.0.113.9") is None
                throttle.record_failure("anna", "203.0.113.9")
    """)
    # Here, from another address: the username is throttled for the whole window.
    wait = throttle.retry_after("anna", "198.51.100.1")
    assert wait == pytest.approx(FAILURE_WINDOW.total_seconds(), abs=30)
    assert throttle.retry_after("bob", "198.51.100.1") is None
    # A success on this replica clears the username for the other one too.
    throttle.record_success("anna")
    assert other_process(url, """
        from core.db.postgres.connection import PostgresDatabase
        from core.db.postgres.users import DatabaseThrottle
        with PostgresDatabase(URL) as database:
            print(DatabaseThrottle(database).retry_after("anna", "203.0.113.9"))
    """).strip() == "None"


def test_expired_failures_are_deleted_as_new_ones_come(replica):
    now = [1_000_000.0]
    throttle = DatabaseThrottle(replica, clock=lambda: now[0])
    for i in range(50):
        throttle.record_failure(f"user{i}", f"10.0.0.{i}")
    assert throttle.failures_kept() == 100  # one row per username, one per address
    now[0] += FAILURE_WINDOW.total_seconds()
    throttle.record_failure("late", None)
    assert throttle.failures_kept() == 1
    assert throttle.retry_after("user1", "10.0.0.1") is None


# --- users changed by another process ------------------------------------------------------------

def test_a_change_by_the_command_line_counts_at_once_in_a_serving_process(url, replica):
    users = DatabaseUsers(replica)
    users.add(_user("anna", legal_entities=("LE1",)))
    users.add(_user("bob"))
    signed_in_at = time.time()
    anna = users.load()["anna"]
    assert session_still_valid(anna, signed_in_at)

    result = cli_process(url, "users", "set", "anna", "--role", "refunder", "--store", "S1")
    assert result.returncode == 0, result.stderr
    assert "anna is signed out everywhere" in result.stdout
    anna = users.load()["anna"]  # this process's next action
    assert (anna.role, anna.stores) == ("refunder", ("S1",))
    assert not session_still_valid(anna, signed_in_at)  # the open session ends
    assert session_still_valid(users.load()["bob"], signed_in_at)  # another user's goes on

    assert cli_process(url, "users", "remove", "bob").returncode == 0
    assert "bob" not in users.load()


def test_a_sign_out_on_one_replica_ends_the_users_sessions_on_another(url, replica):
    users = DatabaseUsers(replica)
    users.add(_user("anna"))
    signed_in_at = time.time()
    assert session_still_valid(users.load()["anna"], signed_in_at)
    other_process(url, """
        from core.db.postgres.connection import PostgresDatabase
        from core.db.postgres.users import DatabaseUsers
        with PostgresDatabase(URL) as database:
            assert DatabaseUsers(database).end_sessions("anna")
    """)
    assert not session_still_valid(users.load()["anna"], signed_in_at)


def test_load_reads_the_users_again_only_when_they_changed(replica):
    """One primary-key read of ``users_version`` per call while nothing changed; the rows are
    read again after any change, made by any process."""
    users = DatabaseUsers(replica)
    for i in range(20):
        users.add(_user(f"user{i:02}"))
    first = users.load()
    assert users.load() is first  # nothing changed: the same copy
    other = DatabaseUsers(replica)
    other.update("user01", name="Renamed")
    second = users.load()
    assert second is not first and second["user01"].name == "Renamed"
    timings = []
    for _ in range(300):
        start = time.perf_counter()
        users.load()
        timings.append(time.perf_counter() - start)
    # measured about 0.15 ms on loopback (docs/stack-facts.md, PostgreSQL)
    assert statistics.median(timings) < 0.005, statistics.median(timings)


def test_concurrent_changes_from_processes_are_all_counted(url, replica):
    users = DatabaseUsers(replica)
    for name in ("anna", "bob"):
        users.add(_user(name))
    before = users.version()
    code = """
        from core.db.postgres.connection import PostgresDatabase
        from core.db.postgres.users import DatabaseUsers
        with PostgresDatabase(URL) as database:
            users = DatabaseUsers(database)
            for i in range(20):
                users.update(sys.argv[2], name=f"name {i}")
    """
    program = "import sys\nURL = sys.argv[1]\n" + textwrap.dedent(code)
    processes = [subprocess.Popen([sys.executable, "-c", program, url, name], cwd=REPO,
                                  env={**os.environ, "PYTHONPATH": str(REPO)})
                 for name in ("anna", "bob")]
    assert [p.wait(timeout=60) for p in processes] == [0, 0]
    assert users.version() == before + 40
    assert {u.name for u in users.load().values()} == {"name 19"}


# --- the command line on the database ------------------------------------------------------------

def test_users_list_on_a_database_without_users_names_it_without_the_password(url, monkeypatch,
                                                                              capsys):
    monkeypatch.setenv("ORDERDESK_DB", url)
    assert main(["users", "list"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("No users in the database postgresql://orderdesk@127.0.0.1:")
    assert "orderdesk-test" not in out  # the cluster's password


def test_the_demo_users_are_written_to_the_database(url, replica, monkeypatch, capsys,
                                                    tmp_path):
    replica_users = DatabaseUsers(replica)
    replica_users.add(_user("leftover"))
    monkeypatch.setenv("ORDERDESK_DB", url)
    monkeypatch.setenv("ORDERDESK_USERS", str(tmp_path / "users.yaml"))
    demo_users(Settings.from_env())
    from core.demo import DEMO_USERS

    users = replica_users.load()
    assert set(users) == {username for username, *_ in DEMO_USERS}  # the demo's users only
    for username, password, role, *_ in DEMO_USERS:
        assert users[username].role == role
        assert check_password(password, users[username].password_hash)
    assert not (tmp_path / "users.yaml").exists()
    assert "Demo users in the database postgresql://" in capsys.readouterr().out


def test_users_add_reads_the_password_from_standard_input(url, replica):
    result = cli_process(url, "users", "add", "anna", "--role", "viewer",
                         stdin="anna-secret-1\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Added anna (viewer; nothing (sees no orders)) to the "
                                    "database postgresql://")
    stored = DatabaseUsers(replica).load()["anna"]
    assert check_password("anna-secret-1", stored.password_hash)
    assert "anna-secret-1" not in repr(stored)


def test_the_schema_is_created_once_and_opened_again_unchanged(url, replica):
    DatabaseUsers(replica).add(_user("anna"))
    with PostgresDatabase(url) as again:  # a second read-write open: create_or_upgrade again
        assert set(DatabaseUsers(again).load()) == {"anna"}


def test_the_table_refuses_what_the_users_file_would(replica):
    """The database checks what a users file's reader checks: one known role, a bcrypt hash."""
    from core.errors import ConstraintViolation

    users = DatabaseUsers(replica)
    with pytest.raises(ConstraintViolation):
        users.replace_all([User("anna", "Anna", "", "plain-text", "viewer")])
    with pytest.raises(ConstraintViolation):
        users.replace_all([User("anna", "Anna", "", hash_password("x-1"), "superuser")])
    assert users.load() == {}

