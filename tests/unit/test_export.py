"""The xlsx export (docs/design.md §6), checked on the file itself as read back by openpyxl."""
from __future__ import annotations

import io
import time
import zipfile
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest

import core.export as export
from core.errors import ExportTooLarge
from core.export import (
    EXPORT_COLUMNS,
    MAX_EXPORT_ROWS,
    ExportInfo,
    check_export_size,
    sanitize_text,
    write_orders_xlsx,
)

WARSAW = ZoneInfo("Europe/Warsaw")

INFO = ExportInfo(
    exported_at=datetime(2026, 1, 31, 14, 5, 9, tzinfo=WARSAW),
    exported_by="Anna Nowak (anna)",
    filters="Period 01.01.2026–31.01.2026; Status: Completed, Return",
    search="=HYPERLINK(\"http://evil.test\")",
    sort="Order date, newest first",
    time_zone="Europe/Warsaw",
    row_count=4,
    total_captured_amount=Decimal("1362.49"),
)

PLAIN = (
    date(2026, 1, 5), 123456789, "0012345", Decimal("1234.56"), "Completed",
    "anna@example.com", "+48 606 606 606", "PL", "Sklep Centrum", "M-00017",
    "ul. Długa 5, 00-238 Warszawa", "Electro", "SP0001", "Jan Kowalski", "online",
)
HOSTILE = (
    date(2026, 1, 6), 2, "=cmd@evil.test", Decimal("0.10"), "Return",
    "+SUM(A1)", "0040721123456", "RO", "-1+2", "@x",
    "\tx", "bad\x00ch\x1far\x7fs", "\r=1+1", "line 1\nline 2", "offline",
)
CYRILLIC = (
    date(2026, 1, 31), 3, None, Decimal("127.83"), "Pending",
    None, None, "RU", "Магазин «Дом и сад»", None,
    "Москва, ул. Тверская, д. 7", "Дом и сад", None, "Ольга Иванова", "online",
)
ZERO_CENTS = (
    date(2025, 12, 31), 4, "29000000000004", Decimal("0.00"), "Cancel",
    "x@example.com", "+7 (495) 123-45-67", "RU", "Магазин 4", "M-4",
    "Санкт-Петербург", "Sport", "SP0004", "Ion Popescu", "offline",
)
ROWS = [PLAIN, HOSTILE, CYRILLIC, ZERO_CENTS]


def read_back(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


@pytest.fixture(scope="module")
def exported() -> dict:
    out = io.BytesIO()
    calls: list[int] = []
    written = write_orders_xlsx(out, iter(ROWS), INFO, progress=calls.append)
    return {"bytes": out.getvalue(), "written": written, "progress": calls}


@pytest.fixture(scope="module")
def book(exported) -> openpyxl.Workbook:
    return read_back(exported["bytes"])


def info_values(book: openpyxl.Workbook) -> dict:
    return {label: value for label, value in book["Export info"].iter_rows(values_only=True)}


def data_row(book: openpyxl.Workbook, index: int) -> list:
    """Cells of the index-th data row (0-based, below the header)."""
    return list(book["Orders"].iter_rows(min_row=index + 2, max_row=index + 2))[0]


@pytest.mark.parametrize(
    ("value", "phone", "expected"),
    [
        ("Completed", False, "Completed"),
        ("=cmd@evil.test", False, "'=cmd@evil.test"),
        ("+SUM(A1)", False, "'+SUM(A1)"),
        ("-1+2", False, "'-1+2"),
        ("@x", False, "'@x"),
        ("\tx", False, "'\tx"),
        ("\r=1+1", False, "'=1+1"),  # CR is a control character: removed, then neutralised
        ("\x01=cmd", False, "'=cmd"),  # removal cannot uncover a formula
        ("a\x00b\x1fc\x7fd\ufffe", False, "abcd"),
        ("line 1\nline 2\tend", False, "line 1\nline 2\tend"),
        ("x=1+2", False, "x=1+2"),
        ("0012345", False, "0012345"),
        ("Ольга Иванова", False, "Ольга Иванова"),
        ("", False, ""),
        (None, False, None),
        (12345, False, "12345"),
        ("+48 606 606 606", True, "+48 606 606 606"),
        ("+7 (495) 123-45-67", True, "+7 (495) 123-45-67"),
        ("0040721123456", True, "0040721123456"),
        ("+48 606 606 606", False, "'+48 606 606 606"),
        ("+SUM(A1)", True, "'+SUM(A1)"),
        ("+1 HYPERLINK", True, "'+1 HYPERLINK"),
        ("=1+2", True, "'=1+2"),
        ("-1+2", True, "'-1+2"),
        ("@x", True, "'@x"),
    ],
)
def test_sanitize_text(value, phone, expected):
    assert sanitize_text(value, phone=phone) == expected


def test_sanitize_text_cuts_text_to_what_one_cell_holds():
    assert sanitize_text("=" + "a" * 40_000) == "'=" + "a" * 32_765


def test_export_columns_are_the_fifteen_headers_of_the_design():
    assert EXPORT_COLUMNS == (
        "Order date", "Order ID", "Offline Barcode / Online order ID", "Captured amount",
        "Status", "Customer email", "Customer phone", "Zone", "Store name", "Store ID",
        "Store address", "Merchant brand", "Sales person ID", "Sales person name",
        "Customer registration kind",
    )


def test_workbook_has_orders_then_export_info(book, exported):
    assert book.sheetnames == ["Orders", "Export info"]
    assert exported["written"] == len(ROWS)


def test_orders_header_is_bold_frozen_and_filterable(book):
    sheet = book["Orders"]
    header = next(sheet.iter_rows(max_row=1))
    assert tuple(cell.value for cell in header) == EXPORT_COLUMNS
    assert all(cell.font.b for cell in header)
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:O{len(ROWS) + 1}"
    assert all(sheet.column_dimensions[letter].width >= 7 for letter in "ABCDEFGHIJKLMNO")
    assert sheet.max_row == len(ROWS) + 1


def test_order_row_keeps_its_values_and_types(book):
    row = data_row(book, 0)
    order_date, order_id, merchant_id, amount = row[:4]
    assert order_date.is_date and order_date.value.date() == date(2026, 1, 5)
    assert "dd.mm.yyyy" in order_date.number_format
    assert order_id.data_type == "n" and order_id.value == 123456789
    assert order_id.number_format == "0"
    assert merchant_id.data_type == "s" and merchant_id.value == "0012345"
    assert amount.data_type == "n" and amount.number_format in ("#,##0.00", "0.00")
    assert Decimal(str(amount.value)) == Decimal("1234.56")
    assert [cell.value for cell in row[4:]] == list(PLAIN[4:])
    assert all(cell.data_type == "s" for cell in row[4:])


def test_phone_numbers_keep_leading_plus_and_zeros_as_text(book):
    assert data_row(book, 0)[6].value == "+48 606 606 606"
    assert data_row(book, 1)[6].value == "0040721123456"
    assert data_row(book, 3)[6].value == "+7 (495) 123-45-67"
    assert {data_row(book, i)[6].data_type for i in (0, 1, 3)} == {"s"}


def test_text_that_could_run_as_a_formula_is_neutralised(book):
    values = [cell.value for cell in data_row(book, 1)]
    assert values[2] == "'=cmd@evil.test"
    assert values[5] == "'+SUM(A1)"
    assert values[8] == "'-1+2"
    assert values[9] == "'@x"
    assert values[10] == "'\tx"
    assert values[12] == "'=1+1"
    assert info_values(book)["Search"] == "'=HYPERLINK(\"http://evil.test\")"


def test_no_cell_anywhere_is_a_formula(book, exported):
    for sheet in book:
        for row in sheet.iter_rows():
            assert all(cell.data_type != "f" for cell in row)
    with zipfile.ZipFile(io.BytesIO(exported["bytes"])) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                xml = archive.read(name).decode()
                assert "<f>" not in xml and "<f " not in xml


def test_control_characters_are_removed_and_line_breaks_kept(book):
    values = [cell.value for cell in data_row(book, 1)]
    assert values[11] == "badchars"
    assert values[13] == "line 1\nline 2"


def test_missing_values_are_empty_cells(book):
    row = data_row(book, 2)
    for index in (2, 5, 6, 9, 12):
        assert row[index].value is None


def test_cyrillic_text_round_trips(book):
    values = [cell.value for cell in data_row(book, 2)]
    assert values[8] == "Магазин «Дом и сад»"
    assert values[10] == "Москва, ул. Тверская, д. 7"
    assert values[13] == "Ольга Иванова"


def test_zero_amount_is_a_number_not_an_empty_cell(book):
    amount = data_row(book, 3)[3]
    assert amount.data_type == "n" and amount.value == 0


def test_export_info_records_who_when_what_and_how_much(book):
    sheet = book["Export info"]
    assert [cell.value for cell in next(sheet.iter_rows(max_row=1))] == ["Field", "Value"]
    assert list(info_values(book))[1:] == [
        "Exported at", "Exported by", "Filters", "Search", "Sort", "Time zone", "Rows",
        "Total captured amount",
    ]
    values = info_values(book)
    assert values["Exported at"] == "31.01.2026 14:05:09 Europe/Warsaw"
    assert values["Exported by"] == "Anna Nowak (anna)"
    assert values["Filters"] == "Period 01.01.2026–31.01.2026; Status: Completed, Return"
    assert values["Sort"] == "Order date, newest first"
    assert values["Time zone"] == "Europe/Warsaw"
    assert values["Rows"] == 4
    assert Decimal(str(values["Total captured amount"])) == Decimal("1362.49")
    total_row = [row for row in sheet.iter_rows() if row[0].value == "Total captured amount"][0]
    assert total_row[1].data_type == "n" and total_row[1].number_format == "#,##0.00"


def test_exported_at_is_shown_in_the_display_time_zone():
    out = io.BytesIO()
    utc_time = datetime(2026, 7, 1, 10, 0, 0, tzinfo=ZoneInfo("UTC"))
    write_orders_xlsx(out, [], replace(INFO, exported_at=utc_time, row_count=0))
    assert info_values(read_back(out.getvalue()))["Exported at"] == "01.07.2026 12:00:00 Europe/Warsaw"


def test_export_info_values_from_users_are_sanitised():
    out = io.BytesIO()
    info = replace(INFO, filters="@SUM(1)\x07", search="", exported_by="-x", row_count=0)
    write_orders_xlsx(out, [], info)
    values = info_values(read_back(out.getvalue()))
    assert values["Filters"] == "'@SUM(1)"
    assert values["Exported by"] == "'-x"
    assert values["Search"] is None


def test_empty_export_still_has_the_header_and_says_no_rows():
    out = io.BytesIO()
    calls: list[int] = []
    assert write_orders_xlsx(out, iter([]), replace(INFO, row_count=0), progress=calls.append) == 0
    book = read_back(out.getvalue())
    assert tuple(cell.value for cell in next(book["Orders"].iter_rows())) == EXPORT_COLUMNS
    assert book["Orders"].max_row == 1
    assert info_values(book)["Rows"] == 0
    assert calls == [0]


def test_progress_is_reported_every_batch_and_at_the_end(monkeypatch, exported):
    assert exported["progress"] == [4]
    monkeypatch.setattr(export, "PROGRESS_EVERY", 10)
    calls: list[int] = []
    rows = [PLAIN] * 25
    write_orders_xlsx(io.BytesIO(), rows, replace(INFO, row_count=25), progress=calls.append)
    assert calls == [10, 20, 25]


def test_writes_to_a_path(tmp_path):
    target = tmp_path / "orders.xlsx"
    assert write_orders_xlsx(target, ROWS, INFO) == len(ROWS)
    assert read_back(target.read_bytes()).sheetnames == ["Orders", "Export info"]
    assert write_orders_xlsx(str(target), ROWS[:1], INFO) == 1


def test_export_info_reports_the_rows_actually_written():
    out = io.BytesIO()
    write_orders_xlsx(out, ROWS[:2], INFO)  # INFO counted 4; two were there at export time
    values = info_values(read_back(out.getvalue()))
    assert values["Rows"] == 2
    assert Decimal(str(values["Total captured amount"])) == Decimal("1234.66")


def test_check_export_size_refuses_more_rows_than_a_sheet_holds():
    check_export_size(MAX_EXPORT_ROWS)
    check_export_size(0)
    with pytest.raises(ExportTooLarge) as refused:
        check_export_size(1_048_576)
    message = str(refused.value)
    assert "1,048,576" in message and "1,048,575" in message
    assert "narrow the filters" in message.lower()


def test_too_large_export_is_refused_before_anything_is_written():
    out = io.BytesIO()
    with pytest.raises(ExportTooLarge):
        write_orders_xlsx(out, iter(ROWS), replace(INFO, row_count=MAX_EXPORT_ROWS + 1))
    assert out.getvalue() == b""


def test_more_rows_than_counted_are_refused_and_nothing_is_left(tmp_path):
    out = io.BytesIO()
    with pytest.raises(ExportTooLarge, match="more than the 3 counted"):
        write_orders_xlsx(out, ROWS, replace(INFO, row_count=3))
    assert out.getvalue() == b""
    target = tmp_path / "orders.xlsx"
    with pytest.raises(ExportTooLarge):
        write_orders_xlsx(target, ROWS, replace(INFO, row_count=3))
    assert not target.exists()


def test_more_rows_than_a_sheet_holds_are_refused_while_streaming(monkeypatch):
    monkeypatch.setattr(export, "MAX_EXPORT_ROWS", 3)
    with pytest.raises(ExportTooLarge, match="rows one Excel sheet holds"):
        write_orders_xlsx(io.BytesIO(), ROWS, replace(INFO, row_count=3))


def test_a_row_of_the_wrong_width_is_a_bug_not_a_silent_shift():
    with pytest.raises(ValueError, match="15 values"):
        write_orders_xlsx(io.BytesIO(), [PLAIN[:14]], INFO)


def synthetic_rows(count: int):
    for i in range(count):
        yield (
            date(2025, 1, 1) + timedelta(days=i % 365), 100_000_000 + i, f"{i:07d}",
            Decimal(i % 100_000 + 100) / 100, ("Completed", "Pending", "Return")[i % 3],
            f"customer{i}@example.com", f"+48 {600 + i % 300} {i % 1000:03d} 000", "PL",
            f"Sklep {i % 2000}", f"M-{i % 2000:05d}", f"ul. Długa {i % 200}, Warszawa",
            "Electro", f"SP{i % 500:04d}", f"Ольга Nowak {i % 500}", "online",
        )


@pytest.mark.slow
def test_hundred_thousand_rows_are_written_within_six_seconds():
    calls: list[int] = []
    started = time.perf_counter()
    written = write_orders_xlsx(
        io.BytesIO(), synthetic_rows(100_000), replace(INFO, row_count=100_000),
        progress=calls.append,
    )
    seconds = time.perf_counter() - started
    assert written == 100_000
    assert calls == list(range(10_000, 100_001, 10_000))
    assert seconds <= 6.0, f"100,000 rows took {seconds:.1f} s"


# -- amounts exactly as the database holds them ----------------------------------------------------

EDGE_AMOUNTS = [Decimal(a) for a in (
    "0.01", "0.10", "0.29", "1.15", "2.675", "1234567.89", "123456789012.34", "500000000000.05",
    "900719925474.09", "999999999999.98", "999999999999.99",
)]
# The schema's DECIMAL(18,2) goes 10,000 times further than the maximum.
OVER_MAX = [Decimal(a) for a in (
    "1000000000000.00", "1000000000000.01", "9999999999999.99", "12345678901234.56",
    "99999999999999.99", "9999999999999999.99",
)]


def amount_rows(amounts: list[Decimal]) -> list[tuple]:
    return [(date(2026, 1, 5), n, None, amount.quantize(Decimal("0.01")), "Completed", None,
             None, "PL", "Store", None, None, None, None, None, "online")
            for n, amount in enumerate(amounts, start=1)]


def export_amounts(amounts: list[Decimal]) -> tuple[list, dict, openpyxl.Workbook]:
    rows = amount_rows(amounts)
    total = sum((r[3] for r in rows), Decimal("0.00"))
    out = io.BytesIO()
    write_orders_xlsx(out, rows, replace(INFO, row_count=len(rows), total_captured_amount=total))
    book = read_back(out.getvalue())
    cells = [row[3] for row in book["Orders"].iter_rows(min_row=2)]
    return cells, info_values(book), book


def test_amounts_up_to_the_maximum_read_back_exactly_as_numbers():
    from core.money import MAX_AMOUNT

    assert MAX_AMOUNT in EDGE_AMOUNTS
    cells, info, _ = export_amounts(EDGE_AMOUNTS)
    for cell, amount in zip(cells, EDGE_AMOUNTS):
        assert cell.data_type == "n" and cell.number_format == "#,##0.00"
        assert Decimal(str(cell.value)) == amount.quantize(Decimal("0.01"))
    # Their sum passes the maximum: only the total is text.
    assert info["Amounts as text"].startswith("the total above")
    assert Decimal(info["Total captured amount"]) == sum(
        (a.quantize(Decimal("0.01")) for a in EDGE_AMOUNTS), Decimal("0.00"))


def test_amounts_above_the_maximum_are_exact_text_and_the_info_sheet_says_so():
    cells, info, _ = export_amounts(EDGE_AMOUNTS[-1:] + OVER_MAX)
    assert cells[0].data_type == "n"
    for cell, amount in zip(cells[1:], OVER_MAX):
        assert cell.data_type == "s" and cell.value == f"{amount:.2f}"
    note = info["Amounts as text"]
    assert "6 amounts" in note and "999,999,999,999.99" in note


def test_a_total_above_the_maximum_is_exact_text():
    # 2 orders of MAX_AMOUNT: every amount a number, their sum a text of 15 digits
    cells, info, book = export_amounts(EDGE_AMOUNTS[-1:] * 2)
    assert all(cell.data_type == "n" for cell in cells)
    assert info["Total captured amount"] == "1999999999999.98"
    assert "the total" in info["Amounts as text"]
    _, small, _ = export_amounts(EDGE_AMOUNTS[-2:-1])
    assert Decimal(str(small["Total captured amount"])) == Decimal("999999999999.98")


def test_a_date_that_is_no_date_is_a_text_cell_and_counted_in_the_info_sheet():
    rows = amount_rows(EDGE_AMOUNTS[:2])
    rows[1] = ("invalid date (stored: -infinity)", *rows[1][1:])
    out = io.BytesIO()
    write_orders_xlsx(out, rows, replace(INFO, row_count=2))
    book = read_back(out.getvalue())
    cells = [row[0] for row in book["Orders"].iter_rows(min_row=2)]
    assert cells[0].is_date and cells[1].data_type == "s"
    assert cells[1].value == "invalid date (stored: -infinity)"
    assert info_values(book)["Dates not read"].startswith("1 order has")
