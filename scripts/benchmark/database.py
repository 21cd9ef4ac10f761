"""The benchmark's database: built once with ``core.demo.build_demo`` (timed, in a child process)
into ``data/bench/`` and reused while its parameters, kept in a ``.json`` file beside it, are the
same."""
from __future__ import annotations

import argparse
import hashlib
import json
import time
from datetime import datetime, timezone
from pathlib import Path

from scripts.benchmark.timing import ROOT, child, load_average, peak_rss_mb


def default_db(args: argparse.Namespace) -> Path:
    label = (f"{args.orders // 1_000_000}m" if args.orders % 1_000_000 == 0
             else f"{args.orders // 1000}k" if args.orders % 1000 == 0 else str(args.orders))
    return ROOT / "data" / "bench" / f"orders-{label}.duckdb"


def demo_fingerprint() -> str:
    """A hash of the demo generator's source (its plan and its SQL), so that a database built by
    older code is noticed."""
    sources = sorted(path for folder in (ROOT / "core" / "demo", ROOT / "core" / "db" / "demo_data")
                     for path in folder.rglob("*.py"))
    digest = hashlib.sha256()
    for source in sources:
        digest.update(source.read_bytes())
    return digest.hexdigest()[:12]


def ensure_db(args: argparse.Namespace) -> dict:
    """The database for these parameters, built (timed, in a child) unless it exists already."""
    db = Path(args.db)
    sidecar = db.with_name(db.name + ".json")
    params = {"orders": args.orders, "stores": args.stores, "legal_entities": args.legal_entities,
              "months": args.months, "seed": args.seed}
    if db.exists() and sidecar.exists() and not args.rebuild:
        meta = json.loads(sidecar.read_text())
        if meta.get("params") == params:
            meta["reused"] = True
            if meta.get("demo") != demo_fingerprint():
                print(f"  note: the demo generator changed since {db.name} was built; --rebuild to redo")
            return meta
    for path in (db, db.with_name(db.name + ".wal"), sidecar):
        path.unlink(missing_ok=True)
    db.parent.mkdir(parents=True, exist_ok=True)
    print(f"building {db} with core.demo.build_demo({params}) …", flush=True)
    built = child("build", {"db": str(db), **params})
    meta = {"params": params, "demo": demo_fingerprint(), "today": built["today"],
            "build_seconds": built["seconds"], "build_peak_rss_mb": built["peak_rss_mb"],
            "build_load": built["load"], "summary": built["summary"], "reused": False}
    sidecar.write_text(json.dumps(meta, indent=2))
    return meta


def child_build(payload: dict) -> dict:
    from core.demo import build_demo
    from core.db import Database, cluster_search_index

    today = datetime.now(timezone.utc).date()
    start = time.perf_counter()
    database = Database(payload["db"])
    summary = build_demo(database, orders=payload["orders"], seed=payload["seed"], today=today,
                         stores=payload["stores"], legal_entities=payload["legal_entities"],
                         months=payload["months"])
    database.close()  # the checkpoint is part of the build, as in ``python -m core demo``
    cluster_search_index(payload["db"])  # and so is the search index's clustering
    return {"seconds": time.perf_counter() - start, "peak_rss_mb": peak_rss_mb(),
            "today": today.isoformat(), "summary": summary.__dict__, "load": load_average()}



def ensure_postgres(url: str, source: Path) -> str:
    """The PostgreSQL database ``url`` with the DuckDB file's data: copied in (timed) when it
    holds no orders, then vacuumed and analysed, as after any bulk load, so that its indexes can
    be read without visiting the table (the visibility map)."""
    from core.db import open_database
    from core.db.postgres.copying import copy_from_duckdb

    with open_database(url) as database:
        with database.cursor() as cur:
            orders = cur.execute("SELECT count(*) FROM orders").fetchone()[0]
            if orders:
                return f"{orders:,} orders already there — reused"
        start = time.perf_counter()
        counts = copy_from_duckdb(source, database)
        copied = time.perf_counter() - start
        with database.cursor() as cur:
            cur.execute("VACUUM (ANALYZE)")
    return (f"copied {counts.get('orders', 0):,} orders from {source.name} in {copied:.0f} s, "
            f"then vacuumed in {time.perf_counter() - start - copied:.0f} s")
