"""Clean imports on both backends (a DuckDB file, a PostgreSQL database): what they add and update, the same data as CSV, Parquet
and XLSX, and large files (docs/design.md §7)."""
from __future__ import annotations

import csv
import datetime as dt
import time
from decimal import Decimal
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.errors import ImportRejected
from core.importer import ORDER_COLUMNS, import_files, parse_created_at
from core.db import Database, open_database
from tests.backends import new_target
from tests.db.import_fixtures import (  # noqa: F401 (fixtures)
    base_db, ALL_TABLES, BASE_ITEMS, BASE_ORDERS, BASE_STORES, COLUMNS, database, events, item_row,
    order, order_row, refunds_match_events, rejected, snapshot, sorted_rows, store_row,
    unchanged_store, write_csv, write_files, write_large_orders,
)


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
    return {
        "stores": sorted_rows(database, "SELECT * FROM stores"),
        "orders": sorted_rows(database, "SELECT * FROM orders"),
        "order_items": sorted_rows(database, "SELECT * FROM order_items"),
        # event ids, times and idempotency keys differ from one import to the next
        "order_events": sorted_rows(
            database, "SELECT order_id, kind, amount, items, reason, username FROM order_events"),
    }


@pytest.mark.parametrize("fmt", ["parquet", "typed parquet", "xlsx"])
def test_csv_parquet_and_xlsx_give_identical_databases(tmp_path, fmt, backend, request):
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
        cluster = request.getfixturevalue("postgres_cluster") if backend == "postgresql" else None
        with open_database(new_target(backend, folder, cluster)) as database:
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


# --- large files ---------------------------------------------------------------------------------

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
    digest = "hash" if database.backend == "duckdb" else "hashtext"
    with database.cursor() as cur:
        return tuple(cur.execute(f"SELECT count(*), sum({digest}(t::VARCHAR)) FROM {table} t")
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
