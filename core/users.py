"""Users, roles and scope, kept in a YAML file in streamlit-authenticator's format.

    credentials:
      usernames:
        anna:
          name: Anna Nowak
          email: anna@example.com
          password: $2b$12$...        # bcrypt hash, never the password
          roles: [viewer]
          legal_entities: [Mokka Retail SRL]
          stores: [S001]

          sessions_valid_from: '2026-01-31T10:00:00.123456+00:00'

The file is re-read whenever it changes (by modification time), so a role or scope change takes
effect on the user's next action. ``sessions_valid_from`` revokes sign-ins: a cookie issued or a
session signed in before it no longer counts. Adding a user, changing their password, role or
scope, and their signing out set it to the present moment, so a copied cookie or a session open
elsewhere ends on its next use. Writes go to a temporary file that replaces the old one
atomically, under a lock file, so the running app never reads half a file.

This is where users live beside a DuckDB file; on PostgreSQL they live in the database
(``core.db.postgres.users``), with the same ``User`` and the same rules (``new_user``,
``changed_user``); ``core.user_store`` chooses between the two.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import re
import tempfile
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import bcrypt
import yaml

from core.errors import InvalidInput, UsersFileError
from core.i18n import DEFAULT_LANGUAGE, LANGUAGES, check_language
from core.rules import ACTING_ROLES

ROLES = ("viewer", "refunder", "admin")


@dataclass(frozen=True)
class Scope:
    """What a user may see: every order (admin), or those of granted legal entities or stores."""

    all_orders: bool = False
    legal_entities: frozenset[str] = frozenset()
    stores: frozenset[str] = frozenset()

    @classmethod
    def everything(cls) -> "Scope":
        return cls(all_orders=True)

    def key(self) -> tuple:
        """A hashable, order-independent value for cache keys."""
        return (self.all_orders, tuple(sorted(self.legal_entities)), tuple(sorted(self.stores)))


@dataclass(frozen=True)
class User:
    username: str
    name: str
    email: str
    password_hash: str
    role: str
    legal_entities: tuple[str, ...] = ()
    stores: tuple[str, ...] = ()
    sessions_valid_from: datetime | None = None
    language: str = DEFAULT_LANGUAGE  # core.i18n.LANGUAGES; not a right, so no sign-out on change

    @property
    def scope(self) -> Scope:
        if self.role == "admin":
            return Scope.everything()
        return Scope(False, frozenset(self.legal_entities), frozenset(self.stores))

    @property
    def can_act(self) -> bool:
        """May cancel and refund (within scope): the rules' acting roles."""
        return self.role in ACTING_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


# bcrypt reads only this many bytes of a password; more would be silently ignored.
MAX_PASSWORD_BYTES = 72


def check_new_password(password: str) -> str:
    """Refuse a password that could never sign in as typed, or of which bcrypt ignores a part.

    The sign-in form strips leading and trailing spaces from what is typed, so a password that
    starts or ends with one would be stored but never match.
    """
    if not password:
        raise InvalidInput("The password must not be empty; nothing was changed.")
    if password != password.strip():
        raise InvalidInput(
            "The password starts or ends with a space (or tab): the sign-in form drops those, so "
            "it could never sign in. Choose one without; nothing was changed."
        )
    size = len(password.encode("utf-8"))
    if size > MAX_PASSWORD_BYTES:
        raise InvalidInput(
            f"The password is {size} bytes long in UTF-8; bcrypt uses only the first "
            f"{MAX_PASSWORD_BYTES}, so use a shorter one. Nothing was changed."
        )
    return password


def hash_password(password: str) -> str:
    check_new_password(password)
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()


def check_password(password: str, password_hash: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode(), password_hash.encode())
    except ValueError:
        return False


def _as_list(value: object, what: str, username: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise UsersFileError(f"User {username!r}: {what} must be a list.")
    return tuple(str(v) for v in value)


def _valid_from(value: object, username: str) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            raise UsersFileError(
                f"User {username!r}: sessions_valid_from must be an ISO 8601 time."
            ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _language(value: object, username: str) -> str:
    if value is None or value == "":
        return DEFAULT_LANGUAGE
    if value not in LANGUAGES:
        raise UsersFileError(f"User {username!r}: unknown language {value!r}; use one of "
                             f"{', '.join(LANGUAGES)}.")
    return str(value)


def _parse(data: object) -> dict[str, User]:
    if not isinstance(data, dict):
        raise UsersFileError("The users file must hold a 'credentials: usernames:' mapping.")
    usernames = (data.get("credentials") or {}).get("usernames") or {}
    if not isinstance(usernames, dict):
        raise UsersFileError("'credentials.usernames' must be a mapping of users.")
    users: dict[str, User] = {}
    for username, entry in usernames.items():
        username = str(username)
        if not isinstance(entry, dict):
            raise UsersFileError(f"User {username!r} must be a mapping.")
        roles = entry.get("roles") or []
        if not isinstance(roles, list) or len(roles) != 1 or roles[0] not in ROLES:
            raise UsersFileError(
                f"User {username!r} must have exactly one role of {', '.join(ROLES)}."
            )
        password_hash = str(entry.get("password") or "")
        if not password_hash.startswith("$2"):
            raise UsersFileError(f"User {username!r}: the password must be a bcrypt hash.")
        users[username] = User(
            username=username,
            name=str(entry.get("name") or username),
            email=str(entry.get("email") or ""),
            password_hash=password_hash,
            role=roles[0],
            legal_entities=_as_list(entry.get("legal_entities"), "legal_entities", username),
            stores=_as_list(entry.get("stores"), "stores", username),
            sessions_valid_from=_valid_from(entry.get("sessions_valid_from"), username),
            language=_language(entry.get("language"), username),
        )
    return users


def _serialise(users: dict[str, User]) -> dict:
    return {
        "credentials": {
            "usernames": {
                u.username: {
                    "name": u.name,
                    "email": u.email,
                    "password": u.password_hash,
                    "roles": [u.role],
                    "legal_entities": list(u.legal_entities),
                    "stores": list(u.stores),
                    **({"sessions_valid_from": u.sessions_valid_from.isoformat()}
                       if u.sessions_valid_from else {}),
                    # Written only when chosen: a file of English users reads as before.
                    **({"language": u.language} if u.language != DEFAULT_LANGUAGE else {}),
                }
                for u in sorted(users.values(), key=lambda u: u.username)
            }
        }
    }


_cache_lock = threading.Lock()
_cache: dict[Path, tuple[tuple[int, int], dict[str, User]]] = {}


def load_users(path: Path | str) -> dict[str, User]:
    """The users in the file, re-read only when the file changed."""
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError as exc:
        raise UsersFileError(f"The users file {path} does not exist.") from exc
    stamp = (st.st_mtime_ns, st.st_size)
    with _cache_lock:
        cached = _cache.get(path)
        if cached and cached[0] == stamp:
            return cached[1]
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise UsersFileError(f"The users file {path} cannot be read: {exc}") from exc
    users = _parse(data)
    with _cache_lock:
        _cache[path] = (stamp, users)
    return users


@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def save_users(path: Path | str, users: dict[str, User]) -> None:
    """Replace the users file atomically (write a temporary file, fsync, rename)."""
    path = Path(path)
    with _locked(path):
        _write_atomic(path, users)


def _write_atomic(path: Path, users: dict[str, User]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            yaml.safe_dump(_serialise(users), fh, sort_keys=False, allow_unicode=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def edit_users(path: Path | str):
    """Read, change and write the users file under its lock: ``with edit_users(p) as users: ...``."""
    path = Path(path)
    with _locked(path):
        users = dict(load_users(path)) if path.exists() else {}
        yield users
        _write_atomic(path, users)


def authenticator_credentials(users: dict[str, User]) -> dict:
    """A fresh credentials dict for streamlit-authenticator (it mutates what it is given)."""
    return _serialise(users)["credentials"]


# --- managing users (the command line; later an admin page) --------------------------------------

# streamlit-authenticator lowercases the username typed at sign-in, so stored names are lowercase.
USERNAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def check_username(username: str) -> str:
    if not USERNAME_PATTERN.fullmatch(username or ""):
        raise InvalidInput(
            f"{username!r} is not a valid username: use 1–64 lowercase letters, digits, '.', '_', "
            "'-' or '@', starting with a letter or digit (sign-in lowercases what is typed)."
        )
    return username


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInput(f"Unknown role {role!r}: use one of {', '.join(ROLES)}.")
    return role


def check_email(email: str) -> str:
    if email and not EMAIL_PATTERN.fullmatch(email):
        raise InvalidInput(f"{email!r} is not an e-mail address.")
    return email


def _now() -> datetime:
    return datetime.now(timezone.utc)


# Changing any of these ends the user's sessions: what they may do or see, or how they prove it.
REVOKING_FIELDS = ("password_hash", "role", "legal_entities", "stores")


def no_such_user(username: str) -> InvalidInput:
    return InvalidInput(f"There is no user {username!r}.")


def user_exists(username: str) -> InvalidInput:
    return InvalidInput(f"User {username!r} already exists; change it with 'users set'.")


def new_user(user: User, now: datetime | None = None) -> User:
    """A user checked for adding, their sessions valid from now: a cookie left from an earlier
    user of the same name is refused. (Shared by the file and the database.)"""
    check_username(user.username)
    check_role(user.role)
    check_email(user.email)
    check_language(user.language)
    return replace(user, sessions_valid_from=now or _now())


def check_changes(changes: dict) -> None:
    if "role" in changes:
        check_role(str(changes["role"]))
    if "email" in changes:
        check_email(str(changes["email"]))
    if "language" in changes:
        check_language(changes["language"])


def changed_user(old: User, changes: dict, now: datetime | None = None) -> User:
    """``old`` with ``changes``; a change of any ``REVOKING_FIELDS`` ends their sessions."""
    new = replace(old, **changes)
    if any(getattr(new, field) != getattr(old, field) for field in REVOKING_FIELDS):
        new = replace(new, sessions_valid_from=now or _now())
    return new


def add_user(path: Path | str, user: User) -> None:
    """Add a new user to the users file; an existing username is refused."""
    user = new_user(user)
    with edit_users(path) as users:
        if user.username in users:
            raise user_exists(user.username)
        users[user.username] = user


def update_user(path: Path | str, username: str, **changes: object) -> User:
    """Change fields of a user (``role``, ``name``, ``email``, ``password_hash``,
    ``legal_entities``, ``stores``); returns the changed user."""
    check_changes(changes)
    with edit_users(path) as users:
        if username not in users:
            raise no_such_user(username)
        users[username] = changed_user(users[username], changes)
        return users[username]


def end_sessions(path: Path | str, username: str) -> bool:
    """End every session and cookie of a user (their signing out); False if there is no such
    user any more."""
    with edit_users(path) as users:
        if username not in users:
            return False
        users[username] = replace(users[username], sessions_valid_from=_now())
        return True


def remove_user(path: Path | str, username: str) -> None:
    with edit_users(path) as users:
        if users.pop(username, None) is None:
            raise no_such_user(username)

