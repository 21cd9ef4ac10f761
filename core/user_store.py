"""Where the users live, chosen from the settings, behind one interface (``UserStore``):

* a DuckDB database (one process serves it): the YAML users file at ``ORDERDESK_USERS``
  (``UsersFile``, over ``core.users``), and the sign-in throttle in the process's memory;
* a PostgreSQL database (the server mode, several replicas): the database's own tables
  (``core.db.postgres.users``), the throttle's failures included, so that every replica and every
  ``python -m core users`` command agree at once.

The app and the command line call the same methods either way and never branch on the mode.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

from core import users as users_file
from core.db.postgres import is_postgres_url
from core.errors import InvalidInput
from core.signin import SignInThrottle
from core.users import User


class UserStore(Protocol):
    """The users, wherever they live. ``load`` is called on every run of every session: it must
    be cheap when nothing changed (the file: its modification time; the database: one indexed
    read of a version number)."""

    where: str  # what messages name: the file, or the database (never a password)

    def load(self) -> dict[str, User]: ...

    def add(self, user: User) -> None: ...

    def update(self, username: str, **changes: object) -> User: ...

    def end_sessions(self, username: str) -> bool: ...

    def remove(self, username: str) -> None: ...

    def add_many(self, users: dict[str, User]) -> list[User]: ...

    def replace_all(self, users: Iterable[User]) -> None: ...


class UsersFile:
    """The users in the YAML file (``core.users``): the DuckDB mode's store."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.where = str(self.path)

    def load(self) -> dict[str, User]:
        return users_file.load_users(self.path)

    def add(self, user: User) -> None:
        users_file.add_user(self.path, user)

    def update(self, username: str, **changes: object) -> User:
        return users_file.update_user(self.path, username, **changes)

    def end_sessions(self, username: str) -> bool:
        return users_file.end_sessions(self.path, username)

    def remove(self, username: str) -> None:
        users_file.remove_user(self.path, username)

    def add_many(self, users: dict[str, User]) -> list[User]:
        with users_file.edit_users(self.path) as current:
            added = imported_users(users, current)
            current.update((user.username, user) for user in added)
            return added

    def replace_all(self, users: Iterable[User]) -> None:
        users_file.save_users(self.path, {user.username: user for user in users})


def imported_users(users: dict[str, User], existing: Iterable[str]) -> list[User]:
    """The users of a users file, checked for adding all at once (``users import``): every name
    valid and none taken, or nothing is added. Their ``sessions_valid_from`` is kept, so moving
    the users into the database neither signs anyone out nor brings back an ended session."""
    taken = sorted(set(users) & set(existing))
    if taken:
        raise InvalidInput(
            f"Already there: {', '.join(taken)}; change them with 'users set' or remove them "
            "first. Nothing was imported."
        )
    for user in users.values():
        users_file.check_username(user.username)
        users_file.check_role(user.role)
        users_file.check_email(user.email)
    return [users[name] for name in sorted(users)]


def users_in_database(target: object) -> bool:
    """Whether the users live in the database ``ORDERDESK_DB`` names (PostgreSQL) rather than in
    the users file (beside a DuckDB file)."""
    return is_postgres_url(target)


def open_users(users_path: Path | str, target: object,
               database: Callable[[], object]) -> UserStore:
    """The store of the users: the tables of the database ``target`` names when it is PostgreSQL
    (``database()`` gives this process's open database, so the app shares its pool), else the
    users file at ``users_path`` (the database is not opened for it)."""
    if users_in_database(target):
        from core.db.postgres.users import DatabaseUsers
        return DatabaseUsers(database())
    return UsersFile(users_path)


def open_throttle(target: object, database: Callable[[], object], **limits):
    """The sign-in throttle for this process: in the database when it is PostgreSQL (every
    replica counts the same failures), else in memory (one process serves a DuckDB file).
    ``limits``: ``core.signin.ThrottleLimits``'s (the defaults are the documented ones)."""
    if users_in_database(target):
        from core.db.postgres.users import DatabaseThrottle
        return DatabaseThrottle(database(), **limits)
    return SignInThrottle(**limits)
