"""The server mode's users and sign-in throttle, in the database's tables (``USERS_TABLES`` in
``core.db.postgres.schema``), so that every app replica and every ``python -m core users``
command read and write the same rows.

* ``DatabaseUsers`` is ``core.user_store.UsersFile``'s twin: the same methods and the same rules
  (``core.users``: what a new user needs, which changes end their sessions). Every change also
  counts up ``users_version`` in its transaction, so ``load`` — called on every run of every
  session — reads one row of one table and reads the users again only when that number moved.
* ``DatabaseThrottle`` is ``core.signin.SignInThrottle``'s twin: the failures are rows (kind,
  key, Unix time) that every replica counts, with the same limits and window. Expired rows are
  deleted as new failures come in, so the table holds at most one window's failures.
"""
from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import timezone

from core.signin import ThrottleLimits
from core.user_store import imported_users
from core.users import (User, changed_user, check_changes, new_user, no_such_user,
                        user_exists)

_COLUMNS = ("username, name, email, password_hash, role, legal_entities, stores, "
            "sessions_valid_from, language")
_SELECT_USERS = f"SELECT {_COLUMNS} FROM users ORDER BY username"
_SELECT_FOR_UPDATE = f"SELECT {_COLUMNS} FROM users WHERE username = ? FOR UPDATE"
_INSERT = f"INSERT INTO users ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
_UPDATE = ("UPDATE users SET name = ?, email = ?, password_hash = ?, role = ?, "
           "legal_entities = ?, stores = ?, sessions_valid_from = ?, language = ? "
           "WHERE username = ?")
_VERSION = "SELECT version FROM users_version WHERE id = 1"
_BUMP = "UPDATE users_version SET version = version + 1 WHERE id = 1"


def _user(row) -> User:
    valid_from = row[7]
    if valid_from is not None and valid_from.tzinfo is None:
        valid_from = valid_from.replace(tzinfo=timezone.utc)
    return User(username=row[0], name=row[1], email=row[2], password_hash=row[3], role=row[4],
                legal_entities=tuple(row[5] or ()), stores=tuple(row[6] or ()),
                sessions_valid_from=valid_from, language=row[8] or "en")


def _params(user: User) -> list:
    return [user.username, user.name, user.email, user.password_hash, user.role,
            list(user.legal_entities), list(user.stores), user.sessions_valid_from,
            user.language]


class DatabaseUsers:
    """The users in a PostgreSQL database (``core.user_store.UserStore``)."""

    def __init__(self, database) -> None:
        self.database = database
        self.where = f"the database {database.path}"
        self._lock = threading.Lock()
        self._cached: tuple[int, dict[str, User]] | None = None

    def version(self) -> int:
        """The number of changes made to the users so far (one primary-key read)."""
        with self.database.cursor() as cur:
            return cur.execute(_VERSION).fetchone()[0]

    def load(self) -> dict[str, User]:
        """The users as committed now; read again only when ``users_version`` moved."""
        version = self.version()
        cached = self._cached
        if cached is not None and cached[0] == version:
            return cached[1]
        with self.database.snapshot() as cur:  # the number and the rows of one moment
            version = cur.execute(_VERSION).fetchone()[0]
            users = {row[0]: _user(row) for row in cur.execute(_SELECT_USERS).fetchall()}
        with self._lock:
            if self._cached is None or self._cached[0] <= version:
                self._cached = (version, users)
        return users

    def add(self, user: User) -> None:
        user = new_user(user)
        with self.database.transaction() as cur:
            cur.execute(_INSERT + " ON CONFLICT (username) DO NOTHING", _params(user))
            if cur.rowcount != 1:
                raise user_exists(user.username)
            cur.execute(_BUMP)

    def update(self, username: str, **changes: object) -> User:
        check_changes(changes)
        with self.database.transaction() as cur:
            row = cur.execute(_SELECT_FOR_UPDATE, [username]).fetchone()
            if row is None:
                raise no_such_user(username)
            new = changed_user(_user(row), changes)
            cur.execute(_UPDATE, _params(new)[1:] + [username])
            cur.execute(_BUMP)
        return new

    def end_sessions(self, username: str) -> bool:
        valid_from = new_user(User(username, "", "", "", "viewer")).sessions_valid_from
        with self.database.transaction() as cur:
            cur.execute("UPDATE users SET sessions_valid_from = ? WHERE username = ?",
                        [valid_from, username])
            if cur.rowcount != 1:
                return False
            cur.execute(_BUMP)
        return True

    def remove(self, username: str) -> None:
        with self.database.transaction() as cur:
            cur.execute("DELETE FROM users WHERE username = ?", [username])
            if cur.rowcount != 1:
                raise no_such_user(username)
            cur.execute(_BUMP)

    def add_many(self, users: dict[str, User]) -> list[User]:
        with self.database.transaction() as cur:
            taken = cur.execute("SELECT username FROM users WHERE username = ANY(?)",
                                [list(users)]).fetchall()
            added = imported_users(users, [row[0] for row in taken])
            if added:
                cur.executemany(_INSERT, [_params(user) for user in added])
            cur.execute(_BUMP)
        return added

    def replace_all(self, users: Iterable[User]) -> None:
        """Every user replaced by ``users`` (the demo's), in one transaction."""
        with self.database.transaction() as cur:
            cur.execute("DELETE FROM users")
            rows = [_params(user) for user in users]
            if rows:
                cur.executemany(_INSERT, rows)
            cur.execute(_BUMP)


# --- the sign-in throttle ------------------------------------------------------------------------

# The time of the limit-th newest failure of one key within the window (none: under the limit).
_NTH_NEWEST = ("(SELECT at FROM signin_failures WHERE kind = ? AND key = ? AND at > ? "
               "ORDER BY at DESC LIMIT 1 OFFSET ?)")
# Expired failures, a batch at a time, skipping rows another replica is deleting right now.
_DELETE_EXPIRED = ("DELETE FROM signin_failures WHERE ctid = ANY(ARRAY("
                   "SELECT ctid FROM signin_failures WHERE at <= ? LIMIT 1000 "
                   "FOR UPDATE SKIP LOCKED))")


class DatabaseThrottle(ThrottleLimits):
    """Failed sign-ins per username and per client address within a sliding window, counted in
    the database: five failures on one replica throttle the sixth attempt on any other."""

    def __init__(self, database, **limits) -> None:
        super().__init__(**limits)
        self.database = database

    def retry_after(self, username: str, client: str | None) -> float | None:
        """Seconds until this username and client may try again, or None when they may now."""
        now = self.clock()
        keys = self._keys(username, client)
        params = []
        for (kind, key), limit in keys:
            params += [kind, key, now - self.window, limit - 1]
        statement = ("SELECT max(at) FROM (" + " UNION ALL ".join([_NTH_NEWEST] * len(keys))
                     + ") AS nth")
        with self.database.cursor() as cur:
            oldest = cur.execute(statement, params).fetchone()[0]
        if oldest is None:
            return None
        # The attempt that brings the count below the limit again drops out then.
        wait = oldest + self.window - now
        return wait if wait > 0 else None

    def record_failure(self, username: str, client: str | None) -> None:
        now = self.clock()
        rows = [[kind, key, now] for (kind, key), _ in self._keys(username, client)]
        with self.database.cursor() as cur:
            cur.execute(_DELETE_EXPIRED, [now - self.window])
            cur.executemany("INSERT INTO signin_failures (kind, key, at) VALUES (?, ?, ?)", rows)

    def record_success(self, username: str) -> None:
        """A correct password clears the username's failures, not the client's."""
        with self.database.cursor() as cur:
            cur.execute("DELETE FROM signin_failures WHERE kind = 'user' AND key = ?",
                        [username])

    def clear(self) -> None:
        """Forget every failure, on every replica."""
        with self.database.cursor() as cur:
            cur.execute("DELETE FROM signin_failures")

    def failures_kept(self) -> int:
        """How many failure rows the table holds (expired ones are deleted as failures come)."""
        with self.database.cursor() as cur:
            return cur.execute("SELECT count(*) FROM signin_failures").fetchone()[0]
