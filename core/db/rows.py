"""Rows: a page's orders in full as typed ``OrderRow``s, and the export's rows.

A page is ranked over narrow rows (order ID and the sort key, ``core.db.paging``) and only its 15
rows are read in full: the orders' own columns by ID, their stores' from the stores the reads
keep (``ReadCache.stores_by_id``); joined in SQL, the page took 3 ms instead of 1. The columns
and their keys come from ``core.columns``, their SQL from ``core.db.filters.column_sql``.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import duckdb

from core.columns import BY_KEY, EXPORT_COLUMNS, PAGE_COLUMNS, STORE_KEYS
from core.db.filters import column_sql, order_by
from core.db.postgres import is_postgres
from core.db.moments import InvalidDate, local_day_sql, read_moment, readable_sql
from core.query import OrderQuery


@dataclass(frozen=True)
class OrderRow:
    """One order of the Orders list; its fields are ``core.columns.PAGE_COLUMNS``' keys."""

    created_at: datetime | InvalidDate  # aware, in the display time zone
    order_id: int
    merchant_order_id: str | None
    status: str
    amount: Decimal
    refunded_amount: Decimal
    channel: str
    email: str | None
    phone: str | None
    store_name: str
    merchant_store_id: str | None
    region: str
    legal_entity: str
    zone: str


@dataclass(frozen=True)
class OrderPage:
    """One page of the Orders list."""

    rows: list[OrderRow]
    total: int
    page: int
    total_amount: Decimal


PAGE_KEYS = tuple(column.key for column in PAGE_COLUMNS)
# The orders' own columns of a page, the order date as text for ``read_moment``.
_ORDER_SELECT = ", ".join(
    [f'{column_sql(c)}{"::VARCHAR" * (c.key == "created_at")} AS "{c.key}"'
     for c in PAGE_COLUMNS if not c.in_stores]
    + ["o.store_id"]
)
_STORE_SELECT = ", ".join(f'{column_sql(BY_KEY[key])} AS "{key}"' for key in STORE_KEYS)


def read_stores(cur: duckdb.DuckDBPyConnection,
                store_ids: set[str] | None = None) -> dict[str, dict]:
    """The columns (``STORE_KEYS``) of the given stores (None: every store) by store ID."""
    where, params = ("TRUE", []) if store_ids is None else (
        f"s.store_id IN ({', '.join('?' * len(store_ids))})", sorted(store_ids))
    result = cur.execute(f"SELECT s.store_id, {_STORE_SELECT} FROM stores s WHERE {where}",
                         params)
    keys = [d[0] for d in result.description][1:]
    return {row[0]: dict(zip(keys, row[1:])) for row in result.fetchall()}


def full_rows(cur: duckdb.DuckDBPyConnection, where: str, params: list,
              stores: dict[str, dict], sorted_by: str | None = None) -> list[dict]:
    """The orders ``o`` matching ``where`` in full (by column key, the date as stored text),
    each with its store's columns, sorted by ``sorted_by`` (an ORDER BY list over ``orders o``;
    None: any order)."""
    order = f" ORDER BY {sorted_by}" if sorted_by else ""
    result = cur.execute(f"SELECT {_ORDER_SELECT} FROM orders o WHERE {where}{order}", params)
    keys = [d[0] for d in result.description]
    found = [dict(zip(keys, values)) for values in result.fetchall()]
    if missing := {row["store_id"] for row in found} - stores.keys():
        # A store committed while ``stores`` was being taken for current: read it here.
        stores = {**stores, **read_stores(cur, missing)}
    for row in found:
        row.update(stores[row.pop("store_id")])
    return found


def order_rows(cur: duckdb.DuckDBPyConnection, ids: list[int],
               stores: dict[str, dict]) -> list[dict]:
    """The orders ``ids`` in full, in the order of ``ids``."""
    if not ids:
        return []
    by_id = {row["order_id"]: row for row in full_rows(
        cur, f"o.order_id IN ({', '.join('?' * len(ids))})", ids, stores)}
    return [by_id[i] for i in ids if i in by_id]


def in_screen_order(rows: list[dict], query: OrderQuery) -> list[dict]:
    """``rows`` as ``order_by(query)`` sorts them by a store's column: the column (empty values
    last either way), then the order ID, both in the chosen direction. Texts compare by code
    point, as DuckDB's binary collation compares their UTF-8 bytes."""
    rows = sorted(rows, key=lambda row: row["order_id"], reverse=query.descending)
    key = query.sort_column.key
    if key == "order_id":
        return rows
    present = [row for row in rows if row[key] is not None]
    present.sort(key=lambda row: row[key], reverse=query.descending)  # stable
    return present + [row for row in rows if row[key] is None]


def typed_rows(rows: list[dict], tz: ZoneInfo) -> list[OrderRow]:
    """Rows of ``full_rows`` as ``OrderRow``s, their dates read in the display zone."""
    return [OrderRow(**{key: row[key] for key in PAGE_KEYS if key != "created_at"},
                     created_at=read_moment(row["created_at"], tz)) for row in rows]


# -- the export ------------------------------------------------------------------------------------
# The date is the order's day in the display zone, followed by the stored time as text where it is
# not read as a date. The database sorts only the orders' own values; the store's columns (which
# stand together in the export) are added in Python from the small stores table: for 1M rows that
# halves what the sort holds in memory.
_EXPORT_STORE_KEYS = tuple(c.key for c in EXPORT_COLUMNS if c.in_stores)
_EXPORT_STORE_AT = [c.in_stores for c in EXPORT_COLUMNS].index(True)
assert EXPORT_COLUMNS[_EXPORT_STORE_AT + len(_EXPORT_STORE_KEYS) - 1].in_stores, \
    "the export's store columns stand together"
EXPORT_ORDER_SELECT = ", ".join(
    [f'{local_day_sql("o.created_at")}',
     f'CASE WHEN NOT {readable_sql("o.created_at")} THEN o.created_at::VARCHAR END']
    + [column_sql(c) for c in EXPORT_COLUMNS[1:_EXPORT_STORE_AT]]
    + ["o.store_id"]
    + [column_sql(c) for c in EXPORT_COLUMNS[_EXPORT_STORE_AT + len(_EXPORT_STORE_KEYS):]]
)
assert EXPORT_COLUMNS[0].key == "created_at"


def export_rows(cur: duckdb.DuckDBPyConnection, where: str, params: list, query: OrderQuery,
                tz: ZoneInfo, batch_size: int) -> Iterator[tuple]:
    """The orders matching ``where`` as the export's values (``EXPORT_COLUMNS``), in the
    screen's order."""
    stores = {sid: tuple(store[key] for key in _EXPORT_STORE_KEYS)
              for sid, store in read_stores(cur).items()}
    join = " LEFT JOIN stores s ON s.store_id = o.store_id" if query.sort_column.in_stores else ""
    sql = (f"SELECT {EXPORT_ORDER_SELECT} FROM orders o{join} WHERE {where} "
           f"ORDER BY {order_by(query, postgres=is_postgres(cur))}")
    at = _EXPORT_STORE_AT + 1  # in a row of the SELECT: the date takes two values
    for batch in _batches(cur, sql, [tz.key, *params], batch_size):
        for row in batch:
            # A time that is not a date is written as the same flag the page shows: an empty
            # cell would pass for an order without a date, and the file would no longer say
            # what the database holds.
            day = row[0] if row[1] is None else str(InvalidDate(row[1]))
            yield (day, *row[2:at], *stores[row[at]], *row[at + 1:])


def _batches(cur, sql: str, params: list, batch_size: int) -> Iterator[list]:
    """The rows of ``sql`` in batches: DuckDB's result is fetched piece by piece; PostgreSQL's is
    read through a server-side cursor (``core.db.postgres.streaming``)."""
    if is_postgres(cur):
        from core.db.postgres.streaming import stream_rows  # the driver, only on PostgreSQL
        yield from stream_rows(cur, sql, params, batch_size)
        return
    result = cur.execute(sql, params)
    while batch := result.fetchmany(batch_size):
        yield batch
