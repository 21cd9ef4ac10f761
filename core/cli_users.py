"""``python -m core users …``: add, list, change, remove and import users, wherever they live
(``core.user_store``: the users file beside a DuckDB database, the database's tables on
PostgreSQL). Exit codes as ``core.cli``'s."""
from __future__ import annotations

import argparse
import contextlib
import getpass
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from core import users as users_file
from core.db.opening import open_database
from core.errors import DatabaseBusy, DataUnavailable, InvalidInput
from core.i18n import DEFAULT_LANGUAGE, LANGUAGES, check_language
from core.settings import Settings
from core.user_store import UserStore, open_users, users_in_database

USERS_HELP = """\
Manage the users: in the users file (ORDERDESK_USERS) beside a DuckDB database, or in the
database itself when ORDERDESK_DB is a PostgreSQL URL (every app replica reads the same rows).
The running app reads them again on each user action. Passwords are read from standard input
(one line; typed without echo on a terminal) and stored only as bcrypt hashes; a password may
not start or end with a space and may be at most 72 bytes (UTF-8), all bcrypt uses.
A user sees the orders of the granted legal entities and stores; an admin sees every order.
Changing a user's password, role or scope, or removing them, signs them out everywhere.
"""


def users_command(commands, epilog: str) -> None:
    """The ``users`` command and its actions."""
    users = commands.add_parser(
        "users", help="add, list, change or remove users",
        description=USERS_HELP, epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = users.add_subparsers(dest="action", required=True, metavar="ACTION")

    add = actions.add_parser("add", help="add a user (password from standard input)",
                             description="Add a user; the password is read from standard input.")
    add.add_argument("username", metavar="USERNAME")
    add.add_argument("--role", required=True, choices=users_file.ROLES)
    add.add_argument("--name", help="display name (default: the username)")
    add.add_argument("--email", default="")
    add.add_argument("--language", default=DEFAULT_LANGUAGE, type=_language,
                     help=f"the desk's language for the user: {', '.join(LANGUAGES)} "
                          f"(default {DEFAULT_LANGUAGE})")
    _scope_arguments(add)
    add.set_defaults(run=_users_add)

    lst = actions.add_parser("list", help="list users with role and scope (never passwords)")
    lst.set_defaults(run=_users_list)

    change = actions.add_parser(
        "set", help="change a user's role, name, e-mail, scope or password",
        description="Change a user. --legal-entity / --store replace that list; "
                    "--clear-scope empties both first; --password reads a new password from "
                    "standard input.",
    )
    change.add_argument("username", metavar="USERNAME")
    change.add_argument("--role", choices=users_file.ROLES)
    change.add_argument("--name")
    change.add_argument("--email")
    change.add_argument("--language", type=_language,
                        help=f"the desk's language: {', '.join(LANGUAGES)} (keeps the sessions)")
    _scope_arguments(change)
    change.add_argument("--clear-scope", action="store_true",
                        help="remove every granted legal entity and store")
    change.add_argument("--password", action="store_true",
                        help="set a new password, read from standard input")
    change.set_defaults(run=_users_set)

    remove = actions.add_parser("remove", help="remove a user")
    remove.add_argument("username", metavar="USERNAME")
    remove.set_defaults(run=_users_remove)

    imp = actions.add_parser(
        "import", help="add every user of a users file (e.g. into the database)",
        description="Add every user of a users file (YAML, the ORDERDESK_USERS format) to where "
                    "users live now: with ORDERDESK_DB a PostgreSQL URL, the database. Hashes, "
                    "roles, scope and sign-out times are kept. All or nothing: a username that "
                    "exists already is refused and nothing is added.",
    )
    imp.add_argument("file", metavar="FILE")
    imp.set_defaults(run=_users_import)


def _language(value: str) -> str:
    """``--language``: one of the desk's languages, or argparse's error with the choices."""
    try:
        return check_language(value)
    except InvalidInput as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _scope_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--legal-entity", action="append", dest="legal_entities",
                        metavar="LE", help="grant a legal entity (repeatable)")
    parser.add_argument("--store", action="append", dest="stores", metavar="ID",
                        help="grant a store by its store_id (repeatable)")


def _read_password() -> str:
    """One line from standard input; on a terminal typed twice without echo."""
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat the password: ") != password:
            raise InvalidInput("The two passwords differ; nothing was changed.")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise InvalidInput("No password given on standard input; nothing was changed.")
    return password


@contextlib.contextmanager
def _users(settings: Settings) -> Iterator[UserStore]:
    """Where the users live, for one command: on PostgreSQL the database is opened (its schema
    created or upgraded) and closed when the command ends; the users file needs no database."""
    opened = []

    def database():
        opened.append(open_database(settings.db_path))
        return opened[-1]

    try:
        yield open_users(settings.users_path, settings.db_path, database)
    finally:
        for db in opened:
            db.close()


def _check_scope(settings: Settings, legal_entities: Sequence[str], stores: Sequence[str]) -> None:
    """Refuse legal entities or stores the database does not know; when the database cannot be
    opened (the app holds a DuckDB file), warn and go on: users live in their own file."""
    if not (legal_entities or stores):
        return
    if not users_in_database(settings.db_path) and not Path(settings.db_path).exists():
        _warn(f"There is no database at {settings.db_path} yet: the legal entities and stores "
              "were not checked.")
        return
    try:
        with open_database(settings.db_path, read_only=True) as database:
            where = database.path  # a PostgreSQL URL without its password
            options = database.fetch_scope_options(users_file.Scope.everything())
    except DatabaseBusy:
        _warn(f"The database {settings.db_path} is in use (is orderdesk running?), so the legal "
              "entities and stores were not checked against it; saving anyway.")
        return
    except DataUnavailable as exc:
        _warn(f"The legal entities and stores were not checked against the database ({exc}); "
              "saving anyway.")
        return
    if not options.stores:  # a database no import has filled yet
        _warn(f"There are no stores in the database {where} yet: the legal entities and stores "
              "were not checked.")
        return
    known_stores = {store_id for store_id, _ in options.stores}
    unknown = [f"legal entity {le!r}" for le in legal_entities if le not in options.legal_entities]
    unknown += [f"store {s!r}" for s in stores if s not in known_stores]
    if unknown:
        raise InvalidInput(f"Unknown {', '.join(unknown)} (not in {where}); nothing was changed.")


def _warn(message: str) -> None:
    print(f"Warning: {message}", file=sys.stderr)


def _scope_text(user: users_file.User) -> str:
    if user.is_admin:
        return "all orders"
    parts = []
    if user.legal_entities:
        parts.append("legal entities: " + ", ".join(user.legal_entities))
    if user.stores:
        parts.append("stores: " + ", ".join(user.stores))
    return "; ".join(parts) or "nothing (sees no orders)"


def _scope_warning(user: users_file.User) -> None:
    if user.is_admin and (user.legal_entities or user.stores):
        _warn(f"{user.username} is an admin and sees every order; the scope is kept but unused.")
    elif not user.is_admin and not (user.legal_entities or user.stores):
        _warn(f"{user.username} has no legal entity or store and sees no orders.")


def _users_add(args: argparse.Namespace, settings: Settings) -> int:
    users_file.check_username(args.username)
    users_file.check_email(args.email)
    legal_entities = _unique(args.legal_entities)
    stores = _unique(args.stores)
    _check_scope(settings, legal_entities, stores)
    user = users_file.User(
        username=args.username,
        name=args.name or args.username,
        email=args.email,
        password_hash=users_file.hash_password(_read_password()),
        role=args.role,
        legal_entities=legal_entities,
        stores=stores,
        language=args.language,
    )
    with _users(settings) as store:
        store.add(user)
    print(f"Added {user.username} ({user.role}; {_scope_text(user)}) to {store.where}.")
    _scope_warning(user)
    return 0


def _users_list(args: argparse.Namespace, settings: Settings) -> int:
    with _users(settings) as store:
        users = store.load()
    if not users:
        print(f"No users in {store.where}.")
        return 0
    # The LANGUAGE column appears once a user has another language than English.
    languages = any(u.language != DEFAULT_LANGUAGE for u in users.values())
    rows = [("USERNAME", "NAME", "ROLE", *(("LANGUAGE",) if languages else ()), "SCOPE")] + [
        (u.username, u.name, u.role, *((u.language,) if languages else ()), _scope_text(u))
        for u in sorted(users.values(), key=lambda u: u.username)
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1])
    return 0


def _users_set(args: argparse.Namespace, settings: Settings) -> int:
    changes: dict[str, object] = {}
    if args.role:
        changes["role"] = args.role
    if args.name is not None:
        changes["name"] = args.name
    if args.email is not None:
        changes["email"] = users_file.check_email(args.email)
    if args.language is not None:
        changes["language"] = args.language
    if args.clear_scope:
        changes["legal_entities"] = ()
        changes["stores"] = ()
    if args.legal_entities:
        changes["legal_entities"] = _unique(args.legal_entities)
    if args.stores:
        changes["stores"] = _unique(args.stores)
    if not changes and not args.password:
        raise InvalidInput(
            "Nothing to change: give --role, --name, --email, --language, --legal-entity, "
            "--store, --clear-scope or --password."
        )
    with _users(settings) as store:
        if args.username not in store.load():
            raise users_file.no_such_user(args.username)
        _check_scope(settings, args.legal_entities or (), args.stores or ())
        if args.password:
            changes["password_hash"] = users_file.hash_password(_read_password())
        before = store.load().get(args.username)
        user = store.update(args.username, **changes)
    print(f"Changed {user.username} ({user.role}; {_scope_text(user)}).")
    if before is None or user.sessions_valid_from != before.sessions_valid_from:
        print(f"{user.username} is signed out everywhere: open sessions end on their next action "
              "and earlier sign-in cookies no longer work.")
    _scope_warning(user)
    return 0


def _users_remove(args: argparse.Namespace, settings: Settings) -> int:
    with _users(settings) as store:
        store.remove(args.username)
    print(f"Removed {args.username} from {store.where}; their open sessions end on "
          "their next action.")
    return 0


def _users_import(args: argparse.Namespace, settings: Settings) -> int:
    """Every user of another users file, added all at once (moving a file into the database)."""
    source = Path(args.file)
    if not users_in_database(settings.db_path) \
            and source.resolve() == Path(settings.users_path).resolve():
        raise InvalidInput(f"{source} is the users file itself; nothing was imported.")
    imported = users_file.load_users(source)
    with _users(settings) as store:
        added = store.add_many(imported)
    print(f"Imported {len(added)} user{'s' if len(added) != 1 else ''} from {source} into "
          f"{store.where}" + (": " + ", ".join(u.username for u in added) if added else "") + ".")
    return 0


def demo_users(settings: Settings) -> None:
    """The demo's users step: the demo users replace every user, where users live."""
    from core import demo

    with _users(settings) as store:
        demo.write_demo_users(store)
        users = store.load()
    print(f"Demo users in {store.where} (passwords in the README): "
          + ", ".join(f"{u.username} ({u.role})" for u in users.values()) + ".")


def _unique(values: Sequence[str] | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v.strip() for v in values or () if v.strip()))
