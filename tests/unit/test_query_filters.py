"""The query's words (core.query_filters) and the one map of columns (core.columns); the
conditions' SQL: test_db_filters."""
from __future__ import annotations

from dataclasses import fields
from datetime import date

import pytest

from core import columns
from core.db.rows import OrderRow
from core.export import EXPORT_COLUMNS
from core.query import SORT_LABELS, OrderQuery

def test_the_filters_words_are_the_queries_description():
    query = OrderQuery(start=date(2026, 1, 1), statuses=("Pending",), regions=("Cluj",),
                       search="anna@")
    assert query.describe_filters() == "Period 01.01.2026 – today; Status: Pending; Region: Cluj"
    assert query.describe_search() == "e-mail contains “anna@”"


def test_each_sort_label_names_one_page_column():
    assert list(SORT_LABELS) == [c.label for c in columns.PAGE_COLUMNS]
    for column in columns.PAGE_COLUMNS:
        assert OrderQuery(sort=column.label).sort_column is column


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
