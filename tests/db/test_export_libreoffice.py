"""The xlsx export as a real spreadsheet program shows it: LibreOffice Calc converts an export of
a small real database to CSV, and every cell of both sheets is compared with what the query says.

The export is made the way the Orders page makes it (the store's export rows of one scope and
query, through ``write_orders_xlsx``), from orders chosen to be awkward: times a second either
side of midnight in the display zone (also across both daylight-saving changes), amounts from a
cent to the largest one the database accepts, phones with a leading ``+`` or zeros, e-mails that
a spreadsheet would take for formulas, tabs, CR and other control characters, Polish and
Cyrillic text.

LibreOffice converts twice: once with "save cell contents as shown", which is what a user reads
on the screen (dates as DD.MM.YYYY, amounts with two decimals), and once with the raw values, to
prove that a date is a date cell (not text that looks like one) and that each amount is held to
the cent. Its number formats follow the locale, so it runs in the C locale (English separators:
``1,234,567.89``). When ``soffice`` is missing the tests are skipped, except on CI, where they fail.
"""
from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core.export import EXPORT_COLUMNS, INFO_LABELS, ExportInfo, write_orders_xlsx
from core.money import MAX_AMOUNT
from core.query import OrderQuery
from core.db import Database
from core.users import Scope
from tests.sample_data import Sample, load_sample

TZ = ZoneInfo("Europe/Warsaw")
HEADER = [  # the Orders sheet's first row, exactly these 15 columns in this order
    "Order date", "Order ID", "Offline Barcode / Online order ID", "Captured amount", "Status",
    "Customer email", "Customer phone", "Zone", "Store name", "Store ID", "Store address",
    "Merchant brand", "Sales person ID", "Sales person name", "Customer registration kind",
]
CONVERT_TIMEOUT_S = 60
# LibreOffice's CSV filter: comma, double quote, UTF-8 (76), from line 1, no column formats,
# language 0, quoted fields not forced to text, special numbers detected, "as shown" (the
# placeholder), cell formulas not exported, spaces kept, every sheet (-1: one file per sheet).
CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,{as_shown},false,false,-1"

_STORE_KEYS = ("store_id", "store_name", "store_address", "merchant_store_id", "brand",
               "legal_entity", "region", "zone")
STORES = [
    dict(zip(_STORE_KEYS, values)) for values in (
        ("PL-LDZ", "Łódź\tManufaktura", "ul. Karskiego 5\r\n91-071 Łódź", "+001",
         '=HYPERLINK("https://ev.il","Kliknij")', "Beta Sp. z o.o.", "Łódzkie", "PL"),
        ("RU-MSK", "Магазин «Ж»", "Москва, ул. Тверская\x01, д. 7", None, "-Дом и сад",
         "Gamma LLC", "Moscow", "RU"),
        ("RO-BUC", "Magazin\x7f Unirii", "Bd. Unirii 1\x1f", "0042", "@Home",
         "Alpha SRL", "Bucharest", "RO"),
        # Outside the exporting user's scope: its order must not be in the file.
        ("PL-GDN", "Gdańsk", "ul. Długa 1", None, "Sinsay", "Other Sp. z o.o.", "Pomorskie",
         "PL"),
    )
]
SCOPE = Scope(False, frozenset({"Beta Sp. z o.o.", "Gamma LLC"}), frozenset({"RO-BUC"}))
# The period of the export, in the display zone: the first order below is a second too early,
# the last but one a second too late.
QUERY = OrderQuery(start=date(2025, 12, 31), end=date(2026, 10, 25))


@dataclass(frozen=True)
class Case:
    """One order, and the day a spreadsheet must show for it."""

    order_id: int
    created_at_utc: datetime
    shown_day: str | None  # None: outside the period, not exported
    amount: str
    email: str | None
    phone: str | None
    merchant_order_id: str | None
    store_id: str = "PL-LDZ"
    status: str = "Completed"
    channel: str = "online"
    salesperson: tuple[str, str] | None = None


CASES = [
    Case(1, datetime(2025, 12, 30, 22, 59, 59), None, "5.00", "early@x.pl", None, None),
    Case(2, datetime(2025, 12, 30, 23, 0, 0), "31.12.2025", "0.01",
         "=cmd|' /C calc'!A0", "+48 606 606 606", "0001234"),
    Case(3, datetime(2025, 12, 31, 22, 59, 59), "31.12.2025", "339.99",
         "+1@x.pl", "0048 600 123 456", "5900000000003", store_id="RU-MSK"),
    Case(4, datetime(2025, 12, 31, 23, 0, 0), "01.01.2026", "1234567.89",
         "-2@x.pl", "007 495 123", "=1+1", store_id="RO-BUC", channel="offline",
         salesperson=("007", "Paweł Żółć")),
    Case(5, datetime(2026, 3, 28, 22, 59, 59), "28.03.2026", str(MAX_AMOUNT),
         "@SUM(1)@x.pl", "+7 (495) 123-45-67", "WEB-Ж"),
    Case(6, datetime(2026, 3, 28, 23, 0, 0), "29.03.2026", "1000.00",
         "\tab@x.pl", "+=1", "", store_id="RU-MSK", status="Return"),
    Case(7, datetime(2026, 6, 30, 21, 59, 59), "30.06.2026", "12.30",
         "car\rriage@x.pl", None, "tab\tinside", channel="offline",
         salesperson=("SP\x0b1", "Жанна\r\nИванова")),
    Case(8, datetime(2026, 6, 30, 22, 0, 0), "01.07.2026", "0.10",
         "Жанна@почта.рф", "+", "-"),
    Case(9, datetime(2026, 10, 24, 21, 59, 59), "24.10.2026", "99.90",
         "łódź@wp.pl", "0", "@", store_id="RO-BUC", status="Pending"),
    Case(10, datetime(2026, 10, 24, 22, 0, 0), "25.10.2026", "100.00",
         "bell\x07@x.pl", "+40 721\x00 000 100", "'quoted", status="Cancel"),
    Case(11, datetime(2026, 10, 25, 22, 59, 59), "25.10.2026", "339.99",
         None, "(0) 12", "ZAŻÓŁĆ GĘŚLĄ JAŹŃ", store_id="RU-MSK"),
    Case(12, datetime(2026, 10, 25, 23, 0, 0), None, "1.00", "late@x.pl", None, None),
    Case(13, datetime(2026, 5, 1, 10, 0, 0), None, "2.00", "other@x.pl", None, None,
         store_id="PL-GDN"),
]
EXPORTED_BY = "Paweł Żółć (=pawel)"
EXPORTED_AT = datetime(2026, 10, 26, 9, 30, 5, tzinfo=TZ)


# --- what a spreadsheet shows, written down independently of the export code ------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_PHONE_LIKE = re.compile(r"\+[0-9 ()\-]*")


def shown_text(value: str | None, *, phone: bool = False) -> str:
    """A text cell as the export documents it: control characters but tab and line feed removed,
    and a leading apostrophe before ``= + - @`` or tab (a phone of ``+``, digits, spaces,
    parentheses and hyphens excepted), so the cell is text and never a formula."""
    if value is None:
        return ""
    text = _CONTROL.sub("", value)
    if text[:1] in ("=", "+", "-", "@", "\t") and not (phone and _PHONE_LIKE.fullmatch(text)):
        text = "'" + text
    return text


def shown_amount(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def shown_row(row: tuple) -> list[str]:
    """A query row (``EXPORT_COLUMNS`` order) as LibreOffice shows it."""
    day, order_id, *_ = row
    cells = [f"{day:%d.%m.%Y}", str(order_id)]
    for index in range(2, len(EXPORT_COLUMNS)):
        value = row[index]
        if EXPORT_COLUMNS[index] == "Captured amount":
            cells.append(shown_amount(value))
        else:
            cells.append(shown_text(value, phone=EXPORT_COLUMNS[index] == "Customer phone"))
    return cells


# --- the export and its conversion ------------------------------------------------------------


def _soffice() -> str:
    path = shutil.which("soffice")
    if path:
        return path
    pytest.fail("LibreOffice's soffice is not installed: run the suite with `bash scripts/test.sh`, "
                "which installs Debian's libreoffice-calc to check the export as a spreadsheet "
                "program reads it")


def _load(database: Database) -> None:
    orders = []
    for case in CASES:
        salesperson_id, salesperson_name = case.salesperson or (None, None)
        amount = Decimal(case.amount)
        orders.append({
            "order_id": case.order_id, "created_at": case.created_at_utc,
            "merchant_order_id": case.merchant_order_id, "amount": amount,
            "refunded_amount": amount if case.status == "Return" else Decimal("0.00"),
            "status": case.status, "channel": case.channel, "email": case.email,
            "phone": case.phone, "store_id": case.store_id, "salesperson_id": salesperson_id,
            "salesperson_name": salesperson_name,
        })
    load_sample(database, Sample(STORES, orders, []))


def _convert(soffice: str, xlsx: Path, out_dir: Path, profile: Path, *, as_shown: bool
             ) -> dict[str, list[list[str]]]:
    """Every sheet of ``xlsx`` as LibreOffice writes it to CSV: {sheet name: rows of cells}."""
    out_dir.mkdir()
    env = {**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": str(profile.parent)}
    done = subprocess.run(
        [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
         "--convert-to", CSV_FILTER.format(as_shown=str(as_shown).lower()),
         "--outdir", str(out_dir), str(xlsx)],
        env=env, capture_output=True, text=True, timeout=CONVERT_TIMEOUT_S,
    )
    sheets = {}
    for path in sorted(out_dir.glob(f"{xlsx.stem}-*.csv")):
        with path.open(encoding="utf-8", newline="") as text:
            sheets[path.stem.removeprefix(f"{xlsx.stem}-")] = list(csv.reader(text))
    assert done.returncode == 0 and sheets, (
        f"soffice did not convert the export (exit {done.returncode}):\n"
        f"{done.stdout}\n{done.stderr}")
    return sheets


@dataclass
class Converted:
    rows: list[tuple]  # what the query says, in the export's order
    total: int
    total_amount: Decimal
    shown: dict[str, list[list[str]]]  # sheet name -> cells, as a user sees them
    raw: dict[str, list[list[str]]]  # the same with the cells' values


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> Converted:
    soffice = _soffice()
    root = tmp_path_factory.mktemp("libreoffice")
    with Database(root / "orders.duckdb") as database:
        _load(database)
        rows = list(database.iter_export_rows(SCOPE, QUERY, TZ))
        total, total_amount = database.count_orders(SCOPE, QUERY, TZ)
    info = ExportInfo(EXPORTED_AT, EXPORTED_BY, QUERY.describe_filters(), QUERY.describe_search(),
                      QUERY.describe_sort(), TZ.key, total, total_amount)
    xlsx = root / "orders.xlsx"
    buffer = io.BytesIO()  # a file object, as the Orders page hands it
    write_orders_xlsx(buffer, iter(rows), info)
    xlsx.write_bytes(buffer.getvalue())
    profile = root / "profile"  # a private profile: parallel runs do not share an instance
    return Converted(rows, total, total_amount,
                     _convert(soffice, xlsx, root / "shown", profile, as_shown=True),
                     _convert(soffice, xlsx, root / "raw", profile, as_shown=False))


def _mismatches(expected: list[list[str]], got: list[list[str]], labels: list[str]) -> list[str]:
    lines = []
    if len(got) != len(expected):
        lines.append(f"{len(got)} rows in the sheet, {len(expected)} expected")
    for number, (want_row, got_row) in enumerate(zip(expected, got), start=1):
        if len(got_row) != len(want_row):
            lines.append(f"sheet row {number}: {len(got_row)} cells, {len(want_row)} expected")
        for label, want, cell in zip(labels, want_row, got_row):
            if cell != want:
                lines.append(f"sheet row {number}, {label!r}: LibreOffice shows {cell!r}, "
                             f"the query says {want!r}")
    return lines


# --- the tests --------------------------------------------------------------------------------


def test_the_export_holds_the_orders_of_the_scope_and_period_at_day_boundaries(converted):
    """The oracle itself: the query exports the in-scope orders of the period, each on the day
    the display zone gives it (a second before midnight, midnight, and both DST changes)."""
    days = {row[1]: f"{row[0]:%d.%m.%Y}" for row in converted.rows}
    assert days == {case.order_id: case.shown_day for case in CASES if case.shown_day}
    for case in CASES:
        if case.shown_day:
            local = case.created_at_utc.replace(tzinfo=UTC).astimezone(TZ)
            assert f"{local:%d.%m.%Y}" == case.shown_day
    assert converted.total == len(converted.rows) == 10


def test_orders_sheet_shows_every_cell_as_the_query_says(converted):
    sheet = converted.shown["Orders"]
    assert sheet[0] == HEADER
    expected = [shown_row(row) for row in converted.rows]
    problems = _mismatches([HEADER, *expected], sheet, HEADER)
    assert not problems, "The Orders sheet in LibreOffice differs:\n" + "\n".join(problems)


def test_orders_sheet_neutralises_formulas_and_keeps_phones_and_leading_zeros(converted):
    """The values a spreadsheet would otherwise evaluate or turn into numbers, cell by cell."""
    sheet = converted.shown["Orders"]
    by_id = {int(cells[1]): dict(zip(EXPORT_COLUMNS, cells)) for cells in sheet[1:]}
    assert by_id[2]["Customer email"] == "'=cmd|' /C calc'!A0"
    assert by_id[3]["Customer email"] == "'+1@x.pl"
    assert by_id[4]["Customer email"] == "'-2@x.pl"
    assert by_id[5]["Customer email"] == "'@SUM(1)@x.pl"
    assert by_id[6]["Customer email"] == "'\tab@x.pl"
    assert by_id[7]["Customer email"] == "carriage@x.pl"
    assert by_id[10]["Customer email"] == "bell@x.pl"
    assert by_id[8]["Customer email"] == "Жанна@почта.рф"
    assert by_id[2]["Customer phone"] == "+48 606 606 606"
    assert by_id[3]["Customer phone"] == "0048 600 123 456"
    assert by_id[4]["Customer phone"] == "007 495 123"
    assert by_id[5]["Customer phone"] == "+7 (495) 123-45-67"
    assert by_id[6]["Customer phone"] == "'+=1"
    assert by_id[9]["Customer phone"] == "0"
    assert by_id[10]["Customer phone"] == "+40 721 000 100"
    assert by_id[2]["Offline Barcode / Online order ID"] == "0001234"
    assert by_id[3]["Offline Barcode / Online order ID"] == "5900000000003"
    assert by_id[4]["Offline Barcode / Online order ID"] == "'=1+1"
    assert by_id[4]["Store ID"] == "0042"
    assert by_id[4]["Sales person ID"] == "007"
    assert by_id[2]["Store ID"] == "'+001"
    assert by_id[2]["Merchant brand"] == "'=HYPERLINK(\"https://ev.il\",\"Kliknij\")"
    assert by_id[2]["Store name"] == "Łódź\tManufaktura"
    assert by_id[2]["Store address"] == "ul. Karskiego 5\n91-071 Łódź"
    assert by_id[3]["Store name"] == "Магазин «Ж»"
    assert by_id[7]["Sales person name"] == "Жанна\nИванова"


def test_orders_sheet_holds_real_dates_and_amounts_to_the_cent(converted):
    """Raw cell values: a date cell comes out in the locale's own date format (text that only
    looks like a date would not change), and each amount is the order's amount exactly."""
    sheet = converted.raw["Orders"]
    assert sheet[0] == HEADER
    assert len(sheet) - 1 == len(converted.rows)
    for cells, row in zip(sheet[1:], converted.rows):
        assert datetime.strptime(cells[0], "%m/%d/%Y").date() == row[0], cells
        assert cells[1] == str(row[1])
        assert Decimal(cells[3]) == row[3], (row[1], cells[3])
        assert cells[4:] == shown_row(row)[4:]


def test_export_info_sheet_shows_who_what_and_the_totals(converted):
    sheet = converted.shown["Export info"]
    expected = [
        ["Field", "Value"],
        ["Exported at", "26.10.2026 09:30:05 Europe/Warsaw"],
        ["Exported by", "Paweł Żółć (=pawel)"],
        ["Filters", "Period 31.12.2025 – 25.10.2026"],
        ["Search", ""],
        ["Sort", "Order date, newest first"],
        ["Time zone", "Europe/Warsaw"],
        ["Rows", f"{len(converted.rows):,}"],
    ]
    total = sum(row[3] for row in converted.rows)
    if total <= MAX_AMOUNT:
        expected.append(["Total captured amount", shown_amount(total)])
    else:  # more digits than a spreadsheet number keeps: exact text, and a line saying so
        expected += [
            ["Total captured amount", f"{total:.2f}"],
            ["Amounts as text", f"the total above {MAX_AMOUNT:,.2f} written as text, exact to "
                                "the cent: a spreadsheet number keeps only 15 significant digits."],
        ]
    assert [label for label, _ in expected[1:len(INFO_LABELS) + 1]] == list(INFO_LABELS)
    assert converted.total_amount == sum(row[3] for row in converted.rows)
    problems = _mismatches(expected, sheet, ["Field", "Value"])
    assert not problems, "The Export info sheet in LibreOffice differs:\n" + "\n".join(problems)
