"""The connection: one DuckDB database file opened by this process, its cursors and
transactions (driver errors become ``DataUnavailable`` through ``core.db.driver``).

One ``Database`` holds one connection for the life of the process; each call works on its own
cursor, so Streamlit's session threads can share it. Its reads (``core.db.reads``) take the
user's ``Scope`` and apply it in SQL. Opening does not touch the search index: a caller that
serves searches clusters it first, as a step of its own (``open_clustered``), since that may
rebuild the whole index.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import duckdb

from core.db.interface import OrderReads
from core.db.driver import check_memory_limit, translate
from core.db.schema import DDL, SCHEMA_VERSION
from core.db.search_index import cluster_search_index
from core.db.views import ReadCache

# DuckDB's memory for the server process (``ui.context``). The hot columns of 5M orders fit (page
# times were the same as without a limit), while a large export's sort spills to a temporary
# file instead of growing the process: a 1M-row export peaked at 550 MB without the limit,
# 455 MB at 256 MB, 334 MB at 192 MB (scripts/bench.py; the target is 400 MB).
SERVER_MEMORY_LIMIT = "192MB"
class Database(OrderReads):
    """A DuckDB database file opened read-write (or read-only) by this process."""

    backend = "duckdb"

    def __init__(self, path: Path | str, *, read_only: bool = False,
                 memory_limit: str | None = None) -> None:
        self.path = Path(path)
        # What the reads keep between calls (the stores, their lists), until a write commits.
        self.cache = ReadCache()
        check_memory_limit(memory_limit)
        self.memory_limit = memory_limit  # DuckDB's, as given (None: DuckDB's default)
        try:
            if not read_only:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._con = duckdb.connect(str(self.path), read_only=read_only)
            self._con.execute("SET GLOBAL TimeZone = 'UTC'")  # every cursor's too
            # A checkpoint's vacuum would merge the search index's 4,096-row groups into groups
            # of this connection's size (122,880), undoing the clustering: measured on a file of
            # 10,000 index rows, one write to any table merged its 3 row groups into 1.
            # orderdesk never deletes orders; the few index rows it replaces are not worth it.
            self._con.execute("SET GLOBAL max_vacuum_tasks = 0")
            if memory_limit is not None:
                self._con.execute(f"SET memory_limit = '{memory_limit}'")
            if not read_only:
                self._con.execute(DDL)
                self._con.execute(
                    "INSERT INTO meta VALUES ('schema_version', ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    [str(SCHEMA_VERSION)],
                )
        except duckdb.Error as exc:
            raise translate(exc, self.path) from exc

    @classmethod
    def open_clustered(cls, path: Path | str, *, memory_limit: str | None = None) -> "Database":
        """Open read-write after clustering the search index (``cluster_search_index``), as a
        server does: that may rebuild the whole index, so it is a step callers choose. It runs
        without ``memory_limit``, as the open did before it was a step of its own."""
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        cluster_search_index(path)
        return cls(path, memory_limit=memory_limit)

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> "Database":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextlib.contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor of its own for one unit of work; driver errors become ``DataUnavailable``."""
        cur = self._con.cursor()
        try:
            yield cur
        except duckdb.Error as exc:
            raise translate(exc, self.path) from exc
        finally:
            cur.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor inside one transaction: committed when the block ends, rolled back on any error.

        A failed COMMIT after a conflict may not raise (docs/stack-facts.md, DuckDB), so callers
        verify what they wrote before they report success.
        """
        with self.snapshot() as cur:
            yield cur
        self.cache.generation += 1  # after the commit: what was read before it is not reused

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor inside one transaction that only reads: all its reads see the same data."""
        with self.cursor() as cur:
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
            except BaseException:
                with contextlib.suppress(duckdb.Error):
                    cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")
