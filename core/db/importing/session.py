"""Where an import's work happens, on either backend: the DuckDB database that reads its files, and
the transaction in which its staged rows are checked and merged.

On a DuckDB file both are the file itself: its memory raised to ``IMPORT_MEMORY_LIMIT``, one
transaction for the staging, the checks and the write. On PostgreSQL a DuckDB database in this
process's memory (bounded the same, spilling to the import's scratch folder) reads, stages,
checks and plans with the very same SQL, and the write happens in a PostgreSQL transaction
(``core.db.postgres.importing``: the lock, the rows copied each way).
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from core.db.importing.frame import raised_memory
from core.db.importing.writing import WORK_TABLES
from core.db.sql_text import sql_literal
from core.importer.formats import IMPORT_MEMORY_LIMIT
from core.importer.pace import FULL_SPEED, Pace


@dataclass(frozen=True)
class ImportSession:
    """The cursors of one import's transaction.

    ``checks`` holds the staged rows, where they are checked and the merge planned (DuckDB);
    ``target`` is the database's, where the merge is written. ``load`` brings the database's rows
    of the imported orders beside the staged rows (locking them), ``publish`` the planned rows
    beside the target; on a DuckDB file the two cursors are one and both steps do nothing.
    ``pace`` is how fast ``apply`` writes (``core.importer.pace``)."""

    checks: object
    target: object
    load: Callable[[], object]
    publish: Callable[[], None]
    pace: Pace = FULL_SPEED


@contextlib.contextmanager
def file_reader(database, scratch: Path) -> Iterator:
    """The DuckDB database that reads the import's files (``core.db.importing.files``)."""
    if database.backend != "postgresql":
        with raised_memory(database, IMPORT_MEMORY_LIMIT):
            yield database
        return
    from core.db.connection import Database
    with Database(":memory:", memory_limit=IMPORT_MEMORY_LIMIT) as reader:
        with reader.cursor() as cur:
            # What does not fit spills beside the import's other scratch files, not into ./.tmp.
            cur.execute(f"SET GLOBAL temp_directory = {sql_literal(str(scratch / 'spill'))}")
        yield reader


@contextlib.contextmanager
def import_transaction(database, reader, scratch: Path,
                       pace: Pace = FULL_SPEED) -> Iterator[ImportSession]:
    """One import's transaction: committed when the block ends, rolled back on any error (a
    refused import writes nothing)."""
    if database.backend != "postgresql":
        with database.transaction() as cur:
            yield ImportSession(cur, cur, lambda: None, lambda: None, pace)
        return
    from core.db.postgres.importing import load_database_rows, lock_imports, publish
    with reader.cursor() as duck_cur, database.transaction() as pg_cur:
        lock_imports(pg_cur)
        yield ImportSession(
            duck_cur, pg_cur,
            lambda: load_database_rows(duck_cur, pg_cur, scratch),
            lambda: publish(duck_cur, pg_cur, scratch, WORK_TABLES, keyed=pace.sliced),
            pace,
        )
