"""Pages whose plan on PostgreSQL is one of its own (``core.db.postgres.paging``), walked page by
page on both backends and compared with an oracle: by merchant order ID, each month walked apart
and the walks merged (periods cutting months, empty IDs, one ID in several months, times no
calendar shows), and a search counted and ranked in one statement (descending, empty values,
store columns, a page past the end)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from core.db.postgres import paging as pg_paging
from core.query import OrderQuery, page_count
from tests.backends import BACKENDS, new_target
from tests.db.test_orders_store import SCOPES, TZ, all_pages, in_scope, oracle_sorted
from tests.sample_data import sample_database
from tests.unreadable import add_unreadable_orders

MERCHANT = "Offline Barcode / Online order ID"
# Orders that share merchant order IDs across months (and with the sample's own orders).
REPEATED = {
    910001: ("WEB-1", datetime(2026, 1, 31, 23, 30)),
    910002: ("WEB-1", datetime(2026, 3, 1, 0, 30)),
    910003: ("WEB-1", datetime(2026, 4, 15, 12, 0)),
    910004: ("5900000000003", datetime(2026, 2, 28, 23, 59)),
    910005: ("5900000000003", datetime(2026, 5, 1, 0, 0)),
}


@pytest.fixture(scope="module", params=BACKENDS)
def months_db(request, tmp_path_factory):
    cluster = (request.getfixturevalue("postgres_cluster") if request.param == "postgresql"
               else None)
    database, sample = sample_database(new_target(request.param, tmp_path_factory.mktemp("walk"),
                                                  cluster))
    with database.transaction() as cur:
        for order_id, (merchant_id, created_at) in REPEATED.items():
            cur.execute(
                "INSERT INTO orders (order_id, created_at, merchant_order_id, amount, status, "
                "channel, email, store_id) VALUES (?, ?, ?, ?, 'Completed', 'online', ?, 'S01')",
                [order_id, created_at, merchant_id, Decimal("5.00"), f"repeat-{order_id}@x.pl"],
            )
    yield database, sample
    database.close()


@pytest.fixture(params=["months walked apart", "sorted at once"])
def merchant_plan(request, monkeypatch):
    """On PostgreSQL, a view by merchant order ID of more than ``SORTED_AT_ONCE`` orders walks
    its months apart: forced here for every view of the sample (and the other way round)."""
    monkeypatch.setattr(pg_paging, "SORTED_AT_ONCE",
                        0 if request.param == "months walked apart" else 10**9)
    return request.param


def database_order(database, descending: bool, where: str = "TRUE", params=()) -> list[int]:
    """The orders by merchant order ID as the database sorts them (empty IDs last)."""
    direction = "DESC" if descending else "ASC"
    with database.cursor() as cur:
        return [r[0] for r in cur.execute(
            f"SELECT o.order_id FROM orders o JOIN stores s ON s.store_id = o.store_id "
            f"WHERE {where} ORDER BY o.merchant_order_id {direction} NULLS LAST, "
            f"o.order_id {direction}", list(params)).fetchall()]


def local_day(moment: datetime) -> date:
    return moment.replace(tzinfo=timezone.utc).astimezone(TZ).date()


@pytest.mark.parametrize("descending", [True, False], ids=["descending", "ascending"])
@pytest.mark.parametrize("scope_name", ["admin", "one legal entity", "one store"])
@pytest.mark.parametrize("period", [(None, None), (date(2026, 1, 31), date(2026, 4, 15)),
                                    (date(2026, 3, 1), date(2026, 3, 1)),
                                    (date(2026, 2, 17), None), (None, date(2026, 2, 28))],
                         ids=["every month", "months cut at both ends", "one day",
                              "from mid-month", "up to a month's end"])
def test_pages_by_merchant_order_id_follow_the_oracle(months_db, merchant_plan, descending,
                                                      scope_name, period):
    database, sample = months_db
    scope = SCOPES[scope_name]
    start, end = period
    query = OrderQuery(sort=MERCHANT, descending=descending, start=start, end=end)
    orders = sample.orders + [
        {"order_id": order_id, "merchant_order_id": merchant_id, "created_at": created_at,
         "store_id": "S01"} for order_id, (merchant_id, created_at) in REPEATED.items()]
    expected = [o for o in orders if in_scope(sample, scope, o)
                and (start is None or local_day(o["created_at"]) >= start)
                and (end is None or local_day(o["created_at"]) <= end)]
    assert all_pages(database, scope, query) == oracle_sorted(sample, expected, MERCHANT,
                                                              descending)


def test_a_page_by_merchant_order_id_past_the_end_is_the_last(months_db, merchant_plan):
    database, _ = months_db
    query = OrderQuery(sort=MERCHANT, start=date(2026, 2, 1), end=date(2026, 3, 31))
    first = database.fetch_page(SCOPES["admin"], query, TZ, 1)
    last = database.fetch_page(SCOPES["admin"], query, TZ, 10**6)
    assert last.page == page_count(first.total) and last.total == first.total
    assert last.rows == database.fetch_page(SCOPES["admin"], query, TZ, last.page).rows


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("descending", [True, False], ids=["descending", "ascending"])
def test_times_no_calendar_shows_have_their_months_too(backend_name, descending, tmp_path,
                                                       request, merchant_plan):
    cluster = (request.getfixturevalue("postgres_cluster") if backend_name == "postgresql"
               else None)
    database, _ = sample_database(new_target(backend_name, tmp_path, cluster))
    try:
        add_unreadable_orders(database)  # year 1 BC, year 10000, ±infinity; no merchant IDs
        with database.transaction() as cur:
            cur.execute("UPDATE orders SET merchant_order_id = 'WEB-' || order_id "
                        "WHERE order_id IN (900001, 900003, 900005)")
        query = OrderQuery(sort=MERCHANT, descending=descending)
        ids = []
        first = database.fetch_page(SCOPES["admin"], query, TZ, 1)
        for page in range(1, page_count(first.total) + 1):
            ids += [r.order_id for r in database.fetch_page(SCOPES["admin"], query, TZ, page).rows]
        assert ids == database_order(database, descending)
    finally:
        database.close()


SEARCH_SORTS = ["Order date", MERCHANT, "Customer email", "Customer phone", "Zone", "Store ID",
                "Captured amount"]


@pytest.mark.parametrize("descending", [True, False], ids=["descending", "ascending"])
@pytest.mark.parametrize("sort", SEARCH_SORTS)
def test_a_search_walks_its_pages_in_the_oracle_order(sample_db, sort, descending):
    database, sample = sample_db
    scope = SCOPES["legal entity + foreign store"]
    query = OrderQuery(search="gmail", sort=sort, descending=descending)
    expected = [o for o in sample.orders if in_scope(sample, scope, o)
                and "gmail" in (o["email"] or "").lower()]
    assert all_pages(database, scope, query) == oracle_sorted(sample, expected, sort, descending)
    page = database.fetch_page(scope, query, TZ, 1)
    assert (page.total, page.total_amount) == (
        len(expected), sum((o["amount"] for o in expected), Decimal("0")))


@pytest.mark.parametrize("sort", ["Order date", "Store name", "Customer email"])
def test_a_search_page_past_the_end_is_its_last_page(sample_db, sort):
    database, _ = sample_db
    scope = SCOPES["admin"]
    query = OrderQuery(search="gmail", sort=sort, descending=True)
    first = database.fetch_page(scope, query, TZ, 1)
    last = database.fetch_page(scope, query, TZ, 10**6)
    assert first.total > 15 and last.page == page_count(first.total)
    assert (last.total, last.total_amount) == (first.total, first.total_amount)
    assert last.rows == database.fetch_page(scope, query, TZ, last.page).rows


def test_a_search_matching_nothing_is_an_empty_first_page(sample_db):
    database, _ = sample_db
    page = database.fetch_page(SCOPES["admin"], OrderQuery(search="nobody-at-all@"), TZ, 3)
    assert (page.total, page.page, page.rows) == (0, 1, [])


@pytest.mark.parametrize("text", ["bob@gmail", "BOB@", "ivan%ov@", "ion_pop@yahoo.ro", "@wp.pl",
                                  "@", "n@", "=cmd@evil", "x@nowhere"])
@pytest.mark.parametrize("scope_name", ["legal entity + foreign store", "one store", "admin"])
def test_an_e_mail_search_within_stores_finds_what_the_oracle_finds(sample_db, text, scope_name):
    """Within some stores an e-mail search also asks the stores' own trigrams (on PostgreSQL):
    wildcards, upper case, values too short for a trigram, nothing found."""
    database, sample = sample_db
    scope = SCOPES[scope_name]
    query = OrderQuery(search=text, sort="Customer email", descending=False)
    expected = [o for o in sample.orders if in_scope(sample, scope, o)
                and text.lower() in (o["email"] or "").lower()]
    assert all_pages(database, scope, query) == oracle_sorted(sample, expected, "Customer email",
                                                              False)
    assert database.fetch_page(scope, query, TZ, 1).total == len(expected)


def test_a_schema_2_database_gets_the_new_indexes_when_opened(postgres_cluster):
    """PostgreSQL only (the indexes are its own): a database of schema 2 loses the descending
    merchant-ID index and gets the month-led ones and the store trigrams on its next read-write
    open, its orders still listed."""
    from core.db import open_database
    from core.db.postgres.schema import SCHEMA_VERSION

    url = postgres_cluster.create_database("walks_upgrade")
    database, _ = sample_database(url)
    with database.transaction() as cur:
        cur.execute("DROP INDEX orders_merchant_month, orders_merchant_month_desc, "
                    "orders_email_store_trgm")
        cur.execute("CREATE INDEX orders_merchant_desc ON orders "
                    "(merchant_order_id DESC NULLS LAST, order_id DESC)")
        cur.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    database.close()
    with open_database(url) as database:
        with database.cursor() as cur:
            names = {r[0] for r in cur.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'orders'").fetchall()}
            version = cur.execute(
                "SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
        assert {"orders_merchant_month", "orders_merchant_month_desc",
                "orders_email_store_trgm"} <= names and "orders_merchant_desc" not in names
        assert version == str(SCHEMA_VERSION)
        page = database.fetch_page(SCOPES["one store"], OrderQuery(search="gmail"), TZ, 1)
        assert page.total > 0
