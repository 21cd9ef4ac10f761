"""What surrounds an import's write: DuckDB's memory for it, and the marker that proves its commit.

A COMMIT after a conflict may return without raising while it rolled back (docs/stack-facts.md,
DuckDB): every import writes a marker with its own batch ID in its transaction, and reads it back
after the commit before it reports success.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator, Sequence

from core.db.driver import memory_bytes


@contextlib.contextmanager
def raised_memory(database, limit: str) -> Iterator[None]:
    """DuckDB's memory limit raised to ``limit`` for the block when the database was opened with a
    lower one (the setting is the database's, shared by every cursor), and set back to it after. A
    database opened without a limit has DuckDB's default, most of the machine's."""
    kept = database.memory_limit
    raised = kept is not None and memory_bytes(kept) < memory_bytes(limit)
    if raised:
        with database.cursor() as cur:
            cur.execute(f"SET memory_limit = '{limit}'")
    try:
        yield
    finally:
        if raised:
            with database.cursor() as cur:
                cur.execute(f"SET memory_limit = '{kept}'")


def mark_import(cur, batch: str, now: dt.datetime, files: Sequence[str]) -> None:
    """Record the import ``batch`` as the last one, in its own transaction ``cur``."""
    cur.execute(
        "INSERT INTO meta VALUES ('last_import', ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [json.dumps({"batch": batch, "at": now.isoformat(timespec="seconds") + "Z",
                     "files": list(files)})],
    )


def import_saved(database, batch: str) -> bool:
    """Whether the import ``batch`` was committed: the last import's marker is its own."""
    with database.cursor() as cur:
        marker = cur.execute("SELECT value FROM meta WHERE key = 'last_import'").fetchone()
    return bool(marker) and json.loads(marker[0]).get("batch") == batch
