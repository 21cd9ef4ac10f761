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


# -- URL dates outside the calendar of orders ------------------------------------------------------

@pytest.mark.parametrize(
    ("params", "start", "end", "notices"),
    [
        ({"to": ["9999-12-31"]}, None, date(2199, 12, 31), ["end 9999-12-31 is outside"]),
        ({"from": ["0001-01-01"]}, date(1970, 1, 1), None, ["start 0001-01-01 is outside"]),
        ({"from": ["0001-01-01"], "to": ["9999-12-31"]}, date(1970, 1, 1), date(2199, 12, 31),
         ["start 0001-01-01 is outside", "end 9999-12-31 is outside"]),
        ({"from": ["1969-12-31"], "to": ["2200-01-01"]}, date(1970, 1, 1), date(2199, 12, 31),
         ["start 1969-12-31 is outside", "end 2200-01-01 is outside"]),
        ({"from": ["1970-01-01"], "to": ["2199-12-31"]}, date(1970, 1, 1), date(2199, 12, 31),
         []),
        ({"from": ["99999-01-01"]}, None, None, ["start “99999-01-01”: not a date"]),
        ({"to": ["+10000-01-01"]}, None, None, ["end “+10000-01-01”: not a date"]),
        ({"from": ["2026-02-30"]}, None, None, ["start “2026-02-30”: not a date"]),
        ({"from": ["0000-01-01"], "to": ["garbage"]}, None, None,
         ["start “0000-01-01”: not a date", "end “garbage”: not a date"]),
        ({"from": ["9999-12-31"], "to": ["0001-01-01"]}, date(2199, 12, 31), date(1970, 1, 1),
         None),  # clamped, then refused as a period that ends before it starts
    ],
)
def test_url_dates_outside_the_calendar_are_clamped_or_refused_with_a_notice(
        params, start, end, notices):
    query, _page, problems = from_url_params(params)
    if notices is None:
        assert (query.start, query.end) == (None, None)
        assert any("starts (31.12.2199) after it ends (01.01.1970)" in p for p in problems)
        return
    assert (query.start, query.end) == (start, end)
    assert len(problems) == len(notices)
    for problem, notice in zip(problems, notices):
        assert notice in problem
    query.where_clause(ALL, WARSAW)  # and its period can be applied


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
    for sql, params in (query.where_clause(ALL, tz), query.orders_where(tz, None)):
        assert sql.count("o.created_at") == (start is not None) + (end is not None)
        for param in params:
            assert isinstance(param, (datetime, int))


@pytest.mark.parametrize("tz", ZONES, ids=lambda z: z.key)
def test_the_period_bounds_are_the_zone_s_midnights(tz):
    """Exactly as before where Python has the datetime: 1 January to 30 June, and the DST days."""
    periods = ((date(2026, 1, 1), date(2026, 6, 30)), (date(2026, 3, 29), date(2026, 10, 25)))
    for start, end in periods:
        _sql, params = OrderQuery(start=start, end=end).where_clause(ALL, tz)
        expected = [datetime.combine(day, datetime.min.time(), tz).astimezone(ZoneInfo("UTC"))
                    .replace(tzinfo=None) for day in (start, date.fromordinal(end.toordinal() + 1))]
        assert params == expected


def test_the_last_day_s_end_and_the_first_day_s_start_as_duckdb_reads_them():
    everything = OrderQuery(start=date.min, end=date.max)
    warsaw_first, warsaw_last = everything.where_clause(ALL, WARSAW)[1]
    # Warsaw kept its local mean time (+01:24) before 1880, and CET (+01:00) in winter from 1977.
    assert warsaw_first == -62_135_596_800_000_000 - 84 * 60 * 1_000_000
    assert warsaw_last == datetime(9999, 12, 31, 23, 0)
    _, new_york_last = everything.where_clause(ALL, ZoneInfo("America/New_York"))[1]
    assert new_york_last == 253_402_300_800_000_000 + 5 * 3600 * 1_000_000  # 10000-01-01 05:00
