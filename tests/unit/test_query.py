"""The query object: filters × search × sort → SQL and parameters, and the URL codec."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from core.errors import InvalidQuery
from core.query import (
    COLUMNS,
    SMALL_STORE_LIST,
    OrderQuery,
    Search,
    clamp_page,
    from_url_params,
    page_count,
    store_ids_sql,
    to_url_params,
)
from core.users import Scope

WARSAW = ZoneInfo("Europe/Warsaw")
ALL = Scope.everything()
PARTIAL = Scope(False, frozenset({"Beta", "Alpha"}), frozenset({"S9"}))


@pytest.mark.parametrize(
    ("query", "scope", "sql", "params"),
    [
        (OrderQuery(), ALL, "TRUE", []),
        (OrderQuery(), Scope(), "FALSE", []),
        (
            OrderQuery(),
            PARTIAL,
            "(s.legal_entity IN (?, ?) OR o.store_id IN (?))",
            ["Alpha", "Beta", "S9"],
        ),
        (
            OrderQuery(statuses=("Pending", "Return"), channels=("online",)),
            ALL,
            "o.status IN (?, ?) AND o.channel IN (?)",
            ["Pending", "Return", "online"],
        ),
        (
            OrderQuery(legal_entities=("Alpha",), regions=("Cluj",), stores=("S1", "S2")),
            Scope(False, frozenset(), frozenset({"S1"})),
            "(o.store_id IN (?)) AND s.legal_entity IN (?) AND s.region IN (?)"
            " AND o.store_id IN (?, ?)",
            ["S1", "Alpha", "Cluj", "S1", "S2"],
        ),
        (
            # Inclusive local dates → UTC bounds: Warsaw is UTC+1 in January, UTC+2 in July.
            OrderQuery(start=date(2026, 1, 10), end=date(2026, 7, 1)),
            ALL,
            "o.created_at >= ? AND o.created_at < ?",
            [datetime(2026, 1, 9, 23, 0), datetime(2026, 7, 1, 22, 0)],
        ),
        (
            OrderQuery(search="Anna@WP.pl"),
            ALL,
            "contains(lower(o.email), ?)",
            ["anna@wp.pl"],
        ),
        (
            OrderQuery(search=" +48 (606) 606-606 "),
            ALL,
            "(o.order_id = ? OR o.merchant_order_id = ? OR contains(o.phone_digits, ?))",
            [48606606606, "48606606606", "48606606606"],
        ),
        (
            OrderQuery(search="WEB-123"),
            ALL,
            "(o.merchant_order_id = ? OR contains(lower(o.email), ?))",
            ["WEB-123", "web-123"],
        ),
        (
            # Too many digits for an order ID: only the text columns are compared.
            OrderQuery(search="1" * 25),
            ALL,
            "(o.merchant_order_id = ? OR contains(o.phone_digits, ?))",
            ["1" * 25, "1" * 25],
        ),
        (
            # Injection text is a bound value, never SQL.
            OrderQuery(search="' OR 1=1 --"),
            ALL,
            "(o.merchant_order_id = ? OR contains(lower(o.email), ?))",
            ["' OR 1=1 --", "' or 1=1 --"],
        ),
        (
            OrderQuery(search="%"),
            ALL,
            "(o.merchant_order_id = ? OR contains(lower(o.email), ?))",
            ["%", "%"],
        ),
    ],
)
def test_where_clause_table(query, scope, sql, params):
    assert query.where_clause(scope, WARSAW) == (sql, params)


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("", "", ""),
        ("   ", "", ""),
        ("x@y", "email", "x@y"),
        ("@", "email", "@"),
        ("1597276", "digits", "1597276"),
        ("+40 (721) 000-100", "digits", "40721000100"),
        ("٣٤٥", "text", "٣٤٥"),  # non-ASCII digits are not an order ID
        ("WEB-1", "text", "WEB-1"),
        ("_", "text", "_"),
    ],
)
def test_search_detection(text, kind, value):
    assert Search.parse(text) == Search(kind, value)


def test_search_too_long_is_refused():
    with pytest.raises(InvalidQuery, match="too long"):
        Search.parse("a" * 10_000)
    with pytest.raises(InvalidQuery, match="too long"):
        OrderQuery(search="9" * 201)


@pytest.mark.parametrize(
    ("sort", "descending", "order_by"),
    [
        ("Order date", True, "o.created_at DESC NULLS LAST, o.order_id DESC"),
        ("Order date", False, "o.created_at ASC NULLS LAST, o.order_id ASC"),
        ("Order ID", True, "o.order_id DESC"),
        ("Captured amount", False, "o.amount ASC NULLS LAST, o.order_id ASC"),
        ("Legal entity", True, "s.legal_entity DESC NULLS LAST, o.order_id DESC"),
    ],
)
def test_sort_order_by(sort, descending, order_by):
    assert OrderQuery(sort=sort, descending=descending).order_by() == order_by


def test_every_column_is_sortable_and_breaks_ties_by_order_id():
    for column in COLUMNS:
        assert OrderQuery(sort=column).order_by().endswith("o.order_id DESC")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"sort": "amount; DROP TABLE orders"}, "cannot be sorted"),
        ({"statuses": ("Shipped",)}, "Unknown status"),
        ({"channels": ("phone",)}, "Unknown channel"),
        ({"start": date(2026, 2, 1), "end": date(2026, 1, 1)}, "starts .* after it ends"),
    ],
)
def test_invalid_query_is_refused_with_a_message(changes, message):
    with pytest.raises(InvalidQuery, match=message):
        OrderQuery(**changes)


def test_describe_in_words():
    query = OrderQuery(start=date(2026, 1, 1), end=date(2026, 1, 31), statuses=("Completed",),
                       search="anna@", sort="Captured amount", descending=False)
    assert query.describe_filters() == "Period 01.01.2026 – 31.01.2026; Status: Completed"
    assert query.describe_search() == "e-mail contains “anna@”"
    assert query.describe_sort() == "Captured amount, ascending"
    assert OrderQuery().describe_filters() == "No filters"
    assert OrderQuery().describe_sort() == "Order date, newest first"


def test_url_round_trip():
    query = OrderQuery(start=date(2026, 3, 1), end=date(2026, 3, 31), statuses=("Return",),
                       channels=("offline",), legal_entities=("Alpha",), regions=("Cluj",),
                       stores=("S1",), search="x@y", sort="Zone", descending=False)
    params = {k: v if isinstance(v, list) else [v] for k, v in to_url_params(query, 7).items()}
    parsed, page, problems = from_url_params(
        params, legal_entities=("Alpha",), regions=("Cluj",), stores=("S1",)
    )
    assert (parsed, page, problems) == (query, 7, [])
    assert to_url_params(OrderQuery()) == {}


def test_forged_url_values_are_ignored_with_a_notice():
    parsed, page, problems = from_url_params(
        {
            "store": ["S1", "S999"],
            "le": ["Not mine"],
            "status": ["Deleted"],
            "sort": ["1; DROP TABLE orders"],
            "from": ["2026-05-01"],
            "to": ["2026-04-01"],
            "page": ["-3"],
            "q": ["x" * 10_000],
        },
        stores=("S1",),
    )
    assert parsed == OrderQuery(stores=("S1",))
    assert page == 1
    assert len(problems) == 7
    assert any("S999" in p for p in problems)


@pytest.mark.parametrize(
    ("page", "total", "expected"),
    [(1, 0, 1), (0, 100, 1), (-5, 100, 1), (7, 100, 7), (8, 100, 7), (10**9, 100, 7)],
)
def test_clamp_page(page, total, expected):
    assert page_count(100) == 7
    assert clamp_page(page, total) == expected


@pytest.mark.parametrize(
    ("query", "scope", "expected"),
    [
        (OrderQuery(), ALL, None),
        (OrderQuery(), Scope(), ("FALSE", [])),
        (OrderQuery(), PARTIAL,
         ("(s.legal_entity IN (?, ?) OR s.store_id IN (?))", ["Alpha", "Beta", "S9"])),
        (OrderQuery(legal_entities=("Alpha",), regions=("Cluj",), stores=("S1", "S2")),
         Scope(False, frozenset(), frozenset({"S1"})),
         ("(s.store_id IN (?)) AND s.legal_entity IN (?) AND s.region IN (?)"
          " AND s.store_id IN (?, ?)", ["S1", "Alpha", "Cluj", "S1", "S2"])),
        # Status, channel, period and search are about orders, not stores.
        (OrderQuery(statuses=("Return",), channels=("online",), search="x@y",
                    start=date(2026, 1, 1)), ALL, None),
    ],
)
def test_store_clause_resolves_scope_and_store_filters(query, scope, expected):
    assert query.store_clause(scope) == expected


@pytest.mark.parametrize(
    ("query", "store_ids", "sql", "params"),
    [
        (OrderQuery(), None, "TRUE", []),
        (OrderQuery(), (), "FALSE", []),
        # A short list stays a filter inside the scan (IS TRUE keeps DuckDB from a hash join).
        (OrderQuery(), ("S1", "S2"), "(o.store_id IN (?, ?)) IS TRUE", ["S1", "S2"]),
        (
            OrderQuery(start=date(2026, 1, 10), end=date(2026, 7, 1), statuses=("Pending",),
                       channels=("online",), legal_entities=("Alpha",), search="Anna@WP.pl"),
            ("S1",),
            "(o.store_id IN (?)) IS TRUE AND o.created_at >= ? AND o.created_at < ?"
            " AND o.status IN (?) AND o.channel IN (?) AND contains(lower(o.email), ?)",
            ["S1", datetime(2026, 1, 9, 23, 0), datetime(2026, 7, 1, 22, 0), "Pending", "online",
             "anna@wp.pl"],
        ),
    ],
)
def test_orders_where_table(query, store_ids, sql, params):
    assert query.orders_where(WARSAW, store_ids) == (sql, params)


def test_long_store_list_keeps_a_plain_in_list():
    ids = tuple(f"S{n:04d}" for n in range(SMALL_STORE_LIST + 1))
    sql, params = store_ids_sql(ids)
    assert sql.startswith("o.store_id IN (?, ") and "IS TRUE" not in sql
    assert params == list(ids)
    assert store_ids_sql(ids[:SMALL_STORE_LIST])[0].endswith(") IS TRUE")


def test_order_by_a_stand_in_key():
    assert (OrderQuery(sort="Customer email").order_by("sort_key")
            == "sort_key DESC NULLS LAST, o.order_id DESC")
    assert OrderQuery(sort="Order ID", descending=False).order_by("sort_key") == "o.order_id ASC"
