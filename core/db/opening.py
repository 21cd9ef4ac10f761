"""Which database ``ORDERDESK_DB`` names, opened: a DuckDB file (the embedded default) or a
PostgreSQL database (a ``postgresql://`` URL, the server mode)."""
from __future__ import annotations

from pathlib import Path

from core.db.postgres import is_postgres_url


def open_database(target: Path | str, *, read_only: bool = False,
                  memory_limit: str | None = None):
    """The database ``target`` names, opened read-write (creating or upgrading its schema) or
    read-only. ``memory_limit`` is DuckDB's; PostgreSQL's memory is its server's."""
    if is_postgres_url(target):
        from core.db.postgres.connection import PostgresDatabase
        return PostgresDatabase(str(target), read_only=read_only)
    from core.db.connection import Database
    return Database(target, read_only=read_only, memory_limit=memory_limit)


def open_for_serving(target: Path | str, *, memory_limit: str | None = None):
    """The database as the app serves it: on DuckDB the search index is clustered first
    (``Database.open_clustered``); PostgreSQL keeps its indexes up to date as it writes."""
    if is_postgres_url(target):
        return open_database(target)
    from core.db.connection import Database
    return Database.open_clustered(target, memory_limit=memory_limit)
