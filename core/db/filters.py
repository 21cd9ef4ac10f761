"""A query's conditions as SQL: the one place they are written as WHERE clauses.

Each kind of condition (``core.query_filters``) is rendered against a ``Source`` (what the WHERE
clause is over), so the same condition serves the whole join, the stores table alone and the
orders table alone without its SQL being edited as text; ``where`` is the one place the clauses
are joined. ``where_clause``, ``store_clause``, ``orders_where`` and ``order_by`` turn an
``OrderQuery`` into them: the Orders page, its counts, the Overview and the export all run the
same clause, so none of them can disagree with the screen. Every value is a bound parameter;
sort keys come from ``core.columns`` (DuckDB cannot bind ``ORDER BY ?``), and the order ID
always breaks ties.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import singledispatch
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from core.columns import Column
from core.db.postgres import sql as pg
from core.db.schema import BIGINT_MAX
from core.query_filters import Filter, InList, InScope, Period, Search
from core.users import Scope

if TYPE_CHECKING:  # core.query imports none of core.db; the type is for the reader
    from core.query import OrderQuery

# Up to this many store IDs the scope is a filter inside the scan (see ``store_ids_sql``).
SMALL_STORE_LIST = 100


@dataclass(frozen=True)
class Source:
    """What a WHERE clause is over, and how it names an order's store."""

    from_sql: str
    store_id: str
    orders: bool  # the orders' own columns can be read
    stores: bool  # the stores' columns can be read
    # Written for PostgreSQL: the few conditions DuckDB and PostgreSQL spell (or plan)
    # differently choose by it (``core.db.postgres.sql``).
    postgres: bool = False


JOINED = Source("orders o JOIN stores s ON s.store_id = o.store_id", "o.store_id", True, True)
ORDERS = Source("orders o", "o.store_id", True, False)
STORES = Source("stores s", "s.store_id", False, True)
ORDERS_PG = Source("orders o", "o.store_id", True, False, postgres=True)
FROM_SQL = JOINED.from_sql  # what ``where_clause`` is over


def column_sql(column: Column, name: str | None = None) -> str:
    """A column of ``core.columns`` (or ``name``, another column of its table: its sort key) as
    SQL over ``FROM_SQL``."""
    return f"{column.table}.{name or column.name}"


@dataclass(frozen=True)
class InStores(Filter):
    """``o.store_id`` among stores already resolved from the stores table (``store_ids_sql``):
    a condition of the database's own plan, never of a query."""

    store_ids: tuple[str, ...]


def where(filters, source: Source, tz: ZoneInfo | None = None) -> tuple[str, list] | None:
    """The filters as one WHERE clause over ``source`` (without the keyword), in the order given;
    None when none of them restricts anything. ``tz`` places a period's days."""
    clauses, params = [], []
    for condition in filters:
        if (part := condition_sql(condition, source, tz)) is not None:
            clauses.append(part[0])
            params.extend(part[1])
    return (" AND ".join(clauses), params) if clauses else None


@singledispatch
def condition_sql(condition: Filter, source: Source,
                  tz: ZoneInfo | None = None) -> tuple[str, list] | None:
    """The condition over ``source`` and its parameters; None when it restricts nothing."""
    raise TypeError(f"no SQL is written for a {type(condition).__name__} condition")


def _marks(values) -> str:
    return ", ".join("?" * len(values))


@condition_sql.register
def _(condition: InList, source: Source, tz: ZoneInfo | None = None):
    if not condition.values:
        return None
    column = (source.store_id if condition.column == "store_id"
              else f"{condition.table}.{condition.column}")
    return f"{column} IN ({_marks(condition.values)})", list(condition.values)


@condition_sql.register
def _(condition: InScope, source: Source, tz: ZoneInfo | None = None):
    scope = condition.scope
    if scope.all_orders:
        return None
    parts, params = [], []
    if scope.legal_entities:
        parts.append(f"s.legal_entity IN ({_marks(scope.legal_entities)})")
        params.extend(sorted(scope.legal_entities))
    if scope.stores:
        parts.append(f"{source.store_id} IN ({_marks(scope.stores)})")
        params.extend(sorted(scope.stores))
    if not parts:
        return "FALSE", []
    return "(" + " OR ".join(parts) + ")", params


@condition_sql.register
def _(condition: InStores, source: Source, tz: ZoneInfo | None = None):
    return store_ids_sql(condition.store_ids, source.postgres)


def store_ids_sql(store_ids: tuple[str, ...], postgres: bool = False) -> tuple[str, list]:
    """``o.store_id`` among the given stores, written so that DuckDB can filter inside the scan.

    A bare ``IN`` list becomes a hash join fed by every row of the period, every column the query
    reads included. Wrapped in ``IS TRUE`` it stays a filter of the table scan, evaluated on the
    column's dictionary, and the other columns are read only for the rows that pass: about half
    the time for a 50-store user on 5M orders (EXPLAIN ANALYZE; README, "Performance"). The
    expression costs grow with the list, so long lists keep the hash join. (Rows this process
    wrote itself are filtered row by row until the file is opened again: a bulk import from the
    Data page is slower to read in its own server process, never wrong.)
    """
    if not store_ids:
        return "FALSE", []
    if postgres:
        return pg.store_ids_sql(store_ids)
    marks = _marks(store_ids)
    if len(store_ids) <= SMALL_STORE_LIST:
        return f"(o.store_id IN ({marks})) IS TRUE", list(store_ids)
    return f"o.store_id IN ({marks})", list(store_ids)


@condition_sql.register
def _(condition: Period, source: Source, tz: ZoneInfo | None = None):
    clauses, params = [], []
    for day, operator in ((condition.start, ">="), (condition.end, "<")):
        if day:
            ordinal = day.toordinal() + (operator == "<")  # the end: the next day's start
            sql, param = _bound_sql(_utc_start_us(ordinal, tz), source.postgres)
            clauses.append(f"o.created_at {operator} {sql}")
            params.append(param)
    return (" AND ".join(clauses), params) if clauses else None


def period_bounds_us(condition: Period, tz: ZoneInfo) -> tuple[int | None, int | None]:
    """The period's first moment and the moment after it, in microseconds since 1970 UTC (None:
    open on that side), as the WHERE clause bounds ``o.created_at``."""
    return tuple(_utc_start_us(day.toordinal() + end, tz) if day else None
                 for day, end in ((condition.start, 0), (condition.end, 1)))


_DAY_US = 86_400_000_000
_EPOCH = datetime(1970, 1, 1)


def _utc_start_us(ordinal: int, tz: ZoneInfo) -> int:
    """Midnight of the day ``ordinal`` (``date.toordinal``, up to the day after ``date.max``) in
    the display time zone, in microseconds since 1970 UTC. Integers: the start of the day after
    31.12.9999, or of 01.01.0001 east of Greenwich, lies outside Python's datetime."""
    if ordinal > date.max.toordinal():
        offset = tz.utcoffset(datetime.max)  # the offset at that midnight, as it is just before
    else:
        offset = tz.utcoffset(datetime.combine(date.fromordinal(ordinal), time.min))
    return (ordinal - _EPOCH.toordinal()) * _DAY_US - offset // timedelta(microseconds=1)


def _bound_sql(us: int, postgres: bool = False) -> tuple[str, object]:
    """A bound on ``o.created_at`` as SQL and its parameter: a naive UTC datetime where Python
    has one, else the microseconds (DuckDB's timestamps reach far beyond, and so do
    PostgreSQL's). DuckDB folds both into a constant that skips row groups."""
    try:
        return "?", _EPOCH + timedelta(microseconds=us)
    except OverflowError:
        return (pg.TIMESTAMP_FROM_US if postgres else "make_timestamp(?)"), us


@condition_sql.register
def _(condition: Search, source: Source, tz: ZoneInfo | None = None):
    def contains(text_sql: str, value: str) -> tuple[str, object]:
        if source.postgres:
            return pg.contains(text_sql, value)
        return f"contains({text_sql}, ?)", value

    lower_email = pg.LOWER_EMAIL if source.postgres else "lower(o.email)"
    if source.postgres and "\x00" in condition.value:
        return "FALSE", []  # PostgreSQL's texts hold no NUL, nor can a parameter
    if condition.kind == "email":
        sql, param = contains(lower_email, condition.value)
        return sql, [param]
    if condition.kind == "digits":
        phone_sql, phone_param = contains("o.phone_digits", condition.value)
        parts = ["o.merchant_order_id = ?", phone_sql]
        params: list = [condition.value, phone_param]
        if int(condition.value) <= BIGINT_MAX:
            parts.insert(0, "o.order_id = ?")
            params.insert(0, int(condition.value))
        return "(" + " OR ".join(parts) + ")", params
    if condition.kind == "text":
        email_sql, email_param = contains(lower_email, condition.value.lower())
        return f"(o.merchant_order_id = ? OR {email_sql})", [condition.value, email_param]
    return None


# -- a query's clauses -----------------------------------------------------------------------------

def where_clause(query: OrderQuery, scope: Scope, tz: ZoneInfo) -> tuple[str, list]:
    """The WHERE clause over ``FROM_SQL`` (without the keyword) and its parameters, scope first."""
    return where([InScope(scope), *query.filters()], JOINED, tz) or ("TRUE", [])


def store_clause(query: OrderQuery, scope: Scope) -> tuple[str, list] | None:
    """The WHERE clause over ``stores s`` choosing the stores the view may show orders of:
    the scope and the store filters (legal entity, region, store). None: every store."""
    return where([f for f in [InScope(scope), *query.filters()] if f.about_stores], STORES)


def orders_where(query: OrderQuery, tz: ZoneInfo, store_ids: tuple[str, ...] | None,
                 postgres: bool = False) -> tuple[str, list]:
    """The WHERE clause over ``orders o`` alone, once ``store_clause`` has been resolved to
    the store IDs it allows (None: every store), for DuckDB or (``postgres``) PostgreSQL.
    Selects exactly the rows of ``where_clause``: every order has exactly one store."""
    stores = [] if store_ids is None else [InStores(store_ids)]
    own = [f for f in query.filters() if not f.about_stores]
    return where([*stores, *own], ORDERS_PG if postgres else ORDERS, tz) or ("TRUE", [])


def order_by(query: OrderQuery, key: str | None = None, postgres: bool = False) -> str:
    """The ORDER BY list; ``key`` stands in for the sort column's SQL (a CTE's column).

    On PostgreSQL (``postgres``) the same order is written so that an index answers it: empty
    values come last by default in ascending order, and a column that is never empty needs no
    ``NULLS LAST`` descending (an index scanned backwards gives ``NULLS FIRST``)."""
    direction = "DESC" if query.descending else "ASC"
    column = query.sort_column
    tie = f"o.order_id {direction}"
    if column.key == "order_id":
        return tie
    nulls = " NULLS LAST"
    if postgres and (not query.descending or column.key in pg.NEVER_EMPTY):
        nulls = ""
    return f"{key or column_sql(column)} {direction}{nulls}, {tie}"
