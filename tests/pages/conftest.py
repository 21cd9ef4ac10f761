"""Page tests: the real app.py through the real sign-in form, on a sample database."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from core.users import User, hash_password, save_users
from tests.sample_data import sample_database

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PASSWORDS = {"admin": "admin-pass-1", "viewer": "viewer-pass-1", "refunder": "refunder-pass-1"}
# A fixed random key (this module is imported twice: by pytest and by the tests); the app
# refuses a made-up key such as 'k' * 40.
COOKIE_KEY = "knsrCs_11sqnGrLSsSvuC_Ezihvy568ge0Q01frkLDkervQLMY4OILoSfDthadSi"


@pytest.fixture(scope="session")
def page_data(tmp_path_factory):
    """A sample database and users file shared by the page tests (they only read)."""
    root = tmp_path_factory.mktemp("app")
    database, sample = sample_database(root / "orders.duckdb")
    database.close()
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
    monkeypatch.setenv("ORDERDESK_DB", str(root / "orders.duckdb"))
    monkeypatch.setenv("ORDERDESK_USERS", str(root / "users.yaml"))
    monkeypatch.setenv("ORDERDESK_COOKIE_KEY", COOKIE_KEY)
    monkeypatch.setenv("ORDERDESK_TZ", "Europe/Warsaw")
    st.cache_data.clear()
    yield root, sample


@pytest.fixture
def writable(page_data, tmp_path, monkeypatch):
    """A private copy of the sample database and users file, opened afresh by the app."""
    root, sample = page_data
    for name in ("orders.duckdb", "users.yaml"):
        shutil.copy(root / name, tmp_path / name)
    monkeypatch.setenv("ORDERDESK_DB", str(tmp_path / "orders.duckdb"))
    monkeypatch.setenv("ORDERDESK_USERS", str(tmp_path / "users.yaml"))
    monkeypatch.setenv("ORDERDESK_COOKIE_KEY", COOKIE_KEY)
    monkeypatch.setenv("ORDERDESK_TZ", "Europe/Warsaw")
    st.cache_data.clear()
    st.cache_resource.clear()
    yield tmp_path, sample
    st.cache_resource.clear()  # later tests must not keep this copy as "the" store
    st.cache_data.clear()


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
