"""The Overview's figures: KPIs against the previous period, and the data of its charts.

Everything is computed in DuckDB over the same orders as the Orders page (``Store.orders_where``:
the scope and store filters resolved to store IDs, a search answered by the search index), so the
Overview summarises exactly the orders the Orders page lists, within the user's scope.
Sums come back as ``Decimal`` (``fetchall``, never ``.df()``); ratios are taken in Python from those
Decimals. One scan with GROUPING SETS yields the daily series by channel, the statuses and the
stores (the totals and the regions are sums of those); the previous period's totals are one more
query.

Comparison rule. The tiles cover exactly the view's orders, so a change is shown only when the
view has a period: a period ``start … end`` (a start alone runs to today, as the Orders page says)
is compared with the period of equal length that ends the day before ``start``, with every other
filter and the search unchanged. A view without a start (all orders, or "until <end>") has no
previous period of equal length: ``Overview.previous_kpis`` is None and the page says "No
comparison" rather than comparing a window that is not on the screen.

Amounts are "captured" as the Orders page and the export count them: the sum of the amounts of the
selected orders, whatever their status (a cancelled order keeps its amount; filter by status to
leave it out). The refund rate is refunded / captured over the same orders.
"""
from __future__ import annotations

import csv
import functools
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from core.money import quantize_amount
from core.query import DEFAULT_SORT, OrderQuery
from core.db.schema import CHANNELS, STATUSES
from core.db import Database, readable_sql
from core.users import Scope

WEEKS_AFTER_DAYS = 92  # a longer period is charted per week, a shorter one per day
TOP_STORES = 10
RATIO_PLACES = Decimal("0.0001")  # ratios kept to 0.01 percent
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Period:
    """Inclusive dates in the display time zone."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> "Period | None":
        """The period of equal length that ends the day before this one starts; None when it
        would begin before the calendar does."""
        if self.start.toordinal() <= self.days:
            return None
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def describe(self) -> str:
        if self.start == self.end:
            return f"{self.start:%d.%m.%Y}"
        return f"{self.start:%d.%m.%Y} – {self.end:%d.%m.%Y}"


@dataclass(frozen=True)
class Kpis:
    orders: int
    captured_amount: Decimal
    refunded_amount: Decimal
    cancelled_orders: int

    @property
    def refund_rate(self) -> Decimal | None:
        """Refunded / captured, or None when nothing was captured."""
        return _ratio(self.refunded_amount, self.captured_amount)

    @property
    def average_order_amount(self) -> Decimal | None:
        if not self.orders:
            return None
        return quantize_amount(self.captured_amount / self.orders)

    @property
    def cancelled_share(self) -> Decimal | None:
        """Cancelled orders / orders, or None without orders."""
        return _ratio(Decimal(self.cancelled_orders), Decimal(self.orders))


@dataclass(frozen=True)
class SeriesPoint:
    """One bar of the series: a day or a week (``bucket_start`` is its Monday) and a channel."""

    bucket_start: date
    channel: str
    orders: int
    captured_amount: Decimal
    refunded_amount: Decimal


@dataclass(frozen=True)
class StatusSlice:
    status: str
    orders: int
    captured_amount: Decimal


@dataclass(frozen=True)
class StoreBar:
    store_id: str
    store_name: str
    orders: int
    captured_amount: Decimal


@dataclass(frozen=True)
class RegionBar:
    region: str
    orders: int
    captured_amount: Decimal


@dataclass(frozen=True)
class Overview:
    kpis: Kpis
    period: Period | None  # the view's period, when it has a start
    previous_period: Period | None
    previous_kpis: Kpis | None  # None: no comparison (the view has no start)
    bucket: str  # "day" or "week"
    series: tuple[SeriesPoint, ...]
    statuses: tuple[StatusSlice, ...]
    top_stores: tuple[StoreBar, ...]
    regions: tuple[RegionBar, ...]
    # Orders whose stored time is no date (``core.db.InvalidDate``): in the tiles, statuses,
    # stores and regions, but on no day of the series.
    undated_orders: int = 0


def _ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    if not whole:
        return None
    return (part / whole).quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)


def figures_query(query: OrderQuery) -> OrderQuery:
    """The query without its sort: the figures do not depend on it (one cache entry per view)."""
    return query.with_changes(sort=DEFAULT_SORT, descending=True)


def view_period(query: OrderQuery, today: date) -> Period | None:
    """The view's period; a start alone runs to today. None when the view has no start."""
    if query.start is None:
        return None
    return Period(query.start, query.end or max(today, query.start))


def comparison_periods(query: OrderQuery, today: date) -> tuple[Period | None, Period | None]:
    """(current, previous) by the comparison rule in this module's docstring."""
    current = view_period(query, today)
    return current, current.previous() if current else None


def bucket_for(days: int) -> str:
    return "week" if days > WEEKS_AFTER_DAYS else "day"


# -- reads ----------------------------------------------------------------------------------------

_KPI_SELECT = (
    "count(*), coalesce(sum(o.amount), 0), coalesce(sum(o.refunded_amount), 0), "
    "count(*) FILTER (WHERE o.status = 'Cancel')"
)


def fetch_kpis(database: Database, scope: Scope, query: OrderQuery, tz: ZoneInfo) -> Kpis:
    """The KPI totals of exactly the orders the query selects within the scope."""
    where, params = database.orders_where(scope, query, tz)
    with database.cursor() as cur:
        row = cur.execute(f"SELECT {_KPI_SELECT} FROM orders o WHERE {where}", params).fetchone()
    return _kpis(row)


def _kpis(row: tuple) -> Kpis:
    orders, captured, refunded, cancelled = row
    return Kpis(int(orders), Decimal(captured), Decimal(refunded), int(cancelled))


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


def fetch_overview(
    database: Database, scope: Scope, query: OrderQuery, tz: ZoneInfo, *, today: date | None = None
) -> Overview:
    """Every figure of the Overview page for the query within the scope.

    One scan groups the selected orders three ways (by UTC hour and channel, by status, by
    store); the totals are the sum of the statuses and the regions the sum of their stores.
    """
    today = today or datetime.now(tz).date()
    where, params = database.orders_where(scope, query, tz)
    bucket_us = _bucket_us(tz)
    sql = f"""
        WITH grouped AS (
            SELECT grouping(q, channel, status, store_id) AS g, q, channel, status, store_id,
                   count(*) AS n, sum(amount) AS captured, sum(refunded_amount) AS refunded
            FROM (
                SELECT CASE WHEN {readable_sql("o.created_at")}
                            THEN epoch_us(o.created_at) // {bucket_us} END AS q,
                       o.channel, o.status,
                       o.store_id, o.amount, o.refunded_amount
                FROM orders o WHERE {where}
            ) selected
            GROUP BY GROUPING SETS ((q, channel), (status), (store_id))
        ), by_day AS (
            SELECT g,
                   CAST(timezone(?, make_timestamp(q * {bucket_us})::TIMESTAMPTZ) AS DATE) AS day,
                   channel, status, store_id,
                   sum(n) AS n, sum(captured) AS captured, sum(refunded) AS refunded
            FROM grouped GROUP BY g, day, channel, status, store_id
        )
        SELECT b.g, b.day, b.channel, b.status, b.store_id, st.store_name, st.region,
               b.n, b.captured, b.refunded
        FROM by_day b LEFT JOIN stores st ON st.store_id = b.store_id
    """
    with database.cursor() as cur:
        rows = cur.execute(sql, [*params, tz.key]).fetchall()

    daily, statuses, stores = [], [], []
    region_sums: dict[str, list] = defaultdict(lambda: [0, ZERO])
    cancelled = undated = 0
    for g, day, channel, status, store_id, store_name, region, n, captured, refunded in rows:
        n, captured, refunded = int(n), Decimal(captured), Decimal(refunded)
        if g == _BY_DAY_AND_CHANNEL and day is None:
            undated += n
        elif g == _BY_DAY_AND_CHANNEL:
            daily.append(SeriesPoint(day, channel, n, captured, refunded))
        elif g == _BY_STATUS:
            statuses.append((status, n, captured, refunded))
            cancelled += n if status == "Cancel" else 0
        elif g == _BY_STORE:
            stores.append(StoreBar(store_id, store_name, n, captured))
            region_sums[region][0] += n
            region_sums[region][1] += captured
    totals = Kpis(
        orders=sum(n for _, n, _, _ in statuses),
        captured_amount=sum((c for _, _, c, _ in statuses), ZERO),
        refunded_amount=sum((r for _, _, _, r in statuses), ZERO),
        cancelled_orders=cancelled,
    )

    current, previous = comparison_periods(query, today)
    previous_kpis = None
    if previous is not None:
        previous_kpis = fetch_kpis(
            database, scope, query.with_changes(start=previous.start, end=previous.end), tz
        )

    if current is not None:
        days = current.days
    elif daily:
        days = (max(p.bucket_start for p in daily) - min(p.bucket_start for p in daily)).days + 1
    else:
        days = 1
    bucket = bucket_for(days)

    status_order = {status: i for i, status in enumerate(STATUSES)}
    return Overview(
        kpis=totals,
        period=current,
        previous_period=previous,
        previous_kpis=previous_kpis,
        bucket=bucket,
        series=tuple(_in_buckets(daily, bucket)),
        statuses=tuple(
            StatusSlice(status, n, captured)
            for status, n, captured, _ in sorted(statuses,
                                                 key=lambda s: status_order.get(s[0], 99))
        ),
        top_stores=tuple(
            sorted(stores, key=lambda s: (-s.captured_amount, s.store_name, s.store_id))
        )[:TOP_STORES],
        regions=tuple(sorted(
            (RegionBar(region, n, captured) for region, (n, captured) in region_sums.items()),
            key=lambda r: (-r.captured_amount, r.region),
        )),
        undated_orders=undated,
    )


def week_start(day: date) -> date:
    """The Monday of the day's week (ISO weeks)."""
    return day - timedelta(days=day.weekday())


def _in_buckets(daily: list[SeriesPoint], bucket: str) -> list[SeriesPoint]:
    """The daily points as they are charted, sorted by bucket then channel; weeks summed exactly."""
    channel_order = {channel: i for i, channel in enumerate(CHANNELS)}
    if bucket == "week":
        sums: dict[tuple[date, str], list] = defaultdict(lambda: [0, ZERO, ZERO])
        for point in daily:
            total = sums[(week_start(point.bucket_start), point.channel)]
            total[0] += point.orders
            total[1] += point.captured_amount
            total[2] += point.refunded_amount
        daily = [SeriesPoint(start, channel, *total) for (start, channel), total in sums.items()]
    return sorted(daily, key=lambda p: (p.bucket_start, channel_order.get(p.channel, 9)))


# -- narrowing the Orders page from a chart ------------------------------------------------------


def bucket_period(bucket_start: date, bucket: str, query: OrderQuery) -> Period:
    """The dates of one bar of the series, kept within the view's period."""
    end = date.fromordinal(min(bucket_start.toordinal() + (6 if bucket == "week" else 0),
                               date.max.toordinal()))
    start = max(bucket_start, query.start) if query.start else bucket_start
    end = min(end, query.end) if query.end else end
    return Period(start, max(start, end))


def narrowed_query(
    query: OrderQuery,
    *,
    status: str | None = None,
    store_id: str | None = None,
    region: str | None = None,
    channel: str | None = None,
    period: Period | None = None,
) -> OrderQuery:
    """The view narrowed to one clicked bar or slice; every other filter and the search are kept."""
    changes: dict = {}
    if status is not None:
        changes["statuses"] = (status,)
    if store_id is not None:
        changes["stores"] = (store_id,)
    if region is not None:
        changes["regions"] = (region,)
    if channel is not None:
        changes["channels"] = (channel,)
    if period is not None:
        changes["start"], changes["end"] = period.start, period.end
    return query.with_changes(**changes)


# -- the charts' data as CSV ---------------------------------------------------------------------

_FORMULA_STARTS = tuple("=+-@\t\r")


def _cell(value: object) -> str:
    """Amounts as 2-decimal text; text that a spreadsheet would run as a formula is neutralised."""
    if isinstance(value, Decimal):
        return f"{quantize_amount(value):.2f}"
    if isinstance(value, date):
        return value.isoformat()
    text = "" if value is None else str(value)
    if isinstance(value, str) and text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def to_csv(header: tuple[str, ...], rows: list[tuple]) -> bytes:
    """UTF-8 CSV with a byte-order mark, so spreadsheet programs read non-Latin names right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


def series_csv(overview: Overview) -> bytes:
    first = "Week starting" if overview.bucket == "week" else "Day"
    return to_csv(
        (first, "Channel", "Orders", "Captured amount", "Refunded amount"),
        [(p.bucket_start, p.channel, p.orders, p.captured_amount, p.refunded_amount)
         for p in overview.series],
    )


def statuses_csv(overview: Overview) -> bytes:
    return to_csv(
        ("Status", "Orders", "Captured amount"),
        [(s.status, s.orders, s.captured_amount) for s in overview.statuses],
    )


def stores_csv(overview: Overview) -> bytes:
    return to_csv(
        ("Store", "Store name", "Orders", "Captured amount"),
        [(s.store_id, s.store_name, s.orders, s.captured_amount) for s in overview.top_stores],
    )


def regions_csv(overview: Overview) -> bytes:
    return to_csv(
        ("Region", "Orders", "Captured amount"),
        [(r.region, r.orders, r.captured_amount) for r in overview.regions],
    )
