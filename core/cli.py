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

from core.errors import (DatabaseBusy, DataUnavailable, ImportRejected, InvalidInput,
                         OrderdeskError, WriteConflict)

# An import that lost a race with a refund (PostgreSQL) is tried again from the files this often.
IMPORT_ATTEMPTS = 3
from core.importer import IMPORT_MEMORY_LIMIT, ROW_NUMBER_HELP, import_files
from core.importer.pace import FULL_SPEED, MIN_SHARE, Pace
from core.settings import Settings
from core.cli_users import demo_users as _demo_users, users_command
from core.db import Database, after_bulk_write, display_target, open_database

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
    users_command(commands, ENVIRONMENT_HELP)
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
    imp.add_argument(
        "--pace", metavar="SHARE", type=_share, default=FULL_SPEED,
        help="write for this share of the time and pause for the rest (0.05 to 1, default 1: "
             "at full speed), so that a large import into a server the app shares leaves the "
             "CPU to the analysts; still one transaction")
    imp.set_defaults(run=_import)


def _share(text: str) -> Pace:
    try:
        return Pace(float(text.replace(",", ".")))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a share of the time from {MIN_SHARE} to 1 (e.g. 0.5)") from None


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


def _import(args: argparse.Namespace, settings: Settings) -> int:
    if not (args.stores or args.orders or args.items):
        raise InvalidInput("Give at least one file: --stores FILE, --orders FILE or --items FILE.")
    progress = _terminal_progress if sys.stderr.isatty() else None
    # DuckDB's memory is bounded, as in the app: what does not fit spills to a temporary folder
    # beside the database, and the process stays within its measured peak. On PostgreSQL the
    # files are read by a DuckDB database in memory under the same limit, and the app may serve
    # meanwhile (core.db.postgres.importing).
    with open_database(settings.db_path, memory_limit=IMPORT_MEMORY_LIMIT) as database:
        for attempt in range(IMPORT_ATTEMPTS):
            try:  # all or nothing: a write that lost to a concurrent refund left nothing behind
                report = import_files(database, stores=args.stores, orders=args.orders,
                                      items=args.items, progress=progress, pace=args.pace)
                break
            except WriteConflict:
                if attempt == IMPORT_ATTEMPTS - 1:
                    raise
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
