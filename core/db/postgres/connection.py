"""The server mode's connection: a PostgreSQL database reached through a pool of psycopg 3
connections, shared by the process's threads, with the same ``cursor``/``transaction``/``snapshot``
as the DuckDB file's ``Database``.

Every process (each app replica, each ``python -m core`` command) has its own pool. Statements are
written once for both backends with ``?`` placeholders (``Cursor`` turns them into psycopg's).

* A ``transaction`` runs at READ COMMITTED: the guarded writes (``core.db.writes``) are conditional
  UPDATEs, and PostgreSQL re-checks such an UPDATE's condition on the row's newest version after
  waiting for its lock, so two processes refunding one order never pass the same guard.
* A ``snapshot`` is REPEATABLE READ, READ ONLY: its reads see one moment, as on DuckDB.
* The reads' caches (``ReadCache``) are this process's: another process's writes are seen from the
  next ``forget_cached`` on (the page's Refresh), never later.
"""
from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Sequence

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from core.db.interface import OrderReads
from core.db.postgres.driver import display_url, translate
from core.db.postgres.schema import create_or_upgrade
from core.db.views import ReadCache
from core.errors import DataUnavailable

# Connections per process: the app's session threads share them; a request waits for a free one.
POOL_SIZE = 8
POOL_TIMEOUT = 30  # seconds a request waits for a connection before the page says so


@functools.lru_cache(maxsize=4096)
def pyformat(sql: str) -> str:
    """``sql`` with ``?`` placeholders in psycopg's style: ``%s``, and a literal ``%`` doubled.

    orderdesk's statements hold no ``?`` inside a string literal (values are always parameters).
    A statement without parameters is sent as written (``Cursor.execute``)."""
    return sql.replace("%", "%%").replace("?", "%s")


class Cursor:
    """A psycopg cursor that takes ``?`` placeholders, and whose ``execute`` returns itself (as
    DuckDB's does), so ``cur.execute(...).fetchone()`` reads the same on both backends."""

    backend = "postgresql"

    def __init__(self, cursor: psycopg.Cursor) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence | None = None) -> "Cursor":
        if params:
            self._cursor.execute(pyformat(sql), params)
        else:  # sent as written: psycopg reads placeholders only when there are parameters
            self._cursor.execute(sql)
        return self

    def executemany(self, sql: str, params_seq) -> "Cursor":
        self._cursor.executemany(pyformat(sql), params_seq)
        return self

    def fetchone(self):
        return self._cursor.fetchone()

    def fetchall(self) -> list:
        return self._cursor.fetchall()

    def fetchmany(self, size: int) -> list:
        return self._cursor.fetchmany(size)

    @property
    def description(self):
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def raw(self) -> psycopg.Cursor:
        """The psycopg cursor itself, for what only PostgreSQL has (``COPY``)."""
        return self._cursor


class PostgresDatabase(OrderReads):
    """A PostgreSQL database (a libpq URL) opened by this process through a connection pool."""

    backend = "postgresql"
    memory_limit = None  # PostgreSQL's memory is the server's (work_mem), not the process's

    def __init__(self, url: str, *, read_only: bool = False, pool_size: int = POOL_SIZE) -> None:
        self.url = url
        self.path = display_url(url)  # what messages name: never the password
        self.cache = ReadCache()
        self._pool = ConnectionPool(
            url, min_size=1, max_size=pool_size, timeout=POOL_TIMEOUT, open=False,
            kwargs={"autocommit": True, "options": "-c TimeZone=UTC"},
            name="orderdesk",
        )
        try:
            self._pool.open(wait=True, timeout=POOL_TIMEOUT)
        except PoolTimeout as exc:
            self._pool.close()
            raise DataUnavailable(
                f"The database {self.path} could not be reached. Is PostgreSQL running, and are "
                "the URL's user and password right? Nothing was changed.") from exc
        if not read_only:
            with self.cursor() as cur:
                create_or_upgrade(cur)

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> "PostgresDatabase":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        try:
            with self._pool.connection() as conn:
                yield conn
        except PoolTimeout as exc:
            raise DataUnavailable(
                f"The database {self.path} has no free connection at the moment; please try "
                "again.") from exc

    @contextlib.contextmanager
    def cursor(self) -> Iterator[Cursor]:
        """A cursor of its own for one unit of work (each statement commits on its own); driver
        errors become ``DataUnavailable``."""
        try:
            with self._connection() as conn, conn.cursor() as cur:
                yield Cursor(cur)
        except psycopg.Error as exc:
            raise translate(exc, self.path) from exc

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Cursor]:
        """A cursor inside one READ COMMITTED transaction: committed when the block ends, rolled
        back on any error."""
        with self._transaction("BEGIN ISOLATION LEVEL READ COMMITTED") as cur:
            yield cur
        self.cache.generation += 1  # after the commit: what was read before it is not reused

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Cursor]:
        """A cursor inside one transaction that only reads: all its reads see the same data."""
        with self._transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") as cur:
            yield cur

    @contextlib.contextmanager
    def _transaction(self, begin: str) -> Iterator[Cursor]:
        with self.cursor() as cur:
            cur.execute(begin)
            try:
                yield cur
            except BaseException:
                with contextlib.suppress(psycopg.Error):
                    cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")
