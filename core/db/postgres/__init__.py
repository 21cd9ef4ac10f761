"""The server mode: the same database on PostgreSQL (``ORDERDESK_DB=postgresql://…``), reached by
every app replica and ``python -m core`` command at once. Only what PostgreSQL does differently
from DuckDB lives here: the connection pool, the schema, the driver's errors, and the SQL of the
parts each engine answers its own way (search, import files, the demo's rows)."""

URL_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(target: object) -> bool:
    """Whether ``ORDERDESK_DB``'s value names a PostgreSQL database (a libpq URI) rather than a
    DuckDB file. (Here, free of the driver, so that settings can ask.)"""
    return isinstance(target, str) and target.startswith(URL_SCHEMES)


def is_postgres(cur: object) -> bool:
    """Whether ``cur`` is a PostgreSQL cursor (``core.db.postgres.connection.Cursor``): the shared
    reads choose the few statements the two engines spell differently by it."""
    return getattr(cur, "backend", None) == "postgresql"
