"""The DuckDB store: the only module that talks to the database driver.

One ``Store`` holds one connection to the database file for the life of the process; each call
works on its own cursor, so Streamlit's session threads can share it. Every read and every write
takes the user's ``Scope`` as an argument and applies it in SQL. Driver errors are translated
here, once, into ``DataUnavailable`` / ``DatabaseBusy``.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import duckdb

from core.errors import DatabaseBusy, DataUnavailable
from core.schema import DDL, SCHEMA_VERSION


def _translate(exc: duckdb.Error, path: Path | str) -> DataUnavailable:
    text = str(exc)
    if "lock" in text.lower() or "Conflicting lock" in text:
        return DatabaseBusy(
            f"The database {path} is in use by another process (is orderdesk running?). "
            "Stop it and try again; nothing was changed."
        )
    return DataUnavailable(f"The database could not be read or written: {text.splitlines()[0]}")


class Store:
    """A DuckDB database file opened read-write (or read-only) by this process."""

    def __init__(self, path: Path | str, *, read_only: bool = False) -> None:
        self.path = Path(path)
        try:
            if not read_only:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._con = duckdb.connect(str(self.path), read_only=read_only)
            self._con.execute("SET TimeZone = 'UTC'")
            if not read_only:
                self._con.execute(DDL)
                self._con.execute(
                    "INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT DO NOTHING",
                    [str(SCHEMA_VERSION)],
                )
        except duckdb.Error as exc:
            raise _translate(exc, self.path) from exc

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextlib.contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor of its own for one unit of work; driver errors become ``DataUnavailable``."""
        cur = self._con.cursor()
        try:
            cur.execute("SET TimeZone = 'UTC'")
            yield cur
        except duckdb.Error as exc:
            raise _translate(exc, self.path) from exc
        finally:
            cur.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor inside one transaction: committed when the block ends, rolled back on any error.

        A failed COMMIT after a conflict may not raise (FACTS.md), so callers verify what they wrote
        before they report success.
        """
        with self.cursor() as cur:
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
            except BaseException:
                with contextlib.suppress(duckdb.Error):
                    cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")
