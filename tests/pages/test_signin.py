"""Signing in and out through the real form (AppTest): the throttle, equal answers and timing for
unknown usernames, the audit log, sessions ended by a change elsewhere, cookies that must not sign
in, an unreadable users file (an unreachable database), and the cookie's Secure and SameSite flags.

On both backends: beside a DuckDB file the users live in the users file and the throttle in the
server process; on PostgreSQL both live in the database (``core.user_store``)."""
from __future__ import annotations

import io
import logging
import statistics
import sys
import time
from datetime import datetime, timedelta

import jwt
import pytest
import streamlit as st
from extra_streamlit_components import CookieManager
from streamlit.runtime.context import ContextProxy

from core import signin
from core.cli import main
from core.db.opening import open_database
from core.db.postgres.users import DatabaseUsers
from core.users import load_users
from tests.pages.conftest import COOKIE_KEY, PASSWORDS, new_app, sign_in, use_settings

WRONG = "Username or password is incorrect."
THROTTLED = "Too many attempts, try again in 15 minutes."
SIGNED_OUT = "You have been signed out."


def errors(at) -> list[str]:
    return [e.value for e in at.error]


def signed_in(at) -> bool:
    return any(b.label == "Logout" for b in at.sidebar.button)


def every_text(at) -> str:
    """Everything the visitor's page holds, as one string."""
    parts = []

    def walk(node) -> None:
        for attr in ("value", "label", "body", "proto"):
            value = getattr(node, attr, None)
            if value is not None:
                parts.append(str(value))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(parts)


@pytest.fixture
def on_postgres(page_data, database_target, tmp_path, monkeypatch):
    """The app on a new PostgreSQL database holding the page tests' users (and no orders: signing
    in and out needs none); the users file named by ORDERDESK_USERS does not exist."""
    root, sample = page_data
    with open_database(database_target) as database:
        DatabaseUsers(database).replace_all(load_users(root / "users.yaml").values())
    use_settings(monkeypatch, database_target, tmp_path / "no-such-users.yaml")
    st.cache_data.clear()
    st.cache_resource.clear()
    yield tmp_path, sample
    _close_the_apps_database()


def _close_the_apps_database() -> None:
    from ui.context import get_database

    get_database().close()  # the app's pool (its threads and connections) ends with the test
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture
def backend(page_data, request) -> str:
    """The backend of the page tests' sample (``page_data``'s parameter): the sign-in tests run
    once per backend, on the users file or on the database."""
    return request.node.callspec.params["page_data"]


@pytest.fixture
def signin_app(backend, request):
    """The app on the test's backend, for tests that change no user (DuckDB: ``app_env``), with
    a throttle that has counted no failure yet (the process keeps one across tests)."""
    from ui.signin import get_throttle

    get_throttle.clear()
    return request.getfixturevalue("app_env" if backend == "duckdb" else "on_postgres")


@pytest.fixture
def signin_writable(backend, request):
    """The app on the test's backend, with users a test may change (DuckDB: ``writable``)."""
    return request.getfixturevalue("writable" if backend == "duckdb" else "on_postgres")


# --- throttling ----------------------------------------------------------------------------------

def test_five_wrong_passwords_then_the_right_one_is_refused(signin_app, monkeypatch):
    at = new_app()
    for _ in range(5):
        sign_in(at, "viewer", "wrong-password")
        assert errors(at) == [WRONG]
    checks = []
    monkeypatch.setattr(signin, "check_password", lambda *a: checks.append(a) or True)
    sign_in(at, "viewer", PASSWORDS["viewer"])
    assert errors(at) == [THROTTLED]
    assert not signed_in(at) and not at.session_state["authentication_status"]
    assert checks == []  # not even a bcrypt check is spent while throttled


def test_an_unknown_username_gets_the_identical_messages(signin_app):
    known, unknown = new_app(), new_app()
    for _ in range(6):
        sign_in(known, "viewer", "wrong-password")
        sign_in(unknown, "nosuchuser", "wrong-password")
        assert errors(unknown) == errors(known)
    assert errors(unknown) == [THROTTLED]


def test_other_users_can_still_sign_in_while_one_is_throttled(signin_app):
    at = new_app()
    for _ in range(5):
        sign_in(at, "viewer", "wrong-password")
    other = sign_in(new_app(), "admin")
    assert signed_in(other)


def test_an_unknown_username_takes_as_long_as_a_wrong_password(signin_app):
    """The work behind one click on Login, known user or not (median of 7 each).

    Counted in this process's CPU time: the wall-clock time an attacker sees follows it, and
    other programs busy on the same machine do not blur it."""
    from ui.signin import get_throttle

    def click_seconds(username: str) -> float:
        at = new_app()
        at.run()
        inputs = {t.label: t for t in at.text_input}
        inputs["Username"].input(username)
        inputs["Password"].input("wrong-password")
        next(b for b in at.button if b.label == "Login").click()
        start = time.process_time()
        at.run()
        elapsed = time.process_time() - start
        assert errors(at) == [WRONG]
        get_throttle().clear()  # the process's failures, or the database's
        return elapsed

    click_seconds("admin")  # warm-up: the dummy hash is made once per process
    click_seconds("nosuchuser")
    known, unknown = [], []
    for _ in range(7):  # interleaved, so a busy moment of the machine falls on both
        known.append(click_seconds("admin"))
        unknown.append(click_seconds("nosuchuser"))
    known, unknown = statistics.median(known), statistics.median(unknown)
    assert known > 0.1  # a bcrypt check is in both
    assert abs(known - unknown) / known < 0.3, (known, unknown)


# --- the audit log -------------------------------------------------------------------------------

def test_every_sign_in_is_logged_without_the_password(signin_app, caplog):
    with caplog.at_level(logging.INFO, logger="orderdesk"):
        sign_in(new_app(), "viewer", "wrong-password")
        sign_in(new_app(), "nosuchuser", "other-wrong-password")
        at = sign_in(new_app(), "viewer")
        next(b for b in at.sidebar.button if b.label == "Logout").click()
        at.run()
    lines = [r.getMessage() for r in caplog.records if r.name == "orderdesk"]
    events = [line.split(" client=")[0] for line in lines if line.startswith("sign-in")]
    assert events == [
        "sign-in failed: user='viewer'",
        "sign-in failed: user='nosuchuser'",
        "sign-in succeeded: user='viewer'",
        "sign-in signed out: user='viewer'",
    ]
    assert all(" client=local at=20" in line for line in lines if line.startswith("sign-in"))
    everything = caplog.text
    for password in ("wrong-password", "other-wrong-password", PASSWORDS["viewer"]):
        assert password not in everything


def test_behind_a_trusted_proxy_the_log_names_the_forwarded_client(signin_app, monkeypatch,
                                                                   caplog):
    monkeypatch.setenv("ORDERDESK_TRUSTED_PROXY", "1")
    st.cache_resource.clear()  # the settings are read once per process
    monkeypatch.setattr(ContextProxy, "headers", property(
        lambda self: {"X-Forwarded-For": "10.9.9.9, 203.0.113.77"}))
    try:
        with caplog.at_level(logging.INFO, logger="orderdesk"):
            sign_in(new_app(), "viewer", "wrong-password")
    finally:
        st.cache_resource.clear()
    assert "sign-in failed: user='viewer' client=203.0.113.77 at=" in caplog.text


# --- revocation: an open session ends on its next action -----------------------------------------

def _cli(monkeypatch, argv: list[str], stdin_text: str = "") -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin_text))
    assert main(argv) == 0


@pytest.mark.parametrize("argv,stdin_text", [
    (["users", "set", "viewer", "--password"], "a-new-password-1\n"),
    (["users", "set", "viewer", "--role", "refunder"], ""),
    (["users", "set", "viewer", "--clear-scope"], ""),
    (["users", "remove", "viewer"], ""),
], ids=["password", "role", "scope", "removed"])
def test_an_open_session_ends_after_a_change_from_the_command_line(signin_writable, monkeypatch,
                                                                   argv, stdin_text):
    at = sign_in(new_app(), "viewer")
    assert signed_in(at)
    untouched = sign_in(new_app(), "admin")
    _cli(monkeypatch, argv, stdin_text)
    at.run()
    assert [i.value for i in at.info] == [SIGNED_OUT]
    assert not signed_in(at) and not at.dataframe
    at.run()
    assert any(t.label == "Password" for t in at.text_input)  # the form again
    untouched.run()
    assert signed_in(untouched)  # another user's session goes on


def test_after_a_password_change_the_new_password_signs_in(signin_writable, monkeypatch):
    at = sign_in(new_app(), "viewer")
    _cli(monkeypatch, ["users", "set", "viewer", "--password"], "a-new-password-1\n")
    at.run()
    assert not signed_in(at)
    assert errors(sign_in(new_app(), "viewer")) == [WRONG]
    assert signed_in(sign_in(new_app(), "viewer", "a-new-password-1"))


def test_signing_out_ends_the_users_other_sessions(signin_writable):
    first, second = sign_in(new_app(), "viewer"), sign_in(new_app(), "viewer")
    other_user = sign_in(new_app(), "admin")
    next(b for b in second.sidebar.button if b.label == "Logout").click()
    second.run()
    assert [i.value for i in second.info] == [SIGNED_OUT]
    first.run()
    assert [i.value for i in first.info] == [SIGNED_OUT] and not signed_in(first)
    other_user.run()
    assert signed_in(other_user)
    # Signing in again afterwards works, and ends nothing else.
    assert signed_in(sign_in(second, "viewer"))
    second.run()
    assert signed_in(second)


# --- cookies that must not sign in ---------------------------------------------------------------

@pytest.fixture
def browser_cookie(monkeypatch):
    """What the browser sends as the sign-in cookie (AppTest has no browser to carry one)."""
    jar: dict[str, str] = {}
    monkeypatch.setattr(ContextProxy, "cookies", property(lambda self: dict(jar)))
    return jar


def _token(username: str, key: str = COOKIE_KEY, issued: datetime | None = None) -> str:
    issued = issued or datetime.now()
    return jwt.encode({"username": username, "exp_date": (issued + timedelta(hours=12)).timestamp()},
                      key, algorithm="HS256")


def test_a_good_cookie_signs_in(signin_writable, browser_cookie):
    browser_cookie["orderdesk_session"] = _token("viewer")
    at = new_app()
    at.run()
    at.run()
    assert signed_in(at)


@pytest.mark.parametrize("token", [
    _token("zed"),  # not (or no longer) a user
    _token("viewer", key="another-key-" + COOKIE_KEY),
    jwt.encode({"username": "viewer"}, COOKIE_KEY, algorithm="HS256"),  # no expiry
    _token("viewer", issued=datetime.now() - timedelta(hours=13)),  # expired
    "garbage",
], ids=["unknown user", "wrong key", "no expiry", "expired", "garbage"])
def test_a_bad_cookie_shows_the_sign_in_form(signin_writable, browser_cookie, token):
    browser_cookie["orderdesk_session"] = token
    at = new_app()
    at.run()
    at.run()
    assert not at.exception
    assert not signed_in(at)
    assert any(t.label == "Password" for t in at.text_input)


def test_a_cookie_issued_before_signing_out_no_longer_signs_in(signin_writable, browser_cookie):
    copied = _token("viewer")
    at = sign_in(new_app(), "viewer")
    next(b for b in at.sidebar.button if b.label == "Logout").click()
    at.run()
    browser_cookie["orderdesk_session"] = copied
    thief = new_app()
    thief.run()
    thief.run()
    assert not signed_in(thief)


# --- the cookie's flags --------------------------------------------------------------------------

@pytest.mark.parametrize("setting,headers,secure", [
    ("1", {}, True),
    ("auto", {}, False),
    ("auto", {"X-Forwarded-Proto": "https"}, True),  # the reverse proxy terminates HTTPS
    ("0", {"X-Forwarded-Proto": "https"}, False),
])
def test_the_cookie_is_secure_when_configured_and_always_same_site_strict(
        signin_app, monkeypatch, setting, headers, secure):
    monkeypatch.setenv("ORDERDESK_COOKIE_SECURE", setting)
    monkeypatch.setattr(ContextProxy, "headers", property(lambda self: dict(headers)))
    st.cache_resource.clear()  # the settings are read once per process
    written = []
    original = CookieManager.set

    def record(self, cookie, val, *args, **kwargs):
        written.append((cookie, kwargs))
        return original(self, cookie, val, *args, **kwargs)

    monkeypatch.setattr(CookieManager, "set", record)
    try:
        assert signed_in(sign_in(new_app(), "viewer"))
    finally:
        st.cache_resource.clear()
    ((name, options),) = written
    assert name == "orderdesk_session"
    assert options["secure"] is secure and options["same_site"] == "strict"


# --- an unreadable users file --------------------------------------------------------------------

BROKEN_USERS = """\
credentials:
  usernames:
    secretanna:
      name: Anna Secretname
      email: anna.secret@example.com
      password: $2b$12$abcdefghijklmnopqrstuvABCDEFGHIJKLMNOPQRSTUVWXYZ01234
      roles: [viewer
    bob: {
"""


@pytest.mark.parametrize("page_data", ["duckdb"], indirect=True)  # the users file: DuckDB's mode
def test_a_broken_users_file_shows_a_generic_line_and_logs_the_details(writable, caplog):
    users_path = writable[0] / "users.yaml"
    users_path.write_text(BROKEN_USERS)
    with caplog.at_level(logging.INFO, logger="orderdesk"):
        at = new_app()
        at.run()
    assert errors(at) == [
        "Sign-in is unavailable: the users file cannot be read. The administrator has been told."
    ]
    shown = every_text(at)
    for secret in (str(users_path), "users.yaml", "$2b$", "secretanna", "Secretname",
                   "anna.secret", "roles"):
        assert secret not in shown
    assert str(users_path) in caplog.text  # the operator learns which file and why


def test_logout_still_signs_out_when_the_users_cannot_be_written(signin_writable, backend,
                                                                monkeypatch, caplog):
    import core.users
    from core.errors import DataUnavailable

    def read_only(*args):
        if backend == "duckdb":
            raise PermissionError("read-only file system")
        raise DataUnavailable("The database could not be read or written: read-only")

    at = sign_in(new_app(), "viewer")
    if backend == "duckdb":
        monkeypatch.setattr(core.users, "end_sessions", read_only)
    else:
        monkeypatch.setattr(DatabaseUsers, "end_sessions", read_only)
    with caplog.at_level(logging.INFO, logger="orderdesk"):
        next(b for b in at.sidebar.button if b.label == "Logout").click()
        at.run()
    assert not at.exception
    assert [i.value for i in at.info] == [SIGNED_OUT]
    assert "the sign-out of 'viewer' was not recorded" in caplog.text


def test_an_unreachable_database_shows_a_generic_line_and_logs_the_details(
        page_data, tmp_path, monkeypatch, caplog):
    """The server mode's users are in the database: when it cannot be reached, visitors see
    neither its address nor its user, the log names both (never the password)."""
    import core.db.postgres.connection as connection
    from scripts.pgcluster import free_port

    url = f"postgresql://secretuser:secretpass@127.0.0.1:{free_port()}/secretdb"
    monkeypatch.setattr(connection, "POOL_TIMEOUT", 1)
    monkeypatch.setenv("ORDERDESK_DB", url)
    monkeypatch.setenv("ORDERDESK_USERS", str(tmp_path / "users.yaml"))
    monkeypatch.setenv("ORDERDESK_COOKIE_KEY", COOKIE_KEY)
    st.cache_resource.clear()
    try:
        with caplog.at_level(logging.INFO, logger="orderdesk"):
            at = new_app()
            at.run()
    finally:
        st.cache_resource.clear()
    assert errors(at) == [
        "Sign-in is unavailable: the database cannot be reached. The administrator has been told."
    ]
    shown = every_text(at)
    for secret in ("secretuser", "secretpass", "secretdb", "127.0.0.1"):
        assert secret not in shown
    assert "secretdb" in caplog.text and "secretpass" not in caplog.text


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_database_hiccup_keeps_the_session(on_postgres, monkeypatch):
    """On PostgreSQL a run that cannot read the users says so and ends; the session is kept and
    goes on once the database answers again (a sign-out would end every session at once)."""
    from core.errors import DataUnavailable

    at = sign_in(new_app(), "viewer")
    assert signed_in(at)

    def unreachable(self):
        raise DataUnavailable("The database could not be reached: connection refused")

    with monkeypatch.context() as patch:
        patch.setattr(DatabaseUsers, "load", unreachable)
        at.run()
        assert errors(at) == [
            "The database cannot be reached at the moment; please try again shortly."]
        assert not signed_in(at)
    at.run()
    assert signed_in(at)
    # (the Orders page's own reads on PostgreSQL are another test's matter)
    assert not [e for e in errors(at) if "cannot be reached" in e]
