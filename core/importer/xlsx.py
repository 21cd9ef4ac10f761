"""Reading a spreadsheet (XLSX, its first sheet) within bounded work and memory.

DuckDB reads CSV and Parquet files itself; a spreadsheet is read by openpyxl, a row at a time, into
a temporary Parquet file in batches, which DuckDB then reads like any other. Every cell is read as
the text an operator sees. The limits below are checked as the file is read, whatever size the
sheet declares.
"""
from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

from core.i18n import N_, Count, Message, N_plural
from core.importer.formats import Unreadable
from core.importer.values import is_blank

XLSX_MAX_ROWS = 100_000
"""The most rows under the header a spreadsheet may have (spreadsheet rows 2 to 100,001), empty
rows the file stores included. openpyxl reads 100,000 rows of 15 columns in about 11 s of CPU
(several times that on a busy machine), in Python, in the process that serves the app; an import
of 100,000 orders from a spreadsheet took 11.5 s and peaked at 333 MB RSS. Larger files go in as
CSV or Parquet, which DuckDB reads at about a million rows a second."""

XLSX_MAX_COLUMNS = 32
"""The most columns a spreadsheet row may store cells in (A to AF), empty cells included: every
stored cell costs openpyxl the same work, and the widest header has 12 columns."""

XLSX_MAX_UNPACKED_BYTES = 256 * 2**20
"""The most bytes the parts of a spreadsheet (its sheets, shared strings, styles) may unpack to.
An XLSX file is a zip archive: a few kilobytes can unpack to gigabytes. 100,000 rows of 15
columns unpack to about 80 MB."""

_XLSX_BATCH_ROWS = 10_000  # rows held in Python at a time while a spreadsheet is converted


_STRAY = Message(N_("has a value right of the last named column"))  # one for every such row


def _not_xlsx(exc: Exception) -> Unreadable:
    """A file openpyxl or the zip reader cannot read; their own words (English) are quoted."""
    return Unreadable(Message(N_("cannot be read as XLSX: {error}"), error=str(exc)))


def _text_cell(value: object) -> str | None:
    """A spreadsheet cell as the text an operator sees (numbers without float noise)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _column_letter(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _check_unpacked_size(path: Path) -> None:
    """Refuse a spreadsheet whose parts unpack to more than ``XLSX_MAX_UNPACKED_BYTES``.

    The sizes are those the archive declares; Python's zip reader never unpacks more than the
    declared size of a part (it fails the part's checksum instead), so they bound the work.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise _not_xlsx(exc) from exc
    if unpacked > XLSX_MAX_UNPACKED_BYTES:
        raise Unreadable(Message(
            N_("unpacks to {size} MB, more than the {limit} MB a spreadsheet may hold: import "
               "the data as CSV or Parquet"),
            size=Count(round(unpacked / 2**20)), limit=Count(XLSX_MAX_UNPACKED_BYTES // 2**20)))


def read_xlsx(path: Path, target: Path) -> tuple[list[str], list[tuple[int, str]]]:
    """The first sheet's text, written to the Parquet file ``target`` (its header's columns as
    ``_0``, ``_1``… and ``_row``); also (row, reason) for values right of the last named column.

    Reading is bounded by ``XLSX_MAX_UNPACKED_BYTES``, ``XLSX_MAX_COLUMNS`` and
    ``XLSX_MAX_ROWS``: a file beyond them is refused as soon as that shows, whatever size the sheet
    declares (a "dimension" of A1:XFD1048576 would otherwise be walked cell by cell).
    """
    import openpyxl  # imported here: only xlsx imports need it

    _check_unpacked_size(path)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        raise _not_xlsx(exc) from exc
    try:
        sheet = book.worksheets[0]
        # The declared size is only a claim: read the rows and cells the file stores.
        sheet.reset_dimensions()
        rows = sheet.iter_rows(values_only=True)
        header = list(next(rows, ()))
        while header and is_blank(header[-1]):
            header.pop()
        names = [_text_cell(cell) or "" for cell in header]
        if len(header) > XLSX_MAX_COLUMNS or len(set(names)) < len(names):
            return names, []  # the header's problems are reported by the caller
        return names, _write_rows(rows, len(names), target)
    except Unreadable:
        raise
    except Exception as exc:  # a sheet damaged past its first rows
        raise _not_xlsx(exc) from exc
    finally:
        book.close()


def _write_rows(rows, width: int, target: Path) -> list[tuple[int, Message]]:
    """The rows under the header, ``width`` columns each, written to ``target`` in batches;
    (row, reason) for values right of the last named column."""
    import pyarrow as pa  # imported here: only xlsx imports need them
    import pyarrow.parquet as pq

    schema = pa.schema([(f"_{i}", pa.string()) for i in range(width)] + [("_row", pa.int64())])
    stray: list[tuple[int, Message]] = []
    with pq.ParquetWriter(target, schema) as writer:
        batch: list[list[str | None]] = [[] for _ in range(width + 1)]
        row_number = 0
        for sheet_row, values in enumerate(rows, start=2):
            cells = _row_cells(sheet_row, values)
            if all(is_blank(c) for c in cells):
                continue  # blank rows are not counted, as DuckDB skips blank CSV lines
            row_number += 1
            if any(not is_blank(c) for c in cells[width:]):
                stray.append((row_number, _STRAY))
            cells += [None] * (width - len(cells))
            for column, cell in zip(batch, cells):
                column.append(cell)
            batch[-1].append(row_number)
            if len(batch[-1]) >= _XLSX_BATCH_ROWS:
                writer.write_batch(pa.record_batch(batch, schema=schema))
                batch = [[] for _ in batch]
        writer.write_batch(pa.record_batch(batch, schema=schema))
    return stray


def _row_cells(sheet_row: int, values: tuple) -> list[str | None]:
    """A stored row's cells as text; ``Unreadable`` beyond the row and column limits."""
    if sheet_row > XLSX_MAX_ROWS + 1:
        raise Unreadable(N_plural(
            "has more than {count} row under the header, the most a spreadsheet may have "
            "(empty rows the file stores count too; row {row} is beyond it): import the data as "
            "CSV or Parquet",
            "has more than {count} rows under the header, the most a spreadsheet may have "
            "(empty rows the file stores count too; row {row} is beyond it): import the data as "
            "CSV or Parquet", Count(XLSX_MAX_ROWS), row=Count(sheet_row)))
    if len(values) > XLSX_MAX_COLUMNS:
        raise Unreadable(Message(
            N_("row {row} of the spreadsheet stores cells up to column {column}; a spreadsheet "
               "may use the columns A to {last}: delete the columns right of the data"),
            row=Count(sheet_row), column=_column_letter(len(values)),
            last=_column_letter(XLSX_MAX_COLUMNS)))
    return [_text_cell(v) for v in values]
