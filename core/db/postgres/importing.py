"""An import into PostgreSQL: DuckDB, in this process's memory, reads, types and checks the files
exactly as it does for a DuckDB file (the same SQL, the same report), beside copies of the
database's rows the import touches; the merge's new and changed rows are then copied into the
PostgreSQL transaction and written there (``core.db.importing.writing.apply``).

* One import at a time: each takes an advisory lock of its transaction first.
* The imported orders' rows are locked (``SELECT … FOR UPDATE``, by order ID) before they are read,
  and stay locked until the import commits. A refund or cancel of one of them made meanwhile
  waits at its guarded UPDATE, then re-checks its guard on what the import wrote (an order synced
  to Return refuses the refund, which is then taken again from a fresh read); one committed before
  the lock is read by the import and kept (a refunded amount is never lowered). Either way the
  order ends in one consistent state and no refund is lost. Reads of the app never wait: they see
  the rows as they were until the import commits.
* Rows move as CSV through ``COPY``: DuckDB writes an empty text as ``""`` and NULL as nothing, as
  PostgreSQL does, and reads them back apart with ``allow_quoted_nulls = false``.
"""
from __future__ import annotations

from pathlib import Path

from core.db.sql_text import sql_literal

# The advisory lock every import takes for its transaction (any fixed number but the schema's).
IMPORT_LOCK = 7_201_102
CHUNK = 1 << 20  # bytes handed to COPY at a time

# The database's tables the checks and the plan read, in the order their references need, and
# which of their rows: every store (a few thousand at most), the imported orders and their lines.
_IMPORTED = "order_id IN (SELECT order_id FROM import_ids)"
_DATABASE_ROWS = (("stores", "TRUE"), ("orders", _IMPORTED), ("order_items", _IMPORTED))


def lock_imports(pg_cur) -> None:
    """Wait for any other import to end; held until this transaction ends."""
    pg_cur.execute("SELECT pg_advisory_xact_lock(?)", [IMPORT_LOCK])


def load_database_rows(duck_cur, pg_cur, folder: Path) -> int:
    """Lock the imported orders in PostgreSQL, then copy the database's rows the checks read into
    the DuckDB tables of the same names (``duck_cur``'s in-memory schema); the orders locked."""
    ids = folder / "import_ids.csv"
    duck_cur.execute(
        "COPY (SELECT order_id FROM v_orders WHERE order_id IS NOT NULL "
        "UNION SELECT order_id FROM v_items WHERE order_id IS NOT NULL) "
        f"TO {sql_literal(str(ids))} (HEADER false)")
    pg_cur.execute("CREATE TEMP TABLE import_ids (order_id BIGINT PRIMARY KEY) ON COMMIT DROP")
    copy_csv_in(pg_cur, "import_ids", ["order_id"], ids)
    pg_cur.execute("ANALYZE import_ids")
    (locked,) = pg_cur.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM orders WHERE {_IMPORTED} "
        "ORDER BY order_id FOR UPDATE) AS locked").fetchone()
    for table, where in _DATABASE_ROWS:
        columns = _duckdb_columns(duck_cur, table, _postgres_columns(pg_cur, table))
        path = folder / f"database-{table}.csv"
        select = ", ".join(columns)
        copy_csv_out(pg_cur, f"SELECT {select} FROM {table} WHERE {where}", path)
        duck_cur.execute(
            f"INSERT INTO {table} ({select}) SELECT * FROM read_csv(?, header = false, "
            "auto_detect = false, allow_quoted_nulls = false, columns = ?)",
            [str(path), columns])
    return locked


def publish(duck_cur, pg_cur, folder: Path, tables: tuple[str, ...], keyed: bool = False) -> None:
    """Each work table's new and changed rows copied from DuckDB into a PostgreSQL temporary
    table of the same name and columns, dropped at the commit; ``keyed``: with an index of the
    order IDs, which a paced write's slices select by (``core.db.importing.pace``)."""
    for table in tables:
        described = duck_cur.execute(f"DESCRIBE {table}").fetchall()
        columns = {name: postgres_type(kind) for name, kind, *_ in described}
        path = folder / f"{table}.csv"
        duck_cur.execute(f"COPY (SELECT * FROM {table} WHERE is_new OR is_changed) "
                         f"TO {sql_literal(str(path))} (HEADER false)")
        definition = ", ".join(f'"{name}" {kind}' for name, kind in columns.items())
        pg_cur.execute(f"CREATE TEMP TABLE {table} ({definition}) ON COMMIT DROP")
        copy_csv_in(pg_cur, table, list(columns), path)
        if keyed and "order_id" in columns:
            pg_cur.execute(f"CREATE INDEX ON {table} (order_id)")
        pg_cur.execute(f"ANALYZE {table}")


def postgres_type(duckdb_type: str) -> str:
    """The PostgreSQL type of a work table's DuckDB column type."""
    if duckdb_type.startswith("DECIMAL"):
        return "NUMERIC" + duckdb_type[len("DECIMAL"):]
    return {"VARCHAR": "VARCHAR", "BIGINT": "BIGINT", "INTEGER": "INTEGER",
            "BOOLEAN": "BOOLEAN", "TIMESTAMP": "TIMESTAMP"}[duckdb_type]


def copy_csv_in(pg_cur, table: str, columns: list[str], path: Path) -> None:
    """The CSV file ``path`` (no header) appended to ``table``'s ``columns``."""
    column_list = ", ".join(f'"{c}"' for c in columns)
    with pg_cur.raw.copy(f"COPY {table} ({column_list}) FROM STDIN (FORMAT csv)") as copy, \
            path.open("rb") as csv:
        while chunk := csv.read(CHUNK):
            copy.write(chunk)


def copy_csv_out(pg_cur, query: str, path: Path) -> None:
    """The rows of ``query`` written to the CSV file ``path`` (no header)."""
    with pg_cur.raw.copy(f"COPY ({query}) TO STDOUT (FORMAT csv)") as copy, \
            path.open("wb") as csv:
        for chunk in copy:
            csv.write(chunk)


def _postgres_columns(pg_cur, table: str) -> list[str]:
    rows = pg_cur.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
        [table]).fetchall()
    return [name for (name,) in rows]


def _duckdb_columns(duck_cur, table: str, wanted: list[str]) -> dict[str, str]:
    """The DuckDB types of ``table``'s columns that PostgreSQL's table has too, in its order."""
    types = {name: kind for name, kind, *_ in duck_cur.execute(f"DESCRIBE {table}").fetchall()}
    return {name: types[name] for name in wanted if name in types}
