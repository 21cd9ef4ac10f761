"""The sign-in rules without Streamlit: the throttle (with a clock of its own), the cookie
decision on real tokens made with PyJWT, the client address, the Secure flag, the cookie key,
the passwords a user could never sign in with, and the revocation time where the users live.

The throttle and the users' store run on both backends: the process's throttle and the users
file beside a DuckDB database, the database's tables on PostgreSQL (``core.user_store``)."""
from __future__ import annotations

import base64
import json
import logging
import secrets
import time
from datetime import datetime, timedelta, timezone

import bcrypt
import jwt
import pytest

from core import signin
from core.errors import InvalidInput
from core.settings import Settings, SettingsError, cookie_key_weakness
from core.db.opening import open_database
from core.user_store import open_throttle, open_users
from core.users import User, check_new_password, hash_password, load_users, save_users

KEY = secrets.token_urlsafe(48)
LIFETIME = timedelta(hours=12)
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def opened(database_target):
    """The test's database, opened on first use (a DuckDB file is never opened: its users and
    throttle need none), closed after the test."""
    databases = []

    def database():
        databases.append(open_database(database_target))
        return databases[-1]

    yield database
    for db in databases:
        db.close()


@pytest.fixture
def make_throttle(database_target, opened):
    """A throttle of the test's backend with the given clock."""
    return lambda clock: open_throttle(database_target, opened, clock=clock)


# --- the throttle --------------------------------------------------------------------------------

# (steps, expected wait in seconds after them, or None when the next attempt may go ahead)
# A step: ("fail", username, client) | ("ok", username) | ("wait", seconds)
THROTTLE_CASES = [
    ("four failures still allowed", [("fail", "anna", "1.1.1.1")] * 4, None),
    ("fifth failure blocks the username", [("fail", "anna", "1.1.1.1")] * 5, 900),
    ("the wait counts down", [("fail", "anna", "1.1.1.1")] * 5 + [("wait", 300)], 600),
    ("window over: allowed again", [("fail", "anna", "1.1.1.1")] * 5 + [("wait", 900)], None),
    ("failures spread over the window: the oldest drops out first",
     [("fail", "anna", "1.1.1.1"), ("wait", 600)] + [("fail", "anna", "1.1.1.1")] * 4, 300),
    ("a success clears the username", [("fail", "anna", "1.1.1.1")] * 4 + [("ok", "anna")]
     + [("fail", "anna", "1.1.1.1")] * 4, None),
    ("unknown usernames are counted the same", [("fail", "nosuchuser", "1.1.1.1")] * 5, 900),
    ("one address trying many usernames",
     [("fail", f"user{i}", "6.6.6.6") for i in range(20)], 900),
    ("many addresses at one username", [("fail", "anna", f"10.0.0.{i}") for i in range(5)], 900),
    ("the local machine (no address) is throttled by username only",
     [("fail", f"user{i}", None) for i in range(30)], None),
]


@pytest.mark.parametrize("steps,expected", [c[1:] for c in THROTTLE_CASES],
                         ids=[c[0] for c in THROTTLE_CASES])
def test_throttle(make_throttle, steps, expected):
    clock = Clock()
    throttle = make_throttle(clock)
    for step in steps:
        if step[0] == "fail":
            throttle.record_failure(step[1], step[2])
            clock.advance(1)
        elif step[0] == "ok":
            throttle.record_success(step[1])
        else:
            clock.advance(step[1])
    username, client = (steps[-1][1], steps[-1][2]) if steps[-1][0] == "fail" else ("anna",
                                                                                    "1.1.1.1")
    if steps[-1][0] == "fail" and steps[-1][1].startswith("user"):
        username = "somebody-else"  # the client is what is throttled, whatever name comes next
    wait = throttle.retry_after(username, client)
    if expected is None:
        assert wait is None
    else:
        assert wait == pytest.approx(expected, abs=30)


def test_throttle_by_client_leaves_other_clients_alone(make_throttle):
    throttle = make_throttle(Clock())
    for i in range(20):
        throttle.record_failure(f"user{i}", "6.6.6.6")
    assert throttle.retry_after("anna", "6.6.6.6") is not None
    assert throttle.retry_after("anna", "7.7.7.7") is None


def test_throttle_memory_is_bounded():
    throttle = signin.SignInThrottle(clock=Clock(), max_keys=100)
    for i in range(1000):
        throttle.record_failure(f"user{i}", f"10.0.{i // 256}.{i % 256}")
    assert len(throttle._failures) <= 100


@pytest.mark.parametrize("seconds,message", [
    (900, "Too many attempts, try again in 15 minutes."),
    (61, "Too many attempts, try again in 2 minutes."),
    (60, "Too many attempts, try again in 1 minute."),
    (5, "Too many attempts, try again in 1 minute."),
])
def test_throttle_message(seconds, message):
    assert signin.throttle_message(seconds) == message


# --- the password check --------------------------------------------------------------------------

def _user(username="anna", password="anna-pass-1", **fields) -> User:
    return User(username, username.title(), f"{username}@example.com",
                fields.pop("password_hash", None) or hash_password(password), "viewer", **fields)


def test_unknown_username_costs_as_much_as_a_wrong_password():
    users = {"anna": _user()}  # the default bcrypt cost, as in production
    assert signin.verify_password(users, "anna", "anna-pass-1")
    assert not signin.verify_password(users, "nosuchuser", "anna-pass-1")

    def seconds(username: str) -> float:
        start = time.perf_counter()
        assert not signin.verify_password(users, username, "wrong-password")
        return time.perf_counter() - start

    signin.verify_password(users, "warm-up", "x")
    # Interleaved, and the fastest of each: on a shared machine a burst of load slows single
    # runs, never speeds one up, so the minimum is each path's own cost.
    runs = [(seconds("anna"), seconds("nosuchuser")) for _ in range(7)]
    known, unknown = min(k for k, _ in runs), min(u for _, u in runs)
    assert known > 0.05  # a real bcrypt check was spent on both
    assert abs(known - unknown) / known < 0.3, (known, unknown)


def test_the_dummy_hash_has_the_cost_of_the_users_file():
    users = {"anna": _user(password_hash=bcrypt.hashpw(b"x", bcrypt.gensalt(5)).decode())}
    signin.verify_password(users, "nosuchuser", "x")
    assert signin.bcrypt_cost(signin._dummy_hash(5)) == 5
    assert signin.bcrypt_cost("$2b$12$abc") == 12


# --- the sign-in cookie --------------------------------------------------------------------------

def _token(claims: dict, key: str = KEY, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def _unsigned(claims: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def _expiry(issued: datetime) -> float:
    return (issued + LIFETIME).timestamp()


VALID_FROM = NOW - timedelta(hours=2)
USERS = {"anna": _user(sessions_valid_from=VALID_FROM), "bob": _user("bob")}

COOKIE_CASES = [
    ("fresh cookie", _token({"username": "anna", "exp_date": _expiry(NOW - timedelta(hours=1))}),
     "anna"),
    ("user without a revocation time", _token({"username": "bob", "exp_date": _expiry(NOW)}),
     "bob"),
    ("issued before the password / role / scope change or sign-out",
     _token({"username": "anna", "exp_date": _expiry(VALID_FROM - timedelta(seconds=1))}), None),
    ("user not in the users file", _token({"username": "zed", "exp_date": _expiry(NOW)}), None),
    ("expired", _token({"username": "bob", "exp_date": (NOW - timedelta(seconds=1)).timestamp()}),
     None),
    ("no expiry", _token({"username": "bob"}), None),
    ("expiry not a number", _token({"username": "bob", "exp_date": "tomorrow"}), None),
    ("expiry true", _token({"username": "bob", "exp_date": True}), None),
    ("expiry beyond a cookie's lifetime",
     _token({"username": "bob", "exp_date": (NOW + timedelta(days=365)).timestamp()}), None),
    ("username not a string", _token({"username": ["bob"], "exp_date": _expiry(NOW)}), None),
    ("signed with another key",
     _token({"username": "bob", "exp_date": _expiry(NOW)}, key=secrets.token_urlsafe(48)), None),
    ("alg none", _unsigned({"username": "bob", "exp_date": _expiry(NOW)}), None),
    ("HS512 with the right key", _token({"username": "bob", "exp_date": _expiry(NOW)},
                                        algorithm="HS512"), None),
    ("garbage", "not.a.token", None),
    ("not even dots", "%%%", None),
    ("empty", "", None),
    ("no cookie", None, None),
]


@pytest.mark.parametrize("token,expected", [c[1:] for c in COOKIE_CASES],
                         ids=[c[0] for c in COOKIE_CASES])
def test_cookie_username(token, expected):
    assert signin.cookie_username(token, KEY, USERS, NOW, LIFETIME) == expected


def test_a_session_signed_in_before_the_revocation_time_ends():
    anna = USERS["anna"]
    assert signin.session_still_valid(anna, VALID_FROM.timestamp() + 1)
    assert not signin.session_still_valid(anna, VALID_FROM.timestamp() - 1)
    assert not signin.session_still_valid(anna, None)
    assert signin.session_still_valid(USERS["bob"], None)


# --- the client address and the Secure flag ------------------------------------------------------

@pytest.mark.parametrize("ip,headers,trusted,expected", [
    ("203.0.113.5", {}, False, "203.0.113.5"),
    (None, {}, False, None),
    # Without a trusted proxy the header is whatever the client sent: ignored.
    ("203.0.113.5", {"X-Forwarded-For": "1.2.3.4"}, False, "203.0.113.5"),
    (None, {"X-Forwarded-For": "198.51.100.7"}, True, "198.51.100.7"),
    (None, {"x-forwarded-for": "198.51.100.7"}, True, "198.51.100.7"),
    # A client's own X-Forwarded-For comes first; the proxy appends what it saw.
    (None, {"X-Forwarded-For": "1.2.3.4, 198.51.100.7"}, True, "198.51.100.7"),
    (None, {"X-Forwarded-For": " "}, True, None),
    (None, {"X-Forwarded-For": "198.51.100.7 at=forged"}, True, "198.51.100.7?at?forged"),
])
def test_client_address(ip, headers, trusted, expected):
    assert signin.client_address(ip, headers, trusted_proxy=trusted) == expected


@pytest.mark.parametrize("setting,headers,expected", [
    ("auto", {"X-Forwarded-Proto": "https"}, True),
    ("auto", {"x-forwarded-proto": "HTTPS"}, True),
    ("auto", {"X-Forwarded-Proto": "http"}, False),
    ("auto", {}, False),
    ("1", {}, True),
    ("0", {"X-Forwarded-Proto": "https"}, False),
])
def test_cookie_secure(setting, headers, expected):
    assert signin.cookie_should_be_secure(setting, headers) is expected


@pytest.mark.parametrize("env,problem", [
    ({"ORDERDESK_COOKIE_SECURE": "yes"}, "ORDERDESK_COOKIE_SECURE='yes'"),
    ({"ORDERDESK_TRUSTED_PROXY": "true"}, "ORDERDESK_TRUSTED_PROXY='true'"),
])
def test_sign_in_settings_are_checked(env, problem):
    with pytest.raises(SettingsError, match=problem):
        Settings.from_env(env)


def test_sign_in_settings_defaults():
    settings = Settings.from_env({})
    assert (settings.cookie_secure, settings.trusted_proxy) == ("auto", False)
    settings = Settings.from_env({"ORDERDESK_COOKIE_SECURE": "1", "ORDERDESK_TRUSTED_PROXY": "1"})
    assert (settings.cookie_secure, settings.trusted_proxy) == ("1", True)


# --- the cookie key ------------------------------------------------------------------------------

@pytest.mark.parametrize("key,accepted", [
    (secrets.token_urlsafe(48), True),  # what scripts/serve.sh generates
    (secrets.token_urlsafe(24), True),
    (secrets.token_hex(32), True),
    ("kP3-vQ8_zR1xW7nL4mT9bY2cF6hJ0sD5", True),
    ("x" * 40, False),
    ("ab" * 20, False),
    ("changeme" * 4, False),
    ("0123456789" * 4, False),
    ("password1234" * 3, False),
    ("a" * 30 + "bcdefghijk", False),
    ("short-but-Random-9", False),
])
def test_cookie_key_variety(key, accepted):
    settings = Settings.from_env({"ORDERDESK_COOKIE_KEY": key})
    if accepted:
        assert cookie_key_weakness(key) is None
        assert settings.require_cookie_key() == key
    else:
        with pytest.raises(SettingsError, match="ORDERDESK_COOKIE_KEY") as info:
            settings.require_cookie_key()
        assert key not in str(info.value)  # the refusal never repeats the key


# --- passwords -----------------------------------------------------------------------------------

@pytest.mark.parametrize("password,message", [
    ("correct horse battery", None),
    ("ą" * 36, None),  # 72 bytes: all of it counts
    ("x" * 72, None),
    ("", "must not be empty"),
    (" leading-space", "starts or ends with a space"),
    ("trailing-space ", "starts or ends with a space"),
    ("\ttab-first", "starts or ends with a space"),
    ("x" * 73, "73 bytes long in UTF-8; bcrypt uses only the first 72"),
    ("ą" * 37, "74 bytes long in UTF-8"),
])
def test_new_passwords(password, message):
    if message is None:
        assert check_new_password(password) == password
        assert bcrypt.checkpw(password.encode(), hash_password(password).encode())
    else:
        with pytest.raises(InvalidInput, match=message):
            check_new_password(password)
        with pytest.raises(InvalidInput, match=message):
            hash_password(password)


# --- the revocation time where the users live ----------------------------------------------------

@pytest.fixture
def quick_bcrypt(monkeypatch):
    gensalt = bcrypt.gensalt
    monkeypatch.setattr(bcrypt, "gensalt", lambda rounds=4, prefix=b"2b": gensalt(4, prefix))


@pytest.fixture
def store(database_target, opened, tmp_path):
    """Where the users live on the test's backend: a users file, or the database's tables."""
    return open_users(tmp_path / "users.yaml", database_target, opened)


@pytest.mark.parametrize("changes,revokes", [
    ({"password_hash": "NEW"}, True),
    ({"role": "refunder"}, True),
    ({"legal_entities": ("LE2",)}, True),
    ({"stores": ("S9",)}, True),
    ({"role": "viewer"}, False),  # the same role again changes nothing
    ({"name": "Anna N."}, False),
    ({"email": "a@x.ro"}, False),
])
def test_what_ends_a_users_sessions(store, quick_bcrypt, changes, revokes):
    store.add(_user(legal_entities=("LE1",)))
    before = store.load()["anna"].sessions_valid_from
    assert before is not None  # a new user's sessions start from when they were added
    if changes.get("password_hash") == "NEW":
        changes = {"password_hash": hash_password("another-pass")}
    time.sleep(0.002)
    after = store.update("anna", **changes).sessions_valid_from
    assert store.load()["anna"].sessions_valid_from == after
    assert (after > before) is revokes


def test_signing_out_and_readding_end_old_sessions(store, quick_bcrypt):
    store.add(_user())
    first = store.load()["anna"].sessions_valid_from
    time.sleep(0.002)
    assert store.end_sessions("anna")
    second = store.load()["anna"].sessions_valid_from
    assert second > first
    store.remove("anna")
    assert not store.end_sessions("anna")
    time.sleep(0.002)
    store.add(_user())
    assert store.load()["anna"].sessions_valid_from > second


def test_what_is_stored_comes_back_the_same(store, quick_bcrypt):
    anna = _user(legal_entities=("LE1", "Zeta Sp. z o.o."), stores=("S1", "S'2"))
    bob = _user("bob", stores=())
    store.add(anna)
    store.add(bob)
    loaded = store.load()
    assert sorted(loaded) == ["anna", "bob"]
    assert loaded["anna"].legal_entities == ("LE1", "Zeta Sp. z o.o.")
    assert loaded["anna"].stores == ("S1", "S'2")
    assert (loaded["bob"].legal_entities, loaded["bob"].stores) == ((), ())
    assert loaded["anna"].password_hash == anna.password_hash
    assert loaded["anna"].sessions_valid_from.tzinfo is not None


@pytest.mark.parametrize("call,message", [
    (lambda store: store.add(_user()), "User 'anna' already exists"),
    (lambda store: store.update("zed", role="admin"), "There is no user 'zed'."),
    (lambda store: store.update("anna", role="boss"), "Unknown role 'boss'"),
    (lambda store: store.update("anna", email="nope"), "'nope' is not an e-mail address."),
    (lambda store: store.remove("zed"), "There is no user 'zed'."),
], ids=["exists", "no such user", "role", "e-mail", "remove unknown"])
def test_refused_changes_change_nothing(store, quick_bcrypt, call, message):
    store.add(_user())
    before = store.load()
    with pytest.raises(InvalidInput, match=message):
        call(store)
    assert store.load() == before


def test_import_adds_every_user_or_none(store, quick_bcrypt):
    store.add(_user("bob"))
    others = {"anna": _user(sessions_valid_from=VALID_FROM), "carl": _user("carl")}
    assert [u.username for u in store.add_many(others)] == ["anna", "carl"]
    assert store.load()["anna"].sessions_valid_from == VALID_FROM  # kept: nobody signed out
    with pytest.raises(InvalidInput, match="Already there: bob, carl"):
        store.add_many({"bob": _user("bob"), "carl": _user("carl"), "dora": _user("dora")})
    assert sorted(store.load()) == ["anna", "bob", "carl"]


def test_users_file_without_revocation_times_still_loads(tmp_path, quick_bcrypt):
    path = tmp_path / "users.yaml"
    save_users(path, {"anna": _user()})
    assert "sessions_valid_from" not in path.read_text()
    assert load_users(path)["anna"].sessions_valid_from is None


# --- the audit log -------------------------------------------------------------------------------

def test_audit_line_names_user_client_and_time_never_more(caplog):
    with caplog.at_level(logging.INFO, logger="orderdesk"):
        signin.audit("failed", "anna\nsign-in succeeded: user='admin'", "203.0.113.5", at=NOW)
    (record,) = caplog.records
    assert record.name == "orderdesk"
    message = record.getMessage()
    assert "\n" not in message  # a typed newline cannot start a forged line
    assert message == ("sign-in failed: user=\"anna\\nsign-in succeeded: user='admin'\" "
                       "client=203.0.113.5 at=2026-03-01T12:00:00+00:00")
