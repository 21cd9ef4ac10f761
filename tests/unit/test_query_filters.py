"""The filters as objects (core.query_filters) and the one map of columns (core.columns)."""
from __future__ import annotations

from dataclasses import fields
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from core import columns
from core.db.rows import OrderRow
from core.export import EXPORT_COLUMNS
from core.query import COLUMNS, OrderQuery
from core.query_filters import (
    JOINED,
    ORDERS,
    STORES,
    InList,
    InScope,
    Period,
    Search,
    where,
)
from core.users import Scope

WARSAW = ZoneInfo("Europe/Warsaw")


def test_a_store_filter_names_the_store_as_its_source_does():
    store = InList("Store", "s", "store_id", ("S1", "S2"))
    assert store.about_stores
    assert store.sql(JOINED) == ("o.store_id IN (?, ?)", ["S1", "S2"])
    assert store.sql(STORES) == ("s.store_id IN (?, ?)", ["S1", "S2"])
    assert store.words() == "Store: S1, S2"


def test_the_scope_is_one_condition_over_either_source():
    scope = InScope(Scope(False, frozenset({"LE1"}), frozenset({"S9"})))
    assert scope.sql(JOINED) == ("(s.legal_entity IN (?) OR o.store_id IN (?))", ["LE1", "S9"])
    assert scope.sql(STORES) == ("(s.legal_entity IN (?) OR s.store_id IN (?))", ["LE1", "S9"])
    assert InScope(Scope.everything()).sql(STORES) is None
    assert InScope(Scope()).sql(STORES) == ("FALSE", [])
    assert scope.words() is None  # the scope is never described as a filter


def test_empty_filters_restrict_nothing_and_say_nothing():
    empty = [InList("Status", "o", "status", ()), Period(None, None, WARSAW), Search.parse("")]
    assert where(empty, ORDERS) is None
    assert [f.words() for f in empty] == [None, None, None]


def test_where_joins_the_conditions_in_the_order_given():
    status = InList("Status", "o", "status", ("Pending",))
    period = Period(date(2026, 1, 10), None, WARSAW)
    sql, params = where([status, period], ORDERS)
    assert sql == "o.status IN (?) AND o.created_at >= ?"
    assert params[0] == "Pending" and len(params) == 2


def test_the_filters_words_are_the_queries_description():
    query = OrderQuery(start=date(2026, 1, 1), statuses=("Pending",), regions=("Cluj",),
                       search="anna@")
    assert query.describe_filters() == "Period 01.01.2026 – today; Status: Pending; Region: Cluj"
    assert query.describe_search() == "e-mail contains “anna@”"


def test_each_sort_label_names_one_page_column():
    assert list(COLUMNS) == [c.label for c in columns.PAGE_COLUMNS]
    for column in columns.PAGE_COLUMNS:
        assert OrderQuery(sort=column.label).sort_column is column
        assert COLUMNS[column.label] == column.sql


def test_typed_rows_have_a_field_per_page_column():
    assert [f.name for f in fields(OrderRow)] == [c.key for c in columns.PAGE_COLUMNS]


def test_the_export_headers_are_the_columns_labels_and_stores_stand_together():
    assert EXPORT_COLUMNS == tuple(c.label for c in columns.EXPORT_COLUMNS)
    flags = [c.in_stores for c in columns.EXPORT_COLUMNS]
    first, count = flags.index(True), flags.count(True)
    assert all(flags[first:first + count])


@pytest.mark.parametrize("column", columns.PAGE_COLUMNS, ids=lambda c: c.key)
def test_ranking_hints_belong_to_columns_that_need_them(column):
    assert not (column.sort_key and column.few_values)
    assert not (column.in_stores and (column.sort_key or column.time_ordered))
