"""The operators' command line, ``python -m core`` (docs/design.md §7): users, import, demo, and
what happens while the app holds the database."""
from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import main
from core.importer import import_files
from core.db import Database, display_target, open_database
from core.settings import Settings
from core.user_store import open_users, users_in_database
from core.users import check_password, load_users

REPO = Path(__file__).resolve().parents[2]
ALL_TABLES = ("meta", "stores", "orders", "order_items", "order_events")

STORES = [
    ["store_id", "store_name", "store_address", "merchant_store_id", "brand", "legal_entity",
     "region", "zone"],
    ["S1", "Store one", "Main 1", "M1", "Reserved", "LE1", "Mazowieckie", "PL"],
    ["S2", "Store two", "", "", "Cropp", "LE2", "Ilfov", "RO"],
]
ORDERS = [
    ["order_id", "created_at", "merchant_order_id", "amount", "status", "channel", "email", "phone",
     "store_id", "salesperson_id", "salesperson_name", "refunded_amount"],
    ["1", "2024-03-01T10:00:00Z", "A1", "100.00", "Completed", "online", "a@wp.pl", "+48 606",
     "S1", "", "", "25.00"],
    ["2", "2024-03-02T10:00:00", "A2", "50.00", "Pending", "online", "", "", "S2", "", "", ""],
]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path


@pytest.fixture
def env(tmp_path, monkeypatch):
    """ORDERDESK_DB / ORDERDESK_USERS in a temporary folder; (db path, users path)."""
    db, users = tmp_path / "orders.duckdb", tmp_path / "users.yaml"
    monkeypatch.setenv("ORDERDESK_DB", str(db))
    monkeypatch.setenv("ORDERDESK_USERS", str(users))
    monkeypatch.delenv("ORDERDESK_TZ", raising=False)
    return db, users


@pytest.fixture(scope="module")
def template_db(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("template")
    with Database(folder / "orders.duckdb") as database:
        import_files(database, stores=write_csv(folder / "stores.csv", STORES),
                     orders=write_csv(folder / "orders.csv", ORDERS))
    return folder / "orders.duckdb"


@pytest.fixture
def loaded(env, template_db):
    """A database holding stores S1 (LE1) and S2 (LE2) and two orders."""
    shutil.copy(template_db, env[0])
    return env


@pytest.fixture
def db_env(env, database_target, monkeypatch):
    """``env`` with ORDERDESK_DB on the test's backend; (database target, users path)."""
    monkeypatch.setenv("ORDERDESK_DB", str(database_target))
    return database_target, env[1]


@pytest.fixture
def loaded_db(db_env, tmp_path):
    """``loaded`` on the test's backend: stores S1 (LE1) and S2 (LE2) and two orders."""
    folder = tmp_path / "loaded"
    folder.mkdir()
    with open_database(db_env[0]) as database:
        import_files(database, stores=write_csv(folder / "stores.csv", STORES),
                     orders=write_csv(folder / "orders.csv", ORDERS))
    return db_env


@pytest.fixture(autouse=True)
def quick_bcrypt(monkeypatch):
    """Hash with bcrypt's lowest cost in these tests only: the stored hash is still bcrypt."""
    import bcrypt

    gensalt = bcrypt.gensalt
    monkeypatch.setattr(bcrypt, "gensalt", lambda rounds=4, prefix=b"2b": gensalt(4, prefix))


def stdin(monkeypatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))


def snapshot(db: Path | str) -> dict:
    with open_database(db, read_only=True) as database, database.cursor() as cur:
        # sorted here: PostgreSQL has no ORDER BY ALL
        return {t: sorted(cur.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
                for t in ALL_TABLES}


# --- users ---------------------------------------------------------------------------------------
# On both backends: beside a DuckDB file the users live in ORDERDESK_USERS, on PostgreSQL in the
# database's tables; the commands and their words are the same.

@pytest.fixture
def users_env(database_target, tmp_path, monkeypatch):
    """ORDERDESK_DB (a new DuckDB file's path or PostgreSQL database's URL) and ORDERDESK_USERS;
    (target, users path)."""
    users = tmp_path / "users.yaml"
    monkeypatch.setenv("ORDERDESK_DB", str(database_target))
    monkeypatch.setenv("ORDERDESK_USERS", str(users))
    monkeypatch.delenv("ORDERDESK_TZ", raising=False)
    return database_target, users


@pytest.fixture
def users_loaded(users_env):
    """A database holding stores S1 (LE1) and S2 (LE2)."""
    with open_database(users_env[0]) as database, database.transaction() as cur:
        cur.executemany("INSERT INTO stores VALUES (?, ?, ?, ?, ?, ?, ?, ?)", STORES[1:])
    return users_env


def stored_users() -> dict:
    """The users where the settings say they live."""
    settings = Settings.from_env()
    opened = []
    try:
        return open_users(settings.users_path, settings.db_path,
                          lambda: opened.append(open_database(settings.db_path)) or opened[-1]
                          ).load()
    finally:
        for database in opened:
            database.close()


def stored_text(users_path: Path) -> str:
    """Everything stored of the users: the file's text and every field the store gives back."""
    text = users_path.read_text() if users_path.exists() else ""
    return text + repr(stored_users())


def test_users_add_stores_only_a_bcrypt_hash(users_env, monkeypatch, capsys):
    _, users_path = users_env
    stdin(monkeypatch, "correct horse battery\n")
    assert main(["users", "add", "anna", "--role", "viewer", "--name", "Anna Nowak",
                 "--email", "anna@wp.pl", "--legal-entity", "LE1", "--store", "S2"]) == 0
    assert "correct horse" not in stored_text(users_path)
    anna = stored_users()["anna"]
    assert check_password("correct horse battery", anna.password_hash)
    assert (anna.name, anna.email, anna.role) == ("Anna Nowak", "anna@wp.pl", "viewer")
    assert (anna.legal_entities, anna.stores) == (("LE1",), ("S2",))
    out = capsys.readouterr()
    assert "Added anna (viewer; legal entities: LE1; stores: S2)" in out.out
    assert "not checked" in out.err  # there is no database (or no store in it) yet


def test_users_list_shows_role_and_scope_never_hashes(users_env, monkeypatch, capsys):
    for username, args in (("zoe", ["--role", "admin"]),
                           ("bob", ["--role", "refunder", "--store", "S1", "--store", "S2"]),
                           ("eve", ["--role", "viewer"])):
        stdin(monkeypatch, "password-1\n")
        assert main(["users", "add", username, *args]) == 0
    capsys.readouterr()
    assert main(["users", "list"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["USERNAME", "NAME", "ROLE", "SCOPE"]
    assert [line.split()[0] for line in lines[1:]] == ["bob", "eve", "zoe"]
    assert "stores: S1, S2" in lines[1]
    assert "nothing (sees no orders)" in lines[2]
    assert "all orders" in lines[3]
    assert "$2" not in out and "password" not in out


def test_users_set_changes_role_scope_and_password(users_loaded, monkeypatch, capsys):
    _, users_path = users_loaded
    stdin(monkeypatch, "first-password\n")
    assert main(["users", "add", "anna", "--role", "viewer", "--legal-entity", "LE1"]) == 0
    assert stored_users()["anna"].role == "viewer"

    assert main(["users", "set", "anna", "--role", "refunder", "--store", "S2"]) == 0
    anna = stored_users()["anna"]
    assert (anna.role, anna.legal_entities, anna.stores) == ("refunder", ("LE1",), ("S2",))

    assert main(["users", "set", "anna", "--legal-entity", "LE2"]) == 0
    assert stored_users()["anna"].legal_entities == ("LE2",)  # replaced, not added

    stdin(monkeypatch, "second-password\n")
    assert main(["users", "set", "anna", "--password", "--clear-scope", "--email", "a@x.ro"]) == 0
    anna = stored_users()["anna"]
    assert (anna.legal_entities, anna.stores, anna.email) == ((), (), "a@x.ro")
    assert check_password("second-password", anna.password_hash)
    assert not check_password("first-password", anna.password_hash)
    assert "second-password" not in stored_text(users_path)
    assert "sees no orders" in capsys.readouterr().err


def test_users_remove(users_env, monkeypatch, capsys):
    stdin(monkeypatch, "password-1\n")
    main(["users", "add", "anna", "--role", "viewer"])
    assert main(["users", "remove", "anna"]) == 0
    assert "anna" not in stored_users()
    assert "Removed anna" in capsys.readouterr().out


@pytest.mark.parametrize("argv,stdin_text,message", [
    (["users", "set", "zed", "--role", "admin"], "", "There is no user 'zed'."),
    (["users", "remove", "zed"], "", "There is no user 'zed'."),
    (["users", "add", "anna", "--role", "admin"], "pw-12345\n", "User 'anna' already exists"),
    (["users", "add", "Anna", "--role", "viewer"], "pw-12345\n", "'Anna' is not a valid username"),
    (["users", "add", "a b", "--role", "viewer"], "pw-12345\n", "'a b' is not a valid username"),
    (["users", "add", "carl", "--role", "viewer"], "\n", "No password given on standard input"),
    (["users", "add", "carl", "--role", "viewer", "--email", "nope"], "pw-12345\n",
     "'nope' is not an e-mail address."),
    (["users", "set", "anna"], "", "Nothing to change"),
    (["users", "add", "carl", "--role", "viewer", "--legal-entity", "LE9"], "pw-12345\n",
     "Unknown legal entity 'LE9'"),
    (["users", "set", "anna", "--store", "S1", "--store", "S9"], "", "Unknown store 'S9'"),
    # The sign-in form strips what is typed: such a password could never sign in.
    (["users", "add", "carl", "--role", "viewer"], " pw-12345\n", "starts or ends with a space"),
    (["users", "add", "carl", "--role", "viewer"], "pw-12345 \n", "starts or ends with a space"),
    (["users", "set", "anna", "--password"], "\tpw-12345\n", "starts or ends with a space"),
    # bcrypt reads 72 bytes; more ended the command in a traceback.
    (["users", "add", "carl", "--role", "viewer"], "x" * 73 + "\n",
     "73 bytes long in UTF-8; bcrypt uses only the first 72"),
    (["users", "set", "anna", "--password"], "ż" * 40 + "\n", "80 bytes long in UTF-8"),
])
def test_users_errors_exit_1_and_change_nothing(users_loaded, monkeypatch, capsys, argv,
                                                stdin_text, message):
    _, users_path = users_loaded

    def state():
        return stored_users(), users_path.read_bytes() if users_path.exists() else None

    stdin(monkeypatch, "password-1\n")
    assert main(["users", "add", "anna", "--role", "viewer"]) == 0
    before = state()
    capsys.readouterr()
    stdin(monkeypatch, stdin_text)
    assert main(argv) == 1
    assert message in capsys.readouterr().err
    assert state() == before


def test_a_72_byte_password_is_taken_whole(users_env, monkeypatch):
    password = "ż" * 36  # 72 bytes in UTF-8
    stdin(monkeypatch, password + "\n")
    assert main(["users", "add", "anna", "--role", "viewer"]) == 0
    assert check_password(password, stored_users()["anna"].password_hash)
    assert not check_password("ż" * 35 + "z", stored_users()["anna"].password_hash)


def test_users_set_says_when_sessions_end(users_loaded, monkeypatch, capsys):
    stdin(monkeypatch, "password-1\n")
    assert main(["users", "add", "anna", "--role", "viewer"]) == 0
    added = stored_users()["anna"].sessions_valid_from
    capsys.readouterr()
    assert main(["users", "set", "anna", "--name", "Anna N."]) == 0
    assert stored_users()["anna"].sessions_valid_from == added
    assert "signed out" not in capsys.readouterr().out
    assert main(["users", "set", "anna", "--role", "refunder"]) == 0
    assert stored_users()["anna"].sessions_valid_from > added
    assert "anna is signed out everywhere" in capsys.readouterr().out


def test_unknown_role_is_a_usage_error(users_env, monkeypatch, capsys):
    stdin(monkeypatch, "password-1\n")
    with pytest.raises(SystemExit) as info:
        main(["users", "add", "anna", "--role", "superuser"])
    assert info.value.code == 2
    assert "invalid choice: 'superuser'" in capsys.readouterr().err
    assert not users_env[1].exists()  # nothing written: no users file,
    if users_in_database(users_env[0]):
        assert stored_users() == {}  # and no row


def test_users_import_moves_a_users_file_where_users_live(users_env, tmp_path, monkeypatch,
                                                          capsys):
    """An admin switching to PostgreSQL moves the users file into the database (on DuckDB the
    same command merges another users file into ORDERDESK_USERS)."""
    stdin(monkeypatch, "password-1\n")
    assert main(["users", "add", "zoe", "--role", "admin"]) == 0
    old_file = tmp_path / "old" / "users.yaml"
    monkeypatch.setenv("ORDERDESK_USERS", str(old_file))
    for username, args in (("anna", ["--role", "viewer", "--legal-entity", "LE1"]),
                           ("bob", ["--role", "refunder", "--store", "S2"])):
        stdin(monkeypatch, f"{username}-password\n")
        # the scope is not checked here: the old file is written beside no database
        monkeypatch.setenv("ORDERDESK_DB", str(tmp_path / "old" / "none.duckdb"))
        assert main(["users", "add", username, *args]) == 0
    file_users = load_users(old_file)
    monkeypatch.setenv("ORDERDESK_DB", str(users_env[0]))
    monkeypatch.setenv("ORDERDESK_USERS", str(users_env[1]))
    capsys.readouterr()
    assert main(["users", "import", str(old_file)]) == 0
    assert "Imported 2 users from" in capsys.readouterr().out
    users = stored_users()
    assert sorted(users) == ["anna", "bob", "zoe"]
    for username in ("anna", "bob"):
        assert users[username] == file_users[username]  # hash, scope and sign-out time kept
        assert check_password(f"{username}-password", users[username].password_hash)
    # again: both are there already, so nothing is added
    assert main(["users", "import", str(old_file)]) == 1
    assert "Already there: anna, bob" in capsys.readouterr().err
    assert stored_users() == users


def test_list_without_a_users_file_says_so(env, capsys):
    assert main(["users", "list"]) == 1
    assert "does not exist" in capsys.readouterr().err


# --- import --------------------------------------------------------------------------------------

@pytest.mark.parametrize("pace", [[], ["--pace", "0.5"]], ids=["full speed", "paced"])
def test_import_prints_what_it_added(loaded_db, tmp_path, capsys, pace):
    db, _ = loaded_db
    items = write_csv(tmp_path / "items.csv", [
        ["order_id", "line_no", "name", "quantity", "unit_price"], ["2", "1", "Cap", "1", "50.00"]])
    orders = write_csv(tmp_path / "sync.csv", [ORDERS[0], ORDERS[1],
                                               ORDERS[2][:4] + ["Cancel"] + ORDERS[2][5:]])
    capsys.readouterr()
    assert main(["import", "--orders", str(orders), "--items", str(items), *pace]) == 0
    out = capsys.readouterr().out
    assert "Imported sync.csv, items.csv:" in out
    assert "orders               0 added          1 updated          1 unchanged" in out
    assert "order_items          1 added" in out
    assert "order_events         1 added (0 refunds, 1 cancel)" in out


def test_import_with_bad_rows_lists_each_and_exits_1(loaded_db, tmp_path, capsys):
    db, _ = loaded_db
    before = snapshot(db)
    orders = write_csv(tmp_path / "orders.csv", [
        ORDERS[0],
        ["7", "2024-03-01", "", "12.345", "Completed", "online", "", "", "S1", "", "", ""],
        ["8", "2024-03-01", "", "10", "Pending", "offline", "", "", "S3", "", "", ""],
    ])
    capsys.readouterr()
    assert main(["import", "--orders", str(orders)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "Import refused: 3 problems in 2 rows; nothing was written.",
        "  orders.csv, row 1, amount: has 3 decimal places (12.345)",
        "  orders.csv, row 2, status: an offline order is never Pending",
        "  orders.csv, row 2, store_id: unknown store S3 (not in the stores file nor in the database)",
    ]
    assert snapshot(db) == before


@pytest.mark.parametrize("share", ["0", "0.01", "1.5", "half", "nan"])
def test_import_at_a_pace_outside_0_05_to_1_is_a_usage_error(loaded_db, tmp_path, capsys, share):
    db, _ = loaded_db
    before = snapshot(db)
    orders = write_csv(tmp_path / "orders.csv", [ORDERS[0], ORDERS[1]])
    with pytest.raises(SystemExit) as exit_:
        main(["import", "--orders", str(orders), "--pace", share])
    assert exit_.value.code == 2
    assert f"argument --pace: {share!r} is not a share of the time from 0.05 to 1 (e.g. 0.5)" in \
        capsys.readouterr().err
    assert snapshot(db) == before


def test_import_without_files_is_an_error(db_env, capsys):
    assert main(["import"]) == 1
    assert "Give at least one file" in capsys.readouterr().err


# --- the database held by another process (the app) ---------------------------------------------

def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=REPO, env=os.environ.copy(),
                          capture_output=True, text=True, timeout=60)


def test_while_the_app_holds_the_database_import_and_demo_exit_2_and_change_nothing(
        loaded, tmp_path, monkeypatch, capsys):
    db, users_path = loaded
    before = snapshot(db)
    orders = write_csv(tmp_path / "more.csv", [
        ORDERS[0], ["9", "2024-03-01", "", "10", "Completed", "online", "", "", "S1", "", "", ""]])
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb,sys,time; c=duckdb.connect(sys.argv[1]); print('ready',flush=True); "
         "time.sleep(30)", str(db)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"

        result = run_cli("import", "--orders", str(orders))
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip() == (
            f"The database {db} is in use by another process (is orderdesk running?). "
            "Stop it and try again; nothing was changed.")

        capsys.readouterr()
        assert main(["demo", "--orders", "100"]) == 2
        assert "is in use by another process" in capsys.readouterr().err
        assert not users_path.exists()  # the demo users were not written either

        # users live in their own file: saved, with a warning that the scope was not checked
        stdin(monkeypatch, "password-1\n")
        assert main(["users", "add", "anna", "--role", "viewer", "--legal-entity", "LE1"]) == 0
        err = capsys.readouterr().err
        assert "in use" in err and "not checked" in err
        assert load_users(users_path)["anna"].legal_entities == ("LE1",)
    finally:
        holder.kill()
        holder.wait()
    assert snapshot(db) == before


# --- demo ----------------------------------------------------------------------------------------

def test_demo_builds_the_database_and_demo_users(db_env, capsys):
    pytest.importorskip("core.demo")
    db, users_path = db_env
    assert main(["demo", "--orders", "300", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert f"Demo database {display_target(db)} (seed 3): 300 orders" in out
    assert "orderdesk-test" not in out  # a URL is shown without its password
    where = f"the database {display_target(db)}" if users_in_database(db) else users_path
    assert f"Demo users in {where}" in out
    assert {u.role for u in stored_users().values()} == {"viewer", "refunder", "admin"}
    with open_database(db, read_only=True) as database, database.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM orders").fetchone()[0] == 300


def test_a_second_demo_replaces_the_first(db_env, capsys):
    db, _ = db_env
    assert main(["demo", "--orders", "300", "--seed", "3"]) == 0
    first = snapshot(db)
    assert main(["demo", "--orders", "200", "--seed", "4"]) == 0
    assert main(["demo", "--orders", "300", "--seed", "3"]) == 0
    again = snapshot(db)
    # The same seed gives the same rows (the events' times are the build's).
    assert {t: len(rows) for t, rows in again.items()} == {t: len(rows) for t, rows in first.items()}
    assert again["orders"] == first["orders"] and again["order_items"] == first["order_items"]


# --- PostgreSQL: the app serving meanwhile -------------------------------------------------------

HOLDER = """
import sys, time
from core.db import open_database
database = open_database(sys.argv[1])
with database.snapshot() as cur:
    before = cur.execute("SELECT count(*) FROM orders").fetchone()[0]
    print("ready", flush=True)
    sys.stdin.readline()
    during = cur.execute("SELECT count(*) FROM orders").fetchone()[0]  # its snapshot's
with database.cursor() as cur:
    after = cur.execute("SELECT count(*) FROM orders").fetchone()[0]
print(before, during, after, flush=True)
"""


@pytest.mark.parametrize("backend", ["postgresql"])
def test_on_postgresql_an_import_runs_while_another_process_reads(loaded_db, tmp_path, backend):
    db, _ = loaded_db
    orders = write_csv(tmp_path / "more.csv", [
        ORDERS[0], ["9", "2024-03-01", "", "10", "Completed", "online", "", "", "S1", "", "", ""]])
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(db)], cwd=REPO,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        result = run_cli("import", "--orders", str(orders))
        assert result.returncode == 0, result.stderr
        assert "orders               1 added" in result.stdout
        out, _ = holder.communicate("go\n", timeout=60)
    finally:
        holder.kill()
        holder.wait()
    # The reader's snapshot kept its moment; its next read (a Refresh) sees the import.
    assert out.split() == ["2", "2", "3"]


# --- a user's language ----------------------------------------------------------------------------

def test_users_language_is_set_listed_kept_and_checked(users_env, monkeypatch, capsys):
    stdin(monkeypatch, "password-1\n")
    assert main(["users", "add", "ola", "--role", "viewer", "--language", "pl"]) == 0
    stdin(monkeypatch, "password-1\n")
    assert main(["users", "add", "ed", "--role", "admin"]) == 0
    assert {name: user.language for name, user in stored_users().items()} == {"ola": "pl",
                                                                              "ed": "en"}
    before = stored_users()["ola"].sessions_valid_from
    assert main(["users", "set", "ola", "--language", "ru"]) == 0
    ola = stored_users()["ola"]
    assert ola.language == "ru" and ola.sessions_valid_from == before  # no sign-out
    capsys.readouterr()
    assert main(["users", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["USERNAME", "NAME", "ROLE", "LANGUAGE", "SCOPE"]
    assert lines[1].split()[:4] == ["ed", "ed", "admin", "en"]
    assert lines[2].split()[:4] == ["ola", "ola", "viewer", "ru"]
    with pytest.raises(SystemExit) as refused:
        main(["users", "set", "ola", "--language", "de"])
    assert refused.value.code == 2
    assert "Unknown language 'de': choose one of en, pl, ro, ru." in capsys.readouterr().err
    assert stored_users()["ola"].language == "ru"
