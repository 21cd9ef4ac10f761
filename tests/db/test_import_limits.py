"""The limits that keep one import file from breaking the desk: the amounts a new database holds,
spreadsheets bounded by their header's columns and a row limit, and imports of millions of orders
in bounded memory (DuckDB reads CSV and Parquet files itself)."""
from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl.utils import get_column_letter as _column_letter

from core.errors import ConstraintViolation
from core.importer import (
    ORDER_COLUMNS, XLSX_MAX_UNPACKED_BYTES, import_files,
)
from core.importer import xlsx as xlsx_reader
from core.db import Database
from tests.db.import_fixtures import (  # noqa: F401 (fixtures)
    assert_translated, base_db, order_row, refusal, rejected, database, store_row, unchanged_store,
    write_csv, write_large_orders,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("statement", [
    "INSERT INTO orders (order_id, created_at, amount, status, channel, store_id) "
    "VALUES (1, TIMESTAMP '2024-03-01', 1000000000000.00, 'Completed', 'online', 'S1')",
    "UPDATE orders SET amount = 1000000000000.00 WHERE order_id = 7",
    "INSERT INTO order_items (order_id, line_no, name, quantity, unit_price) "
    "VALUES (7, 2, 'Gold', 1, 1000000000000.00)",
])
def test_a_new_database_refuses_amounts_above_the_limit(tmp_path, statement):
    with Database(tmp_path / "orders.duckdb") as database:
        with database.transaction() as cur:
            cur.execute("INSERT INTO stores VALUES ('S1', 'One', NULL, NULL, NULL, 'LE1', 'R', 'PL')")
            cur.execute("INSERT INTO orders (order_id, created_at, amount, status, channel, "
                        "store_id) VALUES (7, TIMESTAMP '2024-03-01', 999999999999.99, "
                        "'Completed', 'online', 'S1')")
        with pytest.raises(ConstraintViolation), database.transaction() as cur:
            cur.execute(statement)
        with database.cursor() as cur:
            assert cur.execute("SELECT max(amount) FROM orders").fetchone()[0] == \
                Decimal("999999999999.99")
            assert cur.execute("SELECT count(*) FROM order_items").fetchone()[0] == 0


# --- spreadsheets: bounded by the header's columns and a row limit ----------------------------

SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
        'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
        'worksheet+xml"/></Types>'),
    "_rels/.rels": (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
        '</Relationships>'),
    "xl/workbook.xml": (
        f'<workbook xmlns="{SHEET_NS}" xmlns:r="{REL_NS}"><sheets>'
        '<sheet name="Orders" sheetId="1" r:id="rId1"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
        '</Relationships>'),
}


def _text_cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def _order_cells(row: int) -> str:
    values = order_row(200 + row)
    return "".join(_text_cell(f"{_column_letter(i)}{row}", values[c])
                   for i, c in enumerate(ORDER_COLUMNS, start=1))


def write_sheet(path: Path, rows_xml: Iterable[str], dimension: str = "A1:XFD1048576",
                extra_parts: dict[str, bytes] | None = None) -> Path:
    """An XLSX file written part by part: the orders header in row 1, then ``rows_xml``."""
    header = "".join(_text_cell(f"{_column_letter(i)}1", c)
                     for i, c in enumerate(ORDER_COLUMNS, start=1))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, text in PACKAGE_PARTS.items():
            archive.writestr(name, text)
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(f'<worksheet xmlns="{SHEET_NS}"><dimension ref="{dimension}"/><sheetData>'
                        f'<row r="1">{header}</row>'.encode())
            for row in rows_xml:
                sheet.write(row.encode())
            sheet.write(b"</sheetData></worksheet>")
        for name, data in (extra_parts or {}).items():
            archive.writestr(name, data)
    return path


def _rejected_quickly(database: Database, path: Path) -> list[str]:
    """The problems' English text; each also read in the other languages."""
    # CPU seconds of this process, not wall time: the machine may be shared.
    started = time.process_time()
    problems = refusal(database, {"orders": path})
    assert time.process_time() - started < 5, "a file over the limits must be refused in seconds"
    assert_translated(problems)
    return [str(p) for p in problems]


def test_a_sheet_declaring_every_cell_with_one_in_the_last_row_is_refused_in_seconds(
        unchanged_store, tmp_path):
    path = write_sheet(tmp_path / "orders.xlsx", [
        f'<row r="2">{_order_cells(2)}</row>',
        '<row r="1048576"><c r="A1048576"><v>1</v></c></row>'])
    assert path.stat().st_size < 3000
    assert _rejected_quickly(unchanged_store, path) == [
        "orders.xlsx: has more than 100,000 rows under the header, the most a spreadsheet may "
        "have (empty rows the file stores count too; row 100,002 is beyond it): import the data "
        "as CSV or Parquet"]


def test_a_sheet_with_a_million_stored_empty_rows_is_refused_in_seconds(unchanged_store,
                                                                        tmp_path):
    empty_rows = ("".join(f'<row r="{r}"><c r="A{r}" s="0"/></row>'
                          for r in range(start, min(start + 50_000, 1_048_577)))
                  for start in range(3, 1_048_577, 50_000))
    path = write_sheet(tmp_path / "orders.xlsx",
                       itertools.chain([f'<row r="2">{_order_cells(2)}</row>'], empty_rows))
    assert _rejected_quickly(unchanged_store, path)[0].startswith(
        "orders.xlsx: has more than 100,000 rows under the header")


def test_rows_storing_empty_cells_to_the_last_column_are_refused_in_seconds(unchanged_store,
                                                                            tmp_path):
    empty_cells = "".join(f'<c r="{_column_letter(i)}{{r}}"/>' for i in range(13, 16_385))
    path = write_sheet(tmp_path / "orders.xlsx", (
        f'<row r="{r}">{_order_cells(r)}{empty_cells.format(r=r)}</row>' for r in range(2, 200)))
    assert _rejected_quickly(unchanged_store, path) == [
        "orders.xlsx: row 2 of the spreadsheet stores cells up to column XFD; a spreadsheet "
        "may use the columns A to AF: delete the columns right of the data"]


def test_a_spreadsheet_that_unpacks_to_more_than_the_limit_is_refused_in_seconds(
        unchanged_store, tmp_path):
    path = write_sheet(tmp_path / "orders.xlsx", [f'<row r="2">{_order_cells(2)}</row>'],
                       extra_parts={"xl/media/padding.bin": bytes(XLSX_MAX_UNPACKED_BYTES)})
    assert path.stat().st_size < 2_000_000
    [problem] = _rejected_quickly(unchanged_store, path)
    assert problem == ("orders.xlsx: unpacks to 256 MB, more than the 256 MB a spreadsheet may "
                       "hold: import the data as CSV or Parquet")


def test_a_sheet_with_a_wrong_small_dimension_is_read_in_full(database, tmp_path):
    path = write_sheet(tmp_path / "orders.xlsx",
                       [f'<row r="{r}">{_order_cells(r)}</row>' for r in range(2, 6)],
                       dimension="A1:B2")
    assert import_files(database, orders=path).added["orders"] == 4


def test_a_sheet_at_the_row_limit_is_read_and_its_rows_numbered(database, tmp_path, monkeypatch):
    # The rows of a spreadsheet at the limit, with blank rows between them; the limit is lowered
    # so that the test reads 300 rows, not 100,000.
    monkeypatch.setattr(xlsx_reader, "XLSX_MAX_ROWS", 300)
    rows = [f'<row r="{r}">{_order_cells(r)}</row>' for r in range(2, 301)]
    rows.append(f'<row r="301">{_order_cells(301).replace(">100.00<", ">1.001<")}</row>')
    path = write_sheet(tmp_path / "orders.xlsx", rows[:100] + rows[101:], dimension="A1:L301")
    assert rejected(database, {"orders": path}) == [
        "orders.xlsx, row 299, amount: has 3 decimal places (1.001)"]
    path = write_sheet(tmp_path / "orders.xlsx", rows[:-1] + [
        f'<row r="302">{_order_cells(302)}</row>'])
    assert rejected(database, {"orders": path})[0].startswith(
        "orders.xlsx: has more than 300 rows under the header")


# --- imports of millions of orders in bounded memory ------------------------------------------

CHILD = """
import sys
import tracemalloc
from core.importer import import_files
from core.db import Database

def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024

db, stores, orders = sys.argv[1:4]
with Database(db) as database:
    import_files(database, stores=stores)
    tracemalloc.start()
    report = import_files(database, orders=orders)
    python_peak = tracemalloc.get_traced_memory()[1] // 2**20
print(report.added["orders"], python_peak, int("pyarrow" in sys.modules), peak_mb())
"""


def import_in_a_child(tmp_path: Path, orders: int) -> tuple[int, int, bool, int]:
    """Import ``orders`` generated orders in a fresh process: (orders added, the most memory
    Python's own objects held during the import in MB, whether Arrow was loaded, the process's
    peak RSS in MB)."""
    stores = write_csv(tmp_path / "stores.csv", [store_row("S1")])
    path = write_large_orders(tmp_path / "orders.csv", orders)
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path / "orders.duckdb"), str(stores), str(path)],
        cwd=REPO, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    added, python_peak, arrow, peak = (int(v) for v in result.stdout.split())
    print(f"{orders:,} orders: Python objects peaked at {python_peak} MB, peak RSS {peak} MB")
    return added, python_peak, bool(arrow), peak


def test_a_csv_of_200_000_orders_never_passes_through_python(tmp_path):
    added, python_peak, arrow, _ = import_in_a_child(tmp_path, 200_000)
    assert added == 200_000
    assert not arrow  # no Arrow table of the file was built
    assert python_peak < 5


CLI_CHILD = """
import sys
from core.cli import main

code = main(sys.argv[1:])
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        print(int(line.split()[1]) // 1024)
sys.exit(code)
"""


@pytest.mark.slow
def test_a_million_orders_import_through_the_command_line_in_bounded_memory(tmp_path):
    stores = write_csv(tmp_path / "stores.csv", [store_row("S1")])
    path = write_large_orders(tmp_path / "orders.csv", 1_000_000)
    env = {**os.environ, "ORDERDESK_DB": str(tmp_path / "orders.duckdb"),
           "ORDERDESK_USERS": str(tmp_path / "users.yaml")}
    result = subprocess.run(
        [sys.executable, "-c", CLI_CHILD, "import", "--stores", str(stores), "--orders", str(path)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "1,000,000 added" in result.stdout
    peak = int(result.stdout.split()[-1])
    print(f"1,000,000 orders through python -m core import: peak RSS {peak} MB")
    assert peak < 700


@pytest.mark.parametrize("opened_with,during", [("192MB", "381.4 MiB"), ("512MiB", "512.0 MiB")])
def test_an_import_has_at_least_its_memory_and_gives_it_back(tmp_path, opened_with, during):
    stores = write_csv(tmp_path / "stores.csv", [store_row("S1")])
    with Database(tmp_path / "orders.duckdb", memory_limit=opened_with) as database:
        def limit() -> str:
            with database.cursor() as cur:
                return cur.execute("SELECT current_setting('memory_limit')").fetchone()[0]

        before = limit()
        seen = []
        import_files(database, stores=stores, progress=lambda fraction, _: seen.append(limit()))
        assert set(seen) == {during}
        assert limit() == before
