"""The query object: its validation, its words, its paging helpers and the URL codec (its SQL:
test_db_filters)."""
from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from core.errors import InvalidQuery
from core.db.filters import where_clause
from core.query import (
    OrderQuery,
    Search,
    clamp_page,
    from_url_params,
    page_count,
    to_url_params,
)
from core.users import Scope

WARSAW = ZoneInfo("Europe/Warsaw")
ALL = Scope.everything()


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
    where_clause(query, ALL, WARSAW)  # and its period can be applied
