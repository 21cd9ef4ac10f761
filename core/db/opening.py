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


def after_bulk_write(target: Path | str, *, memory_limit: str | None = None) -> None:
    """What follows a command that wrote many rows (a demo, an import), once its database is
    closed: on DuckDB the search index is clustered again when the new rows call for it
    (``cluster_search_index``, bounded by ``memory_limit``); on PostgreSQL the tables are
    analysed, so the next pages are planned with their new sizes rather than when autovacuum
    gets to them."""
    if is_postgres_url(target):
        with open_database(target) as database, database.cursor() as cur:
            cur.execute("ANALYZE stores, orders, order_items, order_events")
        return
    from core.db.search_index import cluster_search_index
    cluster_search_index(target, memory_limit=memory_limit)


def display_target(target: Path | str) -> str:
    """``ORDERDESK_DB`` as messages show it: a file's path, or the URL without its password."""
    if is_postgres_url(target):
        from core.db.postgres.driver import display_url
        return display_url(str(target))
    return str(target)
