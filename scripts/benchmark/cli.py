"""Benchmark of orderdesk at merchant scale: orderdesk's own code paths beside naive baselines.

    .venv/bin/python scripts/bench.py                     # 5,000,000 orders, 2,000 stores, 3 years
    .venv/bin/python scripts/bench.py --orders 1000000    # issue 2's floor: 1M orders
    .venv/bin/python scripts/bench.py --only pages        # the Orders page queries alone

It builds the database once with ``core.demo.build_demo`` (timed, in a child process) into
``data/bench/`` (git-ignored) and reuses it while the parameters are the same (they are kept in a
``.json`` file beside it). Then, in one run, it times:

* orderdesk's code paths — ``Database.fetch_page`` (the count and a page of 15) for a user with 50
  stores over the last 12 months, per sort column, and the same for an admin over every store;
  searches by e-mail part, phone digits and exact order ID within the 50 stores; page 2,000; the
  Overview's figures; the Refunds register's pages per sort column and an export of about
  100,000 refunds (scripts/benchmark/register.py); exports of about 100,000 and 1,000,000 rows through
  ``Database.iter_export_rows`` and ``core.export.write_orders_xlsx`` (each in a child process, whose
  peak RSS is the export's); a signed-in rerun of the whole Orders page (AppTest, through the real
  sign-in form); the first Orders page of a freshly started ``streamlit run`` in Chromium;
* the naive baselines for the same page lines — the plain DuckDB query (``orders JOIN stores``
  with ``store_id IN (…)``, every column, ORDER BY … LIMIT, and a count), and the whole table in a
  pandas DataFrame (mask + ``sort_values`` + ``iloc``) — and the ratio baseline / orderdesk.

Times are wall-clock medians and 95th percentiles over ``--repeat`` runs after one warm-up run;
the CPU time of the process is printed beside them because the machine may be shared (the load
average is printed before and after). The results end with a Markdown table for the README.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
from datetime import date, datetime
from pathlib import Path

from scripts.benchmark.apptest import app_env, bench_users, child_apptest, measure_server
from scripts.benchmark.database import child_build, default_db, ensure_db, ensure_postgres
from scripts.benchmark.exports import EXPORT_ROWS, child_export, export_period
from scripts.benchmark.pages import Workload, measure_pages, workload
from scripts.benchmark.pandas_baseline import child_pandas, pandas_payload
from scripts.benchmark.register import child_register_export, measure_register
from scripts.benchmark.report import Line, markdown
from scripts.benchmark.timing import ROOT, TZ_NAME, Timing, child, load_average, ms, peak_rss_mb

# The works that run in a child process (``--child MODE PAYLOAD``), each printing its JSON.
CHILDREN = {"build": child_build, "export": child_export, "pandas": child_pandas,
            "apptest": child_apptest, "register-export": child_register_export}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=5_000_000)
    parser.add_argument("--stores", type=int, default=2_000)
    parser.add_argument("--legal-entities", type=int, default=200)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=15, help="timed runs per line (default 15)")
    parser.add_argument("--baseline-repeat", type=int, default=3,
                        help="timed runs per baseline line (default 3: they are slow)")
    parser.add_argument("--db", help="database file (default data/bench/orders-<N>.duckdb), or a "
                        "postgresql:// URL: the DuckDB file's data is copied into it when it "
                        "holds no orders, and the same lines are timed on PostgreSQL")
    parser.add_argument("--duckdb", help="with a postgresql:// --db: the DuckDB file its data "
                        "comes from (default data/bench/orders-<N>.duckdb, built when missing)")
    parser.add_argument("--rebuild", action="store_true", help="build the database again")
    parser.add_argument("--baselines", default="plain,pandas",
                        help="comma-separated: plain, pandas, or none (default plain,pandas)")
    parser.add_argument("--only", default="pages,export,register,app",
                        help="comma-separated parts: pages, export, register (the Refunds "
                        "register), app (default all)")
    parser.add_argument("--markdown", help="also write the Markdown table to this file")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def print_database(db: Path, meta: dict) -> None:
    s = meta["summary"]
    print(f"database {db.relative_to(ROOT) if db.is_relative_to(ROOT) else db}: "
          f"{s['orders']:,} orders, {s['stores']:,} stores, {s['legal_entities']:,} legal entities, "
          f"{s['items']:,} item lines; {db.stat().st_size / 1e6:,.0f} MB; built in "
          f"{meta['build_seconds']:.1f} s (peak {meta['build_peak_rss_mb']:,.0f} MB, load "
          f"{meta['build_load']}){' — reused' if meta['reused'] else ''}")


def run_pages(args, db: Path | str, w: Workload, lines: list[Line], notes: list[str]) -> None:
    print("Orders page queries (Store.fetch_page: count + page of 15), Overview figures:")
    measure_pages(args, db, w, lines)
    if "pandas" in args.baselines:
        print("\npandas baseline (whole table in a DataFrame) …", flush=True)
        frame = child("pandas", pandas_payload(db, w, args.baseline_repeat))
        for line in lines:
            line.pandas = frame["lines"].get(line.name)
        notes.append(f"pandas: {frame['load_seconds']:.1f} s to load the table, peak "
                     f"{frame['peak_rss_mb']:,.0f} MB")
        print("  " + notes[-1])
    notes.append(f"orderdesk page queries: peak {peak_rss_mb():,.0f} MB in this process")


def run_exports(db: Path | str, source: Path, orders: int, today: date,
                lines: list[Line]) -> None:
    print("\nExports (each in a child process: Store.iter_export_rows → write_orders_xlsx "
          "into memory, as the page does):")
    for rows in EXPORT_ROWS:
        if rows > orders:
            continue
        start, _counted = export_period(source, rows, today)
        key = "export 100k" if rows == 100_000 else "export 1M"
        result = child("export", {"db": str(db), "start": start.isoformat(),
                                  "end": today.isoformat()})
        line = Line(f"export of {result['rows']:,} rows (admin, {start} – {today})", key,
                    value=result["seconds"], memory_mb=result["peak_rss_mb"],
                    note=f"{result['file_mb']:.0f} MB file, progress ×{result['progress_calls']}")
        lines.append(line)
        print(f"  {line.name:58s} {ms(line.value):>10s}  peak {line.memory_mb:,.0f} MB  "
              f"({line.note})", flush=True)


def run_app(args, db: Path, w: Workload, lines: list[Line]) -> None:
    with tempfile.TemporaryDirectory(prefix="orderdesk-bench-") as tmp:
        root = Path(tmp)
        passwords = bench_users(root, w)
        print("\nAppTest: the signed-in Orders page, rerun after the first:")
        runs = child("apptest", {"env": app_env(db, root), "users": passwords,
                                 "repeat": args.repeat})
        for username, run in runs.items():
            who = "50 stores" if username == "bench.viewer" else "admin"
            line = Line(f"Orders page rerun (AppTest), {who}", "apptest",
                        orderdesk=Timing(run["wall"], run["cpu"]),
                        note=f"first run after sign-in {ms(run['first'])}")
            lines.append(line)
            print(f"  {line.name:58s} {ms(line.orderdesk.median):>10s} p95 "
                  f"{ms(line.orderdesk.p95):>10s}  ({line.note})", flush=True)
        print("\nFirst Orders page after `streamlit run` starts (Chromium):")
        server = measure_server(db, root, passwords)
        lines.append(Line("sign-in form of a freshly started server, in Chromium", None,
                          value=server["sign_in_form"],
                          note=f"from opening the URL; the server was healthy "
                               f"{ms(server['healthy'])} after `streamlit run`"))
        line = Line("first Orders page after the server starts, 50 stores", "first page",
                    value=server["first_page"], note="from the click on Login")
        lines.append(line)
        print(f"  {line.name:58s} {ms(line.value):>10s}  ({line.note}); server peak "
              f"{server.get('server_peak_rss_mb', 0):,.0f} MB", flush=True)


def table_header(args, load_before: str, load_after: str) -> str:
    return (f"`python scripts/bench.py --orders {args.orders} --stores {args.stores} "
            f"--legal-entities {args.legal_entities} --months {args.months} --repeat "
            f"{args.repeat}` on {os.cpu_count()} CPUs, {datetime.now():%Y-%m-%d}; load average "
            f"{load_before} before, {load_after} after (1 / 5 / 15 min). Medians and 95th "
            f"percentiles of {args.repeat} runs after a warm-up; baselines: median of "
            f"{args.baseline_repeat}. CPU: the process's CPU time per run (DuckDB uses both "
            f"cores).")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        mode, payload = args.child[0], json.loads(args.child[1])
        print(json.dumps(CHILDREN[mode](payload), default=str))
        return 0

    from core.db import open_database
    from core.db.postgres import is_postgres_url

    target = args.db if is_postgres_url(args.db) else None
    source = args.duckdb if target else args.db
    args.db = str(Path(source).resolve() if source else default_db(args))
    args.baselines = set(args.baselines.split(",")) - {"none"}
    parts = set(args.only.split(","))
    load_before = load_average()
    print(f"orderdesk benchmark — {datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} CPUs, "
          f"load average {load_before}")
    meta = ensure_db(args)
    db = Path(args.db)
    print_database(db, meta)
    today = date.fromisoformat(meta["today"])
    if target:
        # The same data on PostgreSQL; the pandas baseline and the app's lines stay DuckDB's.
        print(f"PostgreSQL: {ensure_postgres(target, db)}")
        db, args.baselines, parts = target, args.baselines - {"pandas"}, parts - {"app"}

    with open_database(db, read_only=True) as database:
        w = workload(database, today)
    print(f"user: {len(w.user_stores)} stores; period {w.start} – {w.end} ({TZ_NAME})\n")

    lines: list[Line] = []
    orders = meta["summary"]["orders"]
    build = Line(f"demo build of {orders:,} orders", "build", value=meta["build_seconds"],
                 memory_mb=meta["build_peak_rss_mb"])
    notes: list[str] = []
    if "pages" in parts:
        run_pages(args, db, w, lines, notes)
    if "export" in parts:
        run_exports(db, Path(args.db), orders, today, lines)
    if "register" in parts:
        measure_register(args, db, w, lines)
    if "app" in parts:
        run_app(args, db, w, lines)
    lines.append(build)
    table = markdown(lines, table_header(args, load_before, load_average()))
    if notes:
        table += "\n\n" + "\n".join(f"- {n}" for n in notes)
    print("\n" + table)
    if args.markdown:
        Path(args.markdown).write_text(table + "\n")
    return 0
