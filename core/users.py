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

The file is re-read whenever it changes (by modification time), so a role or scope change takes
effect on the user's next action. Writes go to a temporary file that replaces the old one
atomically, under a lock file, so the running app never reads half a file.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import yaml

from core.errors import UsersFileError

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

    @property
    def scope(self) -> Scope:
        if self.role == "admin":
            return Scope.everything()
        return Scope(False, frozenset(self.legal_entities), frozenset(self.stores))

    @property
    def can_act(self) -> bool:
        """May cancel and refund (within scope)."""
        return self.role in ("refunder", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def hash_password(password: str) -> str:
    if not password:
        raise UsersFileError("The password must not be empty.")
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
    return {
        "usernames": {
            u.username: {
                "name": u.name,
                "email": u.email,
                "password": u.password_hash,
                "roles": [u.role],
            }
            for u in users.values()
        }
    }
