"""The Overview's reads: the totals and the breakdowns of the orders a view selects.

Both read exactly the orders the Orders page lists (``Database.orders_where``: the scope and the
store filters resolved to store IDs, a search answered by the search index). Sums come back as
``Decimal`` (``fetchall``, never ``.df()``). One scan with GROUPING SETS groups the selected orders
three ways (by local day and channel, by status, by store); the previous period's totals are one
more query. The rows are handed over as plain typed tuples: what they add up to (the tiles, the
weeks, the regions, the top stores) is decided in ``core.overview``, without a database.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo

from core.db import Database, readable_sql
from core.db.postgres import figures as pg_figures
from core.query import OrderQuery
from core.status import Status
from core.users import Scope


class Totals(NamedTuple):
    orders: int
    captured_amount: Decimal
    refunded_amount: Decimal
    cancelled_orders: int


class DayTotals(NamedTuple):
    """The orders of one local day and one channel."""

    day: date
    channel: str
    orders: int
    captured_amount: Decimal
    refunded_amount: Decimal


class StatusTotals(NamedTuple):
    status: str
    orders: int
    captured_amount: Decimal
    refunded_amount: Decimal


class StoreTotals(NamedTuple):
    store_id: str
    store_name: str | None
    region: str | None
    orders: int
    captured_amount: Decimal


@dataclass(frozen=True)
class Breakdown:
    """The selected orders grouped three ways; each grouping covers every selected order, except
    that an order whose stored time is no date (``core.db.InvalidDate``) is on no day: it is
    counted in ``undated_orders`` instead."""

    days: tuple[DayTotals, ...]
    statuses: tuple[StatusTotals, ...]
    stores: tuple[StoreTotals, ...]
    undated_orders: int


_TOTALS_SELECT = (
    "count(*), coalesce(sum(o.amount), 0), coalesce(sum(o.refunded_amount), 0), "
    f"count(*) FILTER (WHERE o.status = '{Status.CANCEL}')"
)


def _selected(database: Database, scope: Scope, query: OrderQuery, tz: ZoneInfo):
    """The WHERE clause over ``orders o`` of the orders the query selects, its parameters, and
    on PostgreSQL the same view as whole hours of ``order_hours`` when it is exactly that (no
    partial hours), else None."""
    if database.backend != "postgresql":
        return (*database.orders_where(scope, query, tz), None)
    view = database.resolve(scope, query, tz)
    if view is None:
        return "FALSE", [], None
    hours = view.hours if view.hours is not None and not view.hours.edges else None
    return view.where, view.params, hours


def fetch_totals(database: Database, scope: Scope, query: OrderQuery, tz: ZoneInfo) -> Totals:
    """The totals of exactly the orders the query selects within the scope."""
    where, params, hours = _selected(database, scope, query, tz)
    with database.cursor() as cur:
        if hours is not None:
            sql, args = pg_figures.TOTALS.format(where=hours.where), hours.params
        else:
            sql, args = f"SELECT {_TOTALS_SELECT} FROM orders o WHERE {where}", params
        orders, captured, refunded, cancelled = cur.execute(sql, args).fetchone()
    return Totals(int(orders), Decimal(captured), Decimal(refunded), int(cancelled))


# Orders are grouped by UTC hour (or quarter-hour) first, integer arithmetic on every row, and only
# those few thousand buckets are turned into local days: converting each order's time to the
# display zone was the slowest part of the query. A bucket never straddles a local midnight when
# its length divides every UTC offset of the zone; every offset in use since 2000 is a whole number
# of quarter hours, and most zones' are whole hours (fewer buckets, a faster query).
_HOUR_US = 3600 * 1_000_000
_QUARTER_HOUR_US = 900 * 1_000_000


@functools.lru_cache(maxsize=64)
def _bucket_us(tz: ZoneInfo) -> int:
    """The longest of an hour or a quarter-hour that divides the zone's UTC offsets since 2000."""
    for year in range(2000, 2041):
        for month in range(1, 13):
            for day in (1, 15):
                offset = tz.utcoffset(datetime(year, month, day))
                if offset is not None and offset.total_seconds() % 3600:
                    return _QUARTER_HOUR_US
    return _HOUR_US


# grouping(q, channel, status, store_id): a set bit marks a column rolled up. An order whose time
# is not read as a date has no bucket (q is NULL): every readable time is after 1970, so the
# integer division (which DuckDB truncates towards zero) always rounds down.
_BY_DAY_AND_CHANNEL, _BY_STATUS, _BY_STORE = 0b0011, 0b1101, 0b1110


def _bucket_sql(bucket_us: int, postgres: bool) -> tuple[str, str]:
    """SQL of an order's bucket (``q``) and of the bucket's start as a TIMESTAMPTZ (from ``q``):
    DuckDB counts buckets as integers; PostgreSQL bins the timestamp itself (``date_bin``)."""
    if postgres:
        return (f"date_bin(INTERVAL '{bucket_us // 1_000_000} seconds', o.created_at, "
                "TIMESTAMP '1970-01-01')", "q::TIMESTAMPTZ")
    return (f"epoch_us(o.created_at) // {bucket_us}",
            f"make_timestamp(q * {bucket_us})::TIMESTAMPTZ")


def _breakdown_sql(where: str, bucket_us: int, postgres: bool = False) -> str:
    bucket, start = _bucket_sql(bucket_us, postgres)
    return f"""
        WITH grouped AS (
            SELECT grouping(q, channel, status, store_id) AS g, q, channel, status, store_id,
                   count(*) AS n, sum(amount) AS captured, sum(refunded_amount) AS refunded
            FROM (
                SELECT CASE WHEN {readable_sql("o.created_at")}
                            THEN {bucket} END AS q,
                       o.channel, o.status,
                       o.store_id, o.amount, o.refunded_amount
                FROM orders o WHERE {where}
            ) selected
            GROUP BY GROUPING SETS ((q, channel), (status), (store_id))
        ), by_day AS (
            SELECT g,
                   CAST(timezone(?, {start}) AS DATE) AS day,
                   channel, status, store_id,
                   sum(n) AS n, sum(captured) AS captured, sum(refunded) AS refunded
            FROM grouped GROUP BY g, day, channel, status, store_id
        )
        SELECT b.g, b.day, b.channel, b.status, b.store_id, st.store_name, st.region,
               b.n, b.captured, b.refunded
        FROM by_day b LEFT JOIN stores st ON st.store_id = b.store_id
    """


def fetch_breakdown(
    database: Database, scope: Scope, query: OrderQuery, tz: ZoneInfo
) -> Breakdown:
    """The orders the query selects within the scope, by local day and channel, by status and by
    store, in one scan (the rows come in no particular order)."""
    where, params, hours = _selected(database, scope, query, tz)
    with database.cursor() as cur:
        if hours is not None and _bucket_us(tz) == _HOUR_US:
            sql = pg_figures.breakdown_sql(hours, where, (_BY_DAY_AND_CHANNEL, _BY_STATUS,
                                                          _BY_STORE))
            args = [tz.key, *hours.params, *hours.params, *params]
        else:
            sql = _breakdown_sql(where, _bucket_us(tz), database.backend == "postgresql")
            args = [*params, tz.key]
        rows = cur.execute(sql, args).fetchall()
    days, statuses, stores = [], [], []
    undated = 0
    for g, day, channel, status, store_id, store_name, region, n, captured, refunded in rows:
        n, captured, refunded = int(n), Decimal(captured), Decimal(refunded)
        if g == _BY_DAY_AND_CHANNEL and day is None:
            undated += n
        elif g == _BY_DAY_AND_CHANNEL:
            days.append(DayTotals(day, channel, n, captured, refunded))
        elif g == _BY_STATUS:
            statuses.append(StatusTotals(status, n, captured, refunded))
        elif g == _BY_STORE:
            stores.append(StoreTotals(store_id, store_name, region, n, captured))
    return Breakdown(tuple(days), tuple(statuses), tuple(stores), undated)
