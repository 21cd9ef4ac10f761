"""A database that holds order times no calendar can show (year 1 BC, year 10000, infinity…):
every reader shows those orders, flagged, and everything else as before."""
from __future__ import annotations

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from core import overview
from core.db import paging
from core.export import ExportInfo, write_orders_xlsx
from core.query import OrderQuery, page_count
from core.db import Database, open_database
from core.users import Scope
from tests.sample_data import sample_database
from tests.backends import BACKENDS, new_target
from tests.unreadable import (AMOUNT, STORE_ID, STORED_BY_BACKEND, UNREADABLE,
                              add_unreadable_orders)

WARSAW = ZoneInfo("Europe/Warsaw")
ZONES = [WARSAW, ZoneInfo("America/New_York"), ZoneInfo("Pacific/Kiritimati"), ZoneInfo("UTC")]
EVERYTHING = Scope.everything()
ALPHA = Scope(False, frozenset({"Alpha SRL"}), frozenset())  # holds store S01
BETA = Scope(False, frozenset({"Beta Sp. z o.o."}), frozenset())


def flag(database, order_id: int) -> str:
    """The flag of an unreadable order: its time as the database writes it."""
    return f"invalid date (stored: {STORED_BY_BACKEND[database.backend][order_id]})"


@pytest.fixture(scope="module", params=BACKENDS)
def bad_db(request, tmp_path_factory):
    cluster = (request.getfixturevalue("postgres_cluster") if request.param == "postgresql"
               else None)
    database, sample = sample_database(new_target(request.param, tmp_path_factory.mktemp("bad"),
                                                  cluster))
    add_unreadable_orders(database)
    yield database, sample
    database.close()


def walk(database: Database, scope: Scope, query: OrderQuery, tz: ZoneInfo) -> list[dict]:
    first = database.fetch_page(scope, query, tz, 1)
    rows = list(first.rows)
    for page in range(2, page_count(first.total) + 1):
        result = database.fetch_page(scope, query, tz, page)
        assert result.page == page and result.total == first.total
        rows += result.rows
    assert len(rows) == first.total
    return rows


def screen_order(database: Database, descending: bool, where: str = "TRUE") -> list[int]:
    """The order the database itself sorts the stored times in, newest (or oldest) first."""
    direction = "DESC" if descending else "ASC"
    with database.cursor() as cur:
        return [r[0] for r in cur.execute(
            f"SELECT o.order_id FROM orders o JOIN stores s ON s.store_id = o.store_id "
            f"WHERE {where} ORDER BY o.created_at {direction}, o.order_id {direction}"
        ).fetchall()]


def check_dates(database, rows: list[dict], tz: ZoneInfo) -> None:
    for row in rows:
        moment = row.created_at
        if row.order_id in UNREADABLE:
            assert str(moment) == flag(database, row.order_id)
        else:
            assert isinstance(moment, datetime) and moment.tzinfo is tz


@pytest.mark.parametrize("descending", [True, False], ids=["newest first", "oldest first"])
@pytest.mark.parametrize("tz", ZONES, ids=lambda z: z.key)
def test_every_page_by_date_shows_the_unreadable_orders_flagged_where_the_database_sorts_them(
        bad_db, descending, tz):
    database, _ = bad_db
    rows = walk(database, EVERYTHING, OrderQuery(descending=descending), tz)
    assert [r.order_id for r in rows] == screen_order(database, descending)
    check_dates(database, rows, tz)


@pytest.mark.parametrize("descending", [True, False], ids=["newest first", "oldest first"])
def test_deep_pages_located_by_day_hold_the_unreadable_orders(bad_db, monkeypatch, descending):
    database, _ = bad_db
    monkeypatch.setattr(paging, "DEEP_OFFSET", 0)  # every page is located by day
    rows = walk(database, EVERYTHING, OrderQuery(descending=descending), WARSAW)
    assert [r.order_id for r in rows] == screen_order(database, descending)
    check_dates(database, rows, WARSAW)


@pytest.mark.parametrize("sort", ["Order ID", "Captured amount", "Store name", "Customer email"])
@pytest.mark.parametrize("descending", [True, False], ids=["descending", "ascending"])
def test_other_sorts_show_them_too(bad_db, sort, descending):
    database, _ = bad_db
    rows = walk(database, EVERYTHING, OrderQuery(sort=sort, descending=descending), WARSAW)
    assert {r.order_id for r in rows} >= set(UNREADABLE)
    check_dates(database, rows, WARSAW)


@pytest.mark.parametrize("descending", [True, False], ids=["newest first", "oldest first"])
def test_a_narrow_scope_sees_them_and_another_scope_does_not(bad_db, descending):
    database, _ = bad_db
    query = OrderQuery(descending=descending, stores=(STORE_ID,))
    rows = walk(database, ALPHA, query, WARSAW)
    assert [r.order_id for r in rows] == screen_order(
        database, descending, f"o.store_id = '{STORE_ID}'")
    check_dates(database, rows, WARSAW)
    assert not {r.order_id for r in walk(database, BETA, OrderQuery(), WARSAW)} & set(UNREADABLE)


def test_counts_include_them(bad_db):
    database, sample = bad_db
    total, amount = database.count_orders(EVERYTHING, OrderQuery(), WARSAW)
    assert total == len(sample.orders) + len(UNREADABLE)
    assert amount == sum((o["amount"] for o in sample.orders), AMOUNT * len(UNREADABLE))


@pytest.mark.parametrize("order_id", sorted(UNREADABLE))
@pytest.mark.parametrize("how", ["order ID", "e-mail"])
def test_a_search_finds_each_of_them(bad_db, order_id, how):
    database, _ = bad_db
    text = str(order_id) if how == "order ID" else f"bad-date-{order_id}@"
    for descending in (True, False):
        page = database.fetch_page(EVERYTHING, OrderQuery(search=text, descending=descending),
                                WARSAW, 1)
        assert [r.order_id for r in page.rows] == [order_id]
        assert str(page.rows[0].created_at) == flag(database, order_id)


def test_a_search_matching_many_of_them_lists_them_in_the_database_order(bad_db):
    database, _ = bad_db
    for descending in (True, False):
        page = database.fetch_page(EVERYTHING, OrderQuery(search="bad-date-", descending=descending),
                                WARSAW, 1)
        assert [r.order_id for r in page.rows] == [
            i for i in screen_order(database, descending) if i in UNREADABLE]


@pytest.mark.parametrize("order_id", sorted(UNREADABLE))
def test_the_order_opens_with_its_date_flagged(bad_db, order_id):
    database, _ = bad_db
    order = database.fetch_order(ALPHA, order_id, WARSAW)
    assert order.order_id == order_id and order.captured_amount == AMOUNT
    assert str(order.created_at) == flag(database, order_id)
    assert database.fetch_history(order, WARSAW) == []


def test_overview_counts_them_in_the_figures_and_leaves_them_off_the_chart(bad_db):
    database, sample = bad_db
    figures = overview.fetch_overview(database, EVERYTHING, OrderQuery(), WARSAW,
                                      today=date(2026, 6, 1))
    assert figures.kpis.orders == len(sample.orders) + len(UNREADABLE)
    assert figures.undated_orders == len(UNREADABLE)
    assert sum(p.orders for p in figures.series) == len(sample.orders)
    assert all(date(2025, 12, 29) <= p.bucket_start <= date(2026, 12, 31) for p in figures.series)
    assert sum(s.orders for s in figures.statuses) == figures.kpis.orders
    alone = overview.fetch_overview(database, EVERYTHING, OrderQuery(search="bad-date-"), WARSAW,
                                    today=date(2026, 6, 1))
    assert alone.kpis.orders == alone.undated_orders == len(UNREADABLE)
    assert alone.series == () and alone.bucket == "day"


def test_the_export_writes_their_date_cell_as_the_flag(bad_db):
    database, sample = bad_db
    query = OrderQuery(stores=(STORE_ID,))
    total, amount = database.count_orders(EVERYTHING, query, WARSAW)
    info = ExportInfo(datetime(2026, 6, 1, 12, tzinfo=WARSAW), "Test (test)",
                      query.describe_filters(), "", query.describe_sort(), WARSAW.key, total,
                      amount)
    buffer = io.BytesIO()
    written = write_orders_xlsx(buffer, database.iter_export_rows(EVERYTHING, query, WARSAW), info)
    assert written == total
    sheet = list(openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))["Orders"].values)[1:]
    assert [r[1] for r in sheet] == screen_order(database, True, f"o.store_id = '{STORE_ID}'")
    for row in sheet:
        if row[1] in UNREADABLE:
            assert row[0] == flag(database, row[1])
        else:
            assert isinstance(row[0], datetime) and row[0].year == 2026


# The window is the same on both sides of the driver: what the page shows as a date, the export
# and the Overview put on a date, in every zone.
EDGES = ["1969-12-31 23:59:59.999999", "1970-01-01 00:00:00", "2026-03-29 01:30:00",
         "2199-12-31 23:59:59.999999", "2200-01-01 00:00:00", *UNREADABLE.values()]


@pytest.mark.parametrize("tz", ZONES, ids=lambda z: z.key)
def test_the_page_and_the_export_agree_on_which_dates_can_be_shown(database_target, tz):
    database = open_database(database_target)
    edges = [*EDGES[:5], *STORED_BY_BACKEND[database.backend].values()]
    with database.transaction() as cur:
        cur.execute("INSERT INTO stores VALUES ('S01', 'Store', NULL, NULL, NULL, 'Alpha SRL', "
                    "'Cluj', 'RO')")
        for order_id, stored in enumerate(edges, start=1):
            cur.execute("INSERT INTO orders (order_id, created_at, amount, status, channel, "
                        "store_id) VALUES (?, CAST(? AS TIMESTAMP), 1, 'Completed', 'online', "
                        "'S01')", [order_id, stored])
    shown = {r.order_id: r.created_at for r in walk(database, EVERYTHING, OrderQuery(), tz)}
    exported = {r[1]: r[0] for r in database.iter_export_rows(EVERYTHING, OrderQuery(), tz)}
    for order_id, stored in enumerate(edges, start=1):
        if isinstance(shown[order_id], datetime):
            assert exported[order_id] == shown[order_id].date(), stored
        else:
            assert exported[order_id] == str(shown[order_id]) == f"invalid date (stored: {stored})"
    assert isinstance(shown[2], datetime) and isinstance(shown[4], datetime)
    assert not isinstance(shown[1], datetime) and not isinstance(shown[5], datetime)
    database.close()


@pytest.mark.parametrize(("start", "end"), [(date.min, date.max), (date.min, date(1, 1, 31)),
                                            (date(9999, 12, 1), date.max)])
def test_a_period_at_the_calendar_s_ends_is_read_and_summed(bad_db, start, end):
    """A period no URL can give (clamped there), but a query may hold: nothing overflows, and
    a previous period that would begin before year 1 gives no comparison."""
    database, sample = bad_db
    query = OrderQuery(start=start, end=end)
    total, _amount = database.count_orders(EVERYTHING, query, WARSAW)
    figures = overview.fetch_overview(database, EVERYTHING, query, WARSAW, today=date(2026, 6, 1))
    assert figures.kpis.orders == total
    if start == date.min:
        assert figures.previous_kpis is None and figures.previous_period is None
    else:
        assert figures.previous_period == overview.Period(date(9999, 10, 31), date(9999, 11, 30))
    listed = [r.order_id for r in walk(database, EVERYTHING, query, WARSAW)]
    assert len(listed) == total
    assert listed == [i for i in screen_order(database, True) if i in set(listed)]
    if (start, end) == (date.min, date.max):
        # Every order but those whose time is no day in Warsaw's calendar of years 1 to 9999.
        assert total == len(sample.orders) + 2  # 1900-06-01, and 1 BC 23:00 UTC (00:24 LMT)
    assert overview.bucket_period(date(9999, 12, 27), "week", OrderQuery()) == overview.Period(
        date(9999, 12, 27), date.max)
