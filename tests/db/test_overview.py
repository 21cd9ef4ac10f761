"""The Overview's figures against a Python oracle on the sample database (300 known orders)."""
from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest

from core.overview import (
    Kpis,
    Period,
    fetch_kpis,
    fetch_overview,
    regions_csv,
    series_csv,
    statuses_csv,
    stores_csv,
    week_start,
)
from core.query import OrderQuery
from core.db import Database
from core.users import Scope

TZ = ZoneInfo("Europe/Warsaw")
TODAY = date(2026, 8, 1)  # after the sample's last order (2026-07-20)
ADMIN = Scope.everything()
VIEWER = Scope(False, frozenset({"Alpha SRL"}), frozenset({"S02"}))
ONE_STORE = Scope(False, frozenset(), frozenset({"S05"}))
NOBODY = Scope(False)

QUERIES = {
    "everything": OrderQuery(),
    "march": OrderQuery(start=date(2026, 3, 1), end=date(2026, 3, 31)),
    "completed and returns": OrderQuery(statuses=("Completed", "Return")),
    "online in Moscow, spring": OrderQuery(start=date(2026, 3, 1), end=date(2026, 5, 31),
                                           channels=("online",), regions=("Moscow",)),
    "e-mail search": OrderQuery(search="@wp.pl"),
    "one day": OrderQuery(start=date(2026, 2, 10), end=date(2026, 2, 10)),
}
SCOPES = {"admin": ADMIN, "viewer": VIEWER, "one store": ONE_STORE, "nobody": NOBODY}


def local_day(order: dict) -> date:
    return order["created_at"].replace(tzinfo=timezone.utc).astimezone(TZ).date()


def selected(sample, scope: Scope, query: OrderQuery) -> list[dict]:
    """The oracle: the orders a query selects within a scope, in plain Python."""
    chosen = []
    for order in sample.orders:
        database = sample.store_of(order)
        day = local_day(order)
        if not (scope.all_orders or database["legal_entity"] in scope.legal_entities
                or order["store_id"] in scope.stores):
            continue
        if query.start and day < query.start or query.end and day > query.end:
            continue
        if query.statuses and order["status"] not in query.statuses:
            continue
        if query.channels and order["channel"] not in query.channels:
            continue
        if query.regions and database["region"] not in query.regions:
            continue
        if query.legal_entities and database["legal_entity"] not in query.legal_entities:
            continue
        if query.stores and order["store_id"] not in query.stores:
            continue
        if query.search and query.search.lower() not in (order["email"] or "").lower():
            continue
        chosen.append(order)
    return chosen


def oracle_kpis(orders: list[dict]) -> Kpis:
    return Kpis(
        orders=len(orders),
        captured_amount=sum((o["amount"] for o in orders), Decimal("0.00")),
        refunded_amount=sum((o["refunded_amount"] for o in orders), Decimal("0.00")),
        cancelled_orders=sum(o["status"] == "Cancel" for o in orders),
    )


@pytest.mark.parametrize("scope_name", SCOPES)
@pytest.mark.parametrize("query_name", QUERIES)
def test_kpis_match_the_oracle(sample_db, scope_name, query_name):
    database, sample = sample_db
    scope, query = SCOPES[scope_name], QUERIES[query_name]
    expected = oracle_kpis(selected(sample, scope, query))
    overview = fetch_overview(database, scope, query, TZ, today=TODAY)
    assert overview.kpis == expected
    assert fetch_kpis(database, scope, query, TZ) == expected


def test_a_viewer_counts_only_the_orders_in_their_scope(sample_db):
    database, sample = sample_db
    viewer = fetch_overview(database, VIEWER, OrderQuery(), TZ, today=TODAY)
    mine = [o for o in sample.orders
            if sample.store_of(o)["legal_entity"] == "Alpha SRL" or o["store_id"] == "S02"]
    assert viewer.kpis.orders == len(mine) < len(sample.orders)
    assert viewer.kpis.captured_amount == sum(o["amount"] for o in mine)
    assert {s.store_id for s in viewer.top_stores} <= {o["store_id"] for o in mine}
    assert sum(s.orders for s in viewer.statuses) == len(mine)
    assert sum(p.orders for p in viewer.series) == len(mine)
    regions = {sample.store_of(o)["region"] for o in mine}
    assert {r.region for r in viewer.regions} == regions
    # A filter naming someone else's store never widens the scope.
    foreign = fetch_overview(database, VIEWER, OrderQuery(stores=("S03",)), TZ, today=TODAY)
    assert foreign.kpis.orders == 0 and not foreign.series and not foreign.top_stores


def test_nobody_with_an_empty_scope_sees_zeros(sample_db):
    database, _ = sample_db
    overview = fetch_overview(database, NOBODY, OrderQuery(), TZ, today=TODAY)
    assert overview.kpis == Kpis(0, Decimal("0.00"), Decimal("0.00"), 0)
    assert overview.kpis.refund_rate is None
    assert overview.kpis.average_order_amount is None
    assert overview.kpis.cancelled_share is None
    assert not (overview.series or overview.statuses or overview.top_stores or overview.regions)


@pytest.mark.parametrize("scope_name", ["admin", "viewer"])
def test_previous_period_is_the_equal_length_before_the_start(sample_db, scope_name):
    database, sample = sample_db
    scope = SCOPES[scope_name]
    query = OrderQuery(start=date(2026, 3, 1), end=date(2026, 3, 31), channels=("offline",))
    overview = fetch_overview(database, scope, query, TZ, today=TODAY)
    assert overview.period == Period(date(2026, 3, 1), date(2026, 3, 31))
    assert overview.previous_period == Period(date(2026, 1, 29), date(2026, 2, 28))
    assert overview.previous_period.days == overview.period.days == 31
    previous = query.with_changes(start=date(2026, 1, 29), end=date(2026, 2, 28))
    assert overview.previous_kpis == oracle_kpis(selected(sample, scope, previous))
    assert overview.previous_kpis.orders > 0


def test_a_start_alone_runs_to_today_and_is_compared_with_as_many_days_before(sample_db):
    database, sample = sample_db
    overview = fetch_overview(database, ADMIN, OrderQuery(start=date(2026, 7, 3)), TZ,
                              today=date(2026, 7, 12))
    assert overview.period == Period(date(2026, 7, 3), date(2026, 7, 12))
    assert overview.previous_period == Period(date(2026, 6, 23), date(2026, 7, 2))
    previous = OrderQuery(start=date(2026, 6, 23), end=date(2026, 7, 2))
    assert overview.previous_kpis == oracle_kpis(selected(sample, ADMIN, previous))


@pytest.mark.parametrize("query", [OrderQuery(), OrderQuery(end=date(2026, 3, 31))])
def test_without_a_start_there_is_no_comparison(sample_db, query):
    database, _ = sample_db
    overview = fetch_overview(database, ADMIN, query, TZ, today=TODAY)
    assert overview.period is None
    assert overview.previous_period is None and overview.previous_kpis is None


def test_sums_and_ratios_are_exact_decimals(sample_db):
    database, sample = sample_db
    overview = fetch_overview(database, ADMIN, OrderQuery(), TZ, today=TODAY)
    kpis = overview.kpis
    assert isinstance(kpis.captured_amount, Decimal) and isinstance(kpis.refunded_amount, Decimal)
    assert kpis.captured_amount == sum(o["amount"] for o in sample.orders)
    assert str(kpis.captured_amount) == str(sum(o["amount"] for o in sample.orders))
    assert kpis.refund_rate == (kpis.refunded_amount / kpis.captured_amount).quantize(
        Decimal("0.0001"), rounding=ROUND_HALF_UP)
    assert kpis.average_order_amount == (kpis.captured_amount / kpis.orders).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert kpis.cancelled_share == (Decimal(kpis.cancelled_orders) / kpis.orders).quantize(
        Decimal("0.0001"), rounding=ROUND_HALF_UP)
    for point in overview.series:
        assert isinstance(point.captured_amount, Decimal)
        assert point.captured_amount.as_tuple().exponent == -2
    # Every chart adds up to the tiles, to the cent.
    assert sum(p.captured_amount for p in overview.series) == kpis.captured_amount
    assert sum(p.refunded_amount for p in overview.series) == kpis.refunded_amount
    assert sum(s.captured_amount for s in overview.statuses) == kpis.captured_amount
    assert sum(r.captured_amount for r in overview.regions) == kpis.captured_amount


def oracle_daily(orders: list[dict]) -> dict[tuple[date, str], list]:
    sums: dict = defaultdict(lambda: [0, Decimal("0.00"), Decimal("0.00")])
    for order in orders:
        total = sums[(local_day(order), order["channel"])]
        total[0] += 1
        total[1] += order["amount"]
        total[2] += order["refunded_amount"]
    return sums


def test_a_period_of_up_to_92_days_is_charted_per_day_in_the_display_time_zone(sample_db):
    database, sample = sample_db
    query = OrderQuery(start=date(2026, 3, 1), end=date(2026, 5, 31))  # 92 days
    overview = fetch_overview(database, VIEWER, query, TZ, today=TODAY)
    assert overview.bucket == "day"
    expected = oracle_daily(selected(sample, VIEWER, query))
    got = {(p.bucket_start, p.channel): [p.orders, p.captured_amount, p.refunded_amount]
           for p in overview.series}
    assert got == expected
    keys = [(p.bucket_start, p.channel) for p in overview.series]
    assert keys == sorted(keys, key=lambda k: (k[0], k[1] != "online"))


def test_a_longer_period_is_charted_per_week_starting_on_monday(sample_db):
    database, sample = sample_db
    query = OrderQuery(start=date(2026, 3, 1), end=date(2026, 6, 1))  # 93 days
    overview = fetch_overview(database, ADMIN, query, TZ, today=TODAY)
    assert overview.bucket == "week"
    expected: dict = defaultdict(lambda: [0, Decimal("0.00"), Decimal("0.00")])
    for (day, channel), (n, captured, refunded) in oracle_daily(
            selected(sample, ADMIN, query)).items():
        total = expected[(week_start(day), channel)]
        total[0] += n
        total[1] += captured
        total[2] += refunded
    got = {(p.bucket_start, p.channel): [p.orders, p.captured_amount, p.refunded_amount]
           for p in overview.series}
    assert got == expected
    assert all(p.bucket_start.weekday() == 0 for p in overview.series)


def test_without_a_period_the_data_span_picks_the_bucket(sample_db):
    database, _ = sample_db
    assert fetch_overview(database, ADMIN, OrderQuery(), TZ, today=TODAY).bucket == "week"
    one_day = OrderQuery(search="@wp.pl", end=date(2026, 1, 1))
    assert fetch_overview(database, ADMIN, one_day, TZ, today=TODAY).bucket == "day"


def test_statuses_stores_and_regions_match_the_oracle(sample_db):
    database, sample = sample_db
    query = OrderQuery(start=date(2026, 2, 1), end=date(2026, 6, 30))
    orders = selected(sample, ADMIN, query)
    overview = fetch_overview(database, ADMIN, query, TZ, today=TODAY)

    by_status: dict = defaultdict(lambda: [0, Decimal("0.00")])
    by_store: dict = defaultdict(lambda: [0, Decimal("0.00")])
    by_region: dict = defaultdict(lambda: [0, Decimal("0.00")])
    for order in orders:
        for sums, key in ((by_status, order["status"]), (by_store, order["store_id"]),
                          (by_region, sample.store_of(order)["region"])):
            sums[key][0] += 1
            sums[key][1] += order["amount"]

    assert [(s.status, s.orders, s.captured_amount) for s in overview.statuses] == [
        (status, *by_status[status]) for status in ("Pending", "Completed", "Cancel", "Return")
        if status in by_status
    ]
    names = {s["store_id"]: s["store_name"] for s in sample.stores}
    top = sorted(by_store.items(), key=lambda kv: (-kv[1][1], names[kv[0]], kv[0]))[:10]
    assert [(s.store_id, s.store_name, s.orders, s.captured_amount)
            for s in overview.top_stores] == [(sid, names[sid], *sums) for sid, sums in top]
    assert len(overview.top_stores) == 10 < len(by_store)
    assert [(r.region, r.orders, r.captured_amount) for r in overview.regions] == sorted(
        ((region, *sums) for region, sums in by_region.items()), key=lambda r: (-r[2], r[0]))


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_chart_data_csv_is_exactly_the_chart_with_two_decimal_amounts(sample_db):
    database, _ = sample_db
    query = OrderQuery(start=date(2026, 3, 1), end=date(2026, 3, 31))
    overview = fetch_overview(database, ADMIN, query, TZ, today=TODAY)

    series = read_csv(series_csv(overview))
    assert series[0] == ["Day", "Channel", "Orders", "Captured amount", "Refunded amount"]
    assert series[1:] == [[p.bucket_start.isoformat(), p.channel, str(p.orders),
                           f"{p.captured_amount:.2f}", f"{p.refunded_amount:.2f}"]
                          for p in overview.series]
    assert sum(Decimal(row[3]) for row in series[1:]) == overview.kpis.captured_amount

    statuses = read_csv(statuses_csv(overview))
    assert statuses[0] == ["Status", "Orders", "Captured amount"]
    assert [row[0] for row in statuses[1:]] == [s.status for s in overview.statuses]

    stores = read_csv(stores_csv(overview))
    assert stores[0] == ["Store", "Store name", "Orders", "Captured amount"]
    assert len(stores) == 11
    assert stores[1] == [overview.top_stores[0].store_id, overview.top_stores[0].store_name,
                         str(overview.top_stores[0].orders),
                         f"{overview.top_stores[0].captured_amount:.2f}"]

    regions = read_csv(regions_csv(overview))
    assert [row[0] for row in regions[1:]] == [r.region for r in overview.regions]
    assert all(len(row[2].split(".")[1]) == 2 for row in regions[1:])


@pytest.mark.parametrize("zone, before_midnight_utc", [
    ("Europe/Warsaw", datetime(2026, 3, 28, 22, 59, 59)),  # UTC+1, the night before DST
    ("Europe/Warsaw", datetime(2026, 3, 29, 21, 59, 59)),  # UTC+2, the first DST night
    ("Asia/Kathmandu", datetime(2026, 3, 28, 18, 14, 59)),  # UTC+5:45
    ("America/St_Johns", datetime(2026, 7, 1, 2, 29, 59)),  # UTC-2:30
])
def test_orders_on_either_side_of_local_midnight_fall_on_their_local_days(
        tmp_path, zone, before_midnight_utc):
    tz = ZoneInfo(zone)
    with Database(tmp_path / "midnight.duckdb") as database:
        with database.transaction() as cur:
            cur.execute(
                "INSERT INTO stores VALUES ('S1', 'One', NULL, NULL, NULL, 'LE', 'R', 'RO')")
            for order_id, moment, amount in (
                (1, before_midnight_utc, "1.10"),
                (2, before_midnight_utc + timedelta(seconds=1), "2.20"),
            ):
                cur.execute(
                    "INSERT INTO orders (order_id, created_at, amount, status, channel, store_id)"
                    " VALUES (?, ?, ?, 'Completed', 'online', 'S1')",
                    [order_id, moment, Decimal(amount)],
                )
        overview = fetch_overview(database, ADMIN, OrderQuery(), tz, today=TODAY)
    last_day = before_midnight_utc.replace(tzinfo=timezone.utc).astimezone(tz).date()
    assert [(p.bucket_start, p.captured_amount) for p in overview.series] == [
        (last_day, Decimal("1.10")), (last_day + timedelta(days=1), Decimal("2.20"))]
