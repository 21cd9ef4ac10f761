"""An import of many orders while analysts work, on PostgreSQL: the sessions' times with and
without it.

    .venv/bin/python scripts/measure_import_under_load.py --db postgresql://… \\
        --oracle-db data/bench/orders-5m.duckdb --orders 1000000 --first-id 7000000

Two runs of the load generator (``scripts/loadgen.py --serve`` on the database itself, the same
sessions and seed, ``--duration`` seconds each): the first alone, the second with
``scripts/measure_import.py`` started ``--import-after`` seconds in. The imported orders belong to stores of their own (``--store-
prefix``), outside the scopes of the load's users (refunder, viewer, viewer.store: not admin,
whose every count the import changes), so that the sessions' counts stay checkable while it runs.
The import's orders are new IDs from ``--first-id``: run the second measurement on a database
that does not hold them yet (each run adds them). The import runs as the service
(deploy/systemd/orderdesk-import.service) runs it: ``--pace 0.6`` at niceness 10 (``--pace 1
--nice 0``: at full speed). It prints each run's median and p95 per kind
of interaction, their ratio, and the import's wall time; the exit code is 1 when a run had errors.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
USERS = "refunder,viewer,viewer.store"
# How deploy/systemd/orderdesk-import.service runs the import.
UNIT_PACE, UNIT_NICE = "0.6", 10


def load_run(args, json_path: Path, duration: float) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "scripts/loadgen.py", "--serve", "--db", args.db, "--oracle-db",
         str(args.oracle_db), "--users-file", str(args.users_file), "--users", USERS,
         "--sessions", str(args.sessions), "--interval", str(args.interval),
         "--duration", str(duration), "--json", str(json_path)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def kinds(result: dict) -> dict[str, dict]:
    return {row["kind"]: row for row in result["kinds"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="the postgresql:// URL")
    parser.add_argument("--oracle-db", type=Path, required=True,
                        help="the DuckDB file the database's data was copied from")
    parser.add_argument("--users-file", type=Path, default=Path("data/users.yaml"),
                        help="the demo users (in the database too: python -m core users import)")
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--first-id", type=int, default=7_000_000)
    parser.add_argument("--store-prefix", default="IMP")
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--import-after", type=float, default=20.0)
    parser.add_argument("--pace", default=UNIT_PACE,
                        help=f"the import's --pace (default {UNIT_PACE}, as the service runs it)")
    parser.add_argument("--nice", type=int, default=UNIT_NICE,
                        help=f"the import's niceness (default {UNIT_NICE}, the service's Nice=)")
    parser.add_argument("--duration", type=float, default=300.0,
                        help="seconds of load per run (default 300: longer than the import)")
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="orderdesk-import-load-"))
    quiet = load_run(args, folder / "without.json", args.duration)
    print(quiet.communicate()[0].strip().splitlines()[-1])
    loaded = load_run(args, folder / "with.json", args.duration)
    time.sleep(args.import_after)
    started = time.perf_counter()
    importer = subprocess.run(
        [sys.executable, "scripts/measure_import.py", "--db", args.db, "--orders",
         str(args.orders), "--first-id", str(args.first_id), "--store-prefix",
         args.store_prefix, "--folder", str(ROOT / "data" / "bench" / "import-under-load"),
         "--pace", args.pace, "--nice", str(args.nice)],
        cwd=ROOT, capture_output=True, text=True)
    import_s = time.perf_counter() - started
    print(loaded.communicate()[0].strip().splitlines()[-1])
    last = (importer.stdout.strip().splitlines() or [importer.stderr.strip()])[-1]
    print(f"import: {last} (exit {importer.returncode}, {import_s:.1f} s, the load still "
          f"running: {import_s + args.import_after < args.duration})")
    results = {name: json.loads((folder / f"{name}.json").read_text())
               for name in ("with", "without")}
    quiet_k, busy_k = kinds(results["without"]), kinds(results["with"])
    print(f"{'kind':16s} {'median alone':>13s} {'p95 alone':>10s} {'median w/ import':>17s} "
          f"{'p95 w/ import':>14s} {'p95 ×':>6s}")
    for kind, row in quiet_k.items():
        busy = busy_k.get(kind)
        if busy is None:
            continue
        if not (row["p95_s"] and busy["p95_s"]):
            continue
        print(f"{kind:16s} {1000 * row['median_s']:>11.1f}ms {1000 * row['p95_s']:>8.1f}ms "
              f"{1000 * busy['median_s']:>15.1f}ms {1000 * busy['p95_s']:>12.1f}ms "
              f"{busy['p95_s'] / row['p95_s']:>5.2f}×")
    errors = results["with"]["errors"] + results["without"]["errors"]
    print(f"errors: {results['with']['errors']} with the import, "
          f"{results['without']['errors']} without")
    return 1 if errors or importer.returncode else 0


if __name__ == "__main__":
    sys.exit(main())
