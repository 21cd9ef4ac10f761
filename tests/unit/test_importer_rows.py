"""The importer's value rules, table-driven: what a row of an import file may hold.

tests/db/test_import.py checks that the SQL forms of these rules flag exactly the same values.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from core.importer import (
    CREATED_AT_WINDOW,
    ImportProblem,
    amount_problem,
    created_at_problem,
    header_problems,
    parse_created_at,
    parse_import_amount,
    start_problem,
    status_change_problem,
    whole_number_problem,
)
from core.phones import phone_digits
from core.status import CHANNELS, STATUSES, may_import, may_start

# (text, zero_allowed, expected reason or None when valid)
AMOUNTS = [
    ("100", False, None),
    ("100.5", False, None),
    ("100.50", False, None),
    ("0.01", False, None),
    ("007.10", False, None),
    ("999999999999.99", False, None),
    ("1000000000000.00", False,
     "is too large: at most 999999999999.99 (1000000000000.00)"),
    ("0", True, None),
    ("0.00", True, None),
    ("12.345", False, "has 3 decimal places (12.345)"),
    ("1.0000", False, "has 4 decimal places (1.0000)"),
    ("0", False, "must be greater than 0 (0)"),
    ("0.00", False, "must be greater than 0 (0.00)"),
    ("-5", False, "must be greater than 0 (-5)"),
    ("-5.5", True, "must be 0 or more (-5.5)"),
    ("1e3", False, "is not a number with at most 2 decimals, like 339.99 (1e3)"),
    ("NaN", False, "is not a number with at most 2 decimals, like 339.99 (NaN)"),
    ("inf", False, "is not a number with at most 2 decimals, like 339.99 (inf)"),
    ("abc", False, "is not a number with at most 2 decimals, like 339.99 (abc)"),
    ("1,234.50", False, "is not a number with at most 2 decimals, like 339.99 (1,234.50)"),
    ("+5", False, "is not a number with at most 2 decimals, like 339.99 (+5)"),
    (".5", False, "is not a number with at most 2 decimals, like 339.99 (.5)"),
    ("5.", False, "is not a number with at most 2 decimals, like 339.99 (5.)"),
    ("١٢", False, "is not a number with at most 2 decimals, like 339.99 (١٢)"),
    ("12,50", False, "uses a comma (12,50); write the decimal point as '.'"),
    (" 12.5 ", False, "has spaces around the number (' 12.5 ')"),
    ("12.5\t", False, "has spaces around the number ('12.5\t')"),
    ("10000000000000000", False,
     "is too large: at most 999999999999.99 (10000000000000000)"),
    ("", False, "is empty"),
    ("   ", False, "is empty"),
    (None, True, "is empty"),
]


@pytest.mark.parametrize("text,zero_allowed,expected", AMOUNTS)
def test_amount_rule(text, zero_allowed, expected):
    assert amount_problem(text, zero_allowed=zero_allowed) == expected


def test_parse_import_amount_is_exact_with_two_places():
    assert parse_import_amount("0.1") + parse_import_amount("0.2") == Decimal("0.30")
    assert str(parse_import_amount("7")) == "7.00"
    with pytest.raises(ValueError, match="3 decimal places"):
        parse_import_amount("1.005")


# (text, max_value, expected)
WHOLE_NUMBERS = [
    ("1", 10, None),
    ("0007", 10, None),
    ("10", 10, None),
    ("11", 10, "is too large (11)"),
    ("0", 10, "must be 1 or more (0)"),
    ("-1", 10, "is not a whole number (-1)"),
    ("1.5", 10, "is not a whole number (1.5)"),
    ("2.0", 10, "is not a whole number (2.0)"),
    ("1e3", 10**6, "is not a whole number (1e3)"),
    (" 3", 10, "is not a whole number ( 3)"),
    ("", 10, "is empty"),
    (None, 10, "is empty"),
    ("9223372036854775807", 2**63 - 1, None),
    ("9223372036854775808", 2**63 - 1, "is too large (9223372036854775808)"),
]


@pytest.mark.parametrize("text,max_value,expected", WHOLE_NUMBERS)
def test_whole_number_rule(text, max_value, expected):
    assert whole_number_problem(text, max_value=max_value) == expected


UTC_OF = dt.datetime
# The import's own time in these tables: the window of order dates ends a day after it.
NOW = dt.datetime(2026, 12, 2, 12, 0)


def outside(text: str) -> str:
    return ("is outside the order date window, 2000-01-01T00:00:00Z to 2026-12-03T12:00:00Z "
            f"(up to a day after the import) ({text})")


# (text, the naive UTC moment or the reason it is refused); every form of time zone, 'Z' and
# fraction the pattern admits, and both edges of the window.
CREATED_AT = [
    ("2024-01-31T14:05:00", UTC_OF(2024, 1, 31, 14, 5)),
    ("2024-01-31 14:05:00", UTC_OF(2024, 1, 31, 14, 5)),
    ("2024-01-31T14:05", UTC_OF(2024, 1, 31, 14, 5)),
    ("2024-01-31", UTC_OF(2024, 1, 31)),
    ("2024-01-31T14:05:00Z", UTC_OF(2024, 1, 31, 14, 5)),
    ("2024-01-31T14:05Z", UTC_OF(2024, 1, 31, 14, 5)),
    ("2024-01-31T14:05:00+02:00", UTC_OF(2024, 1, 31, 12, 5)),
    ("2024-01-31T14:05:00+0200", UTC_OF(2024, 1, 31, 12, 5)),
    ("2024-01-31T14:05:00+02", UTC_OF(2024, 1, 31, 12, 5)),
    ("2024-01-31T14:05+05:45", UTC_OF(2024, 1, 31, 8, 20)),
    ("2024-01-31T14:05:00+00:00", UTC_OF(2024, 1, 31, 14, 5)),
    ("2024-01-31T14:05:00-00:00", UTC_OF(2024, 1, 31, 14, 5)),
    ("2024-01-31T01:00:00+03:00", UTC_OF(2024, 1, 30, 22, 0)),
    ("2024-12-31T22:30:00-05:30", UTC_OF(2025, 1, 1, 4, 0)),
    ("2024-06-30T23:00:00-14:00", UTC_OF(2024, 7, 1, 13, 0)),
    ("2024-03-01T00:30:00+23:59", UTC_OF(2024, 2, 29, 0, 31)),
    ("2024-01-31T14:05:00.123456", UTC_OF(2024, 1, 31, 14, 5, 0, 123456)),
    ("2024-01-31T14:05:00.000001Z", UTC_OF(2024, 1, 31, 14, 5, 0, 1)),
    ("2024-01-31T14:05:00.5Z", UTC_OF(2024, 1, 31, 14, 5, 0, 500000)),
    ("2024-01-31T14:05:00.25+01:00", UTC_OF(2024, 1, 31, 13, 5, 0, 250000)),
    ("2024-02-29T00:00:00", UTC_OF(2024, 2, 29)),
    ("2024-02-30", "is not a valid date (2024-02-30)"),
    ("2023-02-29T10:00:00", "is not a valid date (2023-02-29T10:00:00)"),
    ("2024-13-01", "is not a valid date (2024-13-01)"),
    ("2024-01-00", "is not a valid date (2024-01-00)"),
    ("0000-02-30T00:00Z", "is not a valid date (0000-02-30T00:00Z)"),
    # the window: from 2000-01-01T00:00Z to a day after the import
    ("2000-01-01T00:00:00Z", UTC_OF(2000, 1, 1)),
    ("2000-01-01T01:00:00+01:00", UTC_OF(2000, 1, 1)),
    ("2026-12-03T12:00:00Z", UTC_OF(2026, 12, 3, 12, 0)),
    ("2026-12-03T13:00:00+01:00", UTC_OF(2026, 12, 3, 12, 0)),
    ("1999-12-31T23:59:59.999999Z", outside("1999-12-31T23:59:59.999999Z")),
    ("2000-01-01T00:59:59+01:00", outside("2000-01-01T00:59:59+01:00")),
    ("1999-12-31", outside("1999-12-31")),
    ("2026-12-03T12:00:00.000001", outside("2026-12-03T12:00:00.000001")),
    ("2026-12-03T11:00:00-01:01", outside("2026-12-03T11:00:00-01:01")),
    ("2030-01-01", outside("2030-01-01")),
    # stored by DuckDB but not by Python (1 BC, year 10000), or overflowing in a time zone
    ("0001-01-01T00:00:00+01:00", outside("0001-01-01T00:00:00+01:00")),
    ("0000-01-01T00:00Z", outside("0000-01-01T00:00Z")),
    ("0001-01-01", outside("0001-01-01")),
    ("9999-12-31T23:59:59-01:00", outside("9999-12-31T23:59:59-01:00")),
    ("9999-12-31T23:30Z", outside("9999-12-31T23:30Z")),
    ("9999-12-31", outside("9999-12-31")),
]
NOT_ISO = [
    "31.01.2024", "01/31/2024", "2024-1-31", "2024-01-31T24:00:00", "2024-01-31T14:60",
    "2024-01-31T14:05:60", "2024-01-31T14", "2024-01-31T14:05:00.1234567", "20240131T140500",
    "2024-01-31t14:05:00", "2024-01-31T14:05:00z", "2024-01-31T14:05:00 +02:00",
    " 2024-01-31", "yesterday", "1706709900", "2024-01-31Z", "0000-01-01Z",
    "2024-01-31T14:05:00+24:00", "2024-01-31T14:05:00+02:60", "2024-01-31T14:05:00.Z",
    "2024-01-31T14:05:00,5", "2024-01-31T14:05:00.123456789", "+2024-01-31", "12024-01-31",
    "2024-01-31T14:05:00Z+01:00", "2024-01-31T14:05:00UTC", "2024-01-31T14:05:00 Europe/Warsaw",
]


@pytest.mark.parametrize("text,expected", CREATED_AT)
def test_created_at_rule(text, expected):
    if isinstance(expected, dt.datetime):
        assert parse_created_at(text, now=NOW) == expected
        assert created_at_problem(text, now=NOW) is None
    else:
        assert created_at_problem(text, now=NOW) == expected


@pytest.mark.parametrize("text", NOT_ISO)
def test_created_at_refuses_what_is_not_iso_8601(text):
    assert created_at_problem(text, now=NOW) == (
        f"is not an ISO 8601 date and time like 2024-01-31T14:05:00Z ({text})"
    )


def test_the_window_starts_in_2000_and_ends_a_day_after_the_import():
    assert CREATED_AT_WINDOW.earliest == UTC_OF(2000, 1, 1)
    assert CREATED_AT_WINDOW.latest(NOW) == UTC_OF(2026, 12, 3, 12, 0)


def test_without_a_time_the_window_ends_a_day_after_now():
    tomorrow = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
    assert created_at_problem((tomorrow - dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%MZ")) \
        is None
    assert created_at_problem((tomorrow + dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%MZ")) \
        .startswith("is outside the order date window")


def test_created_at_empty():
    assert created_at_problem("") == "is empty"
    assert created_at_problem(None) == "is empty"


# (current status in the database, status in the file, reason or None when allowed)
STATUS_CHANGES = [
    ("Pending", "Pending", None),
    ("Pending", "Completed", None),
    ("Pending", "Cancel", None),
    ("Completed", "Completed", None),
    ("Completed", "Return", None),
    ("Cancel", "Cancel", None),
    ("Return", "Return", None),
    ("Pending", "Return",
     "cannot change from Pending to Return: a Pending order can only become Completed or Cancel"),
    ("Completed", "Pending",
     "cannot change from Completed to Pending: a Completed order cannot go back to Pending"),
    ("Completed", "Cancel",
     "cannot change from Completed to Cancel: a Completed order cannot be cancelled; "
     "it is refunded"),
    ("Cancel", "Pending", "cannot change from Cancel to Pending: Cancel is a final status"),
    ("Cancel", "Completed", "cannot change from Cancel to Completed: Cancel is a final status"),
    ("Cancel", "Return", "cannot change from Cancel to Return: Cancel is a final status"),
    ("Return", "Completed", "cannot change from Return to Completed: Return is a final status"),
    ("Return", "Pending", "cannot change from Return to Pending: Return is a final status"),
    ("Return", "Cancel", "cannot change from Return to Cancel: Return is a final status"),
]


@pytest.mark.parametrize("current,requested,expected", STATUS_CHANGES)
def test_status_change_rule(current, requested, expected):
    assert status_change_problem(current, requested) == expected


def test_status_change_rule_allows_exactly_the_import_moves():
    for current in STATUSES:
        for requested in STATUSES:
            assert (status_change_problem(current, requested) is None) == \
                may_import(current, requested), (current, requested)


# (status, channel, reason or None when a new order may be in that status)
STARTS = [
    ("Pending", "online", None),
    ("Completed", "online", None),
    ("Cancel", "online", None),
    ("Return", "online", None),
    ("Pending", "offline", "an offline order is never Pending"),
    ("Completed", "offline", None),
    ("Cancel", "offline", None),
    ("Return", "offline", None),
]


@pytest.mark.parametrize("status,channel,expected", STARTS)
def test_start_rule(status, channel, expected):
    assert start_problem(status, channel) == expected


def test_start_rule_covers_every_status_and_channel_as_core_status_does():
    assert {(s, c) for s, c, _ in STARTS} == {(s, c) for s in STATUSES for c in CHANNELS}
    for status, channel, expected in STARTS:
        assert (expected is None) == may_start(status, channel)


# (phone as typed, its digits); tests/db/test_import.py checks the SQL form against it.
PHONES = [
    ("+48 (606) 606-606", "48606606606"),
    ("0040 721 000 111", "0040721000111"),
    ("0048 606 606 606", "0048606606606"),
    ("8 912 345-67-89", "89123456789"),
    ("٠٦٠٦ 606", "606"),  # other scripts' digits are not [0-9]
    ("no phone", None),
    ("", None),
    (None, None),
]


@pytest.mark.parametrize("phone,digits", PHONES)
def test_phone_digits(phone, digits):
    assert phone_digits(phone) == digits


@pytest.mark.parametrize("problem,text", [
    (ImportProblem("orders.csv", 5, "amount", "has 3 decimal places (12.345)"),
     "orders.csv, row 5, amount: has 3 decimal places (12.345)"),
    (ImportProblem("orders.csv", None, "amount", "missing column"),
     "orders.csv, amount: missing column"),
    (ImportProblem("x.txt", None, None, "is not a .csv, .parquet or .xlsx file"),
     "x.txt: is not a .csv, .parquet or .xlsx file"),
    (ImportProblem("items.xlsx", 2, None, "has a value right of the last named column"),
     "items.xlsx, row 2: has a value right of the last named column"),
])
def test_problem_text_names_file_row_and_column(problem, text):
    assert str(problem) == text


def test_problem_is_immutable():
    problem = ImportProblem("orders.csv", 1, "amount", "is empty")
    with pytest.raises(AttributeError):
        problem.row = 2  # type: ignore[misc]


HEADER = [
    ("orders", ["order_id", "created_at", "merchant_order_id", "amount", "status", "channel",
                "email", "phone", "store_id", "salesperson_id", "salesperson_name"], []),
    ("orders", ["order_id", "created_at", "merchant_order_id", "status", "channel", "email",
                "phone", "store_id", "salesperson_id", "salesperson_name", "refunded_amount"],
     ["o.csv, amount: missing column"]),
    ("items", ["order_id", "line_no", "name", "quantity", "unit_price", "colour"],
     ["o.csv, colour: unexpected column; items files have exactly the columns order_id, "
      "line_no, name, quantity, unit_price"]),
    ("stores", ["Store_ID", "store_name", "store_address", "merchant_store_id", "brand",
                "legal_entity", "region", "zone"],
     ["o.csv, store_id: missing column",
      "o.csv, Store_ID: unexpected column; stores files have exactly the columns store_id, "
      "store_name, store_address, merchant_store_id, brand, legal_entity, region, zone"]),
]


@pytest.mark.parametrize("kind,names,expected", HEADER)
def test_header_names_are_exact(kind, names, expected):
    assert [str(p) for p in header_problems(kind, "o.csv", names)] == expected


# --- the reasons in the user's language (the Data page): one template, the values kept ---------

@pytest.mark.parametrize("lang,text,expected", [
    ("en", "1.001", "has 3 decimal places (1.001)"),
    ("pl", "1.001", "ma 3 miejsca dziesiętne (1.001)"),
    ("pl", "1.00001", "ma 5 miejsc dziesiętnych (1.00001)"),
    ("ru", "1.001", "содержит 3 знака после запятой (1.001)"),
    ("ru", "1.00001", "содержит 5 знаков после запятой (1.00001)"),
    ("ro", "1.00001", "are 5 zecimale (1.00001)"),
])
def test_a_reason_with_a_count_takes_the_language_s_plural_form(lang, text, expected):
    problem = ImportProblem("orders.csv", 1, "amount", amount_problem(text))
    assert problem.reason_in(lang) == expected


def test_a_reason_within_a_reason_is_translated_with_it_the_statuses_as_the_file_writes_them():
    problem = ImportProblem("orders.csv", 1, "status", status_change_problem("Cancel", "Pending"))
    assert str(problem) == ("orders.csv, row 1, status: cannot change from Cancel to Pending: "
                            "Cancel is a final status")
    assert problem.reason_in("pl") == ("nie można zmienić statusu z Cancel na Pending: Cancel to "
                                       "status końcowy")
    assert problem.reason_in("ru") == ("нельзя сменить статус Cancel на Pending: Cancel — "
                                       "конечный статус")


def test_a_reason_given_as_plain_english_text_is_looked_up_as_it_is():
    assert ImportProblem("o.csv", None, "amount", "missing column").reason_in("pl") == (
        "brak kolumny")
    assert ImportProblem("o.csv", None, None, "not a message").reason_in("ru") == "not a message"
