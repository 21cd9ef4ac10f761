"""The xlsx export of docs/design.md §6: a sheet "Orders" with the 15 export columns and a sheet
"Export info" that says when, by whom, with which filters, and how many rows and how much money.
The Refunds register's export (§9) is the same writer with another ``SheetLayout``: a sheet
"Refunds" with the register's columns, its refund dates as date-time cells.

This module knows nothing about the database: ``core.db`` hands it rows in ``EXPORT_COLUMNS``
order and it streams them into the file, never holding them all. Every text value goes through
``sanitize_text`` so that no cell can act as a formula in Excel, in a CSV re-save or on paste.

The writer is rustpy-xlsxwriter (rust_xlsxwriter underneath), chosen by measurement
(``scripts/bench_export.py``): 100,000 rows take about 3 s where xlsxwriter's constant_memory
mode took 14 s or more, and it pulls rows from a generator in constant memory. It writes every
Python ``str`` as an inline text cell, never as a formula, number or link; the tests check that
on the file itself.

Amounts are number cells, which a spreadsheet holds as binary doubles: exact to the cent up to
``core.money.MAX_AMOUNT`` (15 significant digits, as many as Excel shows). A larger amount, which
an older database may hold (its DECIMAL(18,2) goes 1,000 times further), and a total beyond it,
are written as exact text instead, and the "Export info" sheet says how many: a file that rounds
an amount silently would disagree with the database, and refusing the whole export for one
amount would leave the user with nothing.
"""
from __future__ import annotations

import itertools
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Iterator
from zoneinfo import ZoneInfo

import pyarrow as pa
import rustpy_xlsxwriter as xlsx

from core import columns, refunds
from core.errors import ExportTooLarge
from core.i18n import N_, Count, format_count, format_money, translator
from core.money import MAX_AMOUNT
from core.query import END_READABLE, FIRST_READABLE

# The headers, from the one list of the export's columns (``core.columns``), which the database
# hands rows in.
EXPORT_COLUMNS = tuple(column.label for column in columns.EXPORT_COLUMNS)
# Wide enough for each header (plus its filter button) and the usual content.
_COLUMN_WIDTHS = (12, 13, 33, 17, 11, 32, 18, 7, 28, 12, 42, 18, 16, 24, 27)
_DATE, _ORDER_ID, _AMOUNT, _PHONE = (
    columns.EXPORT_KEYS.index(key) for key in ("created_at", "order_id", "amount", "phone"))
_TEXT_COLUMNS = tuple(i for i in range(len(EXPORT_COLUMNS)) if i not in (_DATE, _ORDER_ID, _AMOUNT))

MAX_EXPORT_ROWS = 1_048_575  # one sheet's 1,048,576 rows less the header row
PROGRESS_EVERY = 10_000
MAX_CELL_CHARS = 32_767  # Excel's limit for one cell; the writer refuses longer text

ORDERS_SHEET = "Orders"
INFO_SHEET = N_("Export info")
INFO_HEADER = (N_("Field"), N_("Value"))
INFO_LABELS = (
    N_("Exported at"),
    N_("Exported by"),
    N_("Filters"),
    N_("Search"),
    N_("Sort"),
    N_("Time zone"),
    N_("Rows"),
    N_("Total captured amount"),
)

# Removed from text: C0 controls but tab and newline, DEL, the two non-characters that make the
# sheet's XML invalid, and lone surrogates, which cannot be encoded as UTF-8 at all.
_REMOVED_CHARS = dict.fromkeys(
    [c for c in range(0x20) if c not in (0x09, 0x0A)]
    + [0x7F, 0xFFFE, 0xFFFF]
    + list(range(0xD800, 0xE000))
)
# OWASP's list also has CR, which never gets this far: it is removed as a control character.
_FORMULA_STARTS = frozenset("=+-@\t")
_PHONE_LIKE = re.compile(r"\+[0-9 ()\-]*")


def sanitize_text(value: object, *, phone: bool = False) -> str | None:
    """A value made safe for a text cell; ``None`` stays ``None`` (an empty cell).

    Control characters are removed; text starting with ``= + - @`` or tab gets a leading
    apostrophe so that no spreadsheet program will evaluate it. In the phone column a value made
    only of ``+``, digits, spaces, parentheses and hyphens (``+48 606 606 606``) is kept as it is:
    it is a text cell and holds nothing that could call a function.
    """
    if value is None:
        return None
    text = value if type(value) is str else str(value)
    if not text.isprintable():  # fast path: most values have nothing to remove
        text = text.translate(_REMOVED_CHARS)
    if text[:1] in _FORMULA_STARTS and not (phone and _PHONE_LIKE.fullmatch(text)):
        text = "'" + text
    return text[:MAX_CELL_CHARS]


@dataclass(frozen=True)
class SheetLayout:
    """One export's main sheet: its name, headers and widths, and where its typed cells are."""

    name: str
    headers: tuple[str, ...]
    widths: tuple[int, ...]
    date_at: int  # a date (or date-time) cell, or the text of a stored time that is no date
    date_format: str
    id_at: int  # a whole number shown without separators
    amount_at: int  # a Decimal
    phone_at: int | None  # text that may keep a leading "+"
    total_label: str  # the "Export info" row of the amounts' total
    noun: str  # what a row is, in messages: "orders", "refunds"

    @property
    def text_at(self) -> tuple[int, ...]:
        return tuple(i for i in range(len(self.headers))
                     if i not in (self.date_at, self.id_at, self.amount_at))

    @property
    def info_labels(self) -> tuple[str, ...]:
        return (*INFO_LABELS[:-1], self.total_label)


ORDERS_LAYOUT = SheetLayout(ORDERS_SHEET, EXPORT_COLUMNS, _COLUMN_WIDTHS, _DATE, "dd.mm.yyyy",
                            _ORDER_ID, _AMOUNT, _PHONE, INFO_LABELS[-1], "orders")


# The register's export: its columns in the page's order (``core.refunds.COLUMNS``), the refund
# date as a date-time cell in the display zone.
_REFUND_KEYS = tuple(column.key for column in refunds.COLUMNS)
REFUNDS_SHEET = "Refunds"
REFUNDS_LAYOUT = SheetLayout(
    REFUNDS_SHEET, tuple(column.label for column in refunds.COLUMNS),
    (19, 12, 13, 33, 15, 22, 36, 36, 16, 28, 28, 13),
    _REFUND_KEYS.index("refunded_at"), "dd.mm.yyyy hh:mm:ss", _REFUND_KEYS.index("order_id"),
    _REFUND_KEYS.index("amount"), None, N_("Total refunded amount"), "refunds")


def localized(layout: SheetLayout, lang: str | None, headers: bool) -> SheetLayout:
    """``layout`` with its sheet's name and column headers in ``lang`` (``headers``), or as
    DESIGN §6 names them (other systems read them: the default)."""
    if not headers:
        return layout
    t = translator(lang)
    return replace(layout, name=t(layout.name), headers=tuple(t(h) for h in layout.headers))


def write_refunds_xlsx(out: BinaryIO | str | os.PathLike, rows: Iterable[tuple], info: ExportInfo,
                       *, progress: Callable[[int], None] | None = None) -> int:
    """The Refunds register's export: ``write_xlsx`` with ``REFUNDS_LAYOUT``; the info's
    ``total_captured_amount`` is then the refunded total."""
    return write_xlsx(out, rows, info, REFUNDS_LAYOUT, progress=progress)


def check_export_size(row_count: int, noun: str = "orders") -> None:
    """Refuse an export that does not fit on one sheet, before any work is done."""
    if row_count > MAX_EXPORT_ROWS:
        raise ExportTooLarge(
            N_("The export would have {count} orders, more than the {limit} rows one Excel "
               "sheet holds. Narrow the filters (for example a shorter period) and export again.")
            if noun == "orders" else
            N_("The export would have {count} refunds, more than the {limit} rows one Excel "
               "sheet holds. Narrow the filters (for example a shorter period) and export again."),
            count=Count(row_count), limit=Count(MAX_EXPORT_ROWS))


@dataclass(frozen=True)
class ExportInfo:
    """What the "Export info" sheet records about one export."""

    exported_at: datetime  # aware, in the display time zone
    exported_by: str  # "Anna Nowak (anna)"
    filters: str  # the filters in words, "No filters" when none
    search: str  # the search text, "" when none
    sort: str  # "Order date, newest first"
    time_zone: str  # IANA name
    # Both as counted before the export. The sheet shows the rows actually written and their
    # total, which are the same unless orders changed in between.
    row_count: int  # checked against MAX_EXPORT_ROWS; more rows than this are refused
    total_captured_amount: Decimal
    # The language of the "Export info" sheet (``core.i18n.LANGUAGES``), and whether the main
    # sheet's headers are in it too (by default they stay English, as DESIGN §6 names them).
    lang: str = "en"
    translated_headers: bool = False


@dataclass
class _Tally:
    rows: int = 0
    total_captured_amount: Decimal = Decimal("0.00")
    amounts_as_text: int = 0
    dates_not_read: int = 0


def _amount_cell(amount: Decimal) -> float | str:
    """A number cell where a double holds the amount to the cent, else the exact amount as text."""
    if abs(amount) <= MAX_AMOUNT:
        return float(amount)
    return f"{amount:.2f}"


def write_orders_xlsx(
    out: BinaryIO | str | os.PathLike,
    rows: Iterable[tuple],
    info: ExportInfo,
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """The Orders export: ``write_xlsx`` with ``ORDERS_LAYOUT``."""
    return write_xlsx(out, rows, info, ORDERS_LAYOUT, progress=progress)


def write_xlsx(
    out: BinaryIO | str | os.PathLike,
    rows: Iterable[tuple],
    info: ExportInfo,
    layout: SheetLayout,
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the export to ``out`` (a path or a binary file object); return the rows written.

    ``rows`` are 15-tuples in ``EXPORT_COLUMNS`` order: date, int, then text except the
    ``Decimal`` amount; ``None`` is an empty cell. ``progress(rows_written)`` is called every
    ``PROGRESS_EVERY`` rows and once at the end. More rows than ``info.row_count`` said, or than
    a sheet holds, raise ``ExportTooLarge``. The "Export info" sheet reports the rows actually
    written and their total, so the file always describes itself, even if orders changed between
    the count and the export.
    """
    check_export_size(info.row_count, layout.noun)
    layout = localized(layout, info.lang, info.translated_headers)
    info_sheet = translator(info.lang)(INFO_SHEET)
    tally = _Tally()
    records = _order_records(rows, min(info.row_count, MAX_EXPORT_ROWS), tally, progress, layout)
    first = next(records, None)
    if first is None:
        # The writer takes its header from the first record; an empty export still needs one.
        orders = pa.table({name: pa.array([], pa.string()) for name in layout.headers})
    else:
        orders = itertools.chain((first,), records)
    sheets = [(layout.name, orders), (info_sheet, _info_records(info, tally, layout))]

    if isinstance(out, (str, os.PathLike)):
        _write(sheets, out, layout)
    else:
        # Given a file object the writer builds the whole file in memory (about 3× the file at
        # 1M rows); through a temporary file the peak stays near the size of the file itself.
        with tempfile.TemporaryDirectory(prefix="orderdesk-export-") as tmp:
            path = Path(tmp) / "export.xlsx"
            _write(sheets, path, layout)
            with path.open("rb") as written:
                shutil.copyfileobj(written, out, 1024 * 1024)
    return tally.rows


def _write(sheets: list, target: str | os.PathLike, layout: SheetLayout) -> None:
    date_format = xlsx.Format().set_num_format(layout.date_format)
    order_id_format = xlsx.Format().set_num_format("0")
    amount_format = xlsx.Format().set_num_format("#,##0.00")
    xlsx.write_worksheets(
        sheets,
        os.fspath(target),
        bold_headers=True,
        freeze_panes={layout.name: {"row": 1, "col": 0}},
        autofilter={layout.name: True},
        column_widths={layout.name: list(layout.widths), sheets[1][0]: [24, 80]},
        column_formats={
            layout.name: {
                layout.headers[layout.date_at]: date_format,
                layout.headers[layout.id_at]: order_id_format,
                layout.headers[layout.amount_at]: amount_format,
            }
        },
        # Sheet rows are 0-based and the info sheet's header is row 0.
        row_formats={
            sheets[1][0]: {
                INFO_LABELS.index("Rows") + 1: xlsx.Format().set_num_format("#,##0"),
                INFO_LABELS.index("Total captured amount") + 1: amount_format,
            }
        },
    )


def _order_records(
    rows: Iterable[tuple],
    limit: int,
    tally: _Tally,
    progress: Callable[[int], None] | None,
    layout: SheetLayout = ORDERS_LAYOUT,
) -> Iterator[dict]:
    width, headers, noun = len(layout.headers), layout.headers, layout.noun
    amount_at, date_at, phone_at = layout.amount_at, layout.date_at, layout.phone_at
    for row in rows:
        if tally.rows >= limit:
            raise _too_many_rows(limit, noun)
        if len(row) != width:
            raise ValueError(f"an export row needs {width} values, got {len(row)}")
        values = list(row)
        amount = values[amount_at]
        if amount is not None:
            tally.total_captured_amount += amount
            values[amount_at] = _amount_cell(amount)
            tally.amounts_as_text += isinstance(values[amount_at], str)
        if isinstance(values[date_at], str):  # a stored time that is no date, as the page shows it
            values[date_at] = sanitize_text(values[date_at])
            tally.dates_not_read += 1
        for i in layout.text_at:
            if values[i] is not None:
                values[i] = sanitize_text(values[i], phone=i == phone_at)
        yield dict(zip(headers, values))
        # Resumed only when the writer wants the next row: this one has been written.
        tally.rows += 1
        if progress is not None and tally.rows % PROGRESS_EVERY == 0:
            progress(tally.rows)
    if progress is not None and (tally.rows == 0 or tally.rows % PROGRESS_EVERY):
        progress(tally.rows)


def _too_many_rows(limit: int, noun: str = "orders") -> ExportTooLarge:
    if limit >= MAX_EXPORT_ROWS:
        return ExportTooLarge(
            N_("The export has more than the {limit} rows one Excel sheet holds. Narrow the "
               "filters and export again."), limit=Count(MAX_EXPORT_ROWS))
    return ExportTooLarge(
        N_("Orders were added while exporting: there are now more than the {limit} counted. "
           "Export again.") if noun == "orders" else
        N_("Refunds were added while exporting: there are now more than the {limit} counted. "
           "Export again."), limit=Count(limit))


def _info_records(info: ExportInfo, tally: _Tally,
                  layout: SheetLayout = ORDERS_LAYOUT) -> Iterator[dict]:
    # A generator: the writer reads it only after the Orders sheet, when the tally is final.
    exported_at = info.exported_at.astimezone(ZoneInfo(info.time_zone))
    t = translator(info.lang)
    header = tuple(map(t, INFO_HEADER))
    values = (
        f"{exported_at:%d.%m.%Y %H:%M:%S} {info.time_zone}",
        sanitize_text(info.exported_by),
        sanitize_text(info.filters or t("No filters")),
        sanitize_text(info.search) or None,
        sanitize_text(info.sort),
        sanitize_text(info.time_zone),
        tally.rows,
        _amount_cell(tally.total_captured_amount),
    )
    for label, value in zip(layout.info_labels, values):
        yield dict(zip(header, (t(label), value)))
    # Only when they apply, after the fixed rows (whose number formats go by position).
    total_as_text = isinstance(values[-1], str)
    if tally.amounts_as_text or total_as_text:
        yield dict(zip(header, (t("Amounts as text"), _amounts_note(tally, total_as_text,
                                                                    info.lang))))
    if tally.dates_not_read:
        yield dict(zip(header, (t("Dates not read"), _dates_note(tally.dates_not_read, layout,
                                                                 info.lang))))


def _amounts_note(tally: _Tally, total_as_text: bool, lang: str) -> str:
    t, count = translator(lang), tally.amounts_as_text
    what = [t.ngettext("{count} amount", "{count} amounts", count).format(
        count=format_count(count, lang))] * bool(count) + [t("the total")] * total_as_text
    return t("{what} above {limit} written as text, exact to the cent: a spreadsheet number "
             "keeps only 15 significant digits.").format(
        what=t(" and ").join(what), limit=format_money(MAX_AMOUNT, lang))


def _dates_note(count: int, layout: SheetLayout, lang: str) -> str:
    t = translator(lang)
    template = (t.ngettext("{count} order has a stored time that is no date (before {first} or "
                           "from {end} on, UTC); its {column} cell says what is stored.",
                           "{count} orders have a stored time that is no date (before {first} "
                           "or from {end} on, UTC); its {column} cell says what is stored.",
                           count) if layout.noun == "orders" else
                t.ngettext("{count} refund has a stored time that is no date (before {first} or "
                           "from {end} on, UTC); its {column} cell says what is stored.",
                           "{count} refunds have a stored time that is no date (before {first} "
                           "or from {end} on, UTC); its {column} cell says what is stored.",
                           count))
    return template.format(count=format_count(count, lang), first=FIRST_READABLE.year,
                           end=END_READABLE.year, column=layout.headers[layout.date_at])
