"""How many rows a write changed, asked the same way of both backends.

DuckDB answers an INSERT, UPDATE or DELETE with one result row holding the count; psycopg returns
no row and keeps the count as the cursor's ``rowcount``. The guarded writes (``core.db.writes``)
and the importer's merge read their counts through ``rows_written``.
"""
from __future__ import annotations


def rows_written(cur) -> int:
    """The number of rows the statement just executed on ``cur`` inserted, updated or deleted."""
    if getattr(cur, "backend", "duckdb") == "postgresql":
        return cur.rowcount
    (count,) = cur.fetchone()
    return int(count)
