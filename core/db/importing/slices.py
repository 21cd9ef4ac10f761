"""A paced import's writes, slice by slice (the pace itself: ``core.importer.pace``)."""
from __future__ import annotations

import time

from core.importer.pace import SLICE_ROWS, Pace


def write_in_slices(cur, pace: Pace, table: str, condition: str, statement: str) -> None:
    """Run ``statement`` over the rows of the work table ``table`` (aliased ``w``) matching
    ``condition``: at once, or in slices of the order IDs, pausing after each.

    ``statement`` holds ``{rows}`` where it selects its rows from ``table``: it is replaced by
    ``condition``, and by a range of order IDs beside it when paced."""
    if not pace.sliced:
        cur.execute(statement.replace("{rows}", condition))
        return
    bounds = [first for (first,) in cur.execute(f"""
        SELECT DISTINCT order_id FROM (
            SELECT order_id, row_number() OVER (ORDER BY order_id) AS n
            FROM {table} w WHERE {condition}) AS numbered
        WHERE n % {SLICE_ROWS} = 1 ORDER BY order_id""").fetchall()]
    for i, first in enumerate(bounds):
        upper = f" AND w.order_id < {int(bounds[i + 1])}" if i + 1 < len(bounds) else ""
        started = time.perf_counter()
        cur.execute(statement.replace(
            "{rows}", f"{condition} AND w.order_id >= {int(first)}{upper}"))
        if upper:  # no pause after the last slice: the commit follows
            pace.pause_after(time.perf_counter() - started)
