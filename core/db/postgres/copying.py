"""Copying a DuckDB file's data into a PostgreSQL database: the way a database made by the embedded
mode (the demo's generator, the benchmark's files, a desk that outgrew one process) moves to the
server mode.

DuckDB writes each table as CSV into a temporary folder and PostgreSQL reads it with ``COPY``: both
ends parse and write in C, which is much faster than rows passing through Python. DuckDB writes an
empty text as ``""`` and NULL as nothing, which is how PostgreSQL's CSV tells them apart too.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb

from core.db.driver import translate as translate_duckdb
from core.errors import InvalidInput

# The tables in the order their references need, and the sequence behind order_events' IDs.
TABLES = ("stores", "orders", "order_items", "order_events")
CHUNK = 1 << 20  # bytes handed to COPY at a time


def copy_from_duckdb(source: Path | str, database) -> dict[str, int]:
    """Copy every row of the DuckDB file ``source`` into the PostgreSQL ``database`` (opened
    read-write, so its schema exists), in one transaction; the rows copied per table.

    The target must hold no orders: a copy never merges into a database in use."""
    with database.cursor() as cur:
        if cur.execute("SELECT EXISTS (SELECT 1 FROM orders)").fetchone()[0]:
            raise InvalidInput(f"The database {database.path} already holds orders; nothing was "
                               "copied. Copy into a new, empty database.")
    with tempfile.TemporaryDirectory(prefix="orderdesk-copy-") as folder:
        files = _write_csv(Path(source), Path(folder), _columns(database))
        with database.transaction() as cur:
            counts = {table: _copy_in(cur, table, columns, path)
                      for table, (columns, path) in files.items()}
            cur.execute("SELECT setval('order_event_ids', "
                        "greatest((SELECT max(event_id) FROM order_events), 1000000))")
            cur.execute("ANALYZE")
    return counts


def _columns(database) -> dict[str, list[str]]:
    """Each table's columns in the PostgreSQL schema (the DuckDB file may have more)."""
    with database.cursor() as cur:
        rows = cur.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = ANY(?) "
            "ORDER BY table_name, ordinal_position", [list(TABLES)]).fetchall()
    columns: dict[str, list[str]] = {table: [] for table in TABLES}
    for table, column in rows:
        columns[table].append(column)
    return columns


def _write_csv(source: Path, folder: Path,
               columns: dict[str, list[str]]) -> dict[str, tuple[list[str], Path]]:
    files = {}
    try:
        con = duckdb.connect(str(source), read_only=True)
    except duckdb.Error as exc:
        raise translate_duckdb(exc, source) from exc
    try:
        con.execute("SET TimeZone = 'UTC'")
        for table in TABLES:
            path = folder / f"{table}.csv"
            # A column only PostgreSQL has (``order_events.store_id``) is filled by its trigger.
            own = {row[0] for row in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ?",
                [table]).fetchall()}
            shared = [c for c in columns[table] if c in own]
            select = ", ".join(f'"{c}"' for c in shared)
            con.execute(f"COPY (SELECT {select} FROM {table}) TO '{path}' (HEADER false)")
            files[table] = (shared, path)
    except duckdb.Error as exc:
        raise translate_duckdb(exc, source) from exc
    finally:
        con.close()
    return files


def _copy_in(cur, table: str, columns: list[str], path: Path) -> int:
    column_list = ", ".join(f'"{c}"' for c in columns)
    with cur.raw.copy(f"COPY {table} ({column_list}) FROM STDIN (FORMAT csv)") as copy, \
            path.open("rb") as csv:
        while chunk := csv.read(CHUNK):
            copy.write(chunk)
    return cur.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
