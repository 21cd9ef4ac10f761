"""Benchmark of the xlsx export writer (core.export): median seconds and peak memory.

Each run writes realistic synthetic orders in a fresh child process, so the peak RSS reported is
that of one export alone (interpreter and imports included). Rows are made on the fly, as the
store streams them, never held in a list.

    .venv/bin/python scripts/bench_export.py                 # 100,000 rows, 3 runs
    .venv/bin/python scripts/bench_export.py --million       # also 1,000,000 rows
    .venv/bin/python scripts/bench_export.py --rows 5000 --runs 1 --to-file

Targets: 100,000 rows ≤ 6 s and ≤ 300 MB; 1,000,000 rows ≤ 60 s and ≤ 400 MB.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.export import ExportInfo, write_orders_xlsx  # noqa: E402
from core.status import Channel, Status  # noqa: E402

TARGETS = {100_000: (6.0, 300), 1_000_000: (60.0, 400)}


def synthetic_rows(count: int):
    """Orders shaped like the demo data: 2,000 stores, 500 sales people, mixed scripts."""
    cities = ("Warszawa", "Kraków", "București", "Cluj-Napoca", "Москва", "Санкт-Петербург")
    zones = ("PL", "PL", "RO", "RO", "RU", "RU")
    stores = [
        (
            zones[i % 6],
            f"{('Sklep', 'Magazin', 'Магазин')[i % 3]} {cities[i % 6]} {i}",
            f"M-{i:05d}",
            f"ul. Długa {i % 200 + 1}, {i % 90 + 10:02d}-{i % 900 + 100} {cities[i % 6]}",
            ("Electro", "Moda", "Дом и сад", "Sport")[i % 4],
        )
        for i in range(2_000)
    ]
    people = [(f"SP{i:04d}", f"{('Anna', 'Ion', 'Ольга')[i % 3]} Nowak-{i}") for i in range(500)]
    statuses = tuple(status.value for status in (Status.COMPLETED, Status.COMPLETED,
                                                  Status.COMPLETED, Status.PENDING,
                                                  Status.RETURN, Status.CANCEL))
    start = date(2025, 1, 1)
    for i in range(count):
        zone, store_name, store_id, address, brand = stores[i * 7919 % 2_000]
        person_id, person_name = people[i % 500]
        online = i % 3 != 0
        yield (
            start + timedelta(days=i * 31 % 365),
            100_000_000 + i,
            f"{i * 48271 % 10_000_000:07d}" if online else f"29{i:011d}",
            Decimal(i * 7_919 % 1_000_000 + 100) / 100,
            statuses[i % 6] if online else statuses[i % 3],
            f"customer{i}@example.com",
            f"+48 {600 + i % 300} {i % 1000:03d} {i * 7 % 1000:03d}" if zone == "PL" else f"0040{i:09d}",
            zone,
            store_name,
            store_id,
            address,
            brand,
            person_id,
            person_name,
            Channel.ONLINE.value if online else Channel.OFFLINE.value,
        )


def one_run(count: int, to_file: bool) -> dict:
    info = ExportInfo(
        exported_at=datetime.now(ZoneInfo("Europe/Warsaw")),
        exported_by="Bench (bench)",
        filters="No filters",
        search="",
        sort="Order date, newest first",
        time_zone="Europe/Warsaw",
        row_count=count,
        total_captured_amount=Decimal("0"),
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench.xlsx" if to_file else io.BytesIO()
        started = time.perf_counter()
        written = write_orders_xlsx(out, synthetic_rows(count), info)
        seconds = time.perf_counter() - started
        size = out.stat().st_size if to_file else out.getbuffer().nbytes
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {"rows": written, "seconds": seconds, "peak_mb": peak_kib / 1024, "file_mb": size / 1e6}


def measure(count: int, runs: int, to_file: bool) -> None:
    results = []
    for _ in range(runs):
        child = subprocess.run(
            [sys.executable, __file__, "--child", str(count)] + (["--to-file"] if to_file else []),
            check=True,
            capture_output=True,
            text=True,
        )
        results.append(json.loads(child.stdout.splitlines()[-1]))
    seconds = statistics.median(r["seconds"] for r in results)
    peak_mb = max(r["peak_mb"] for r in results)
    each = ", ".join(f"{r['seconds']:.2f}" for r in results)
    line = (
        f"{count:>9,} rows → {'file' if to_file else 'BytesIO'}: median {seconds:.2f} s "
        f"over {runs} run(s) (each: {each}), "
        f"peak RSS {peak_mb:.0f} MB, file {results[0]['file_mb']:.1f} MB"
    )
    if count in TARGETS:
        max_seconds, max_mb = TARGETS[count]
        ok = seconds <= max_seconds and peak_mb <= max_mb
        line += f"  [target ≤ {max_seconds:.0f} s, ≤ {max_mb} MB: {'met' if ok else 'MISSED'}]"
    print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--million", action="store_true", help="also measure 1,000,000 rows")
    parser.add_argument("--to-file", action="store_true", help="write to a path, not a BytesIO")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(one_run(args.child, args.to_file)))
        return
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs", flush=True)
    measure(args.rows, args.runs, args.to_file)
    if args.million:
        measure(1_000_000, args.runs, args.to_file)


if __name__ == "__main__":
    main()
