"""The Overview's figures: KPIs against the previous period, and the data of its charts.

The figures summarise exactly the orders the Orders page lists, within the user's scope: their
rows are read by ``core.db.figures`` (one scan grouping the view's orders by day and channel, by
status and by store, and the previous period's totals) and added up here, without a database, so
every rule below is unit-tested on hand-made rows. Sums are ``Decimal`` from the database on;
ratios are taken in Python from those Decimals. The totals are the sum of the statuses, the regions
the sum of their stores, a week the sum of its days.

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
import io
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from core.db import Database
from core.db.figures import Breakdown, DayTotals, StoreTotals, fetch_breakdown, fetch_totals
from core.db.refunds import fetch_refunded_by_reason
from core.export import sanitize_text
from core.money import quantize_amount
from core.query import DEFAULT_SORT, OrderQuery
from core.refunds import ReasonBar, reasons_of
from core.status import CHANNELS, STATUSES, Status
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
    reasons: tuple[ReasonBar, ...] = ()  # refunds by reason: they add up to refunded_amount


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


# -- the figures of a view -----------------------------------------------------------------------


def fetch_kpis(database: Database, scope: Scope, query: OrderQuery, tz: ZoneInfo) -> Kpis:
    """The KPI totals of exactly the orders the query selects within the scope."""
    totals = fetch_totals(database, scope, query, tz)
    return Kpis(totals.orders, totals.captured_amount, totals.refunded_amount,
                totals.cancelled_orders)


def fetch_overview(
    database: Database, scope: Scope, query: OrderQuery, tz: ZoneInfo, *, today: date | None = None
) -> Overview:
    """Every figure of the Overview page for the query within the scope: one scan of the selected
    orders, and the previous period's totals when the view has a period."""
    today = today or datetime.now(tz).date()
    breakdown = fetch_breakdown(database, scope, query, tz)
    current, previous = comparison_periods(query, today)
    previous_kpis = None
    if previous is not None:
        previous_kpis = fetch_kpis(
            database, scope, query.with_changes(start=previous.start, end=previous.end), tz
        )
    overview = overview_of(breakdown, current, previous, previous_kpis)
    return replace(overview, reasons=reasons_of(
        fetch_refunded_by_reason(database, scope, query, tz)))



def overview_of(
    breakdown: Breakdown, period: Period | None, previous_period: Period | None,
    previous_kpis: Kpis | None,
) -> Overview:
    """The figures the page shows, from the orders grouped three ways: the totals are the sum of
    the statuses and the regions the sum of their stores; the series is charted per day or week."""
    statuses = breakdown.statuses
    totals = Kpis(
        orders=sum(s.orders for s in statuses),
        captured_amount=sum((s.captured_amount for s in statuses), ZERO),
        refunded_amount=sum((s.refunded_amount for s in statuses), ZERO),
        cancelled_orders=sum(s.orders for s in statuses if s.status == Status.CANCEL),
    )
    bucket = bucket_for(_charted_days(period, breakdown.days))
    status_order = {status: i for i, status in enumerate(STATUSES)}
    stores = [StoreBar(s.store_id, s.store_name, s.orders, s.captured_amount)
              for s in breakdown.stores]
    return Overview(
        kpis=totals,
        period=period,
        previous_period=previous_period,
        previous_kpis=previous_kpis,
        bucket=bucket,
        series=tuple(_in_buckets(breakdown.days, bucket)),
        statuses=tuple(
            StatusSlice(s.status, s.orders, s.captured_amount)
            for s in sorted(statuses, key=lambda s: status_order.get(s.status, 99))
        ),
        top_stores=tuple(
            sorted(stores, key=lambda s: (-s.captured_amount, s.store_name, s.store_id))
        )[:TOP_STORES],
        regions=_regions(breakdown.stores),
        undated_orders=breakdown.undated_orders,
    )


def _charted_days(period: Period | None, days: tuple[DayTotals, ...]) -> int:
    """How many days the chart spans: the view's period, or else the days that have orders."""
    if period is not None:
        return period.days
    if days:
        return (max(d.day for d in days) - min(d.day for d in days)).days + 1
    return 1


def _regions(stores: tuple[StoreTotals, ...]) -> tuple[RegionBar, ...]:
    """The stores' sums by region, largest first."""
    sums: dict[str, list] = defaultdict(lambda: [0, ZERO])
    for store in stores:
        sums[store.region][0] += store.orders
        sums[store.region][1] += store.captured_amount
    return tuple(sorted(
        (RegionBar(region, n, captured) for region, (n, captured) in sums.items()),
        key=lambda r: (-r.captured_amount, r.region),
    ))


def week_start(day: date) -> date:
    """The Monday of the day's week (ISO weeks)."""
    return day - timedelta(days=day.weekday())


def _in_buckets(days: tuple[DayTotals, ...], bucket: str) -> list[SeriesPoint]:
    """The days' sums as they are charted, sorted by bucket then channel; weeks summed exactly."""
    channel_order = {channel: i for i, channel in enumerate(CHANNELS)}
    points = [SeriesPoint(d.day, d.channel, d.orders, d.captured_amount, d.refunded_amount)
              for d in days]
    if bucket == "week":
        sums: dict[tuple[date, str], list] = defaultdict(lambda: [0, ZERO, ZERO])
        for point in points:
            total = sums[(week_start(point.bucket_start), point.channel)]
            total[0] += point.orders
            total[1] += point.captured_amount
            total[2] += point.refunded_amount
        points = [SeriesPoint(start, channel, *total) for (start, channel), total in sums.items()]
    return sorted(points, key=lambda p: (p.bucket_start, channel_order.get(p.channel, 9)))


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


# -- the change shown on a tile ------------------------------------------------------------------


def kpi_change(current, previous, text: Callable[[object], str], how: str) -> str | None:
    """The change of a KPI against the previous period, as the tile shows it: relative
    ("+12.5%"), in percentage points for a ratio (``how == "points"``: "-1.25 pp"), or the whole
    value when the previous period had nothing to compare with ("+" and ``text(current)``).
    None when either period has no value (a ratio of nothing)."""
    if current is None or previous is None:
        return None
    difference = Decimal(current) - Decimal(previous)
    if not difference:
        return "0.00 pp" if how == "points" else "0.0%" if previous else text(previous)
    if how == "points":
        return f"{difference * 100:+.2f} pp"
    if previous:
        return f"{difference / Decimal(previous) * 100:+.1f}%"
    return "+" + text(current)  # from nothing: the whole value is the change


def is_flat(change: str | None) -> bool:
    """Whether a change shows no movement ("0.0%", "+0.00 pp", "-0.0%"): it gets neither an arrow
    nor a colour, a rounding to zero being no news."""
    return change is not None and not any(digit in change for digit in "123456789")


# -- the charts' data as CSV ---------------------------------------------------------------------


def _cell(value: object) -> str:
    """Amounts as 2-decimal text; text goes through the export's guard (``sanitize_text``), so
    that no cell a spreadsheet opens can run as a formula."""
    if isinstance(value, Decimal):
        return f"{quantize_amount(value):.2f}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return sanitize_text(value)
    return "" if value is None else str(value)


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


def reasons_csv(overview: Overview) -> bytes:
    return to_csv(("Reason", "Refunds", "Refunded amount"),
                  [(r.reason, r.refunds, r.refunded_amount) for r in overview.reasons])
