"""Page tests: the real app.py through the real sign-in form, on a sample database."""
from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from core.db import open_database
from core.db.postgres.users import DatabaseUsers
from core.user_store import users_in_database
from core.users import User, edit_users, hash_password, load_users, save_users
from tests.backends import BACKENDS, new_target
from tests.sample_data import sample_database

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PASSWORDS = {"admin": "admin-pass-1", "viewer": "viewer-pass-1", "refunder": "refunder-pass-1"}
# A fixed random key (this module is imported twice: by pytest and by the tests); the app
# refuses a made-up key such as 'k' * 40.
COOKIE_KEY = "knsrCs_11sqnGrLSsSvuC_Ezihvy568ge0Q01frkLDkervQLMY4OILoSfDthadSi"


def target_of(root: Path) -> str:
    """The database (a DuckDB file's path or a PostgreSQL URL) of a page test's folder."""
    return (root / "target").read_text()


def users_into_database(target: str, users_file: Path) -> None:
    """On PostgreSQL the app reads its users from the database: the users file's users go there."""
    if not users_in_database(target):
        return
    with open_database(target) as database:
        DatabaseUsers(database).replace_all(load_users(users_file).values())


@contextlib.contextmanager
def edit_test_users(folder: Path):
    """Edit the users of a test's folder as ``core.users.edit_users`` does; on PostgreSQL the
    database's users are then replaced by the edited ones, as a ``users`` command would."""
    with edit_users(folder / "users.yaml") as users:
        yield users
    users_into_database(target_of(folder), folder / "users.yaml")


def private_database(page_data, folder: Path, request) -> str:
    """A private database of the page test's backend with the same sample: a copy of the DuckDB
    file, or a new PostgreSQL database loaded with it (the sample is the same every time)."""
    root, _sample = page_data
    if request.node.callspec.params.get("page_data", BACKENDS[0]) == "duckdb":
        shutil.copy(root / "orders.duckdb", folder / "orders.duckdb")
        target = str(folder / "orders.duckdb")
    else:
        database, _ = sample_database(new_target(
            "postgresql", folder, request.getfixturevalue("postgres_cluster")))
        target = database.url
        database.close()
        users_into_database(target, root / "users.yaml")
    (folder / "target").write_text(target)
    return target


@pytest.fixture(scope="session", params=BACKENDS)
def page_data(request, tmp_path_factory):
    """A sample database and users file shared by the page tests (they only read), on each
    backend."""
    root = tmp_path_factory.mktemp("app")
    cluster = (request.getfixturevalue("postgres_cluster") if request.param == "postgresql"
               else None)
    target = root / "orders.duckdb" if cluster is None else new_target("postgresql", root, cluster)
    database, sample = sample_database(target)
    database.close()
    (root / "target").write_text(str(target))
    save_users(
        root / "users.yaml",
        {
            "admin": User("admin", "Ada Admin", "ada@example.com",
                          hash_password(PASSWORDS["admin"]), "admin"),
            "viewer": User("viewer", "Vera Viewer", "vera@example.com",
                           hash_password(PASSWORDS["viewer"]), "viewer",
                           legal_entities=("Alpha SRL",), stores=("S02",)),
            "refunder": User("refunder", "Rafa Refunder", "rafa@example.com",
                             hash_password(PASSWORDS["refunder"]), "refunder",
                             legal_entities=("Beta Sp. z o.o.",)),
        },
    )
    users_into_database(str(target), root / "users.yaml")
    return root, sample



@pytest.fixture(autouse=True)
def fresh_throttle():
    """Failed sign-ins are counted per server process: each test starts with none."""
    from ui.signin import get_throttle

    get_throttle.clear()
    yield
    get_throttle.clear()


@pytest.fixture
def app_env(page_data, monkeypatch):
    root, sample = page_data
    use_settings(monkeypatch, target_of(root), root / "users.yaml")
    st.cache_data.clear()
    yield root, sample


@pytest.fixture
def writable(page_data, tmp_path, monkeypatch, request):
    """A private copy of the sample database and users file, opened afresh by the app."""
    root, sample = page_data
    shutil.copy(root / "users.yaml", tmp_path / "users.yaml")
    use_settings(monkeypatch, private_database(page_data, tmp_path, request),
                 tmp_path / "users.yaml")
    st.cache_data.clear()
    st.cache_resource.clear()
    yield tmp_path, sample
    st.cache_resource.clear()  # later tests must not keep this copy as "the" store
    st.cache_data.clear()


def use_settings(monkeypatch, database: str, users: Path) -> None:
    """The app's settings for a page test: this database and users file, the tests' cookie key
    and display zone."""
    monkeypatch.setenv("ORDERDESK_DB", str(database))
    monkeypatch.setenv("ORDERDESK_USERS", str(users))
    monkeypatch.setenv("ORDERDESK_COOKIE_KEY", COOKIE_KEY)
    monkeypatch.setenv("ORDERDESK_TZ", "Europe/Warsaw")


def new_app(query_params: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    for key, value in (query_params or {}).items():
        at.query_params[key] = value
    return at


def sign_in(at: AppTest, username: str, password: str | None = None) -> AppTest:
    at.run()
    inputs = {t.label: t for t in at.text_input}
    inputs["Username"].input(username)
    inputs["Password"].input(PASSWORDS.get(username, "") if password is None else password)
    next(b for b in at.button if b.label == "Login").click()
    at.run()
    if at.session_state["authentication_status"]:
        # In the browser the sign-in cookie component's answer reruns the script; AppTest has
        # no browser, so rerun by hand.
        at.run()
    return at
