"""The Overview's pure figures: periods, buckets, the tiles' changes, adding rows up, CSV."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest

from core.db.figures import Breakdown, DayTotals, StatusTotals, StoreTotals
from core.overview import (
    Kpis,
    Period,
    bucket_period,
    is_flat,
    kpi_change,
    narrowed_query,
    overview_of,
    stores_csv,
    to_csv,
    week_start,
)
from core.query import OrderQuery
from core.status import Channel, Status


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def _count(number: int) -> str:
    return f"{number:,}"


def _money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


@pytest.mark.parametrize("current, previous, text, how, shown", [
    # relative, to a tenth of a percent
    (110, 100, _count, "relative", "+10.0%"),
    (90, 100, _count, "relative", "-10.0%"),
    (100, 100, _count, "relative", "0.0%"),
    (1, 3, _count, "relative", "-66.7%"),
    (Decimal("100.01"), Decimal("100.00"), _money, "relative", "+0.0%"),
    # from nothing: the whole value is the change; nothing to nothing is the value itself
    (5, 0, _count, "relative", "+5"),
    (Decimal("1234.50"), Decimal("0.00"), _money, "relative", "+1,234.50"),
    (0, 0, _count, "relative", "0"),
    # ratios change in percentage points, never relative to themselves
    (Decimal("0.1250"), Decimal("0.1000"), str, "points", "+2.50 pp"),
    (Decimal("0.1000"), Decimal("0.1250"), str, "points", "-2.50 pp"),
    (Decimal("0.1000"), Decimal("0.1000"), str, "points", "0.00 pp"),
    (Decimal("0.0500"), Decimal("0"), str, "points", "+5.00 pp"),
    # a ratio of nothing in either period: no change to show
    (None, Decimal("0.1"), str, "points", None),
    (Decimal("0.1"), None, str, "points", None),
    (None, None, str, "points", None),
])
def test_a_tile_shows_its_change_against_the_previous_period(current, previous, text, how,
                                                              shown):
    assert kpi_change(current, previous, text, how) == shown


@pytest.mark.parametrize("change, flat", [
    ("0.0%", True), ("+0.0%", True), ("-0.0%", True), ("0.00 pp", True), ("0", True),
    ("+0.00", True), ("+10.0%", False), ("-0.1%", False), ("+5", False), ("+0.01 pp", False),
    (None, False),
])
def test_a_change_that_rounds_to_zero_is_flat(change, flat):
    assert is_flat(change) is flat


def test_tenths_of_cents_never_appear_where_floats_would_drift():
    # 0.10 + 0.20 is 0.30 exactly: no float on the way (the sample's sums are checked in tests/db).
    kpis = Kpis(3, Decimal("0.30"), Decimal("0.10"), 1)
    assert kpis.refund_rate == Decimal("0.3333")
    assert kpis.average_order_amount == Decimal("0.10")


def test_previous_period_of_one_day_is_the_day_before():
    period = Period(date(2026, 3, 1), date(2026, 3, 1))
    assert period.previous() == Period(date(2026, 2, 28), date(2026, 2, 28))
    assert period.days == 1 and period.describe() == "01.03.2026"
    assert Period(date(2026, 1, 1), date(2026, 1, 31)).previous().start == date(2025, 12, 1)
    assert week_start(date(2026, 3, 8)) == date(2026, 3, 2)
    assert week_start(date(2026, 3, 2)) + timedelta(days=6) == date(2026, 3, 8)


def _day(day: date, channel: str, orders: int, captured: str, refunded: str = "0.00"):
    return DayTotals(day, channel, orders, Decimal(captured), Decimal(refunded))


BREAKDOWN = Breakdown(
    days=(
        _day(date(2026, 3, 3), Channel.OFFLINE, 1, "5.00"),
        _day(date(2026, 3, 2), Channel.ONLINE, 2, "10.10", "1.00"),
        _day(date(2026, 3, 2), Channel.OFFLINE, 1, "2.20"),
        _day(date(2026, 3, 9), Channel.ONLINE, 1, "0.30", "0.30"),
    ),
    statuses=(
        StatusTotals(Status.RETURN, 1, Decimal("0.30"), Decimal("0.30")),
        StatusTotals(Status.CANCEL, 2, Decimal("7.20"), Decimal("0.00")),
        StatusTotals(Status.COMPLETED, 3, Decimal("11.10"), Decimal("1.00")),
    ),
    stores=(
        StoreTotals("S2", "Two", "North", 2, Decimal("7.20")),
        StoreTotals("S1", "One", "South", 3, Decimal("11.10")),
        StoreTotals("S3", "Three", "North", 1, Decimal("0.30")),
    ),
    undated_orders=1,
)


def test_the_totals_are_the_sum_of_the_statuses():
    overview = overview_of(BREAKDOWN, None, None, None)
    assert overview.kpis == Kpis(6, Decimal("18.60"), Decimal("1.30"), 2)
    assert [s.status for s in overview.statuses] == [Status.COMPLETED, Status.CANCEL,
                                                     Status.RETURN]  # the machine's order
    assert overview.undated_orders == 1


def test_the_regions_are_the_sum_of_their_stores_largest_first():
    overview = overview_of(BREAKDOWN, None, None, None)
    assert [(r.region, r.orders, r.captured_amount) for r in overview.regions] == [
        ("South", 3, Decimal("11.10")), ("North", 3, Decimal("7.50"))]
    assert [s.store_id for s in overview.top_stores] == ["S1", "S2", "S3"]


def test_only_the_ten_largest_stores_are_kept_ties_by_name_then_id():
    stores = (*(StoreTotals(f"S{i:02}", f"Store {i:02}", "R", 1, Decimal(12 - i))
                for i in range(1, 12)),
              StoreTotals("S13", "Aaa", "R", 1, Decimal(6)),
              StoreTotals("S12", "Aaa", "R", 1, Decimal(6)))
    overview = overview_of(Breakdown((), (), stores, 0), None, None, None)
    assert [s.store_id for s in overview.top_stores] == [
        "S01", "S02", "S03", "S04", "S05", "S12", "S13", "S06", "S07", "S08"]


def test_a_view_without_a_period_is_charted_per_day_when_its_orders_span_92_days_or_less():
    overview = overview_of(BREAKDOWN, None, None, None)
    assert overview.bucket == "day"
    assert [(p.bucket_start, p.channel) for p in overview.series] == [
        (date(2026, 3, 2), Channel.ONLINE), (date(2026, 3, 2), Channel.OFFLINE),
        (date(2026, 3, 3), Channel.OFFLINE), (date(2026, 3, 9), Channel.ONLINE)]
    assert overview_of(Breakdown((), (), (), 0), None, None, None).bucket == "day"


def test_a_period_longer_than_92_days_is_charted_per_week_summed_exactly():
    period = Period(date(2026, 1, 1), date(2026, 4, 3))  # 93 days
    previous_kpis = Kpis(1, Decimal("1.00"), Decimal("0.00"), 0)
    overview = overview_of(BREAKDOWN, period, period.previous(), previous_kpis)
    assert (overview.period, overview.previous_kpis) == (period, previous_kpis)
    assert overview.bucket == "week"
    assert [(p.bucket_start, p.channel, p.orders, p.captured_amount, p.refunded_amount)
            for p in overview.series] == [
        (date(2026, 3, 2), Channel.ONLINE, 2, Decimal("10.10"), Decimal("1.00")),
        (date(2026, 3, 2), Channel.OFFLINE, 2, Decimal("7.20"), Decimal("0.00")),
        (date(2026, 3, 9), Channel.ONLINE, 1, Decimal("0.30"), Decimal("0.30"))]


def test_a_click_narrows_the_view_and_keeps_the_rest():
    query = OrderQuery(start=date(2026, 3, 1), end=date(2026, 3, 31), statuses=("Completed",),
                       channels=("online", "offline"), search="@wp.pl", sort="Captured amount")
    assert narrowed_query(query, store_id="S03") == query.with_changes(stores=("S03",))
    assert narrowed_query(query, region="Cluj") == query.with_changes(regions=("Cluj",))
    assert narrowed_query(query, status="Return").statuses == ("Return",)
    day = narrowed_query(query, channel="online", period=bucket_period(date(2026, 3, 9), "day",
                                                                       query))
    assert (day.start, day.end, day.channels) == (date(2026, 3, 9), date(2026, 3, 9), ("online",))
    assert day.search == "@wp.pl" and day.statuses == ("Completed",)


def test_a_clicked_week_stays_within_the_view_period():
    query = OrderQuery(start=date(2026, 3, 4), end=date(2026, 3, 31))
    assert bucket_period(date(2026, 3, 2), "week", query) == Period(date(2026, 3, 4),
                                                                    date(2026, 3, 8))
    assert bucket_period(date(2026, 3, 30), "week", query) == Period(date(2026, 3, 30),
                                                                     date(2026, 3, 31))
    assert bucket_period(date(2026, 3, 9), "week", OrderQuery()) == Period(date(2026, 3, 9),
                                                                           date(2026, 3, 15))


def test_chart_data_csv_never_carries_a_formula():
    rows = read_csv(to_csv(("Store name", "Captured amount"),
                           [("=HYPERLINK(\"x\")", Decimal("5")), ("+1", Decimal("0.1")),
                            ("Plain", Decimal("12.345"))]))
    assert rows[1:] == [["'=HYPERLINK(\"x\")", "5.00"], ["'+1", "0.10"], ["Plain", "12.35"]]


@pytest.mark.parametrize("name, cell", [
    ("-1 Store", "'-1 Store"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tTabbed", "'\tTabbed"),
    # the export's guard: control characters go first, so a formula behind one is still caught
    ("\r=1+1", "'=1+1"),
    ("Shop\x00 One\x1b", "Shop One"),
    ("Kraków – Rynek", "Kraków – Rynek"),
])
def test_chart_data_csv_guards_text_as_the_export_does(name, cell):
    overview = overview_of(
        Breakdown((), (), (StoreTotals("S1", name, "R", 1, Decimal("1")),), 0), None, None, None)
    assert read_csv(stores_csv(overview))[1] == ["S1", cell, "1", "1.00"]
