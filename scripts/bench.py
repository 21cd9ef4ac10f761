"""Benchmark of orderdesk at merchant scale: orderdesk's own code paths beside naive baselines.

    .venv/bin/python scripts/bench.py                     # 5,000,000 orders, 2,000 stores, 3 years
    .venv/bin/python scripts/bench.py --orders 1000000    # issue 2's floor: 1M orders
    .venv/bin/python scripts/bench.py --only pages        # the Orders page queries alone

It builds the database once with ``core.demo.build_demo`` (timed, in a child process) into
``data/bench/`` (git-ignored) and reuses it while the parameters are the same (they are kept in a
``.json`` file beside it). Then, in one run, it times:

* orderdesk's code paths — ``Store.fetch_page`` (the count and a page of 15) for a user with 50
  stores over the last 12 months, per sort column, and the same for an admin over every store;
  searches by e-mail part, phone digits and exact order ID within the 50 stores; page 2,000; the
  Overview's figures; exports of about 100,000 and 1,000,000 rows through
  ``Store.iter_export_rows`` and ``core.export.write_orders_xlsx`` (each in a child process, whose
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
import contextlib
import hashlib
import io
import json
import math
import os
import random
import re
import resource
import secrets
import socket
import statistics
import string
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TZ_NAME = "Europe/Warsaw"
USER_STORES = 50
DEEP_PAGE = 2_000
EXPORT_ROWS = (100_000, 1_000_000)
CAPTION = re.compile(r"([\d,]+)–([\d,]+) of ([\d,]+) orders · page ([\d,]+) of ([\d,]+)")

# work → target (seconds, or None), as issue 5 states them.
TARGETS = {
    "page": 0.040, "admin": 0.040, "search e-mail": 0.060, "search phone": 0.060,
    "search order ID": 0.010, "deep page": 0.060, "apptest": 0.250, "first page": 3.0,
    "export 100k": 6.0, "export 1M": 60.0, "build": 120.0,
}
MEMORY_TARGETS_MB = {"export 100k": 300, "export 1M": 400}


# --- small helpers ----------------------------------------------------------------------------------


def load_average() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM, not getrusage's ru_maxrss: a child forked
    from a large parent would report the parent's size (Linux keeps maxrss across exec)."""
    with contextlib.suppress(OSError):
        status = Path("/proc/self/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+)", status)[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


@dataclass
class Timing:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    @property
    def p95(self) -> float:
        return p95(self.wall)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu) if self.cpu else float("nan")


def timed(run, repeat: int, warm_up: int = 1) -> Timing:
    for _ in range(warm_up):
        run()
    timing = Timing()
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        timing.cpu.append(time.process_time() - cpu)
        timing.wall.append(time.perf_counter() - wall)
    return timing


def ms(seconds: float | None) -> str:
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "—"
    if seconds >= 10:
        return f"{seconds:,.1f} s"
    if seconds >= 1:
        return f"{seconds:,.2f} s"
    return f"{seconds * 1000:,.1f} ms"


def child(mode: str, payload: dict, timeout: float = 3600) -> dict:
    """Run this script in ``--child MODE`` in a fresh process; its last stdout line is JSON."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, json.dumps(payload, default=str)],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(f"child {mode} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the database ---------------------------------------------------------------------------------


def default_db(args: argparse.Namespace) -> Path:
    label = (f"{args.orders // 1_000_000}m" if args.orders % 1_000_000 == 0
             else f"{args.orders // 1000}k" if args.orders % 1000 == 0 else str(args.orders))
    return ROOT / "data" / "bench" / f"orders-{label}.duckdb"


def demo_fingerprint() -> str:
    return hashlib.sha256((ROOT / "core" / "demo.py").read_bytes()).hexdigest()[:12]


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
                print(f"  note: core/demo.py changed since {db.name} was built; --rebuild to redo")
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


# --- what is measured -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """The users, views and searches of one run, derived from the database deterministically."""

    user_stores: tuple[str, ...]
    start: date  # the last 12 months, as the "Last 12 months" preset
    end: date
    email_part: str
    phone_digits: str
    order_id: str


def workload(database, today: date) -> Workload:
    from core.query import OrderQuery

    with database.cursor() as cur:
        ids = [r[0] for r in cur.execute("SELECT store_id FROM stores ORDER BY store_id").fetchall()]
        user_stores = tuple(sorted(random.Random(USER_STORES).sample(ids, min(USER_STORES, len(ids)))))
        # The searches look for one real order of the user's: the newest one with a phone.
        where, params = OrderQuery().orders_where(ZoneInfo(TZ_NAME), user_stores)
        order_id, email, phone = cur.execute(
            f"SELECT o.order_id, o.email, o.phone_digits FROM orders o WHERE {where} "
            "AND o.phone_digits IS NOT NULL AND o.email IS NOT NULL "
            "ORDER BY o.created_at DESC LIMIT 1", params,
        ).fetchone()
    digits = phone[-7:]
    return Workload(
        user_stores=user_stores,
        start=today - timedelta(days=364),
        end=today,
        email_part=email.split("@")[0].lower() + "@",
        phone_digits=f"{digits[:3]} {digits[3:]}",
        order_id=str(order_id),
    )


def page_lines(w: Workload):
    """(line name, target key, scope, query, page) for every Orders page line."""
    from core.query import COLUMNS, OrderQuery
    from core.users import Scope

    user = Scope(False, frozenset(), frozenset(w.user_stores))
    admin = Scope.everything()
    year = OrderQuery(start=w.start, end=w.end)
    lines = []
    for column in COLUMNS:
        lines.append((f"50 stores, 1 year, by {column}", "page", user,
                      year.with_changes(sort=column), 1))
    for column in COLUMNS:
        lines.append((f"admin, 1 year, by {column}", "admin", admin,
                      year.with_changes(sort=column), 1))
    lines += [
        (f"search e-mail part “{w.email_part}”, 50 stores", "search e-mail", user,
         OrderQuery(search=w.email_part), 1),
        (f"search phone digits “{w.phone_digits}”, 50 stores", "search phone", user,
         OrderQuery(search=w.phone_digits), 1),
        (f"search order ID {w.order_id}, 50 stores", "search order ID", user,
         OrderQuery(search=w.order_id), 1),
        (f"page {DEEP_PAGE:,}, 50 stores, 1 year", "deep page", user, year, DEEP_PAGE),
        (f"page {DEEP_PAGE:,}, admin, 1 year", "deep page", admin, year, DEEP_PAGE),
    ]
    return lines


@dataclass
class Line:
    name: str
    target_key: str | None
    orderdesk: Timing | None = None
    plain: Timing | None = None
    pandas: float | None = None  # median seconds
    note: str = ""
    value: float | None = None  # a single figure (seconds) when there is no Timing
    memory_mb: float | None = None


def plain_duckdb(cur, scope, query, tz, page: int) -> None:
    """The naive query: orders JOIN stores, the scope as ``store_id IN (…)``, every column."""
    from core.query import COLUMNS, FROM_SQL, PAGE_SIZE

    where, params = query.where_clause(scope, tz)
    cur.execute(f"SELECT count(*), sum(o.amount) FROM {FROM_SQL} WHERE {where}", params).fetchone()
    select = ", ".join(f'{sql} AS "{label}"' for label, sql in COLUMNS.items())
    cur.execute(
        f"SELECT {select} FROM {FROM_SQL} WHERE {where} ORDER BY {query.order_by()} "
        "LIMIT ? OFFSET ?", [*params, PAGE_SIZE, (page - 1) * PAGE_SIZE],
    ).fetchall()


def measure_pages(args, db: Path, w: Workload, lines_out: list[Line]) -> None:
    from core.overview import fetch_overview
    from core.query import OrderQuery
    from core.db import SERVER_MEMORY_LIMIT, Database
    from core.users import Scope

    tz = ZoneInfo(TZ_NAME)
    # As the server opens it (ui/context.py); the plain baseline runs on the same connection.
    database = Database(db, read_only=True, memory_limit=SERVER_MEMORY_LIMIT)
    try:
        for name, key, scope, query, page in page_lines(w):
            line = Line(name, key)
            line.orderdesk = timed(lambda: database.fetch_page(scope, query, tz, page), args.repeat)
            result = database.fetch_page(scope, query, tz, page)
            line.note = f"{result.total:,} orders"
            if result.page != page:
                line.note += f"; page {page:,} is past the end: the last, {result.page:,}"
            if "plain" in args.baselines:
                with database.cursor() as cur:
                    line.plain = timed(lambda: plain_duckdb(cur, scope, query, tz, page),
                                       args.baseline_repeat)
            lines_out.append(line)
            print(f"  {name:58s} {ms(line.orderdesk.median):>10s} p95 {ms(line.orderdesk.p95):>10s}"
                  f"  cpu {ms(line.orderdesk.cpu_median):>10s}"
                  + (f"   plain {ms(line.plain.median):>10s}" if line.plain else "")
                  + f"   ({line.note})", flush=True)
        user = Scope(False, frozenset(), frozenset(w.user_stores))
        for name, scope in (("Overview figures, 50 stores, 1 year", user),
                            ("Overview figures, admin, 1 year", Scope.everything())):
            query = OrderQuery(start=w.start, end=w.end)
            line = Line(name, None)
            line.orderdesk = timed(lambda: fetch_overview(database, scope, query, tz, today=w.end),
                                   args.repeat)
            lines_out.append(line)
            print(f"  {name:58s} {ms(line.orderdesk.median):>10s} p95 {ms(line.orderdesk.p95):>10s}"
                  f"  cpu {ms(line.orderdesk.cpu_median):>10s}", flush=True)
    finally:
        database.close()


# --- pandas -----------------------------------------------------------------------------------------


def child_pandas(payload: dict) -> dict:
    """The whole table in a DataFrame; each line: mask + sort_values + iloc (and the count)."""
    import duckdb
    import pandas as pd  # noqa: F401 - .df() needs it

    from core.query import COLUMNS

    start = time.perf_counter()
    con = duckdb.connect(payload["db"], read_only=True)
    frame = con.execute(
        "SELECT o.*, s.store_name, s.merchant_store_id AS store_ref, s.region, s.legal_entity, "
        "s.zone FROM orders o JOIN stores s ON s.store_id = o.store_id"
    ).df()
    con.close()
    load_seconds = time.perf_counter() - start
    field_of = {label: sql.split(".")[1] for label, sql in COLUMNS.items()}
    field_of["Store ID"] = "store_ref"
    tz = ZoneInfo(TZ_NAME)

    def utc(day: str) -> pd.Timestamp:
        moment = datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=tz)
        return pd.Timestamp(moment.astimezone(timezone.utc).replace(tzinfo=None))

    results = {}
    for line in payload["lines"]:
        def run(line=line):
            mask = pd.Series(True, index=frame.index)
            if line["stores"] is not None:
                mask &= frame["store_id"].isin(line["stores"])
            if line["start"]:
                mask &= frame["created_at"] >= utc(line["start"])
                mask &= frame["created_at"] < utc(line["end_next"])
            if line["email"]:
                mask &= frame["email"].str.lower().str.contains(line["email"], regex=False,
                                                                na=False)
            if line["digits"]:
                found = frame["phone_digits"].str.contains(line["digits"], regex=False, na=False)
                found |= frame["merchant_order_id"] == line["digits"]
                found |= frame["order_id"] == int(line["digits"])
                mask &= found
            chosen = frame[mask]
            _count, _total = len(chosen), chosen["amount"].sum()
            column = field_of[line["sort"]]
            keys = [column, "order_id"] if column != "order_id" else ["order_id"]
            ordered = chosen.sort_values(keys, ascending=False, na_position="last")
            first = (line["page"] - 1) * 15
            return ordered.iloc[first:first + 15]

        timing = timed(run, payload["repeat"], warm_up=0)
        results[line["name"]] = timing.median
    return {"load_seconds": load_seconds, "peak_rss_mb": peak_rss_mb(), "lines": results}


def pandas_payload(db: Path, w: Workload, repeat: int) -> dict:
    from core.query import Search

    lines = []
    for name, _key, scope, query, page in page_lines(w):
        search = Search.parse(query.search)
        lines.append({
            "name": name, "sort": query.sort, "page": page,
            "stores": None if scope.all_orders else sorted(scope.stores),
            "start": query.start.isoformat() if query.start else None,
            "end_next": (query.end + timedelta(days=1)).isoformat() if query.end else None,
            "email": search.value if search.kind == "email" else None,
            "digits": search.value if search.kind == "digits" else None,
        })
    return {"db": str(db), "lines": lines, "repeat": repeat}


# --- export -----------------------------------------------------------------------------------------


def export_period(db: Path, rows: int, today: date) -> tuple[date, int]:
    """The start of the period (ending today) holding at least ``rows`` orders, for an admin."""
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        per_day = con.execute(
            "SELECT CAST(timezone(?, created_at::TIMESTAMPTZ) AS DATE) AS d, count(*) "
            "FROM orders GROUP BY d ORDER BY d DESC", [TZ_NAME]
        ).fetchall()
    seen = 0
    for day, count in per_day:
        seen += count
        if seen >= rows:
            return day, seen
    return per_day[-1][0], seen


def child_export(payload: dict) -> dict:
    from core.export import ExportInfo, write_orders_xlsx
    from core.query import OrderQuery
    from core.db import SERVER_MEMORY_LIMIT, Database
    from core.users import Scope

    tz = ZoneInfo(TZ_NAME)
    query = OrderQuery(start=date.fromisoformat(payload["start"]),
                       end=date.fromisoformat(payload["end"]))
    scope = Scope.everything()
    baseline_rss = peak_rss_mb()
    start = time.perf_counter()
    # Opened as the server opens it (ui/context.py), with DuckDB's memory limit.
    database = Database(payload["db"], read_only=True, memory_limit=SERVER_MEMORY_LIMIT)
    total, total_amount = database.count_orders(scope, query, tz)
    info = ExportInfo(exported_at=datetime.now(tz), exported_by="Bench (bench)",
                      filters=query.describe_filters(), search="", sort=query.describe_sort(),
                      time_zone=TZ_NAME, row_count=total, total_captured_amount=total_amount)
    calls = []
    # As ui/exporting.py does: into memory, handed to the download button as bytes.
    buffer = io.BytesIO()
    written = write_orders_xlsx(buffer, database.iter_export_rows(scope, query, tz), info,
                                progress=calls.append)
    content = buffer.getvalue()
    seconds = time.perf_counter() - start
    database.close()
    return {"seconds": seconds, "rows": written, "progress_calls": len(calls),
            "file_mb": len(content) / 1e6, "peak_rss_mb": peak_rss_mb(),
            "rss_before_mb": baseline_rss}


# --- the app: AppTest rerun and the first page of a fresh server -----------------------------------


def bench_users(root: Path, w: Workload) -> dict[str, str]:
    """A users file with a 50-store viewer and an admin; returns their passwords."""
    from core.users import User, hash_password, save_users

    passwords = {"bench.viewer": secrets.token_urlsafe(12), "bench.admin": secrets.token_urlsafe(12)}
    save_users(root / "users.yaml", {
        "bench.viewer": User("bench.viewer", "Bench Viewer", "viewer@example.com",
                             hash_password(passwords["bench.viewer"]), "viewer",
                             stores=w.user_stores),
        "bench.admin": User("bench.admin", "Bench Admin", "admin@example.com",
                            hash_password(passwords["bench.admin"]), "admin"),
    })
    return passwords


def app_env(db: Path, root: Path) -> dict[str, str]:
    alphabet = string.ascii_letters + string.digits
    return {"ORDERDESK_DB": str(db), "ORDERDESK_USERS": str(root / "users.yaml"),
            "ORDERDESK_COOKIE_KEY": "".join(secrets.choice(alphabet) for _ in range(48)),
            "ORDERDESK_TZ": TZ_NAME}


def child_apptest(payload: dict) -> dict:
    """The signed-in Orders page rerun, through app.py and the real sign-in form."""
    os.environ.update(payload["env"])
    from streamlit.testing.v1 import AppTest

    results = {}
    for username, password in payload["users"].items():
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.run()
        boxes = {t.label: t for t in at.text_input}
        boxes["Username"].input(username)
        boxes["Password"].input(password)
        next(b for b in at.button if b.label == "Login").click()
        start = time.perf_counter()
        at.run()
        if at.session_state["authentication_status"]:
            # In the browser the sign-in cookie component's answer reruns the script; AppTest
            # has no browser, so rerun by hand (as tests/pages/conftest.py does).
            at.run()
        first = time.perf_counter() - start
        captions = " ".join(c.value for c in at.caption)
        if not CAPTION.search(captions):
            raise RuntimeError(f"no Orders caption after sign-in for {username}: {captions[:300]}"
                               f" {[e.value for e in at.exception]}")
        timing = timed(at.run, payload["repeat"], warm_up=0)
        if at.exception:
            raise RuntimeError(str(at.exception[0].value))
        results[username] = {"first": first, "wall": timing.wall, "cpu": timing.cpu}
    return results


def measure_server(db: Path, root: Path, passwords: dict[str, str]) -> dict:
    """``streamlit run app.py`` on the database; Chromium signs in and waits for the first page."""
    from playwright.sync_api import expect, sync_playwright

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    log = open(root / "server.log", "wb")
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env={**os.environ, **app_env(db, root)}, stdout=log, stderr=subprocess.STDOUT,
    )
    result = {}
    try:
        while True:
            with contextlib.suppress(urllib.error.URLError, OSError):
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            if process.poll() is not None or time.perf_counter() - started > 120:
                raise RuntimeError((root / "server.log").read_text(errors="replace")[-3000:])
            time.sleep(0.05)
        result["healthy"] = time.perf_counter() - started
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                         args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            opened = time.perf_counter()
            page.goto(url)
            box = page.get_by_role("textbox", name="Username")
            expect(box).to_be_visible(timeout=60_000)
            result["sign_in_form"] = time.perf_counter() - opened
            box.fill("bench.viewer")
            page.get_by_role("textbox", name="Password").fill(passwords["bench.viewer"])
            page.wait_for_timeout(500)  # as the browser tests: the form registers both values
            clicked = time.perf_counter()
            page.get_by_role("button", name="Login").click()
            expect(page.get_by_text(CAPTION)).to_be_visible(timeout=120_000)
            result["first_page"] = time.perf_counter() - clicked
            browser.close()
        with contextlib.suppress(OSError):
            status = Path(f"/proc/{process.pid}/status").read_text()
            result["server_peak_rss_mb"] = int(re.search(r"VmHWM:\s+(\d+)", status)[1]) / 1024
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
        log.close()
    return result


# --- the report -------------------------------------------------------------------------------------


def ratio(baseline: float | None, ours: float | None) -> str:
    if not baseline or not ours:
        return "—"
    return f"{baseline / ours:,.1f}×"


def target_text(key: str | None) -> str:
    if key is None or key not in TARGETS:
        return "—"
    text = f"≤ {ms(TARGETS[key])}"
    if key in MEMORY_TARGETS_MB:
        text += f", ≤ {MEMORY_TARGETS_MB[key]} MB"
    return text


def markdown(lines: list[Line], header: str) -> str:
    out = [header, "",
           "| work | target | orderdesk median | p95 | CPU | plain DuckDB | × | pandas | × |",
           "|---|---|---|---|---|---|---|---|---|"]
    for line in lines:
        if line.orderdesk is not None:
            ours = line.orderdesk.median
            cells = [ms(ours), ms(line.orderdesk.p95), ms(line.orderdesk.cpu_median)]
        else:
            ours = line.value
            cells = [ms(ours), "—", "—"]
        if line.memory_mb is not None:
            cells[0] += f", {line.memory_mb:,.0f} MB"
        plain = line.plain.median if line.plain else None
        name = line.name + (f" ({line.note})" if line.note else "")
        out.append(f"| {name} | {target_text(line.target_key)} | {' | '.join(cells)} | "
                   f"{ms(plain)} | {ratio(plain, ours)} | {ms(line.pandas)} | "
                   f"{ratio(line.pandas, ours)} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
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
    parser.add_argument("--db", help="database file (default data/bench/orders-<N>.duckdb)")
    parser.add_argument("--rebuild", action="store_true", help="build the database again")
    parser.add_argument("--baselines", default="plain,pandas",
                        help="comma-separated: plain, pandas, or none (default plain,pandas)")
    parser.add_argument("--only", default="pages,export,app",
                        help="comma-separated parts: pages, export, app (default all)")
    parser.add_argument("--markdown", help="also write the Markdown table to this file")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        mode, payload = args.child[0], json.loads(args.child[1])
        result = {"build": child_build, "export": child_export, "pandas": child_pandas,
                  "apptest": child_apptest}[mode](payload)
        print(json.dumps(result, default=str))
        return 0

    args.db = str(Path(args.db).resolve() if args.db else default_db(args))
    args.baselines = set(args.baselines.split(",")) - {"none"}
    parts = set(args.only.split(","))
    load_before = load_average()
    print(f"orderdesk benchmark — {datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} CPUs, "
          f"load average {load_before}")
    meta = ensure_db(args)
    db = Path(args.db)
    s = meta["summary"]
    print(f"database {db.relative_to(ROOT) if db.is_relative_to(ROOT) else db}: "
          f"{s['orders']:,} orders, {s['stores']:,} stores, {s['legal_entities']:,} legal entities, "
          f"{s['items']:,} item lines; {db.stat().st_size / 1e6:,.0f} MB; built in "
          f"{meta['build_seconds']:.1f} s (peak {meta['build_peak_rss_mb']:,.0f} MB, load "
          f"{meta['build_load']}){' — reused' if meta['reused'] else ''}")
    today = date.fromisoformat(meta["today"])

    from core.db import Database

    with Database(db, read_only=True) as database:
        w = workload(database, today)
    print(f"user: {len(w.user_stores)} stores; period {w.start} – {w.end} ({TZ_NAME})\n")

    lines: list[Line] = []
    build = Line(f"demo build of {s['orders']:,} orders", "build", value=meta["build_seconds"],
                 memory_mb=meta["build_peak_rss_mb"])
    notes = []
    if "pages" in parts:
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

    if "export" in parts:
        print("\nExports (each in a child process: Store.iter_export_rows → write_orders_xlsx "
              "into memory, as the page does):")
        for rows in EXPORT_ROWS:
            if rows > s["orders"]:
                continue
            start, counted = export_period(db, rows, today)
            key = "export 100k" if rows == 100_000 else "export 1M"
            result = child("export", {"db": str(db), "start": start.isoformat(),
                                      "end": today.isoformat()})
            line = Line(f"export of {result['rows']:,} rows (admin, {start} – {today})", key,
                        value=result["seconds"], memory_mb=result["peak_rss_mb"],
                        note=f"{result['file_mb']:.0f} MB file, progress ×{result['progress_calls']}")
            lines.append(line)
            print(f"  {line.name:58s} {ms(line.value):>10s}  peak {line.memory_mb:,.0f} MB  "
                  f"({line.note})", flush=True)

    if "app" in parts:
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

    lines.append(build)
    load_after = load_average()
    header = (f"`python scripts/bench.py --orders {args.orders} --stores {args.stores} "
              f"--legal-entities {args.legal_entities} --months {args.months} --repeat "
              f"{args.repeat}` on {os.cpu_count()} CPUs, {datetime.now():%Y-%m-%d}; load average "
              f"{load_before} before, {load_after} after (1 / 5 / 15 min). Medians and 95th "
              f"percentiles of {args.repeat} runs after a warm-up; baselines: median of "
              f"{args.baseline_repeat}. CPU: the process's CPU time per run (DuckDB uses both "
              f"cores).")
    table = markdown(lines, header)
    if notes:
        table += "\n\n" + "\n".join(f"- {n}" for n in notes)
    print("\n" + table)
    if args.markdown:
        Path(args.markdown).write_text(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
