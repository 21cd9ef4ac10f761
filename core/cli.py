"""The operators' command line, ``python -m core <command>`` (docs/design.md §7).

Settings come from the environment like the app's (ORDERDESK_DB, ORDERDESK_USERS). Exit codes:
0 done, 1 refused (the message says why; nothing was changed), 2 the database is held by another
process (the app) and nothing was changed. Anything else is a bug and ends with a traceback.
"""
from __future__ import annotations

import argparse
import getpass
import sys
import textwrap
from collections.abc import Sequence

from core.errors import DatabaseBusy, DataUnavailable, ImportRejected, InvalidInput, OrderdeskError
from core.importer import IMPORT_MEMORY_LIMIT, ROW_NUMBER_HELP, import_files
from core.settings import Settings
from core.db import Database, after_bulk_write, display_target, open_database
from core import users as users_file

ENVIRONMENT_HELP = """\
environment:
  ORDERDESK_DB     the database file (default data/orders.duckdb)
  ORDERDESK_USERS  the users file (default data/users.yaml)
"""

EXAMPLES = """\
examples:
  python -m core demo --orders 100000 --seed 7
  python -m core import --stores stores.csv --orders orders.parquet --items items.xlsx
  python -m core users add anna --role refunder --name 'Anna Nowak' \\
      --email anna@example.com --legal-entity 'Mokka Retail SRL'    # asks for the password
  python -m core users add ops --role viewer --store S001 < password.txt
  python -m core users set anna --store S001 --store S002 --password
  python -m core users list
  python -m core users remove anna

exit codes: 0 done; 1 refused, with the reason (nothing was changed); 2 the database is in use
by another process, e.g. the running app (nothing was changed).
"""

IMPORT_HELP = f"""\
Load stores, orders and item lines from CSV, Parquet or XLSX files (chosen by each file's
extension; XLSX: the first sheet). Header names must be exactly:
  stores: store_id, store_name, store_address, merchant_store_id, brand, legal_entity, region, zone
  orders: order_id, created_at, merchant_order_id, amount, status, channel, email, phone,
          store_id, salesperson_id, salesperson_name[, refunded_amount]
  items:  order_id, line_no, name, quantity, unit_price

Every row of every file is checked first; if any row is bad nothing is written and each problem
is listed as "file, row N, column: reason" (exit code 1).
{textwrap.fill(ROW_NUMBER_HELP, 96)}
A clean import is written in one transaction. Amounts: digits with an optional '.' and at most
2 decimals, up to 999999999999.99. created_at: ISO 8601 (2024-01-31T14:05:00, +02:00 or Z; no
offset means UTC), from 2000-01-01T00:00Z up to a day after the import.
An empty refunded_amount means: a Return is fully refunded, an order already in the database keeps
its refunds, a new order has none.

Re-importing an order updates it (a status sync): Pending may become Completed or Cancel,
Completed may become Return (fully refunded); Cancel and Return are final; a refunded amount is
never lowered, and the amount and item lines of an order that has refunds never change. Refunds
and cancels brought in by an import are recorded in the order's history as user 'import'.
"""

USERS_HELP = """\
Manage the users file (read again by the running app on each user action). Passwords are read
from standard input (one line; typed without echo on a terminal) and stored only as bcrypt hashes;
a password may not start or end with a space and may be at most 72 bytes (UTF-8), all bcrypt uses.
A user sees the orders of the granted legal entities and stores; an admin sees every order.
Changing a user's password, role or scope, or removing them, signs them out everywhere.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m core",
        description="orderdesk operators' commands.",
        epilog=EXAMPLES + "\n" + ENVIRONMENT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _demo_command(commands)
    _import_command(commands)
    _users_command(commands)
    return parser


def _demo_command(commands) -> None:
    demo = commands.add_parser(
        "demo", help="(re)create the demo database and demo users",
        description="(Re)create the deterministic demo database and the demo users "
                    "(same seed, same data).",
        epilog=ENVIRONMENT_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument("--orders", type=_positive_int, default=60_000, metavar="N",
                      help="number of orders (default 60000)")
    demo.add_argument("--seed", type=int, default=7, metavar="S", help="random seed (default 7)")
    demo.set_defaults(run=_demo)


def _import_command(commands) -> None:
    imp = commands.add_parser(
        "import", help="load stores, orders and items from CSV, Parquet or XLSX files",
        description=IMPORT_HELP, epilog=ENVIRONMENT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    imp.add_argument("--stores", metavar="FILE", help="stores file")
    imp.add_argument("--orders", metavar="FILE", help="orders file")
    imp.add_argument("--items", metavar="FILE", help="item lines file")
    imp.set_defaults(run=_import)


def _users_command(commands) -> None:
    users = commands.add_parser(
        "users", help="add, list, change or remove users",
        description=USERS_HELP, epilog=ENVIRONMENT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = users.add_subparsers(dest="action", required=True, metavar="ACTION")

    add = actions.add_parser("add", help="add a user (password from standard input)",
                             description="Add a user; the password is read from standard input.")
    add.add_argument("username", metavar="USERNAME")
    add.add_argument("--role", required=True, choices=users_file.ROLES)
    add.add_argument("--name", help="display name (default: the username)")
    add.add_argument("--email", default="")
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
    _scope_arguments(change)
    change.add_argument("--clear-scope", action="store_true",
                        help="remove every granted legal entity and store")
    change.add_argument("--password", action="store_true",
                        help="set a new password, read from standard input")
    change.set_defaults(run=_users_set)

    remove = actions.add_parser("remove", help="remove a user")
    remove.add_argument("username", metavar="USERNAME")
    remove.set_defaults(run=_users_remove)


def _scope_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--legal-entity", action="append", dest="legal_entities",
                        metavar="LE", help="grant a legal entity (repeatable)")
    parser.add_argument("--store", action="append", dest="stores", metavar="ID",
                        help="grant a store by its store_id (repeatable)")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        return args.run(args, settings)
    except DatabaseBusy as exc:
        print(exc, file=sys.stderr)
        return 2
    except ImportRejected as exc:
        print(exc, file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    except OrderdeskError as exc:
        print(exc, file=sys.stderr)
        return 1


# --- demo and import -----------------------------------------------------------------------------


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from core import demo  # the demo builder is only needed here

    # A DuckDB file the app holds → DatabaseBusy before anything is changed.
    with open_database(settings.db_path) as database:
        progress = (lambda fraction: _terminal_progress(fraction, "Building the demo data")) \
            if sys.stderr.isatty() else None
        summary = demo.build_demo(database, orders=args.orders, seed=args.seed, progress=progress)
    after_bulk_write(settings.db_path)  # DuckDB: the search index in its clustered form, now
    if progress:
        print(file=sys.stderr)
    counts = (
        ", ".join(f"{value:,} {name.replace('_', ' ')}" for name, value in vars(summary).items())
        if hasattr(summary, "__dict__") else str(summary)
    )
    print(f"Demo database {_shown(settings)} (seed {args.seed}): {counts}.")
    _demo_users(settings)
    return 0


def _demo_users(settings: Settings) -> None:
    """The demo's users step: the demo users written where the users live."""
    from core import demo

    demo.write_demo_users(settings.users_path)
    users = users_file.load_users(settings.users_path)
    print(f"Demo users in {settings.users_path} (passwords in the README): "
          + ", ".join(f"{u.username} ({u.role})" for u in users.values()) + ".")


def _import(args: argparse.Namespace, settings: Settings) -> int:
    if not (args.stores or args.orders or args.items):
        raise InvalidInput("Give at least one file: --stores FILE, --orders FILE or --items FILE.")
    progress = _terminal_progress if sys.stderr.isatty() else None
    # DuckDB's memory is bounded, as in the app: what does not fit spills to a temporary folder
    # beside the database, and the process stays within its measured peak. On PostgreSQL the
    # files are read by a DuckDB database in memory under the same limit, and the app may serve
    # meanwhile (core.db.postgres.importing).
    with open_database(settings.db_path, memory_limit=IMPORT_MEMORY_LIMIT) as database:
        report = import_files(database, stores=args.stores, orders=args.orders, items=args.items,
                              progress=progress)
    # when the import added many orders: DuckDB's search index clustered, PostgreSQL's analysed
    after_bulk_write(settings.db_path, memory_limit=IMPORT_MEMORY_LIMIT)
    if progress:
        print(file=sys.stderr)
    print(f"{report}\nDatabase: {_shown(settings)}")
    return 0


def _shown(settings: Settings) -> str:
    """The database as messages name it: a file's path, or a URL without its password."""
    return display_target(settings.db_path)


def _terminal_progress(fraction: float, message: str) -> None:
    print(f"\r[{fraction:4.0%}] {message:<40}", end="", file=sys.stderr, flush=True)


# --- users ---------------------------------------------------------------------------------------


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


def _check_scope(settings: Settings, legal_entities: Sequence[str], stores: Sequence[str]) -> None:
    """Refuse legal entities or stores the database does not know; when the database cannot be
    opened (the app holds it), warn and go on: users live in their own file."""
    if not (legal_entities or stores):
        return
    if not settings.db_path.exists():
        _warn(f"There is no database at {settings.db_path} yet: the legal entities and stores "
              "were not checked.")
        return
    try:
        with Database(settings.db_path, read_only=True) as database:
            options = database.fetch_scope_options(users_file.Scope.everything())
    except DatabaseBusy:
        _warn(f"The database {settings.db_path} is in use (is orderdesk running?), so the legal "
              "entities and stores were not checked against it; saving anyway.")
        return
    except DataUnavailable as exc:
        _warn(f"The legal entities and stores were not checked against the database ({exc}); "
              "saving anyway.")
        return
    known_stores = {store_id for store_id, _ in options.stores}
    unknown = [f"legal entity {le!r}" for le in legal_entities if le not in options.legal_entities]
    unknown += [f"store {s!r}" for s in stores if s not in known_stores]
    if unknown:
        raise InvalidInput(
            f"Unknown {', '.join(unknown)} (not in {settings.db_path}); nothing was changed."
        )


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
    )
    users_file.add_user(settings.users_path, user)
    print(f"Added {user.username} ({user.role}; {_scope_text(user)}) to {settings.users_path}.")
    _scope_warning(user)
    return 0


def _users_list(args: argparse.Namespace, settings: Settings) -> int:
    users = users_file.load_users(settings.users_path)
    if not users:
        print(f"No users in {settings.users_path}.")
        return 0
    rows = [("USERNAME", "NAME", "ROLE", "SCOPE")] + [
        (u.username, u.name, u.role, _scope_text(u))
        for u in sorted(users.values(), key=lambda u: u.username)
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3])
    return 0


def _users_set(args: argparse.Namespace, settings: Settings) -> int:
    changes: dict[str, object] = {}
    if args.role:
        changes["role"] = args.role
    if args.name is not None:
        changes["name"] = args.name
    if args.email is not None:
        changes["email"] = users_file.check_email(args.email)
    if args.clear_scope:
        changes["legal_entities"] = ()
        changes["stores"] = ()
    if args.legal_entities:
        changes["legal_entities"] = _unique(args.legal_entities)
    if args.stores:
        changes["stores"] = _unique(args.stores)
    if not changes and not args.password:
        raise InvalidInput(
            "Nothing to change: give --role, --name, --email, --legal-entity, --store, "
            "--clear-scope or --password."
        )
    if args.username not in users_file.load_users(settings.users_path):
        raise InvalidInput(f"There is no user {args.username!r}.")
    _check_scope(settings, args.legal_entities or (), args.stores or ())
    if args.password:
        changes["password_hash"] = users_file.hash_password(_read_password())
    before = users_file.load_users(settings.users_path).get(args.username)
    user = users_file.update_user(settings.users_path, args.username, **changes)
    print(f"Changed {user.username} ({user.role}; {_scope_text(user)}).")
    if before is None or user.sessions_valid_from != before.sessions_valid_from:
        print(f"{user.username} is signed out everywhere: open sessions end on their next action "
              "and earlier sign-in cookies no longer work.")
    _scope_warning(user)
    return 0


def _users_remove(args: argparse.Namespace, settings: Settings) -> int:
    users_file.remove_user(settings.users_path, args.username)
    print(f"Removed {args.username} from {settings.users_path}; their open sessions end on "
          "their next action.")
    return 0


def _unique(values: Sequence[str] | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v.strip() for v in values or () if v.strip()))
