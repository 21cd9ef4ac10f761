"""The query's conditions as SQL (core.db.filters): filters × search × sort → SQL and parameters,
each kind of condition over each source, and the one WHERE builder."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from core.db.filters import (
    JOINED,
    ORDERS,
    SMALL_STORE_LIST,
    STORES,
    condition_sql,
    order_by,
    orders_where,
    store_clause,
    store_ids_sql,
    where,
    where_clause,
)
from core.query import SORT_LABELS, OrderQuery
from core.query_filters import InList, InScope, Period, Search
from core.users import Scope

WARSAW = ZoneInfo("Europe/Warsaw")
ALL = Scope.everything()
PARTIAL = Scope(False, frozenset({"Beta", "Alpha"}), frozenset({"S9"}))


def test_a_store_filter_names_the_store_as_its_source_does():
    store = InList("Store", "s", "store_id", ("S1", "S2"))
    assert store.about_stores
    assert condition_sql(store, JOINED) == ("o.store_id IN (?, ?)", ["S1", "S2"])
    assert condition_sql(store, STORES) == ("s.store_id IN (?, ?)", ["S1", "S2"])
    assert store.words() == "Store: S1, S2"


def test_the_scope_is_one_condition_over_either_source():
    scope = InScope(Scope(False, frozenset({"LE1"}), frozenset({"S9"})))
    assert condition_sql(scope, JOINED) == ("(s.legal_entity IN (?) OR o.store_id IN (?))",
                                            ["LE1", "S9"])
    assert condition_sql(scope, STORES) == ("(s.legal_entity IN (?) OR s.store_id IN (?))",
                                            ["LE1", "S9"])
    assert condition_sql(InScope(Scope.everything()), STORES) is None
    assert condition_sql(InScope(Scope()), STORES) == ("FALSE", [])
    assert scope.words() is None  # the scope is never described as a filter


def test_empty_filters_restrict_nothing_and_say_nothing():
    empty = [InList("Status", "o", "status", ()), Period(None, None), Search.parse("")]
    assert where(empty, ORDERS) is None
    assert [f.words() for f in empty] == [None, None, None]


def test_where_joins_the_conditions_in_the_order_given():
    status = InList("Status", "o", "status", ("Pending",))
    period = Period(date(2026, 1, 10), None)
    sql, params = where([status, period], ORDERS, WARSAW)
    assert sql == "o.status IN (?) AND o.created_at >= ?"
    assert params[0] == "Pending" and len(params) == 2


# -- an OrderQuery's clauses -----------------------------------------------------------------------

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
    assert where_clause(query, scope, WARSAW) == (sql, params)


@pytest.mark.parametrize(
    ("sort", "descending", "sql"),
    [
        ("Order date", True, "o.created_at DESC NULLS LAST, o.order_id DESC"),
        ("Order date", False, "o.created_at ASC NULLS LAST, o.order_id ASC"),
        ("Order ID", True, "o.order_id DESC"),
        ("Captured amount", False, "o.amount ASC NULLS LAST, o.order_id ASC"),
        ("Legal entity", True, "s.legal_entity DESC NULLS LAST, o.order_id DESC"),
    ],
)
def test_sort_order_by(sort, descending, sql):
    assert order_by(OrderQuery(sort=sort, descending=descending)) == sql


def test_every_column_is_sortable_and_breaks_ties_by_order_id():
    for column in SORT_LABELS:
        assert order_by(OrderQuery(sort=column)).endswith("o.order_id DESC")


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
    assert store_clause(query, scope) == expected


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
    assert orders_where(query, WARSAW, store_ids) == (sql, params)


def test_long_store_list_keeps_a_plain_in_list():
    ids = tuple(f"S{n:04d}" for n in range(SMALL_STORE_LIST + 1))
    sql, params = store_ids_sql(ids)
    assert sql.startswith("o.store_id IN (?, ") and "IS TRUE" not in sql
    assert params == list(ids)
    assert store_ids_sql(ids[:SMALL_STORE_LIST])[0].endswith(") IS TRUE")


def test_order_by_a_stand_in_key():
    assert (order_by(OrderQuery(sort="Customer email"), "sort_key")
            == "sort_key DESC NULLS LAST, o.order_id DESC")
    assert order_by(OrderQuery(sort="Order ID", descending=False), "sort_key") == "o.order_id ASC"


# -- periods at the calendar's ends --------------------------------------------------------------

ZONES = [WARSAW, ZoneInfo("America/New_York"), ZoneInfo("Pacific/Kiritimati"),
         ZoneInfo("Pacific/Pago_Pago"), ZoneInfo("UTC")]


@pytest.mark.parametrize("tz", ZONES, ids=lambda z: z.key)
@pytest.mark.parametrize(
    ("start", "end"),
    [(date.min, None), (None, date.max), (date.min, date.max), (date.max, date.max),
     (date.min, date.min)],
)
def test_no_period_overflows_the_calendar(tz, start, end):
    """Midnight of 01.01.0001 east of Greenwich, and the day after 31.12.9999, have no Python
    datetime: such a bound goes to DuckDB as microseconds."""
    query = OrderQuery(start=start, end=end)
    for sql, params in (where_clause(query, ALL, tz), orders_where(query, tz, None)):
        assert sql.count("o.created_at") == (start is not None) + (end is not None)
        for param in params:
            assert isinstance(param, (datetime, int))


@pytest.mark.parametrize("tz", ZONES, ids=lambda z: z.key)
def test_the_period_bounds_are_the_zone_s_midnights(tz):
    """Exactly as before where Python has the datetime: 1 January to 30 June, and the DST days."""
    periods = ((date(2026, 1, 1), date(2026, 6, 30)), (date(2026, 3, 29), date(2026, 10, 25)))
    for start, end in periods:
        _sql, params = where_clause(OrderQuery(start=start, end=end), ALL, tz)
        expected = [datetime.combine(day, datetime.min.time(), tz).astimezone(ZoneInfo("UTC"))
                    .replace(tzinfo=None) for day in (start, date.fromordinal(end.toordinal() + 1))]
        assert params == expected


def test_the_last_day_s_end_and_the_first_day_s_start_as_duckdb_reads_them():
    everything = OrderQuery(start=date.min, end=date.max)
    warsaw_first, warsaw_last = where_clause(everything, ALL, WARSAW)[1]
    # Warsaw kept its local mean time (+01:24) before 1880, and CET (+01:00) in winter from 1977.
    assert warsaw_first == -62_135_596_800_000_000 - 84 * 60 * 1_000_000
    assert warsaw_last == datetime(9999, 12, 31, 23, 0)
    _, new_york_last = where_clause(everything, ALL, ZoneInfo("America/New_York"))[1]
    assert new_york_last == 253_402_300_800_000_000 + 5 * 3600 * 1_000_000  # 10000-01-01 05:00


def test_a_condition_without_sql_is_a_programming_error_not_a_silent_match():
    with pytest.raises(TypeError, match="no SQL is written for a object condition"):
        condition_sql(object(), JOINED)
