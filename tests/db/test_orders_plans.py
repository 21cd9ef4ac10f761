"""The Orders page's query plans (core.db) agree with each other and with the Python oracle.

``fetch_page`` picks how to find a page by the shape of the view: one scan for a few stores or a
search, a count then a ranking otherwise, counts per value for status, channel and store columns,
a plain IN list for many stores. Each plan is forced here on the sample and walked page by page.
"""
from __future__ import annotations

import pytest

import core.db.filters
import core.db.paging
import core.db.views
from core.query import SORT_LABELS, OrderQuery, page_count
from core.users import Scope
from tests.db.test_orders_store import SCOPES, TZ, all_pages, in_scope, oracle_sorted

PLANS = {  # (SMALL_STORE_LIST, ID_WINDOW)
    "short store lists filter in the scan": (10_000, core.db.paging.ID_WINDOW),
    "every store list is a plain IN list": (0, core.db.paging.ID_WINDOW),
    # Windows of 3 order IDs grow 3, 48, 768: a page of one store group is found in the second.
    "store groups are ranked in growing windows of IDs": (0, 3),
}


@pytest.fixture(params=list(PLANS))
def plan(request, monkeypatch):
    small_store_list, id_window = PLANS[request.param]
    for module in (core.db.filters, core.db.views, core.db.paging):
        monkeypatch.setattr(module, "SMALL_STORE_LIST", small_store_list)
    monkeypatch.setattr(core.db.paging, "ID_WINDOW", id_window)
    return request.param


@pytest.mark.parametrize("sort", list(SORT_LABELS))
@pytest.mark.parametrize("scope_name", ["one legal entity", "legal entity + foreign store"])
def test_every_plan_walks_the_pages_in_the_oracle_order(sample_db, plan, sort, scope_name):
    database, sample = sample_db
    scope = SCOPES[scope_name]
    for descending in (True, False):
        query = OrderQuery(sort=sort, descending=descending)
        expected = [o for o in sample.orders if in_scope(sample, scope, o)]
        assert all_pages(database, scope, query) == oracle_sorted(sample, expected, sort, descending)


@pytest.mark.parametrize("sort", ["Captured amount", "Status", "Store name", "Order date"])
def test_a_search_ranks_like_the_oracle(sample_db, plan, sort):
    database, sample = sample_db
    scope = SCOPES["admin"]
    query = OrderQuery(search="gmail", sort=sort, descending=False)
    expected = [o for o in sample.orders if "gmail" in (o["email"] or "").lower()]
    assert all_pages(database, scope, query) == oracle_sorted(sample, expected, sort, False)
    assert database.count_orders(scope, query, TZ)[0] == len(expected)


@pytest.mark.parametrize("sort", ["Captured amount", "Store name", "Status", "Order ID",
                                  "Customer phone", "Customer email"])
def test_a_page_past_the_end_is_the_last_page_in_every_plan(sample_db, plan, sort):
    database, _ = sample_db
    scope = SCOPES["legal entity + foreign store"]
    query = OrderQuery(sort=sort)
    first = database.fetch_page(scope, query, TZ, 1)
    last = database.fetch_page(scope, query, TZ, 10**6)
    assert last.page == page_count(first.total)
    assert (last.total, last.total_amount) == (first.total, first.total_amount)
    assert last.rows == database.fetch_page(scope, query, TZ, last.page).rows


def test_store_filters_outside_the_scope_match_nothing(sample_db, plan):
    database, _ = sample_db
    scope = Scope(False, frozenset(), frozenset({"S05"}))
    page = database.fetch_page(scope, OrderQuery(stores=("S01",)), TZ, 1)
    assert (page.total, page.rows) == (0, [])
    assert database.count_orders(scope, OrderQuery(stores=("S01",)), TZ)[0] == 0


@pytest.mark.parametrize("descending", [True, False])
def test_deep_pages_by_date_are_located_by_day(sample_db, monkeypatch, descending):
    """From ``DEEP_OFFSET`` rows on, a page by date is found from the count per day."""
    database, sample = sample_db
    scope = SCOPES["admin"]
    query = OrderQuery(sort="Order date", descending=descending)
    expected = oracle_sorted(sample, sample.orders, "Order date", descending)
    monkeypatch.setattr(core.db.paging, "DEEP_OFFSET", 0)
    assert all_pages(database, scope, query) == expected
    past = database.fetch_page(scope, query, TZ, 10**6)
    assert past.page == page_count(len(expected))
    assert [row.order_id for row in past.rows] == expected[(past.page - 1) * 15:]


@pytest.mark.parametrize("sort", list(SORT_LABELS))
@pytest.mark.parametrize("descending", [True, False])
def test_a_search_found_in_at_most_a_page_is_sorted_like_the_screen(sample_db, sort, descending):
    """A search the index answers with at most 15 orders is read at once and sorted in Python:
    the same order as DuckDB's, empty values last either way, ties by order ID."""
    database, sample = sample_db
    digits = "4072100011"  # phones +40 721 000 110 … 119: a handful of orders
    expected = [o for o in sample.orders
                if digits in "".join(c for c in o["phone"] or "" if c.isdigit())]
    assert 3 <= len(expected) <= 15
    query = OrderQuery(search=digits, sort=sort, descending=descending)
    assert all_pages(database, SCOPES["admin"], query) == oracle_sorted(
        sample, expected, sort, descending)
