"""The exports, each in a child process: ``Database.iter_export_rows`` into
``core.export.write_orders_xlsx`` in memory, as the page does; the child's peak memory is the
export's."""
from __future__ import annotations

import io
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from scripts.benchmark.timing import TZ_NAME, peak_rss_mb

EXPORT_ROWS = (100_000, 1_000_000)


def export_period(db: Path, rows: int, today: date) -> tuple[date, int]:
    """The start of the period (ending today) holding at least ``rows`` orders, for an admin
    (from the DuckDB file: a PostgreSQL database benchmarked holds its data)."""
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
    from core.db import SERVER_MEMORY_LIMIT, open_database
    from core.users import Scope

    tz = ZoneInfo(TZ_NAME)
    query = OrderQuery(start=date.fromisoformat(payload["start"]),
                       end=date.fromisoformat(payload["end"]))
    scope = Scope.everything()
    baseline_rss = peak_rss_mb()
    start = time.perf_counter()
    # Opened as the server opens it (ui/context.py), with DuckDB's memory limit.
    database = open_database(payload["db"], read_only=True, memory_limit=SERVER_MEMORY_LIMIT)
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

