"""Refused imports on both backends (a DuckDB file, a PostgreSQL database): each kind of bad row, and each status change a re-import
may not make (docs/design.md §3, §7).

Every refused import must leave the database exactly as it was: each case compares every table
before and after. Each reason reads as it always has in English and, for the Data page, in Polish
and Russian without an English word of its template, its values kept (``assert_translated``). The base database (tests/db/import_fixtures.py: two stores, orders in every
status, one partial refund made by import and one item refund made "in the app") is built once
and copied for each test; clean imports are tests/db/test_import_clean.py.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from core.errors import InvalidInput
from core.importer import ORDER_COLUMNS, import_files
from tests.db.import_fixtures import (  # noqa: F401 (fixtures)
    assert_translated, base_db, database, item_row, order, order_row, refusal, rejected, store_row,
    unchanged_store, write_csv, write_files,
)


# --- each kind of bad row, one case each ---------------------------------------------------------

BAD_ROWS = {
    "duplicate store_id": (
        dict(stores=[store_row("S3"), store_row("S4"), store_row("S3")]),
        ["stores.csv, row 3, store_id: duplicate store_id S3 (first in row 1)"]),
    "store without a name": (
        dict(stores=[store_row("S3", store_name="")]),
        ["stores.csv, row 1, store_name: is empty"]),
    "store without a legal entity": (
        dict(stores=[store_row("S3", legal_entity=" ")]),
        ["stores.csv, row 1, legal_entity: is empty"]),
    "order_id not a whole number": (
        dict(orders=[order_row("A-12")]),
        ["orders.csv, row 1, order_id: is not a whole number (A-12)"]),
    "duplicate order_id": (
        dict(orders=[order_row(201), order_row(202), order_row(201)]),
        ["orders.csv, row 3, order_id: duplicate order_id 201 (first in row 1)"]),
    "unknown store": (
        dict(orders=[order_row(201, store_id="S9")]),
        ["orders.csv, row 1, store_id: unknown store S9 "
         "(not in the stores file nor in the database)"]),
    "order without a store": (
        dict(orders=[order_row(201, store_id="")]),
        ["orders.csv, row 1, store_id: is empty"]),
    "offline and Pending": (
        dict(orders=[order_row(201, channel="offline", status="Pending")]),
        ["orders.csv, row 1, status: an offline order is never Pending"]),
    "amount with 3 decimals": (
        dict(orders=[order_row(201), order_row(202, amount="12.345")]),
        ["orders.csv, row 2, amount: has 3 decimal places (12.345)"]),
    "amount zero": (
        dict(orders=[order_row(201, amount="0.00")]),
        ["orders.csv, row 1, amount: must be greater than 0 (0.00)"]),
    "amount negative": (
        dict(orders=[order_row(201, amount="-5")]),
        ["orders.csv, row 1, amount: must be greater than 0 (-5)"]),
    "amount in exponent notation": (
        dict(orders=[order_row(201, amount="1e3")]),
        ["orders.csv, row 1, amount: is not a number with at most 2 decimals, like 339.99 (1e3)"]),
    "amount with spaces": (
        dict(orders=[order_row(201, amount=" 12.5 ")]),
        ["orders.csv, row 1, amount: has spaces around the number (' 12.5 ')"]),
    "amount with a comma": (
        dict(orders=[order_row(201, amount="339,99")]),
        ["orders.csv, row 1, amount: uses a comma (339,99); write the decimal point as '.'"]),
    "amount missing": (
        dict(orders=[order_row(201, amount="")]),
        ["orders.csv, row 1, amount: is empty"]),
    "created_at not ISO 8601": (
        dict(orders=[order_row(201, created_at="31.01.2024 10:00")]),
        ["orders.csv, row 1, created_at: is not an ISO 8601 date and time like "
         "2024-01-31T14:05:00Z (31.01.2024 10:00)"]),
    "created_at not a real date": (
        dict(orders=[order_row(201, created_at="2024-02-30T10:00:00")]),
        ["orders.csv, row 1, created_at: is not a valid date (2024-02-30T10:00:00)"]),
    "unknown status": (
        dict(orders=[order_row(201, status="Shipped")]),
        ["orders.csv, row 1, status: unknown status Shipped "
         "(use Pending, Completed, Cancel, Return)"]),
    "unknown channel": (
        dict(orders=[order_row(201, channel="web")]),
        ["orders.csv, row 1, channel: unknown channel web (use online or offline)"]),
    "refunded_amount not a number": (
        dict(orders=[order_row(201, refunded_amount="ten")]),
        ["orders.csv, row 1, refunded_amount: is not a number with at most 2 decimals, "
         "like 339.99 (ten)"]),
    "refunded_amount negative": (
        dict(orders=[order_row(201, refunded_amount="-1")]),
        ["orders.csv, row 1, refunded_amount: must be 0 or more (-1)"]),
    "refunded more than the amount": (
        dict(orders=[order_row(201, amount="100.00", refunded_amount="100.01")]),
        ["orders.csv, row 1, refunded_amount: is greater than the amount (100.01 > 100.00)"]),
    "Return not fully refunded": (
        dict(orders=[order_row(201, status="Return", amount="100.00", refunded_amount="60")]),
        ["orders.csv, row 1, refunded_amount: a Return is fully refunded: it must equal the "
         "amount (60.00 ≠ 100.00)"]),
    "Pending with a refund": (
        dict(orders=[order_row(201, status="Pending", refunded_amount="5")]),
        ["orders.csv, row 1, refunded_amount: a Pending order has no refunds: it must be 0 or "
         "empty (5.00)"]),
    "Cancel with a refund": (
        dict(orders=[order_row(201, status="Cancel", refunded_amount="0.01")]),
        ["orders.csv, row 1, refunded_amount: a Cancel order has no refunds: it must be 0 or "
         "empty (0.01)"]),
    "item of an unknown order": (
        dict(items=[item_row(999, 1)]),
        ["items.csv, row 1, order_id: unknown order 999 "
         "(not in the orders file nor in the database)"]),
    "duplicate item line": (
        dict(orders=[order_row(201)], items=[item_row(201, 1), item_row(201, 2), item_row(201, 1)]),
        ["items.csv, row 3, line_no: duplicate line 1 of order 201 (first in row 1)"]),
    "line_no not a whole number": (
        dict(items=[item_row(107, "2a")]),
        ["items.csv, row 1, line_no: is not a whole number (2a)"]),
    "item without a name": (
        dict(items=[item_row(107, 2, name="")]),
        ["items.csv, row 1, name: is empty"]),
    "quantity not a whole number": (
        dict(items=[item_row(107, 2, quantity="1.5")]),
        ["items.csv, row 1, quantity: is not a whole number (1.5)"]),
    "quantity zero": (
        dict(items=[item_row(107, 2, quantity="0")]),
        ["items.csv, row 1, quantity: must be 1 or more (0)"]),
    "unit_price negative": (
        dict(items=[item_row(107, 2, unit_price="-1.00")]),
        ["items.csv, row 1, unit_price: must be 0 or more (-1.00)"]),
    "unit_price not a number": (
        dict(items=[item_row(107, 2, unit_price="free")]),
        ["items.csv, row 1, unit_price: is not a number with at most 2 decimals, "
         "like 339.99 (free)"]),
    "unit_price with 3 decimals": (
        dict(items=[item_row(107, 2, unit_price="0.001")]),
        ["items.csv, row 1, unit_price: has 3 decimal places (0.001)"]),
}


@pytest.mark.parametrize("files,expected", BAD_ROWS.values(), ids=BAD_ROWS.keys())
def test_bad_row_refuses_the_whole_import(unchanged_store, tmp_path, files, expected):
    problems = refusal(unchanged_store, write_files(tmp_path, **files))
    assert [str(p) for p in problems] == expected
    assert_translated(problems)


# Dates DuckDB stores but Python cannot hold (1 BC, the year 10000), or that overflow once shown
# in Europe/Warsaw, and the window's edges: each refused with its report line.
OUT_OF_WINDOW = ["0001-01-01T00:00:00+01:00", "0000-01-01T00:00Z", "9999-12-31T23:59:59-01:00",
                 "9999-12-31T23:30Z", "1999-12-31T23:59:59Z"]


@pytest.mark.parametrize("text", OUT_OF_WINDOW)
def test_created_at_outside_the_window_is_refused_with_its_report_line(unchanged_store, tmp_path,
                                                                       text):
    files = write_files(tmp_path, orders=[order_row(201), order_row(202, created_at=text)])
    started = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    [problem] = refusal(unchanged_store, files)
    assert_translated([problem])
    line = str(problem)
    prefix = ("orders.csv, row 2, created_at: is outside the order date window, "
              "2000-01-01T00:00:00Z to ")
    assert line.startswith(prefix) and line.endswith(f"Z (up to a day after the import) ({text})")
    latest = dt.datetime.strptime(line[len(prefix):len(prefix) + 19], "%Y-%m-%dT%H:%M:%S")
    assert dt.timedelta(hours=23, minutes=59) < latest - started < dt.timedelta(days=1, minutes=1)


def test_an_order_of_tomorrow_is_accepted_one_of_the_day_after_refused(database, tmp_path):
    soon = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=20)
    later = soon + dt.timedelta(hours=8)
    files = write_files(tmp_path, orders=[
        order_row(201, created_at=soon.strftime("%Y-%m-%dT%H:%M:%SZ")),
        order_row(202, created_at=later.strftime("%Y-%m-%dT%H:%M:%S+00:00"))])
    problems = rejected(database, files)
    assert [p.split(":")[0] for p in problems] == ["orders.csv, row 2, created_at"]
    import_files(database, **write_files(tmp_path, orders=[order_row(201, created_at=soon.strftime(
        "%Y-%m-%dT%H:%M:%SZ"))]))
    assert order(database, 201)["created_at"] == soon.replace(tzinfo=None, microsecond=0)


@pytest.mark.parametrize("kind,row,column", [
    ("orders", order_row(201, amount="1000000000000.00"), "amount"),
    ("orders", order_row(201, amount="100.00", refunded_amount="1000000000000.00"),
     "refunded_amount"),
    ("items", item_row(107, 2, unit_price="1000000000000.00"), "unit_price"),
])
def test_an_amount_above_the_limit_is_refused_naming_the_limit(unchanged_store, tmp_path, kind,
                                                                row, column):
    problems = refusal(unchanged_store, write_files(tmp_path, **{kind: [row]}))
    assert [str(p) for p in problems] == [
        f"{kind}.csv, row 1, {column}: is too large: at most 999999999999.99 (1000000000000.00)"]
    assert_translated(problems)


def test_the_largest_amount_is_imported_exactly(database, tmp_path):
    import_files(database, **write_files(tmp_path, orders=[order_row(
        201, amount="999999999999.99", refunded_amount="999999999999.98")]))
    row = order(database, 201)
    assert (row["amount"], row["refunded_amount"]) == (Decimal("999999999999.99"),
                                                       Decimal("999999999999.98"))


# --- a re-import syncs status within the rules; each refused change is reported --------------------

REFUSED_SYNC = {
    "Cancel is final": (
        dict(orders=[order_row(103, status="Completed", amount="20.00", store_id="S2")]),
        ["orders.csv, row 1, status: order 103: cannot change from Cancel to Completed: "
         "Cancel is a final status"]),
    "Return is final": (
        dict(orders=[order_row(106, status="Completed", channel="offline", amount="40.00",
                               refunded_amount="40.00", store_id="S2")]),
        ["orders.csv, row 1, status: order 106: cannot change from Return to Completed: "
         "Return is a final status"]),
    "Completed cannot go back to Pending": (
        dict(orders=[order_row(107, status="Pending", amount="60.00")]),
        ["orders.csv, row 1, status: order 107: cannot change from Completed to Pending: "
         "a Completed order cannot go back to Pending"]),
    "Completed cannot be cancelled": (
        dict(orders=[order_row(107, status="Cancel", amount="60.00")]),
        ["orders.csv, row 1, status: order 107: cannot change from Completed to Cancel: "
         "a Completed order cannot be cancelled; it is refunded"]),
    "Pending cannot become Return": (
        dict(orders=[order_row(101, status="Return", amount="100.00")]),
        ["orders.csv, row 1, status: order 101: cannot change from Pending to Return: "
         "a Pending order can only become Completed or Cancel"]),
    "Return only when fully refunded": (
        dict(orders=[order_row(104, status="Return", amount="80.00", refunded_amount="70.00",
                               store_id="S2")]),
        ["orders.csv, row 1, refunded_amount: a Return is fully refunded: it must equal the "
         "amount (70.00 ≠ 80.00)"]),
    "refunded amount never lowered": (
        dict(orders=[order_row(104, amount="80.00", refunded_amount="5.00", store_id="S2")]),
        ["orders.csv, row 1, refunded_amount: would lower the refunded amount of order 104 "
         "from 10.00 to 5.00"]),
    "refunded amount never lowered to 0": (
        dict(orders=[order_row(105, amount="30.00", refunded_amount="0")]),
        ["orders.csv, row 1, refunded_amount: would lower the refunded amount of order 105 "
         "from 10.00 to 0.00"]),
    "amount of an order with refunds": (
        dict(orders=[order_row(104, amount="90.00", store_id="S2")]),
        ["orders.csv, row 1, amount: order 104 has refunds: its amount cannot change "
         "(80.00 → 90.00)"]),
    "amount of an order with refunded items": (
        dict(orders=[order_row(105, amount="29.99")]),
        ["orders.csv, row 1, amount: order 105 has refunds: its amount cannot change "
         "(30.00 → 29.99)"]),
    "item line of an order with refunds changed": (
        dict(items=[item_row(105, 2, name="Cap", quantity="2", unit_price="10.00")]),
        ["items.csv, row 1, quantity: order 105 has refunds: its lines cannot change (1 → 2)"]),
    "item line price of an order with refunds changed": (
        dict(items=[item_row(105, 1, name="Socks", quantity="2", unit_price="9.00")]),
        ["items.csv, row 1, unit_price: order 105 has refunds: its lines cannot change "
         "(10.00 → 9.00)"]),
    "item line added to an order with refunds": (
        dict(items=[item_row(105, 3, name="Scarf")]),
        ["items.csv, row 1, line_no: order 105 has refunds: a line cannot be added to it "
         "(line 3)"]),
    "order moved to another store": (
        dict(orders=[order_row(107, amount="60.00", store_id="S2")]),
        ["orders.csv, row 1, store_id: order 107 belongs to store S1: an import cannot move it "
         "to another store"]),
}


@pytest.mark.parametrize("files,expected", REFUSED_SYNC.values(), ids=REFUSED_SYNC.keys())
def test_refused_status_sync_refuses_the_whole_import(unchanged_store, tmp_path, files,
                                                      expected):
    problems = refusal(unchanged_store, write_files(tmp_path, **files))
    assert [str(p) for p in problems] == expected
    assert_translated(problems)


def test_report_lists_every_bad_row_of_every_file(unchanged_store, tmp_path):
    files = write_files(
        tmp_path,
        stores=[store_row("S3"), store_row("S3", zone="")],
        orders=[order_row(201), order_row(202, amount="1.001", status="Done"),
                order_row(203, store_id="S3"), order_row(204, created_at="")],
        items=[item_row(201, 1), item_row(555, 1, quantity="-2")],
    )
    assert rejected(unchanged_store, files) == [
        "stores.csv, row 2, store_id: duplicate store_id S3 (first in row 1)",
        "stores.csv, row 2, zone: is empty",
        "orders.csv, row 2, amount: has 3 decimal places (1.001)",
        "orders.csv, row 2, status: unknown status Done (use Pending, Completed, Cancel, Return)",
        "orders.csv, row 4, created_at: is empty",
        "items.csv, row 2, order_id: unknown order 555 (not in the orders file nor in the database)",
        "items.csv, row 2, quantity: is not a whole number (-2)",
    ]


def test_missing_and_extra_columns_are_named(unchanged_store, tmp_path):
    columns = [c for c in ORDER_COLUMNS if c != "amount"] + ["note"]
    path = write_csv(tmp_path / "orders.csv", [order_row(201, note="x")], columns)
    problems = refusal(unchanged_store, {"orders": path})
    assert_translated(problems)
    assert [str(p) for p in problems] == [
        "orders.csv, amount: missing column",
        "orders.csv, note: unexpected column; orders files have exactly the columns order_id, "
        "created_at, merchant_order_id, amount, status, channel, email, phone, store_id, "
        "salesperson_id, salesperson_name, refunded_amount (refunded_amount optional)",
    ]


def test_refunded_amount_column_is_optional(database, tmp_path):
    columns = [c for c in ORDER_COLUMNS if c != "refunded_amount"]
    path = write_csv(tmp_path / "orders.csv", [order_row(201), order_row(202, status="Return")],
                     columns)
    report = import_files(database, orders=path)
    assert report.added["orders"] == 2
    assert order(database, 202)["refunded_amount"] == Decimal("100.00")  # a Return is fully refunded
    assert order(database, 201)["refunded_amount"] == Decimal("0.00")


@pytest.mark.parametrize("name,content,reason_start", [
    ("orders.txt", "order_id\n1\n", "is not a .csv, .parquet or .xlsx file"),
    ("orders.csv", None, "no such file"),
    ("orders.csv", "a,b\n1,2\n3,4,5,6\n", "cannot be read as CSV"),
    ("orders.xlsx", "not a spreadsheet", "cannot be read as XLSX"),
    ("orders.parquet", "not parquet", "cannot be read as Parquet"),
])
def test_unreadable_file_is_refused(unchanged_store, tmp_path, name, content, reason_start):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    problems = refusal(unchanged_store, {"orders": path})
    assert len(problems) == 1
    assert str(problems[0]).startswith(f"{name}: {reason_start}")
    assert_translated(problems)


def test_no_file_given_is_an_error(database):
    with pytest.raises(InvalidInput):
        import_files(database)
