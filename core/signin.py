"""The rules of signing in, free of Streamlit: the throttle on failed attempts, the password check
that costs the same for unknown usernames, the decision whether a sign-in cookie is still good,
the client address, and the audit log lines.

The throttle lives in the server process (``SignInThrottle``) beside a DuckDB file, or in the
database in the server mode (``core.db.postgres.users.DatabaseThrottle``, the same limits);
everything else is a pure function of its arguments, so the app's sign-in layer only gathers
inputs and applies the answers.
"""
from __future__ import annotations

import functools
import logging
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone

import bcrypt
import jwt

from core.i18n import N_, Message
from core.users import User, check_password

log = logging.getLogger("orderdesk")

MAX_FAILURES_PER_USERNAME = 5
MAX_FAILURES_PER_CLIENT = 20
FAILURE_WINDOW = timedelta(minutes=15)
# Enough for every address and name an attacker can make up in one window; beyond it the oldest
# entries go first, so memory stays bounded.
MAX_TRACKED_KEYS = 50_000


class ThrottleLimits:
    """The limits of the sign-in throttle, shared by the process's (``SignInThrottle``) and the
    database's (``core.db.postgres.users.DatabaseThrottle``): a username is refused after
    ``max_failures`` failures in ``window``; a client address after ``max_client_failures``
    (higher: an office behind one address shares it). Times come from ``clock`` (Unix seconds).
    """

    def __init__(
        self,
        *,
        max_failures: int = MAX_FAILURES_PER_USERNAME,
        max_client_failures: int = MAX_FAILURES_PER_CLIENT,
        window: timedelta = FAILURE_WINDOW,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.max_failures = max_failures
        self.max_client_failures = max_client_failures
        self.window = window.total_seconds()
        self.clock = clock

    def _keys(self, username: str, client: str | None) -> list[tuple[tuple[str, str], int]]:
        keys = [(("user", username), self.max_failures)]
        if client:
            keys.append((("client", client), self.max_client_failures))
        return keys


class SignInThrottle(ThrottleLimits):
    """Failed sign-ins per username and per client address within a sliding window, kept in this
    object only: one server process (a DuckDB file's) counts alone."""

    def __init__(self, *, max_keys: int = MAX_TRACKED_KEYS, **limits) -> None:
        super().__init__(**limits)
        self.max_keys = max_keys
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        failures = self._failures.get(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            self._failures.pop(key, None)
        return failures

    def retry_after(self, username: str, client: str | None) -> float | None:
        """Seconds until this username and client may try again, or None when they may now."""
        now = self.clock()
        wait = 0.0
        with self._lock:
            for key, limit in self._keys(username, client):
                failures = self._recent(key, now)
                if len(failures) >= limit:
                    # The attempt that brings the count below the limit again drops out then.
                    wait = max(wait, failures[-limit] + self.window - now)
        return wait if wait > 0 else None

    def record_failure(self, username: str, client: str | None) -> None:
        now = self.clock()
        with self._lock:
            for key, _ in self._keys(username, client):
                failures = self._recent(key, now)
                failures.append(now)
                self._failures[key] = failures
            while len(self._failures) > self.max_keys:
                del self._failures[next(iter(self._failures))]

    def record_success(self, username: str) -> None:
        """A correct password clears the username's failures (not the client's: one account of
        their own must not let an attacker go on guessing others')."""
        with self._lock:
            self._failures.pop(("user", username), None)

    def clear(self) -> None:
        """Forget every failure."""
        with self._lock:
            self._failures.clear()


def throttle_message(seconds: float) -> str:
    """The same words for every username, known or not."""
    minutes = max(1, math.ceil(seconds / 60))
    if minutes == 1:
        return Message(N_("Too many attempts, try again in {minutes} minute."), minutes=minutes)
    return Message(N_("Too many attempts, try again in {minutes} minutes."), minutes=minutes)


# --- the password check ----------------------------------------------------------------------------

DEFAULT_BCRYPT_COST = 12


def bcrypt_cost(password_hash: str) -> int:
    """The cost of a ``$2b$12$...`` hash (the default cost when it cannot be read)."""
    try:
        return int(password_hash.split("$")[2])
    except (IndexError, ValueError):
        return DEFAULT_BCRYPT_COST


@functools.lru_cache(maxsize=8)
def _dummy_hash(cost: int) -> str:
    return bcrypt.hashpw(b"no such user", bcrypt.gensalt(cost)).decode()


def verify_password(users: Mapping[str, User], username: str, password: str) -> bool:
    """True when ``username`` exists and ``password`` is theirs.

    An unknown username is checked against a dummy hash of the cost the users file uses, so the
    answer takes as long either way and the time does not tell which usernames exist.
    """
    user = users.get(username)
    if user is not None:
        return check_password(password, user.password_hash)
    costs = [bcrypt_cost(u.password_hash) for u in users.values()]
    check_password(password, _dummy_hash(max(costs, default=DEFAULT_BCRYPT_COST)))
    return False


# --- the sign-in cookie ----------------------------------------------------------------------------


def cookie_username(
    token: str | None,
    key: str,
    users: Mapping[str, User],
    now: datetime,
    lifetime: timedelta,
) -> str | None:
    """Whose sign-in a cookie proves, or None.

    The cookie is streamlit-authenticator's JWT ``{"username", "exp_date"}`` signed with HS256 and
    the cookie key. It is refused when it does not verify with that key and algorithm (``alg:
    none`` included), has no usable expiry, has expired, claims an expiry further away than a cookie
    is given, names a user not in the users file, or was issued (its expiry minus the lifetime)
    before that user's ``sessions_valid_from`` — set by a password, role or scope change and by
    signing out.
    """
    if not token or not isinstance(token, str):
        return None
    try:
        claims = jwt.decode(token, key, algorithms=["HS256"])
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
    if not isinstance(claims, dict):
        return None
    username, expiry = claims.get("username"), claims.get("exp_date")
    if not isinstance(username, str) or isinstance(expiry, bool) \
            or not isinstance(expiry, (int, float)) or not math.isfinite(expiry):
        return None
    now_ts = now.timestamp()
    if expiry <= now_ts or expiry > now_ts + lifetime.total_seconds() + 60:
        return None
    user = users.get(username)
    if user is None:
        return None
    issued = expiry - lifetime.total_seconds()
    if user.sessions_valid_from is not None and issued < user.sessions_valid_from.timestamp():
        return None
    return username


def session_still_valid(user: User, signed_in_at: float | None) -> bool:
    """Whether a session that signed in at ``signed_in_at`` (a Unix time) may go on."""
    if user.sessions_valid_from is None:
        return True
    return signed_in_at is not None and signed_in_at >= user.sessions_valid_from.timestamp()


# --- the client and the secure cookie ------------------------------------------------------------


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value or ""
    return ""


def client_address(
    ip_address: str | None, headers: Mapping[str, str], *, trusted_proxy: bool
) -> str | None:
    """The address a sign-in came from (None: the local machine, as Streamlit reports it).

    X-Forwarded-For is read only when a trusted proxy is in front; then its last hop, the address
    that proxy itself saw: everything before it was sent by the client and can be made up.
    """
    if trusted_proxy:
        hops = [hop.strip() for hop in _header(headers, "X-Forwarded-For").split(",")]
        hops = [hop for hop in hops if hop]
        if hops:
            # Only what an address is made of, so a header cannot add words to a log line.
            return re.sub(r"[^0-9A-Za-z.:\[\]-]", "?", hops[-1][:64])
    return ip_address if isinstance(ip_address, str) and ip_address else None


def cookie_should_be_secure(setting: str, headers: Mapping[str, str]) -> bool:
    """``ORDERDESK_COOKIE_SECURE``: "1" always, "0" never, "auto" when the proxy says HTTPS."""
    if setting == "1":
        return True
    if setting == "0":
        return False
    proto = _header(headers, "X-Forwarded-Proto").split(",")[0].strip().lower()
    return proto == "https"


# --- the audit log ---------------------------------------------------------------------------------


def audit(event: str, username: str, client: str | None, *, at: datetime | None = None) -> None:
    """One line per sign-in event on the ``orderdesk`` logger; never a password.

    The username is written quoted (``repr``) and cut at 64 characters, so what a visitor types
    cannot forge or break log lines.
    """
    at = at or datetime.now(timezone.utc)
    log.info(
        "sign-in %s: user=%r client=%s at=%s",
        event, (username or "")[:64], client or "local", at.isoformat(timespec="seconds"),
    )
