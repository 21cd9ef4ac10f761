"""The pandas baseline: the whole table in a DataFrame, each page line as mask + ``sort_values``
+ ``iloc`` (and the count). It runs in a child process, whose peak memory is the DataFrame's."""
from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from scripts.benchmark.pages import Workload, page_lines
from scripts.benchmark.timing import TZ_NAME, peak_rss_mb, timed


def child_pandas(payload: dict) -> dict:
    """The whole table in a DataFrame; each line: mask + sort_values + iloc (and the count)."""
    import duckdb
    import pandas as pd  # noqa: F401 - .df() needs it

    from core.columns import PAGE_COLUMNS

    start = time.perf_counter()
    con = duckdb.connect(payload["db"], read_only=True)
    frame = con.execute(
        "SELECT o.*, s.store_name, s.merchant_store_id AS store_ref, s.region, s.legal_entity, "
        "s.zone FROM orders o JOIN stores s ON s.store_id = o.store_id"
    ).df()
    con.close()
    load_seconds = time.perf_counter() - start
    field_of = {column.label: column.name for column in PAGE_COLUMNS}
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
    from core.query_filters import Search

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

