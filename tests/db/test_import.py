"""Importing stores, orders and item lines into a real DuckDB file (docs/design.md §3, §7).

Every refused import must leave the database exactly as it was: each case compares every table
before and after. A base database (two stores, orders in every status, one partial refund made by
import and one item refund made "in the app") is built once and copied for each test.
"""
from __future__ import annotations

import csv
import datetime as dt
import shutil
import time
from decimal import Decimal
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.db.sql_text import phone_digits_sql
from core.errors import ImportRejected, InvalidInput
from core.importer import (
    ITEM_COLUMNS,
    ORDER_COLUMNS,
    STORE_COLUMNS,
    amount_problem,
    import_files,
    parse_created_at,
    parse_import_amount,
    sql_amount,
    sql_created_at,
    sql_whole_number,
    start_problem,
    whole_number_problem,
)
from core.phones import phone_digits
from core.status import CHANNELS, STATUSES, may_start
from core.db import Database

ALL_TABLES = ("meta", "stores", "orders", "order_items", "order_events")
COLUMNS = {"stores": STORE_COLUMNS, "orders": ORDER_COLUMNS, "items": ITEM_COLUMNS}


# --- building files ------------------------------------------------------------------------------

def store_row(store_id="S3", **kw) -> dict:
    row = dict(store_id=store_id, store_name=f"Store {store_id}", store_address="Main St 1",
               merchant_store_id=f"M-{store_id}", brand="Reserved", legal_entity="LE1",
               region="Mazowieckie", zone="PL")
    return {**row, **kw}


def order_row(order_id=201, **kw) -> dict:
    row = dict(order_id=str(order_id), created_at="2024-03-01T10:00:00", merchant_order_id="MO-1",
               amount="100.00", status="Completed", channel="online", email="anna@wp.pl",
               phone="+48 606 606 606", store_id="S1", salesperson_id="SP1",
               salesperson_name="Jan", refunded_amount="")
    return {**row, **kw}


def item_row(order_id=201, line_no=1, **kw) -> dict:
    row = dict(order_id=str(order_id), line_no=str(line_no), name="Socks", quantity="1",
               unit_price="10.00")
    return {**row, **kw}


def write_csv(path: Path, rows: list[dict], columns=None) -> Path:
    columns = list(columns or (rows[0].keys() if rows else ()))
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([row.get(c, "") for c in columns])
    return path


def write_files(tmp_path: Path, **kinds: list[dict]) -> dict[str, Path]:
    """CSV files named ``<kind>.csv`` with the exact columns of each kind."""
    return {kind: write_csv(tmp_path / f"{kind}.csv", rows, COLUMNS[kind])
            for kind, rows in kinds.items()}


def snapshot(database: Database) -> dict[str, list[tuple]]:
    with database.cursor() as cur:
        return {t: cur.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in ALL_TABLES}


# --- the base database ---------------------------------------------------------------------------

BASE_STORES = [
    store_row("S1", legal_entity="LE1", zone="PL"),
    store_row("S2", legal_entity="LE2", region="Ilfov", zone="RO"),
]
BASE_ORDERS = [
    order_row(101, status="Pending", amount="100.00"),
    order_row(102, status="Completed", channel="offline", amount="50.00"),
    order_row(103, status="Cancel", amount="20.00", store_id="S2"),
    order_row(104, status="Completed", amount="80.00", refunded_amount="10.00", store_id="S2"),
    order_row(105, status="Completed", amount="30.00"),
    order_row(106, status="Return", channel="offline", amount="40.00", refunded_amount="40.00",
              store_id="S2"),
    order_row(107, status="Completed", amount="60.00"),
]
BASE_ITEMS = [
    item_row(105, 1, name="Socks", quantity="2", unit_price="10.00"),
    item_row(105, 2, name="Cap", quantity="1", unit_price="10.00"),
    item_row(107, 1, name="Shirt", quantity="3", unit_price="20.00"),
]


@pytest.fixture(scope="module")
def base_db(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("base")
    files = write_files(folder, stores=BASE_STORES, orders=BASE_ORDERS, items=BASE_ITEMS)
    path = folder / "orders.duckdb"
    with Database(path) as database:
        import_files(database, **files)
        # A refund made in the app: one pair of socks of order 105.
        with database.transaction() as cur:
            cur.execute("UPDATE orders SET refunded_amount = 10 WHERE order_id = 105")
            cur.execute("UPDATE order_items SET refunded_quantity = 1 "
                        "WHERE order_id = 105 AND line_no = 1")
            cur.execute("INSERT INTO order_events (order_id, kind, amount, items, reason, username, "
                        "created_at, idempotency_key) VALUES (105, 'refund', 10, NULL, 'Torn', "
                        "'anna', TIMESTAMP '2024-03-02 09:00:00', 'form-1')")
    return path


@pytest.fixture
def database(base_db, tmp_path):
    path = tmp_path / "orders.duckdb"
    shutil.copy(base_db, path)
    with Database(path) as opened:
        yield opened


@pytest.fixture(scope="module")
def unchanged_store(base_db, tmp_path_factory):
    """One copy of the base database shared by the tests of refused imports, which assert that
    they left it exactly as it was."""
    path = tmp_path_factory.mktemp("refused") / "orders.duckdb"
    shutil.copy(base_db, path)
    with Database(path) as opened:
        yield opened


def rejected(database: Database, files: dict, *, progress=None) -> list[str]:
    """Import ``files`` expecting a refusal; the database must be unchanged. The problems' text."""
    before = snapshot(database)
    with pytest.raises(ImportRejected) as info:
        import_files(database, **files, progress=progress)
    assert snapshot(database) == before
    assert str(info.value).endswith("nothing was written.")
    return [str(p) for p in info.value.problems]


def refunds_match_events(database: Database) -> bool:
    with database.cursor() as cur:
        return cur.execute("""
            SELECT count(*) FROM orders o
            WHERE o.refunded_amount <> (SELECT coalesce(sum(amount), 0) FROM order_events e
                                        WHERE e.order_id = o.order_id AND kind = 'refund')
        """).fetchone()[0] == 0


def order(database: Database, order_id: int) -> dict:
    with database.cursor() as cur:
        cur.execute("SELECT * FROM orders WHERE order_id = ?", [order_id])
        names = [d[0] for d in cur.description]
        return dict(zip(names, cur.fetchone()))


def events(database: Database, order_id: int) -> list[tuple]:
    with database.cursor() as cur:
        return cur.execute(
            "SELECT kind, amount, username, reason, idempotency_key FROM order_events "
            "WHERE order_id = ? ORDER BY event_id", [order_id]).fetchall()


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
    assert rejected(unchanged_store, write_files(tmp_path, **files)) == expected


# Dates DuckDB stores but Python cannot hold (1 BC, the year 10000), or that overflow once shown
# in Europe/Warsaw, and the window's edges: each refused with its report line.
OUT_OF_WINDOW = ["0001-01-01T00:00:00+01:00", "0000-01-01T00:00Z", "9999-12-31T23:59:59-01:00",
                 "9999-12-31T23:30Z", "1999-12-31T23:59:59Z"]


@pytest.mark.parametrize("text", OUT_OF_WINDOW)
def test_created_at_outside_the_window_is_refused_with_its_report_line(unchanged_store, tmp_path,
                                                                       text):
    files = write_files(tmp_path, orders=[order_row(201), order_row(202, created_at=text)])
    started = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    [line] = rejected(unchanged_store, files)
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
    assert rejected(unchanged_store, write_files(tmp_path, **{kind: [row]})) == [
        f"{kind}.csv, row 1, {column}: is too large: at most 999999999999.99 (1000000000000.00)"]


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
    assert rejected(unchanged_store, write_files(tmp_path, **files)) == expected


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
    assert rejected(unchanged_store, {"orders": path}) == [
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
    problems = rejected(unchanged_store, {"orders": path})
    assert len(problems) == 1
    assert problems[0].startswith(f"{name}: {reason_start}")


def test_no_file_given_is_an_error(database):
    with pytest.raises(InvalidInput):
        import_files(database)


# --- clean imports -------------------------------------------------------------------------------

def test_clean_import_counts_what_it_added_and_updated(database, tmp_path):
    files = write_files(
        tmp_path,
        stores=[store_row("S1", store_name="Renamed"), store_row("S2", legal_entity="LE2",
                region="Ilfov", zone="RO"), store_row("S3")],
        orders=[order_row(201, store_id="S3"), order_row(202, status="Cancel"),
                order_row(203, status="Return", refunded_amount="100.00"),
                order_row(101, status="Completed", amount="100.00"),
                order_row(102, status="Completed", channel="offline", amount="50.00")],
        items=[item_row(201, 1), item_row(201, 2), item_row(107, 1, name="Shirt", quantity="2",
                                                              unit_price="20.00")],
    )
    report = import_files(database, **files)
    assert report.added == {"stores": 1, "orders": 3, "order_items": 2, "order_events": 2}
    assert report.updated == {"stores": 1, "orders": 1, "order_items": 1, "order_events": 0}
    assert report.unchanged == {"stores": 1, "orders": 1, "order_items": 0, "order_events": 0}
    assert (report.refund_events, report.cancel_events) == (1, 1)
    assert str(report).splitlines()[0] == "Imported stores.csv, orders.csv, items.csv:"
    assert "order_events         2 added (1 refund, 1 cancel)" in str(report)
    assert refunds_match_events(database)


def test_imported_values_are_typed_exactly(database, tmp_path):
    files = write_files(tmp_path, orders=[order_row(
        201, created_at="2024-03-01T01:30:00+02:00", amount="0.10", phone="+48 (606) 606-606",
        merchant_order_id="", email="")])
    import_files(database, **files)
    row = order(database, 201)
    assert row["created_at"] == dt.datetime(2024, 2, 29, 23, 30)  # converted to UTC
    assert row["amount"] == Decimal("0.10")
    assert row["phone"] == "+48 (606) 606-606"
    assert row["phone_digits"] == "48606606606"
    assert row["merchant_order_id"] is None and row["email"] is None


def test_identical_reimport_changes_nothing(database, tmp_path):
    before = snapshot(database)
    files = write_files(tmp_path, stores=BASE_STORES,
                        orders=[r for r in BASE_ORDERS if r["order_id"] != "105"]
                        + [order_row(105, amount="30.00")],  # blank refund: keeps the app's
                        items=BASE_ITEMS)
    report = import_files(database, **files)
    assert report.added == dict.fromkeys(report.added, 0)
    assert report.updated == dict.fromkeys(report.updated, 0)
    assert report.unchanged == {"stores": 2, "orders": 7, "order_items": 3, "order_events": 0}
    after = snapshot(database)
    assert {t: after[t] for t in ALL_TABLES if t != "meta"} == \
           {t: before[t] for t in ALL_TABLES if t != "meta"}


def test_pending_becomes_completed(database, tmp_path):
    report = import_files(database, **write_files(tmp_path, orders=[order_row(101)]))
    assert report.updated["orders"] == 1 and report.added["order_events"] == 0
    assert order(database, 101)["status"] == "Completed"
    assert events(database, 101) == []


def test_pending_becomes_cancel_with_a_cancel_event(database, tmp_path):
    import_files(database, **write_files(tmp_path, orders=[order_row(101, status="Cancel")]))
    assert order(database, 101)["status"] == "Cancel"
    [(kind, amount, username, reason, key)] = events(database, 101)
    assert (kind, amount, username, reason) == ("cancel", Decimal("0.00"), "import",
                                                "Imported from orders.csv")
    assert key.startswith("import-") and len(key) == len("import-") + 36


def test_completed_becomes_return_with_a_refund_event_of_the_rest(database, tmp_path):
    files = write_files(tmp_path, orders=[order_row(104, status="Return", amount="80.00",
                                                    store_id="S2")])
    report = import_files(database, **files)
    assert (report.refund_events, report.cancel_events) == (1, 0)
    row = order(database, 104)
    assert (row["status"], row["refunded_amount"]) == ("Return", Decimal("80.00"))
    assert [(e[0], e[1]) for e in events(database, 104)] == [("refund", Decimal("10.00")),
                                                          ("refund", Decimal("70.00"))]
    assert refunds_match_events(database)


def test_partial_refund_increase_keeps_completed(database, tmp_path):
    files = write_files(tmp_path, orders=[order_row(104, amount="80.00", refunded_amount="30",
                                                    store_id="S2")])
    import_files(database, **files)
    row = order(database, 104)
    assert (row["status"], row["refunded_amount"]) == ("Completed", Decimal("30.00"))
    assert events(database, 104)[-1][:2] == ("refund", Decimal("20.00"))
    assert refunds_match_events(database)


def test_final_order_reimported_unchanged_is_fine(database, tmp_path):
    files = write_files(tmp_path, orders=[
        order_row(103, status="Cancel", amount="20.00", store_id="S2"),
        order_row(106, status="Return", channel="offline", amount="40.00", store_id="S2")])
    report = import_files(database, **files)
    assert report.unchanged["orders"] == 2 and report.added["order_events"] == 0


def test_amount_and_lines_of_an_order_without_refunds_may_change(database, tmp_path):
    files = write_files(tmp_path, orders=[order_row(107, amount="65.00")],
                        items=[item_row(107, 1, name="Shirt", quantity="3", unit_price="20.00"),
                               item_row(107, 2, name="Belt", quantity="1", unit_price="5.00")])
    report = import_files(database, **files)
    assert (report.updated["orders"], report.added["order_items"]) == (1, 1)
    assert order(database, 107)["amount"] == Decimal("65.00")


def test_new_orders_with_refunds_get_their_events(database, tmp_path):
    files = write_files(tmp_path, orders=[
        order_row(201, refunded_amount="12.50"), order_row(202, status="Return"),
        order_row(203, status="Cancel")])
    import_files(database, **files)
    assert [e[:2] for e in events(database, 201)] == [("refund", Decimal("12.50"))]
    assert [e[:2] for e in events(database, 202)] == [("refund", Decimal("100.00"))]
    assert [e[:2] for e in events(database, 203)] == [("cancel", Decimal("0.00"))]
    assert refunds_match_events(database)


def test_a_store_in_the_same_file_is_known(database, tmp_path):
    files = write_files(tmp_path, stores=[store_row("S3")], orders=[order_row(201, store_id="S3")])
    assert import_files(database, **files).added["orders"] == 1


def test_progress_is_reported(database, tmp_path):
    seen = []
    import_files(database, **write_files(tmp_path, orders=[order_row(201)]),
                 progress=lambda fraction, message: seen.append((fraction, message)))
    assert seen[0][0] == 0 and seen[-1] == (1.0, "Done")
    assert [f for f, _ in seen] == sorted(f for f, _ in seen)


# --- the same data as CSV, Parquet and XLSX ------------------------------------------------------

FORMAT_ROWS = {
    "stores": [store_row("S1"), store_row("S2", merchant_store_id="", legal_entity="LE2")],
    "orders": [
        order_row(301, created_at="2024-03-01T10:00:00", amount="100.50", phone="0040 721"),
        order_row(302, created_at="2024-03-02T23:15:30", amount="7", status="Return",
                  channel="offline", refunded_amount="7.00", store_id="S2", email=""),
        order_row(303, created_at="2024-03-03", amount="19.99", status="Pending",
                  refunded_amount="0", merchant_order_id="00123"),
        order_row(304, created_at="2024-03-03T08:00:00", amount="250.25", status="Cancel"),
        order_row(305, created_at="2024-03-04T12:00:00", amount="60.00", refunded_amount="20.10"),
    ],
    "items": [item_row(301, 1, quantity="2", unit_price="50.25"),
              item_row(301, 2, name="Gift wrap", unit_price="0"),
              item_row(305, 1, name="Shirt", quantity="3", unit_price="20.00")],
}


def _typed(kind: str, column: str, text: str):
    """The value a spreadsheet or a typed Parquet file would hold."""
    if text == "":
        return None
    if column in ("order_id", "line_no", "quantity"):
        return int(text)
    if column in ("amount", "refunded_amount", "unit_price"):
        return Decimal(text)
    if column == "created_at":
        return parse_created_at(text)
    return text


def write_parquet(path: Path, kind: str, rows: list[dict], typed: bool) -> Path:
    columns = COLUMNS[kind]
    if not typed:
        pq.write_table(pa.table({c: pa.array([r[c] or None for r in rows], pa.string())
                                 for c in columns}), path)
        return path
    arrays = {}
    for c in columns:
        values = [_typed(kind, c, r[c]) for r in rows]
        if c in ("order_id", "line_no", "quantity"):
            arrays[c] = pa.array(values, pa.int64())
        elif c in ("amount", "refunded_amount", "unit_price"):
            arrays[c] = pa.array(values, pa.decimal128(18, 2))
        elif c == "created_at":
            arrays[c] = pa.array(values, pa.timestamp("us"))
        else:
            arrays[c] = pa.array(values, pa.string())
    pq.write_table(pa.table(arrays), path)
    return path


def write_xlsx(path: Path, kind: str, rows: list[dict]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(COLUMNS[kind]))
    for r in rows:
        cells = []
        for c in COLUMNS[kind]:
            value = _typed(kind, c, r[c])
            # A spreadsheet keeps a number as a float; IDs with leading zeros stay text.
            cells.append(float(value) if isinstance(value, Decimal) else value)
        sheet.append(cells)
    book.save(path)
    return path


def _comparable(database: Database) -> dict:
    with database.cursor() as cur:
        return {
            "stores": cur.execute("SELECT * FROM stores ORDER BY ALL").fetchall(),
            "orders": cur.execute("SELECT * FROM orders ORDER BY ALL").fetchall(),
            "order_items": cur.execute("SELECT * FROM order_items ORDER BY ALL").fetchall(),
            # event ids, times and idempotency keys differ from one import to the next
            "order_events": cur.execute(
                "SELECT order_id, kind, amount, items, reason, username FROM order_events "
                "ORDER BY ALL").fetchall(),
        }


@pytest.mark.parametrize("fmt", ["parquet", "typed parquet", "xlsx"])
def test_csv_parquet_and_xlsx_give_identical_databases(tmp_path, fmt):
    results = {}
    for variant in ("csv", fmt):
        folder = tmp_path / variant.replace(" ", "_")
        folder.mkdir()
        files = {}
        for kind, rows in FORMAT_ROWS.items():
            if variant == "csv":
                files[kind] = write_csv(folder / f"{kind}.csv", rows, COLUMNS[kind])
            elif variant == "xlsx":
                files[kind] = write_xlsx(folder / f"{kind}.xlsx", kind, rows)
            else:
                files[kind] = write_parquet(folder / f"{kind}.parquet", kind, rows,
                                            typed=variant == "typed parquet")
        with Database(folder / "orders.duckdb") as database:
            report = import_files(database, **files)
            assert report.added["orders"] == 5
            results[variant] = _comparable(database)
    # the events' reason names the file: align the extension before comparing
    for e in ("order_events",):
        results[fmt][e] = [r[:4] + (r[4].rsplit(".", 1)[0],) + r[5:] for r in results[fmt][e]]
        results["csv"][e] = [r[:4] + (r[4].rsplit(".", 1)[0],) + r[5:] for r in results["csv"][e]]
    assert results[fmt] == results["csv"]


def test_xlsx_rows_are_numbered_as_data_rows_skipping_blank_ones(unchanged_store, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(ORDER_COLUMNS))
    sheet.append([_typed("orders", c, order_row(201)[c]) for c in ORDER_COLUMNS])
    sheet.append([None] * len(ORDER_COLUMNS))
    sheet.append([_typed("orders", c, order_row(202, amount="1.5")[c]) if c != "amount" else 1.005
                  for c in ORDER_COLUMNS])
    book.save(tmp_path / "orders.xlsx")
    assert rejected(unchanged_store, {"orders": tmp_path / "orders.xlsx"}) == [
        "orders.xlsx, row 2, amount: has 3 decimal places (1.005)"]


# --- the SQL forms of the value rules agree with the pure rules ----------------------------------

def _sql_values(database: Database, expression, texts: list) -> list:
    with database.cursor() as cur:
        return [cur.execute(f"SELECT {expression('t')} FROM (SELECT CAST(? AS VARCHAR) AS t)",
                            [text]).fetchone()[0] for text in texts]


def test_sql_amount_flags_exactly_what_the_rule_refuses(unchanged_store):
    from tests.unit.test_importer_rows import AMOUNTS

    for zero_allowed in (False, True):
        texts = [text for text, _, _ in AMOUNTS] + ["1" * 40, "0.001", "12.", "0001"]
        values = _sql_values(unchanged_store, lambda c: sql_amount(c, zero_allowed=zero_allowed), texts)
        for text, value in zip(texts, values):
            problem = amount_problem(text, zero_allowed=zero_allowed)
            assert (value is None) == (problem is not None), (text, zero_allowed)
            if value is not None:
                assert value == parse_import_amount(text, zero_allowed=zero_allowed)


def test_sql_whole_number_flags_exactly_what_the_rule_refuses(unchanged_store):
    from tests.unit.test_importer_rows import WHOLE_NUMBERS

    for max_value in (10, 2**31 - 1, 2**63 - 1):
        texts = [text for text, _, _ in WHOLE_NUMBERS] + ["9" * 40, "2147483648"]
        values = _sql_values(unchanged_store, lambda c: sql_whole_number(c, max_value=max_value), texts)
        for text, value in zip(texts, values):
            problem = whole_number_problem(text, max_value=max_value)
            assert (value is None) == (problem is not None), (text, max_value)
            if value is not None:
                assert value == int(text)


def test_sql_created_at_converts_exactly_like_the_rule(unchanged_store):
    from tests.unit.test_importer_rows import CREATED_AT, NOT_ISO, NOW

    texts = [text for text, _ in CREATED_AT] + NOT_ISO + ["", None, "2024-01-31T23:59:59-23:59"]
    values = _sql_values(unchanged_store, lambda c: sql_created_at(c, now=NOW), texts)
    for text, value in zip(texts, values):
        try:
            expected = parse_created_at(text, now=NOW)
        except ValueError:
            expected = None
        assert value == expected, text


def test_phone_digits_sql_equals_the_rule(unchanged_store):
    from tests.unit.test_importer_rows import PHONES

    texts = [phone for phone, _ in PHONES]
    values = _sql_values(unchanged_store, phone_digits_sql, texts)
    assert values == [phone_digits(text) for text in texts]


def test_the_start_check_refuses_exactly_what_the_rule_refuses(unchanged_store, tmp_path):
    pairs = [(status, channel) for status in STATUSES for channel in CHANNELS]
    rows = [order_row(201 + i, status=status, channel=channel)
            for i, (status, channel) in enumerate(pairs)]
    assert rejected(unchanged_store, write_files(tmp_path, orders=rows)) == [
        f"orders.csv, row {i}, status: {start_problem(status, channel)}"
        for i, (status, channel) in enumerate(pairs, start=1) if not may_start(status, channel)
    ]


# --- large files ---------------------------------------------------------------------------------

def write_large_orders(path: Path, n: int) -> Path:
    """``n`` valid orders in store S1 (CSV written by DuckDB itself, quickly)."""
    with Database(path.with_suffix(".gen.duckdb")) as gen, gen.cursor() as cur:
        cur.execute(f"""
            COPY (
                SELECT 1000000 + i AS order_id,
                       strftime(TIMESTAMP '2024-01-01' + INTERVAL (i % 31536000) SECOND,
                                '%Y-%m-%dT%H:%M:%S') AS created_at,
                       'M' || i AS merchant_order_id,
                       ((i % 99999) + 1) || '.' || lpad((i % 97)::VARCHAR, 2, '0') AS amount,
                       CASE WHEN i % 10 = 0 THEN 'Pending' WHEN i % 10 = 1 THEN 'Cancel'
                            ELSE 'Completed' END AS status,
                       CASE WHEN i % 10 < 2 OR i % 3 = 0 THEN 'online' ELSE 'offline' END
                           AS channel,
                       'c' || i || '@mail.test' AS email, '+48 600 ' || (i % 1000000) AS phone,
                       'S1' AS store_id, 'SP' || (i % 50) AS salesperson_id,
                       'Seller ' || (i % 50) AS salesperson_name,
                       '' AS refunded_amount
                FROM range({n}) t(i)
            ) TO '{path}' (HEADER, DELIMITER ',')""")
    return path


def test_ten_thousand_orders_load_quickly(database, tmp_path):
    path = write_large_orders(tmp_path / "orders.csv", 10_000)
    started = time.perf_counter()
    report = import_files(database, orders=path)
    assert report.added["orders"] == 10_000
    assert report.cancel_events == 1_000
    assert time.perf_counter() - started < 5


@pytest.mark.slow
def test_a_million_orders_validate_and_load_in_reasonable_time(database, tmp_path):
    path = write_large_orders(tmp_path / "orders.csv", 1_000_000)
    started = time.perf_counter()
    report = import_files(database, orders=path)
    loaded = time.perf_counter() - started
    assert report.added["orders"] == 1_000_000
    # and a bad file of the same size (a re-import: every row is a status sync) is refused as
    # fast, naming its bad row and changing nothing
    text = path.read_text()
    bad = tmp_path / "bad.csv"
    bad.write_text(text.replace("1999999,", "1999999x,", 1))
    before = _fingerprint(database)
    started = time.perf_counter()
    with pytest.raises(ImportRejected) as info:
        import_files(database, orders=bad)
    refused = time.perf_counter() - started
    assert [str(p) for p in info.value.problems] == [
        "bad.csv, row 1000000, order_id: is not a whole number (1999999x)"]
    assert _fingerprint(database) == before
    print(f"1M orders: loaded in {loaded:.1f} s, refused in {refused:.1f} s")
    assert loaded < 60 and refused < 60


def _fingerprint(database: Database) -> tuple:
    with database.cursor() as cur:
        return tuple(cur.execute(f"SELECT count(*), sum(hash(t::VARCHAR)) FROM {table} t")
                     .fetchone() for table in ALL_TABLES)


def test_excel_style_csv_with_bom_semicolons_and_crlf(database, tmp_path):
    rows = [list(ORDER_COLUMNS), [order_row(201)[c] for c in ORDER_COLUMNS],
            [order_row(202, merchant_order_id="a;b", amount="5.10")[c] for c in ORDER_COLUMNS]]
    path = tmp_path / "orders.csv"
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        csv.writer(fh, delimiter=";", lineterminator="\r\n").writerows(rows)
    assert import_files(database, orders=path).added["orders"] == 2
    assert order(database, 202)["merchant_order_id"] == "a;b"
    assert order(database, 202)["amount"] == Decimal("5.10")


def test_csv_row_with_the_wrong_number_of_values_is_named_by_line(unchanged_store, tmp_path):
    path = write_csv(tmp_path / "orders.csv", [order_row(201), order_row(202)], ORDER_COLUMNS)
    lines = path.read_text().splitlines()
    lines[2] += ",extra"
    path.write_text("\n".join(lines) + "\n")
    assert rejected(unchanged_store, {"orders": path}) == [
        "orders.csv: cannot be read as CSV: line 3 does not have the header's 12 values"]
