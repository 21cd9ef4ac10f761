"""The Refunds register's lines (issue 14): ``core.db.refunds.fetch_refund_page`` (the count, the
total and a page of 15) for the 50-store user and for an admin over the last 12 months of refund
dates, per sort column; and an export of about 100,000 refunds (``iter_refund_rows`` into
``write_refunds_xlsx`` in memory, as the page does), in a child process whose peak is the
export's."""
from __future__ import annotations

import io
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from scripts.benchmark.pages import Workload
from scripts.benchmark.report import Line
from scripts.benchmark.timing import TZ_NAME, child, ms, peak_rss_mb, timed

EXPORT_REFUNDS = 100_000


def register_lines(w: Workload):
    """(line name, target key, scope, query) for every register line."""
    from core.query import OrderQuery
    from core.refunds import SORT_LABELS, RefundQuery
    from core.users import Scope

    year = OrderQuery(start=w.start, end=w.end)
    lines = []
    for who, key, scope in (("50 stores", "register", Scope(False, frozenset(),
                                                            frozenset(w.user_stores))),
                            ("admin", "register admin", Scope.everything())):
        for column in SORT_LABELS:
            lines.append((f"Refunds register, {who}, 1 year, by {column}", key, scope,
                          RefundQuery(view=year, sort=column)))
    return lines


def measure_register(args, db: Path | str, w: Workload, lines_out: list[Line]) -> None:
    from core.db import SERVER_MEMORY_LIMIT, open_database
    from core.db.refunds import fetch_refund_page

    tz = ZoneInfo(TZ_NAME)
    print("\nRefunds register (fetch_refund_page: count, total and a page of 15):")
    database = open_database(db, read_only=True, memory_limit=SERVER_MEMORY_LIMIT)
    try:
        for name, key, scope, query in register_lines(w):
            line = Line(name, key)
            line.orderdesk = timed(lambda: fetch_refund_page(database, scope, query, tz, 1),
                                   args.repeat)
            line.note = f"{fetch_refund_page(database, scope, query, tz, 1).total:,} refunds"
            lines_out.append(line)
            print(f"  {name:66s} {ms(line.orderdesk.median):>10s} p95 "
                  f"{ms(line.orderdesk.p95):>10s}   ({line.note})", flush=True)
    finally:
        database.close()
    start = _export_start(db, w.end)
    result = child("register-export", {"db": str(db), "start": start.isoformat(),
                                       "end": w.end.isoformat()})
    line = Line(f"export of {result['rows']:,} refunds (admin, refund dates {start} – {w.end})",
                "register export", value=result["seconds"], memory_mb=result["peak_rss_mb"],
                note=f"{result['file_mb']:.0f} MB file")
    lines_out.append(line)
    print(f"  {line.name:66s} {ms(line.value):>10s}  peak {line.memory_mb:,.0f} MB", flush=True)


def _export_start(db: Path | str, end: date) -> date:
    """The first refund date of the period (ending ``end``) holding about EXPORT_REFUNDS
    refunds, for an admin."""
    from core.db import open_database
    from core.db.refunds import count_refunds
    from core.query import OrderQuery
    from core.refunds import RefundQuery
    from core.users import Scope

    tz = ZoneInfo(TZ_NAME)
    with open_database(db, read_only=True) as database:
        low, high = end.toordinal() - 3 * 366, end.toordinal()
        while low < high:  # the latest start with at least EXPORT_REFUNDS refunds
            mid = (low + high + 1) // 2
            query = RefundQuery(view=OrderQuery(start=date.fromordinal(mid), end=end))
            if count_refunds(database, Scope.everything(), query, tz)[0] >= EXPORT_REFUNDS:
                low = mid
            else:
                high = mid - 1
    return date.fromordinal(low)


def child_register_export(payload: dict) -> dict:
    from core.db import SERVER_MEMORY_LIMIT, open_database
    from core.db.refunds import count_refunds, iter_refund_rows
    from core.export import ExportInfo, write_refunds_xlsx
    from core.query import OrderQuery
    from core.refunds import RefundQuery
    from core.users import Scope

    tz = ZoneInfo(TZ_NAME)
    query = RefundQuery(view=OrderQuery(start=date.fromisoformat(payload["start"]),
                                        end=date.fromisoformat(payload["end"])))
    scope = Scope.everything()
    start = time.perf_counter()
    database = open_database(payload["db"], read_only=True, memory_limit=SERVER_MEMORY_LIMIT)
    total, total_amount = count_refunds(database, scope, query, tz)
    info = ExportInfo(exported_at=datetime.now(tz), exported_by="Bench (bench)",
                      filters=query.describe_filters(), search="", sort=query.describe_sort(),
                      time_zone=TZ_NAME, row_count=total, total_captured_amount=total_amount)
    buffer = io.BytesIO()
    written = write_refunds_xlsx(buffer, iter_refund_rows(database, scope, query, tz), info)
    seconds = time.perf_counter() - start
    database.close()
    return {"seconds": seconds, "rows": written, "file_mb": len(buffer.getvalue()) / 1e6,
            "peak_rss_mb": peak_rss_mb()}
