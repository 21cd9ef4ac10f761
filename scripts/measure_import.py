"""Peak memory and wall time of a large import through the command line, ``python -m core import``.

    .venv/bin/python scripts/measure_import.py                    # 5,000,000 orders
    .venv/bin/python scripts/measure_import.py --orders 1000000 --folder data/bench/import-1m

It writes a stores file (50 stores) and an orders file of ``--orders`` valid orders into
``--folder`` (kept and reused while the count is the same; CSV written by DuckDB itself), imports
them into a fresh database there in a child process, and prints the child's peak RSS (the whole
process: Python, DuckDB and anything else) and the wall time. ``--format parquet`` measures the
same orders as a Parquet file.

    .venv/bin/python scripts/measure_import.py --orders 1000000 --db postgresql://… --first-id 7000000

``--db`` imports into that PostgreSQL database as it is (load it first, e.g. with 5,000,000 orders
copied from a benchmark file by ``core.db.postgres.copying``); ``--first-id`` numbers the orders
from there, above the database's own, so that every order is new. The child's peak RSS is then the
command's alone; the server's work is in the wall time.
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STORES = 50


def write_files(folder: Path, orders: int, fmt: str, first_id: int = 1_000_000,
                store_prefix: str = "S") -> tuple[Path, Path]:
    import duckdb

    folder.mkdir(parents=True, exist_ok=True)
    suffix = "" if store_prefix == "S" else f"-{store_prefix}"
    stores = folder / f"stores{suffix}.csv"
    target = folder / ((f"orders-{orders}" if first_id == 1_000_000
                        else f"orders-{orders}-from-{first_id}") + f"{suffix}.{fmt}")
    if stores.exists() and target.exists():
        return stores, target
    con = duckdb.connect()
    con.execute(f"""
        COPY (SELECT '{store_prefix}' || lpad(i::VARCHAR, 3, '0') AS store_id, 'Store ' || i AS store_name,
                     'Main St ' || i AS store_address, 'M-' || i AS merchant_store_id,
                     'Reserved' AS brand, 'LE' || (i % 4) AS legal_entity, 'Mazowieckie' AS region,
                     'PL' AS zone
              FROM range(1, {STORES + 1}) t(i)) TO '{stores}' (HEADER, DELIMITER ',')""")
    options = "(HEADER, DELIMITER ',')" if fmt == "csv" else "(FORMAT parquet)"
    partial = target.with_suffix(".partial")
    con.execute(f"""
        COPY (
            SELECT {first_id} + i AS order_id,
                   strftime(TIMESTAMP '2024-01-01' + INTERVAL (i % 63072000) SECOND,
                            '%Y-%m-%dT%H:%M:%SZ') AS created_at,
                   'MO-' || i AS merchant_order_id,
                   ((i % 99999) + 1) || '.' || lpad((i % 97)::VARCHAR, 2, '0') AS amount,
                   CASE WHEN i % 10 = 0 THEN 'Pending' WHEN i % 10 = 1 THEN 'Cancel'
                        WHEN i % 10 = 2 THEN 'Return' ELSE 'Completed' END AS status,
                   CASE WHEN i % 10 < 3 OR i % 3 = 0 THEN 'online' ELSE 'offline' END AS channel,
                   'customer' || (i % 700000) || '@mail.test' AS email,
                   '+48 6' || lpad((i % 100000000)::VARCHAR, 8, '0') AS phone,
                   '{store_prefix}' || lpad(((i % {STORES}) + 1)::VARCHAR, 3, '0') AS store_id,
                   'SP' || (i % 500) AS salesperson_id, 'Seller ' || (i % 500) AS salesperson_name,
                   '' AS refunded_amount
            FROM range({orders}) t(i)
        ) TO '{partial}' {options}""")
    con.close()
    partial.rename(target)
    return stores, target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=5_000_000)
    parser.add_argument("--folder", type=Path, default=Path("data/bench/import"))
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument("--db", help="a PostgreSQL URL to import into (default: a new DuckDB "
                                     "file in --folder)")
    parser.add_argument("--first-id", type=int, default=1_000_000,
                        help="the first order ID (default 1000000)")
    parser.add_argument("--store-prefix", default="S", help="the stores' IDs: PREFIX001… "
                        "(default S; another keeps the import out of the demo users' stores)")
    parser.add_argument("--pace", help="the import's --pace (default: none, full speed)")
    parser.add_argument("--nice", type=int, default=0,
                        help="run the import at this niceness, as a service's Nice= does")
    args = parser.parse_args()
    if not args.store_prefix.isalnum():
        parser.error("--store-prefix: letters and digits only")
    stores, orders = write_files(args.folder, args.orders, args.format, args.first_id,
                                 args.store_prefix)
    if args.db:
        db = args.db
    else:
        db = args.folder / "measure.duckdb"
        for leftover in (db, db.with_name(db.name + ".wal")):
            leftover.unlink(missing_ok=True)
    env = {**os.environ, "ORDERDESK_DB": str(db), "ORDERDESK_USERS": str(args.folder / "u.yaml")}
    started = time.perf_counter()
    command = [sys.executable, "-m", "core", "import", "--stores", str(stores),
               "--orders", str(orders), *(["--pace", args.pace] if args.pace else [])]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                            preexec_fn=(lambda: os.nice(args.nice)) if args.nice else None)
    wall = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(result.stdout.strip())
    if result.returncode:
        print(result.stderr[-3000:], file=sys.stderr)
    print(f"{args.orders:,} orders ({args.format}, {orders.stat().st_size / 2**20:,.0f} MB, "
          f"pace {args.pace or 1}, nice {args.nice}): "
          f"exit {result.returncode}, wall {wall:.1f} s, peak RSS {peak_mb:,.0f} MB, "
          f"load average {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
