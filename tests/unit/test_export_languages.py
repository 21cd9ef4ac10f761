"""The export in another language: DESIGN §6's headers stay English unless asked, the "Export
info" sheet is in the user's language, and the cells stay real dates and numbers."""
from __future__ import annotations

import io
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl

from core.export import EXPORT_COLUMNS, ExportInfo, write_orders_xlsx, write_refunds_xlsx
from core.i18n import translator

INFO = ExportInfo(
    exported_at=datetime(2026, 1, 31, 14, 5, 9, tzinfo=ZoneInfo("Europe/Warsaw")),
    exported_by="Anna Nowak (anna)", filters="", search="", sort="Data zamówienia, od najnowszych",
    time_zone="Europe/Warsaw", row_count=1, total_captured_amount=Decimal("1234.56"), lang="pl")
ROW = (date(2026, 1, 5), 123456789, "0012345", Decimal("1234.56"), "Completed",
       "anna@example.com", "+48 606 606 606", "PL", "Sklep Centrum", "M-00017",
       "ul. Długa 5, 00-238 Warszawa", "Electro", "SP0001", "Jan Kowalski", "online")


def _book(info: ExportInfo, writer=write_orders_xlsx, rows=(ROW,)):
    out = io.BytesIO()
    writer(out, list(rows), info)
    return openpyxl.load_workbook(io.BytesIO(out.getvalue()))


def test_headers_stay_english_and_the_info_sheet_is_polish():
    book = _book(INFO)
    assert book.sheetnames == ["Orders", "Informacje o eksporcie"]
    sheet = book["Orders"]
    assert [c.value for c in sheet[1]] == list(EXPORT_COLUMNS)
    assert isinstance(sheet["A2"].value, datetime) and sheet["D2"].value == 1234.56
    info = {row[0]: row[1] for row in book["Informacje o eksporcie"].iter_rows(values_only=True)}
    assert info["Pole"] == "Wartość"
    assert info["Filtry"] == "Bez filtrów"
    assert info["Sortowanie"] == "Data zamówienia, od najnowszych"
    assert info["Wiersze"] == 1 and info["Łączna kwota pobrana"] == 1234.56


def test_headers_in_the_language_when_asked():
    book = _book(replace(INFO, lang="ru", translated_headers=True))
    t = translator("ru")
    assert book.sheetnames == [t("Orders"), t("Export info")]
    headers = [c.value for c in book[t("Orders")][1]]
    assert headers == [t(h) for h in EXPORT_COLUMNS] and headers[0] == "Дата заказа"
    cell = book[t("Orders")]["A2"]
    assert isinstance(cell.value, datetime) and cell.number_format == "dd.mm.yyyy"


def test_the_refunds_register_export_follows_too():
    row = (datetime(2026, 1, 5, 10, 0), "R-1", 1001, "WEB-1", Decimal("5.00"), "Goods returned",
           None, "1 × Belt", "anna", "Sklep", "LE", "Completed")
    book = _book(replace(INFO, lang="ro", translated_headers=True), write_refunds_xlsx, [row])
    assert book.sheetnames == ["Rambursări", "Informații export"]
    assert [c.value for c in book["Rambursări"][1]][:2] == ["Data rambursării", "ID rambursare"]
    info = {r[0]: r[1] for r in book["Informații export"].iter_rows(values_only=True)}
    assert info["Total sumă rambursată"] == 5.0


def test_english_is_as_before():
    book = _book(replace(INFO, lang="en"))
    assert book.sheetnames == ["Orders", "Export info"]
    info = {row[0]: row[1] for row in book["Export info"].iter_rows(values_only=True)}
    assert info["Field"] == "Value" and info["Filters"] == "No filters"
