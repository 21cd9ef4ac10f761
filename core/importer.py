"""Loading stores, orders and item lines from CSV, Parquet or XLSX files (docs/design.md §7).

Every row of every file is checked before anything is written: one bad row refuses the whole
import, and the report names each problem (file, row, column, reason). The value rules (amounts,
dates, whole numbers, status changes) are pure functions defined once in this module; the checks
apply them to whole files in DuckDB SQL — the SQL finds the bad rows with the same patterns and
tables, the pure functions word the reason — so a million rows are checked in seconds, not in a
Python loop. A clean import is written in one transaction, and a re-imported order is updated
within the status rules of §3 (a status sync), never lowering a refund nor changing the amount or
lines of an order that has refunds. Refunds and cancels that an import brings in are recorded in
``order_events`` like any other, so the refunded amount always equals the sum of its refunds.

Row numbers count data rows under the header, from 1; blank lines (empty spreadsheet rows) are
not counted. "row 5" is the 5th data row: line 6 of a CSV file, spreadsheet row 6.

An import's memory is bounded: DuckDB reads the files from disk under ``IMPORT_MEMORY_LIMIT``,
and a spreadsheet is read within ``XLSX_MAX_ROWS``, ``XLSX_MAX_COLUMNS`` and
``XLSX_MAX_UNPACKED_BYTES``.
"""
from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import re
import tempfile
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from core.errors import DataUnavailable, ImportRejected, InvalidInput
from core.money import MAX_AMOUNT
from core.db.schema import CHANNELS, STATUSES
from core.db import index_orders

# --- file columns (docs/design.md §7, exact header names) -----------------------------------------

STORE_COLUMNS = (
    "store_id", "store_name", "store_address", "merchant_store_id", "brand",
    "legal_entity", "region", "zone",
)
ORDER_COLUMNS = (
    "order_id", "created_at", "merchant_order_id", "amount", "status", "channel", "email",
    "phone", "store_id", "salesperson_id", "salesperson_name", "refunded_amount",
)
ITEM_COLUMNS = ("order_id", "line_no", "name", "quantity", "unit_price")

COLUMNS = {"stores": STORE_COLUMNS, "orders": ORDER_COLUMNS, "items": ITEM_COLUMNS}
OPTIONAL_COLUMNS = {"stores": (), "orders": ("refunded_amount",), "items": ()}
KINDS = ("stores", "orders", "items")
EXTENSIONS = (".csv", ".parquet", ".xlsx")

ROW_NUMBER_HELP = (
    "Row numbers in the report count data rows under the header, from 1 (blank lines are not "
    "counted): 'row 5' is the 5th data row, i.e. line 6 of a CSV file or spreadsheet row 6."
)

IMPORT_USERNAME = "import"
BIGINT_MAX = 2**63 - 1
INTEGER_MAX = 2**31 - 1

# --- value rules: pure, defined once; the SQL below reuses these patterns ------------------------

# Digits only ([0-9], never \d: Python's \d also matches other scripts' digits), an optional '.'
# and 1–2 decimals. Deliberately stricter than DuckDB's cast, which accepts '1e3' and ' 12.5 '.
AMOUNT_PATTERN = r"[0-9]+(?:\.[0-9]{1,2})?"
WHOLE_NUMBER_PATTERN = r"[0-9]+"
# ISO 8601: a date, optionally a time (minutes, seconds, up to 6 decimals) and an offset.
CREATED_AT_PATTERN = (
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[T ]([01][0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9])(?:\.([0-9]{1,6}))?)?"
    r"(Z|[+-](?:[01][0-9]|2[0-3])(?::?[0-5][0-9])?)?)?"
)

_AMOUNT_RE = re.compile(AMOUNT_PATTERN)
_WHOLE_RE = re.compile(WHOLE_NUMBER_PATTERN)
_CREATED_AT_RE = re.compile(CREATED_AT_PATTERN)
_MANY_DECIMALS_RE = re.compile(r"[0-9]*\.([0-9]{3,})")
_NEGATIVE_RE = re.compile(r"-[0-9]*(?:\.[0-9]*)?[0-9]")


def _shown(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _is_blank(text: object) -> bool:
    return text is None or (isinstance(text, str) and not text.strip())


def amount_problem(text: str | None, *, zero_allowed: bool = False) -> str | None:
    """Why ``text`` is not an amount of an import file, or None when it is one.

    An amount is digits with an optional '.' and at most 2 decimals, greater than 0 (an item's
    unit price and a refunded amount may be 0), at most ``MAX_AMOUNT``.
    """
    if _is_blank(text):
        return "is empty"
    assert text is not None
    if not _AMOUNT_RE.fullmatch(text):
        if text != text.strip():
            return f"has spaces around the number ('{_shown(text)}')"
        if many := _MANY_DECIMALS_RE.fullmatch(text):
            return f"has {len(many.group(1))} decimal places ({_shown(text)})"
        if _NEGATIVE_RE.fullmatch(text):
            return f"must be {'0 or more' if zero_allowed else 'greater than 0'} ({_shown(text)})"
        if re.fullmatch(r"[0-9]+,[0-9]+", text):
            return f"uses a comma ({_shown(text)}); write the decimal point as '.'"
        return f"is not a number with at most 2 decimals, like 339.99 ({_shown(text)})"
    value = Decimal(text)
    if value > MAX_AMOUNT:
        return f"is too large: at most {MAX_AMOUNT} ({_shown(text)})"
    if value == 0 and not zero_allowed:
        return f"must be greater than 0 ({_shown(text)})"
    return None


def parse_import_amount(text: str | None, *, zero_allowed: bool = False) -> Decimal:
    """The amount in ``text`` as an exact Decimal with 2 places; ``ValueError(reason)`` if invalid."""
    problem = amount_problem(text, zero_allowed=zero_allowed)
    if problem:
        raise ValueError(problem)
    return Decimal(text).quantize(Decimal("0.01"))  # type: ignore[arg-type]


def whole_number_problem(text: str | None, *, max_value: int = BIGINT_MAX) -> str | None:
    """Why ``text`` is not a whole number from 1 to ``max_value``, or None when it is one."""
    if _is_blank(text):
        return "is empty"
    assert text is not None
    if not _WHOLE_RE.fullmatch(text):
        return f"is not a whole number ({_shown(text)})"
    value = int(text)
    if value < 1:
        return f"must be 1 or more ({_shown(text)})"
    if value > max_value:
        return f"is too large ({_shown(text)})"
    return None


@dataclass(frozen=True)
class DateWindow:
    """The moments (naive UTC) an order's ``created_at`` may hold: from ``earliest`` up to
    ``ahead`` after the import's own time, both ends included."""

    earliest: dt.datetime
    ahead: dt.timedelta

    def latest(self, now: dt.datetime) -> dt.datetime:
        return now + self.ahead

    def describe(self, now: dt.datetime) -> str:
        return (f"{self.earliest:%Y-%m-%dT%H:%M:%S}Z to {self.latest(now):%Y-%m-%dT%H:%M:%S}Z "
                f"(up to a day after the import)")


CREATED_AT_WINDOW = DateWindow(earliest=dt.datetime(2000, 1, 1), ahead=dt.timedelta(days=1))
"""The order dates an import accepts: from 2000-01-01T00:00Z up to one day after the import.

No order of a desk like this one is older than this century, and none is created in the future
beyond a clock's skew and the widest time-zone offset. DuckDB stores dates Python cannot hold
(1 BC, the year 10000) and dates that overflow once shown in a time zone (9999-12-31T23:30Z in
Europe/Warsaw): one such row would break every page that shows it, so they never get in.
"""


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def parse_created_at(text: str | None, *, now: dt.datetime | None = None) -> dt.datetime:
    """An ISO 8601 date and time as a naive UTC datetime: no offset means UTC, an offset is applied.

    The moment must lie in ``CREATED_AT_WINDOW`` for an import made at ``now`` (naive UTC; by
    default the current time). Raises ``ValueError(reason)`` for anything else.
    """
    if _is_blank(text):
        raise ValueError("is empty")
    assert text is not None
    match = _CREATED_AT_RE.fullmatch(text)
    if not match:
        raise ValueError(
            f"is not an ISO 8601 date and time like 2024-01-31T14:05:00Z ({_shown(text)})"
        )
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    outside = ValueError(
        f"is outside the order date window, {CREATED_AT_WINDOW.describe(now or _utc_now())} "
        f"({_shown(text)})"
    )
    try:
        # The year 0 (1 BC) has the calendar of 2000: its February 29th is a valid date.
        dt.date(int(year) or 2000, int(month), int(day))
    except ValueError:
        raise ValueError(f"is not a valid date ({_shown(text)})") from None
    if int(year) == 0:
        raise outside
    moment = dt.datetime(
        int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
        int((fraction or "0").ljust(6, "0")),
    )
    if offset and offset != "Z":
        digits = offset[1:].replace(":", "")
        delta = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
        try:
            moment = moment - delta if offset[0] == "+" else moment + delta
        except OverflowError:  # before the year 1 or after 9999: far outside the window
            raise outside from None
    if not CREATED_AT_WINDOW.earliest <= moment <= CREATED_AT_WINDOW.latest(now or _utc_now()):
        raise outside
    return moment


def created_at_problem(text: str | None, *, now: dt.datetime | None = None) -> str | None:
    try:
        parse_created_at(text, now=now)
    except ValueError as exc:
        return str(exc)
    return None


# Status changes an import may make to an existing order (docs/design.md §3). Return needs the
# refunded amount to equal the amount, which every Return row must state (or leave for the default).
ALLOWED_STATUS_CHANGES: dict[str, frozenset[str]] = {
    "Pending": frozenset({"Pending", "Completed", "Cancel"}),
    "Completed": frozenset({"Completed", "Return"}),
    "Cancel": frozenset({"Cancel"}),
    "Return": frozenset({"Return"}),
}
FINAL_STATUSES = ("Cancel", "Return")


def status_change_problem(current: str, requested: str) -> str | None:
    """Why an order in status ``current`` cannot be imported as ``requested``, or None."""
    if requested in ALLOWED_STATUS_CHANGES.get(current, frozenset()):
        return None
    if current in FINAL_STATUSES:
        why = f"{current} is a final status"
    elif (current, requested) == ("Completed", "Cancel"):
        why = "a Completed order cannot be cancelled; it is refunded"
    elif current == "Completed":
        why = "a Completed order cannot go back to Pending"
    else:
        why = "a Pending order can only become Completed or Cancel"
    return f"cannot change from {current} to {requested}: {why}"


def phone_digits(phone: str | None) -> str | None:
    """The digits of a phone number, what search matches ('+48 (606) 606-606' → '48606606606')."""
    digits = re.sub(r"[^0-9]", "", phone or "")
    return digits or None


# --- report types --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportProblem:
    """One reason an import was refused: a bad row's column, or a problem of a whole file."""

    file: str
    row: int | None
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(self.column)
        return f"{', '.join(where)}: {self.reason}"


TABLES = ("stores", "orders", "order_items", "order_events")


@dataclass
class ImportReport:
    """What a successful import wrote: rows added, updated and left unchanged per table."""

    files: tuple[str, ...]
    added: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))
    updated: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))
    unchanged: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))
    refund_events: int = 0
    cancel_events: int = 0

    def lines(self) -> list[str]:
        out = [f"Imported {', '.join(self.files)}:"]
        for table in TABLES[:3]:
            out.append(
                f"  {table:<12} {self.added[table]:>9,} added  {self.updated[table]:>9,} updated"
                f"  {self.unchanged[table]:>9,} unchanged"
            )
        out.append(
            f"  {'order_events':<12} {self.added['order_events']:>9,} added "
            f"({_plural(self.refund_events, 'refund')}, {_plural(self.cancel_events, 'cancel')})"
        )
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


Progress = Callable[[float, str], None]


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


# --- reading files -------------------------------------------------------------------------------
#
# DuckDB reads CSV and Parquet files itself, inside its memory limit: the rows never pass through
# Python. A spreadsheet is read by openpyxl, a row at a time, into a temporary Parquet file in
# batches, which DuckDB then reads like any other.

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

IMPORT_MEMORY_LIMIT = "400MB"
"""DuckDB's memory during an import, the command line's and the app's (whose own, smaller limit
is raised to this while an import runs, then set back). DuckDB spills what does not fit to a
temporary folder beside the database. Measured through ``python -m core import``
(``scripts/measure_import.py``): 5,000,000 orders from a 614 MB CSV peaked at 631 MB RSS for the
whole process (52 s on a quiet machine, 157 s on a busy one); without a limit at 3.3 GB, and
through an Arrow table in Python at 4.2 GB. At 256 MB the commit of 5,000,000 new orders ran out
of memory: the indexes of their keys are held in it."""

_XLSX_BATCH_ROWS = 10_000  # rows held in Python at a time while a spreadsheet is converted


@dataclass
class _Staged:
    kind: str
    name: str
    columns: tuple[str, ...]  # the file's header
    source: str  # a SQL relation of the file's rows: its columns as text, and ``_row``
    params: list


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


class _Unreadable(Exception):
    """A file that cannot be read at all; the message says why."""


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
        raise _Unreadable(f"cannot be read as XLSX: {exc}") from exc
    if unpacked > XLSX_MAX_UNPACKED_BYTES:
        raise _Unreadable(
            f"unpacks to {unpacked / 2**20:,.0f} MB, more than the "
            f"{XLSX_MAX_UNPACKED_BYTES // 2**20:,} MB a spreadsheet may hold: "
            "import the data as CSV or Parquet"
        )


def _read_xlsx(path: Path, target: Path) -> tuple[list[str], list[tuple[int, str]]]:
    """The first sheet's text, written to the Parquet file ``target`` (its header's columns and
    ``_row``); also (row, reason) for values right of the last named column.

    Reading is bounded by ``XLSX_MAX_UNPACKED_BYTES``, ``XLSX_MAX_COLUMNS`` and
    ``XLSX_MAX_ROWS``: a file beyond them is refused as soon as that shows, whatever size the sheet
    declares (a "dimension" of A1:XFD1048576 would otherwise be walked cell by cell).
    """
    import openpyxl  # imported here: only xlsx imports need them
    import pyarrow as pa
    import pyarrow.parquet as pq

    _check_unpacked_size(path)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        raise _Unreadable(f"cannot be read as XLSX: {exc}") from exc
    writer = None
    try:
        sheet = book.worksheets[0]
        # The declared size is only a claim: read the rows and cells the file stores.
        sheet.reset_dimensions()
        rows = sheet.iter_rows(values_only=True)
        header = list(next(rows, ()))
        while header and _is_blank(header[-1]):
            header.pop()
        names = [_text_cell(cell) or "" for cell in header]
        if len(header) > XLSX_MAX_COLUMNS or len(set(names)) < len(names):
            return names, []  # the header's problems are reported by the caller
        schema = pa.schema([(f"_{i}", pa.string()) for i in range(len(names))]
                           + [("_row", pa.int64())])
        writer = pq.ParquetWriter(target, schema)
        batch: list[list[str | None]] = [[] for _ in range(len(names) + 1)]
        stray: list[tuple[int, str]] = []
        row_number = 0
        for sheet_row, values in enumerate(rows, start=2):
            if sheet_row > XLSX_MAX_ROWS + 1:
                raise _Unreadable(
                    f"has more than {XLSX_MAX_ROWS:,} rows under the header, the most a "
                    f"spreadsheet may have (empty rows the file stores count too; row "
                    f"{sheet_row:,} is beyond it): import the data as CSV or Parquet"
                )
            if len(values) > XLSX_MAX_COLUMNS:
                raise _Unreadable(
                    f"row {sheet_row:,} of the spreadsheet stores cells up to column "
                    f"{_column_letter(len(values))}; a spreadsheet may use the columns A to "
                    f"{_column_letter(XLSX_MAX_COLUMNS)}: delete the columns right of the data"
                )
            cells = [_text_cell(v) for v in values]
            if all(_is_blank(c) for c in cells):
                continue  # blank rows are not counted, as DuckDB skips blank CSV lines
            row_number += 1
            if any(not _is_blank(c) for c in cells[len(names):]):
                stray.append((row_number, "has a value right of the last named column"))
            cells += [None] * (len(names) - len(cells))
            for column, cell in zip(batch, cells):
                column.append(cell)
            batch[-1].append(row_number)
            if len(batch[-1]) >= _XLSX_BATCH_ROWS:
                writer.write_batch(pa.record_batch(batch, schema=schema))
                batch = [[] for _ in batch]
        writer.write_batch(pa.record_batch(batch, schema=schema))
    except _Unreadable:
        raise
    except Exception as exc:  # a sheet damaged past its first rows
        raise _Unreadable(f"cannot be read as XLSX: {exc}") from exc
    finally:
        if writer is not None:
            writer.close()
        book.close()
    return names, stray


_CSV_DELIMITERS = (",", ";", "\t", "|")


def _csv_header(path: Path, kind: str) -> tuple[list[str], str]:
    """The header's names and the delimiter that splits it into the most expected names."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            first = fh.readline()
    except UnicodeDecodeError as exc:
        raise _Unreadable("is not UTF-8 text") from exc
    if not first.strip():
        raise _Unreadable("is empty: the first line must be the header")
    best: tuple[int, list[str], str] | None = None
    for delimiter in _CSV_DELIMITERS:
        names = next(csv.reader([first.rstrip("\r\n")], delimiter=delimiter))
        score = sum(n in COLUMNS[kind] for n in names)
        if best is None or score > best[0]:
            best = (score, names, delimiter)
    assert best is not None
    return best[1], best[2]


def _sql_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _duckdb_source(database, path: Path, kind: str) -> tuple[list[str], str, list]:
    """The header's names of a CSV or Parquet file, and a relation DuckDB reads it through:
    every column as text, numbered ``_0``, ``_1``… in file order, and ``_row``.

    The whole file is scanned once here, so that a file DuckDB cannot read (a ragged line, a
    broken quote, bytes that are not UTF-8) is reported as such before any row is checked.
    """
    if path.suffix.lower() == ".csv":
        names, delimiter = _csv_header(path, kind)
        if len(set(names)) < len(names):
            return names, "", []  # duplicate names are reported by the caller
        # The dialect is given, not sniffed: a sniffer that meets a ragged row falls back to one
        # column per line, which would hide where the file is broken.
        reader = ("read_csv(?, header = true, auto_detect = false, strict_mode = true, "
                  "quote = '\"', escape = '\"', delim = ?, columns = ?)")
        params: list = [str(path), delimiter, {n: "VARCHAR" for n in names}]
    else:
        reader, params = "read_parquet(?)", [str(path)]
    try:
        with database.cursor() as cur:
            names = [d[0] for d in cur.execute(f"DESCRIBE SELECT * FROM {reader}", params).fetchall()]
            # Parquet columns may be typed: each is read as the text DuckDB shows for it.
            select = ", ".join(f"CAST({_sql_name(n)} AS VARCHAR) AS _{i}"
                               for i, n in enumerate(names))
            # Rows are numbered in file order: DuckDB preserves the order of a scan (its
            # default ``preserve_insertion_order``) through a window without ORDER BY.
            source = f"(SELECT row_number() OVER () AS _row, {select} FROM {reader})"
            # Counting every column makes DuckDB parse and check every value of the file.
            cur.execute(f"SELECT count(*), {', '.join(f'count(_{i})' for i in range(len(names)))} "
                        f"FROM {source}", params).fetchone()
    except DataUnavailable as exc:
        raise _Unreadable(_duckdb_reason(path, str(exc.__cause__ or exc))) from exc
    return names, source, params


def _duckdb_reason(path: Path, text: str) -> str:
    kind_name = "CSV" if path.suffix.lower() == ".csv" else "Parquet"
    line = re.search(r"CSV Error on Line: ([0-9]+)", text)
    expected = re.search(r"Expected Number of Columns: ([0-9]+)", text)
    if line and expected:
        return (f"cannot be read as CSV: line {line.group(1)} does not have the header's "
                f"{expected.group(1)} values")
    if line:
        return f"cannot be read as CSV: line {line.group(1)} is malformed"
    first = next((part for part in text.splitlines() if part.strip()), text)
    return f"cannot be read as {kind_name}: {first.strip()}"


def _read_file(database, kind: str, path: Path, scratch: Path
               ) -> tuple[_Staged | None, list[ImportProblem]]:
    """The file's header checked and a relation of its rows; ``scratch`` is a folder for the
    spreadsheet's converted rows, kept until the import ends."""
    name = path.name
    suffix = path.suffix.lower()
    if suffix not in EXTENSIONS:
        return None, [ImportProblem(
            name, None, None,
            "is not a .csv, .parquet or .xlsx file; the file type is chosen by its extension",
        )]
    if not path.is_file():
        return None, [ImportProblem(name, None, None, f"no such file ({path})")]
    stray: list[tuple[int, str]] = []
    try:
        if suffix == ".xlsx":
            converted = scratch / f"{kind}.parquet"
            names, stray = _read_xlsx(path, converted)
            source, params = "read_parquet(?)", [str(converted)]
        else:
            names, source, params = _duckdb_source(database, path, kind)
    except _Unreadable as exc:
        return None, [ImportProblem(name, None, None, str(exc))]
    problems = [ImportProblem(name, None, None, f"column {i} has no name")
                for i, n in enumerate(names, start=1) if not n.strip()]
    problems += [ImportProblem(name, None, n, "this column appears more than once")
                 for n in sorted({n for n in names if n.strip() and names.count(n) > 1})]
    problems += [ImportProblem(name, row, None, reason) for row, reason in stray]
    problems += header_problems(kind, name, [n for n in names if n.strip()])
    if problems:
        return None, problems
    columns = ", ".join(f"_{i} AS {_sql_name(n)}" for i, n in enumerate(names))
    return (_Staged(kind, name, tuple(names), f"(SELECT _row, {columns} FROM {source})", params),
            problems)


def header_problems(kind: str, name: str, names: Sequence[str]) -> list[ImportProblem]:
    expected = COLUMNS[kind]
    problems = [
        ImportProblem(name, None, column, "missing column")
        for column in expected
        if column not in names and column not in OPTIONAL_COLUMNS[kind]
    ]
    problems += [
        ImportProblem(
            name, None, column,
            f"unexpected column; {kind} files have exactly the columns {', '.join(expected)}"
            + (f" ({', '.join(OPTIONAL_COLUMNS[kind])} optional)" if OPTIONAL_COLUMNS[kind] else ""),
        )
        for column in names
        if column not in expected and column != "_row"
    ]
    if "_row" in names:
        problems.append(ImportProblem(name, None, "_row", "unexpected column"))
    return problems


# --- SQL forms of the value rules ----------------------------------------------------------------


def _q(text: str) -> str:
    """A SQL string literal of a constant defined in this module (never of file data)."""
    return "'" + text.replace("'", "''") + "'"


def _sql_blank(col: str) -> str:
    return f"({col} IS NULL OR trim({col}) = '')"


def _sql_text(col: str) -> str:
    """Optional text: blank becomes NULL, anything else is kept exactly."""
    return f"CASE WHEN {_sql_blank(col)} THEN NULL ELSE {col} END"


def sql_amount(col: str, *, zero_allowed: bool = False) -> str:
    """The amount in text column ``col`` as DECIMAL(18,2), NULL where ``amount_problem`` objects."""
    lowest = ">= 0" if zero_allowed else "> 0"
    value = f"TRY_CAST({col} AS DECIMAL(38,2))"
    return (
        f"CASE WHEN regexp_full_match({col}, {_q(AMOUNT_PATTERN)}) AND {value} {lowest} "
        f"AND {value} <= {MAX_AMOUNT} THEN CAST({col} AS DECIMAL(18,2)) END"
    )


def sql_whole_number(col: str, *, max_value: int = BIGINT_MAX) -> str:
    """The whole number in ``col`` as BIGINT, NULL where ``whole_number_problem`` objects."""
    value = f"TRY_CAST({col} AS HUGEINT)"
    return (
        f"CASE WHEN regexp_full_match({col}, {_q(WHOLE_NUMBER_PATTERN)}) "
        f"AND {value} BETWEEN 1 AND {max_value} THEN CAST({col} AS BIGINT) END"
    )


def sql_created_at(col: str, *, now: dt.datetime) -> str:
    """``col`` as a naive UTC TIMESTAMP (the cursor's time zone is UTC), NULL where
    ``parse_created_at`` objects for an import made at ``now``: the pattern and the window are the
    same, DuckDB's cast checks the calendar."""
    moment = f"make_timestamp(epoch_us(TRY_CAST({col} AS TIMESTAMPTZ)))"
    earliest = CREATED_AT_WINDOW.earliest.isoformat(sep=" ")
    latest = CREATED_AT_WINDOW.latest(now).isoformat(sep=" ")
    return (
        f"CASE WHEN regexp_full_match({col}, {_q(CREATED_AT_PATTERN)}) "
        f"AND {moment} BETWEEN TIMESTAMP {_q(earliest)} AND TIMESTAMP {_q(latest)} "
        f"THEN {moment} END"
    )


def _sql_in(values: Iterable[str]) -> str:
    return "(" + ", ".join(_q(v) for v in values) + ")"


# --- checks --------------------------------------------------------------------------------------

class _Checker:
    """Runs every check over the staging tables in one cursor; collects (kind, row, column, reason)."""

    def __init__(self, cur, now: dt.datetime) -> None:
        self.cur = cur
        self.now = now  # the import's time, where the window of order dates ends
        self.found: list[tuple[str, int, str, str]] = []

    def rows(self, sql: str, params: Sequence = ()) -> list[tuple]:
        return self.cur.execute(sql, list(params)).fetchall()

    def add(self, kind: str, found: Iterable[tuple[int, str, str]]) -> None:
        self.found.extend((kind, row, column, reason) for row, column, reason in found)

    def reasons(self, kind: str, sql: str, column: str) -> None:
        """A query returning (row, reason)."""
        self.add(kind, ((row, column, reason) for row, reason in self.rows(sql)))

    def explained(self, kind: str, table: str, column: str, typed: str,
                  explain: Callable[[str | None], str | None], *, required: bool = True) -> None:
        """Rows whose typed value is NULL, worded by the pure rule ``explain``."""
        where = f"{typed} IS NULL" + ("" if required else f" AND NOT {_sql_blank(column + '_text')}")
        for row, text in self.rows(f"SELECT _row, {column}_text FROM {table} WHERE {where}"):
            self.add(kind, [(row, column, explain(text) or f"is not valid ({_shown(str(text))})")])

    def required(self, kind: str, table: str, columns: Sequence[str]) -> None:
        for column in columns:
            self.reasons(kind, f"SELECT _row, 'is empty' FROM {table} WHERE {_sql_blank(column)}",
                         column)


def _stage(cur, staged: dict[str, _Staged], now: dt.datetime) -> None:
    """Typed temporary tables of the files' text (an absent file: none of its rows).

    DuckDB reads each file straight into them; the typed tables hold the value or NULL where the
    value is invalid, beside the text (``<column>_text``) for the report.
    """
    sources: dict[str, tuple[str, list]] = {}
    for kind in KINDS:
        columns = COLUMNS[kind]
        if kind in staged:
            one = staged[kind]
            present = set(one.columns)
            select = ", ".join(
                f'CAST("{c}" AS VARCHAR) AS {c}' if c in present else f"CAST(NULL AS VARCHAR) AS {c}"
                for c in columns
            )
            sources[kind] = (f"(SELECT CAST(_row AS BIGINT) AS _row, {select} FROM {one.source})",
                             one.params)
        else:
            select = ", ".join(f"CAST(NULL AS VARCHAR) AS {c}" for c in columns)
            sources[kind] = (f"(SELECT CAST(NULL AS BIGINT) AS _row, {select} WHERE false)", [])
    cur.execute(f"""
        CREATE OR REPLACE TEMP TABLE v_stores AS
        SELECT _row, store_id, store_name, {_sql_text('store_address')} AS store_address,
               {_sql_text('merchant_store_id')} AS merchant_store_id, {_sql_text('brand')} AS brand,
               legal_entity, region, zone
        FROM {sources['stores'][0]}""", sources["stores"][1])
    cur.execute(f"""
        CREATE OR REPLACE TEMP TABLE v_orders AS
        SELECT _row,
               order_id AS order_id_text, {sql_whole_number('order_id')} AS order_id,
               created_at AS created_at_text, {sql_created_at('created_at', now=now)} AS created_at,
               {_sql_text('merchant_order_id')} AS merchant_order_id,
               amount AS amount_text, {sql_amount('amount')} AS amount,
               refunded_amount AS refunded_amount_text,
               {sql_amount('refunded_amount', zero_allowed=True)} AS refunded_amount,
               status, channel, {_sql_text('email')} AS email, {_sql_text('phone')} AS phone,
               store_id, {_sql_text('salesperson_id')} AS salesperson_id,
               {_sql_text('salesperson_name')} AS salesperson_name
        FROM {sources['orders'][0]}""", sources["orders"][1])
    cur.execute(f"""
        CREATE OR REPLACE TEMP TABLE v_items AS
        SELECT _row,
               order_id AS order_id_text, {sql_whole_number('order_id')} AS order_id,
               line_no AS line_no_text, {sql_whole_number('line_no', max_value=INTEGER_MAX)} AS line_no,
               name,
               quantity AS quantity_text,
               {sql_whole_number('quantity', max_value=INTEGER_MAX)} AS quantity,
               unit_price AS unit_price_text,
               {sql_amount('unit_price', zero_allowed=True)} AS unit_price
        FROM {sources['items'][0]}""", sources["items"][1])
    # Orders that have refunds in the database: their amount and lines are frozen.
    cur.execute("""
        CREATE OR REPLACE TEMP TABLE refunded_orders AS
        SELECT order_id FROM orders
        WHERE refunded_amount > 0
          AND order_id IN (SELECT order_id FROM v_orders UNION SELECT order_id FROM v_items)
        UNION
        SELECT order_id FROM order_items
        WHERE refunded_quantity > 0
          AND order_id IN (SELECT order_id FROM v_orders UNION SELECT order_id FROM v_items)""")


def _check_stores(c: _Checker) -> None:
    c.required("stores", "v_stores", ("store_id", "store_name", "legal_entity", "region", "zone"))
    c.reasons("stores", """
        SELECT _row, format('duplicate store_id {} (first in row {})', store_id, first_row)
        FROM (SELECT _row, store_id, min(_row) OVER (PARTITION BY store_id) AS first_row
              FROM v_stores WHERE store_id IS NOT NULL)
        WHERE _row > first_row""", "store_id")


def _check_orders(c: _Checker) -> None:
    k, t = "orders", "v_orders"
    c.explained(k, t, "order_id", "order_id", whole_number_problem)
    c.reasons(k, """
        SELECT _row, format('duplicate order_id {} (first in row {})', order_id, first_row)
        FROM (SELECT _row, order_id, min(_row) OVER (PARTITION BY order_id) AS first_row
              FROM v_orders WHERE order_id IS NOT NULL)
        WHERE _row > first_row""", "order_id")
    c.explained(k, t, "created_at", "created_at",
                lambda text: created_at_problem(text, now=c.now))
    c.explained(k, t, "amount", "amount", amount_problem)
    c.explained(k, t, "refunded_amount", "refunded_amount",
                lambda text: amount_problem(text, zero_allowed=True), required=False)
    c.required(k, t, ("status", "channel", "store_id"))
    c.reasons(k, f"""
        SELECT _row, format('unknown status {{}} (use {', '.join(STATUSES)})', status)
        FROM v_orders WHERE NOT {_sql_blank('status')} AND status NOT IN {_sql_in(STATUSES)}""",
              "status")
    c.reasons(k, f"""
        SELECT _row, format('unknown channel {{}} (use online or offline)', channel)
        FROM v_orders WHERE NOT {_sql_blank('channel')} AND channel NOT IN {_sql_in(CHANNELS)}""",
              "channel")
    c.reasons(k, """
        SELECT _row, 'an offline order is never Pending'
        FROM v_orders WHERE channel = 'offline' AND status = 'Pending'""", "status")
    c.reasons(k, f"""
        SELECT _row, format('unknown store {{}} (not in the stores file nor in the database)',
                            store_id)
        FROM v_orders o
        WHERE NOT {_sql_blank('store_id')}
          AND store_id NOT IN (SELECT store_id FROM stores)
          AND store_id NOT IN (SELECT store_id FROM v_stores WHERE store_id IS NOT NULL)""",
              "store_id")
    # The refunded amount as stated in the file (blank = not stated; see _write_orders).
    c.reasons(k, """
        SELECT _row, format('is greater than the amount ({} > {})', refunded_amount::VARCHAR, amount::VARCHAR)
        FROM v_orders WHERE refunded_amount > amount""", "refunded_amount")
    c.reasons(k, """
        SELECT _row, format('a Return is fully refunded: it must equal the amount ({} ≠ {})',
                            refunded_amount::VARCHAR, amount::VARCHAR)
        FROM v_orders
        WHERE status = 'Return' AND refunded_amount <> amount AND refunded_amount <= amount""",
              "refunded_amount")
    c.reasons(k, """
        SELECT _row, format('a {} order has no refunds: it must be 0 or empty ({})',
                            status, refunded_amount::VARCHAR)
        FROM v_orders WHERE status IN ('Pending', 'Cancel') AND refunded_amount > 0""",
              "refunded_amount")
    # A status sync of orders already in the database.
    allowed = [f"{old}>{new}" for old, news in ALLOWED_STATUS_CHANGES.items() for new in news]
    for row, order_id, current, requested in c.rows(f"""
            SELECT o._row, o.order_id, db.status, o.status
            FROM v_orders o JOIN orders db USING (order_id)
            WHERE o.status IN {_sql_in(STATUSES)}
              AND db.status || '>' || o.status NOT IN {_sql_in(allowed)}"""):
        reason = status_change_problem(current, requested)
        c.add(k, [(row, "status", f"order {order_id}: {reason}")])
    c.reasons(k, """
        SELECT o._row, format('would lower the refunded amount of order {} from {} to {}',
                              order_id, db.refunded_amount::VARCHAR, o.refunded_amount::VARCHAR)
        FROM v_orders o JOIN orders db USING (order_id)
        WHERE o.refunded_amount < db.refunded_amount""", "refunded_amount")
    c.reasons(k, """
        SELECT o._row, format('order {} has refunds: its amount cannot change ({} → {})',
                              order_id, db.amount::VARCHAR, o.amount::VARCHAR)
        FROM v_orders o JOIN orders db USING (order_id)
        WHERE o.amount <> db.amount AND order_id IN (SELECT order_id FROM refunded_orders)""",
              "amount")
    # DuckDB cannot update the store_id of an order that has lines or events (its foreign keys
    # are checked as if the row were deleted), and an order does not move between stores anyway.
    c.reasons(k, """
        SELECT o._row, format('order {} belongs to store {}: an import cannot move it to another store',
                              order_id, db.store_id)
        FROM v_orders o JOIN orders db USING (order_id)
        WHERE o.store_id <> db.store_id""", "store_id")


def _check_items(c: _Checker) -> None:
    k, t = "items", "v_items"
    c.explained(k, t, "order_id", "order_id", whole_number_problem)
    c.reasons(k, """
        SELECT _row, format('unknown order {} (not in the orders file nor in the database)',
                            order_id)
        FROM v_items
        WHERE order_id IS NOT NULL
          AND order_id NOT IN (SELECT order_id FROM orders)
          AND order_id NOT IN (SELECT order_id FROM v_orders WHERE order_id IS NOT NULL)""",
              "order_id")
    c.explained(k, t, "line_no", "line_no",
                lambda text: whole_number_problem(text, max_value=INTEGER_MAX))
    c.required(k, t, ("name",))
    c.explained(k, t, "quantity", "quantity",
                lambda text: whole_number_problem(text, max_value=INTEGER_MAX))
    c.explained(k, t, "unit_price", "unit_price",
                lambda text: amount_problem(text, zero_allowed=True))
    c.reasons(k, """
        SELECT _row, format('duplicate line {} of order {} (first in row {})',
                            line_no, order_id, first_row)
        FROM (SELECT _row, order_id, line_no,
                     min(_row) OVER (PARTITION BY order_id, line_no) AS first_row
              FROM v_items WHERE order_id IS NOT NULL AND line_no IS NOT NULL)
        WHERE _row > first_row""", "line_no")
    locked = "i.order_id IN (SELECT order_id FROM refunded_orders)"
    c.reasons(k, f"""
        SELECT i._row, format('order {{}} has refunds: a line cannot be added to it (line {{}})',
                              i.order_id, i.line_no)
        FROM v_items i LEFT JOIN order_items db USING (order_id, line_no)
        WHERE {locked} AND db.order_id IS NULL""", "line_no")
    for column in ("name", "quantity", "unit_price"):
        c.reasons(k, f"""
            SELECT i._row, format('order {{}} has refunds: its lines cannot change ({{}} → {{}})',
                                  i.order_id, db.{column}::VARCHAR, i.{column}::VARCHAR)
            FROM v_items i JOIN order_items db USING (order_id, line_no)
            WHERE {locked} AND i.{column} IS DISTINCT FROM db.{column}
              AND i.{column} IS NOT NULL""", column)


# --- writing -------------------------------------------------------------------------------------

_ORDER_VALUE_COLUMNS = (
    "created_at", "merchant_order_id", "amount", "refunded_amount", "status", "channel", "email",
    "phone", "phone_digits", "salesperson_id", "salesperson_name",
)


def _counts(cur, table: str) -> tuple[int, int, int]:
    added, changed, total = cur.execute(
        f"SELECT count(*) FILTER (is_new), count(*) FILTER (is_changed), count(*) FROM {table}"
    ).fetchone()
    return added, changed, total - added - changed


def _distinct(columns: Iterable[str], left: str = "w", right: str = "db") -> str:
    return " OR ".join(f"{left}.{c} IS DISTINCT FROM {right}.{c}" for c in columns)


def _write(cur, report: ImportReport, orders_file: str | None, now: dt.datetime) -> None:
    store_values = STORE_COLUMNS[1:]
    cur.execute(f"""
        CREATE OR REPLACE TEMP TABLE w_stores AS
        SELECT s.*, db.store_id IS NULL AS is_new,
               db.store_id IS NOT NULL AND ({_distinct(store_values, 's')}) AS is_changed
        FROM v_stores s LEFT JOIN stores db USING (store_id)""")
    cur.execute(f"""
        UPDATE stores SET {', '.join(f'{c} = w.{c}' for c in store_values)}
        FROM w_stores w WHERE stores.store_id = w.store_id AND w.is_changed""")
    cur.execute(f"""
        INSERT INTO stores ({', '.join(STORE_COLUMNS)})
        SELECT {', '.join(STORE_COLUMNS)} FROM w_stores WHERE is_new""")
    report.added["stores"], report.updated["stores"], report.unchanged["stores"] = \
        _counts(cur, "w_stores")

    # A blank refunded_amount states nothing: a Return is fully refunded, an order already in the
    # database keeps its refunds (made in the app), a new order has none.
    cur.execute(f"""
        CREATE OR REPLACE TEMP TABLE w_orders AS
        WITH n AS (
            SELECT o.order_id, o.created_at, o.merchant_order_id, o.amount,
                   CASE WHEN o.refunded_amount IS NOT NULL THEN o.refunded_amount
                        WHEN o.status = 'Return' THEN o.amount
                        WHEN db.order_id IS NOT NULL THEN db.refunded_amount
                        ELSE 0 END AS refunded_amount,
                   o.status, o.channel, o.email, o.phone,
                   NULLIF(regexp_replace(coalesce(o.phone, ''), '[^0-9]', '', 'g'), '')
                       AS phone_digits,
                   o.store_id, o.salesperson_id, o.salesperson_name,
                   db.order_id IS NULL AS is_new, db.refunded_amount AS old_refunded_amount,
                   db.status AS old_status,
                   {', '.join(f'db.{c} AS old_{c}' for c in _ORDER_VALUE_COLUMNS
                              if c not in ('refunded_amount', 'status'))}
            FROM v_orders o LEFT JOIN orders db USING (order_id))
        SELECT {', '.join(c for c in ('order_id', *_ORDER_VALUE_COLUMNS, 'store_id', 'is_new',
                                      'old_refunded_amount', 'old_status'))},
               NOT is_new AND ({' OR '.join(
                   f'{c} IS DISTINCT FROM old_{c}' for c in _ORDER_VALUE_COLUMNS)}) AS is_changed
        FROM n""")
    # Foreign keys are checked eagerly (docs/stack-facts.md, DuckDB): orders are updated and
    # inserted before the events that reference them, and an update never touches store_id.
    cur.execute(f"""
        UPDATE orders SET {', '.join(f'{c} = w.{c}' for c in _ORDER_VALUE_COLUMNS)}
        FROM w_orders w WHERE orders.order_id = w.order_id AND w.is_changed""")
    all_order_columns = ("order_id", *_ORDER_VALUE_COLUMNS, "store_id")
    cur.execute(f"""
        INSERT INTO orders ({', '.join(all_order_columns)})
        SELECT {', '.join(all_order_columns)} FROM w_orders WHERE is_new""")
    report.added["orders"], report.updated["orders"], report.unchanged["orders"] = \
        _counts(cur, "w_orders")
    index_orders(cur, "o.order_id IN (SELECT order_id FROM w_orders WHERE is_new OR is_changed)")

    reason = f"Imported from {orders_file}"
    refunds = cur.execute("""
        INSERT INTO order_events (order_id, kind, amount, reason, username, created_at,
                                  idempotency_key)
        SELECT order_id, 'refund', refunded_amount - coalesce(old_refunded_amount, 0), ?, ?, ?,
               'import-' || CAST(uuid() AS VARCHAR)
        FROM w_orders WHERE refunded_amount > coalesce(old_refunded_amount, 0)""",
        [reason, IMPORT_USERNAME, now]).fetchone()[0]
    cancels = cur.execute("""
        INSERT INTO order_events (order_id, kind, amount, reason, username, created_at,
                                  idempotency_key)
        SELECT order_id, 'cancel', 0, ?, ?, ?, 'import-' || CAST(uuid() AS VARCHAR)
        FROM w_orders WHERE status = 'Cancel' AND coalesce(old_status, '') <> 'Cancel'""",
        [reason, IMPORT_USERNAME, now]).fetchone()[0]
    report.refund_events, report.cancel_events = refunds, cancels
    report.added["order_events"] = refunds + cancels

    item_values = ("name", "quantity", "unit_price")
    cur.execute(f"""
        CREATE OR REPLACE TEMP TABLE w_items AS
        SELECT i.order_id, i.line_no, i.name, i.quantity, i.unit_price,
               db.order_id IS NULL AS is_new,
               db.order_id IS NOT NULL AND ({_distinct(item_values, 'i')}) AS is_changed
        FROM v_items i LEFT JOIN order_items db USING (order_id, line_no)""")
    cur.execute(f"""
        UPDATE order_items SET {', '.join(f'{c} = w.{c}' for c in item_values)}
        FROM w_items w
        WHERE order_items.order_id = w.order_id AND order_items.line_no = w.line_no
          AND w.is_changed""")
    cur.execute("""
        INSERT INTO order_items (order_id, line_no, name, quantity, unit_price)
        SELECT order_id, line_no, name, quantity, unit_price FROM w_items WHERE is_new""")
    report.added["order_items"], report.updated["order_items"], report.unchanged["order_items"] = \
        _counts(cur, "w_items")


# --- the entry point -----------------------------------------------------------------------------


def import_files(
    database,
    stores: Path | str | None = None,
    orders: Path | str | None = None,
    items: Path | str | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Check every row of the given files, then load them in one transaction.

    Raises ``ImportRejected`` (with ``problems``, one ``ImportProblem`` per bad row and column)
    when anything is wrong, having written nothing. ``progress(fraction, message)`` is called as
    the work goes on, for a progress bar.
    """
    def step(fraction: float, message: str) -> None:
        if progress is not None:
            progress(fraction, message)

    paths = {k: Path(p) for k, p in (("stores", stores), ("orders", orders), ("items", items)) if p}
    if not paths:
        raise InvalidInput("Give at least one file to import: stores, orders or items.")
    with tempfile.TemporaryDirectory(prefix="orderdesk-import-") as scratch, \
            _import_memory(database):
        return _import_files(database, paths, step, Path(scratch))


_SIZE_POWERS = {"": 0, "K": 1, "M": 2, "G": 3, "T": 4}


def _size_bytes(text: str) -> float:
    """'400MB', '1.5GB' or '512MiB' as bytes, as DuckDB reads them (MB: 10^6, MiB: 2^20)."""
    match = re.fullmatch(r"\s*([0-9.]+)\s*([KMGT]?)(i?)B\s*", text, re.IGNORECASE)
    if not match:
        raise ValueError(f"not a memory size: {text!r}")
    base = 1024 if match.group(3) else 1000
    return float(match.group(1)) * base ** _SIZE_POWERS[match.group(2).upper()]


@contextlib.contextmanager
def _import_memory(database) -> Iterator[None]:
    """DuckDB's memory limit raised to ``IMPORT_MEMORY_LIMIT`` for the import when the store was
    opened with a lower one (the setting is the database's, shared by every cursor), and set back
    to it after. A store opened without a limit has DuckDB's default, most of the machine's."""
    kept = database.memory_limit
    raised = kept is not None and _size_bytes(kept) < _size_bytes(IMPORT_MEMORY_LIMIT)
    if raised:
        with database.cursor() as cur:
            cur.execute(f"SET memory_limit = '{IMPORT_MEMORY_LIMIT}'")
    try:
        yield
    finally:
        if raised:
            with database.cursor() as cur:
                cur.execute(f"SET memory_limit = '{kept}'")


def _import_files(database, paths: dict[str, Path], step: Progress, scratch: Path) -> ImportReport:
    staged: dict[str, _Staged] = {}
    problems: list[ImportProblem] = []
    for i, (kind, path) in enumerate(paths.items()):
        step(0.4 * i / len(paths), f"Reading {path.name}")
        one, found = _read_file(database, kind, path, scratch)
        problems += found
        if one is not None:
            staged[kind] = one
    if problems:
        raise _rejected(problems, [p.name for p in paths.values()])

    names = tuple(path.name for path in paths.values())
    report = ImportReport(files=names)
    batch = str(uuid.uuid4())
    now = _utc_now()
    with database.transaction() as cur:
        step(0.4, "Checking every row")
        _stage(cur, staged, now)
        checker = _Checker(cur, now)
        for kind, check in (("stores", _check_stores), ("orders", _check_orders),
                            ("items", _check_items)):
            if kind in staged:
                check(checker)
        if checker.found:
            problems = [
                ImportProblem(staged[kind].name, row, column, reason)
                for kind, row, column, reason in checker.found
            ]
            raise _rejected(problems, list(names), staged)
        step(0.7, "Writing")
        _write(cur, report, staged["orders"].name if "orders" in staged else None, now)
        cur.execute(
            "INSERT INTO meta VALUES ('last_import', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [json.dumps({"batch": batch, "at": now.isoformat(timespec="seconds") + "Z",
                         "files": list(names)})],
        )
    # A COMMIT after a conflict may return without raising while it rolled back
    # (docs/stack-facts.md, DuckDB).
    with database.cursor() as cur:
        marker = cur.execute("SELECT value FROM meta WHERE key = 'last_import'").fetchone()
    if not marker or json.loads(marker[0]).get("batch") != batch:
        raise DataUnavailable(
            "The import was not saved: the database changed at the same time. Nothing was "
            "written; try again."
        )
    step(1.0, "Done")
    return report


def _rejected(problems: list[ImportProblem], files: Sequence[str],
              staged: dict[str, _Staged] | None = None) -> ImportRejected:
    file_order = {name: i for i, name in enumerate(files)}

    def column_order(p: ImportProblem) -> int:
        for kind in KINDS:
            if staged and kind in staged and staged[kind].name == p.file and p.column in COLUMNS[kind]:
                return COLUMNS[kind].index(p.column)
        return -1

    problems = sorted(
        problems,
        key=lambda p: (file_order.get(p.file, 99), p.row or 0, column_order(p), p.reason),
    )
    bad_rows = {(p.file, p.row) for p in problems if p.row is not None}
    if bad_rows:
        summary = (f"Import refused: {len(problems):,} problem{'s' * (len(problems) != 1)} in "
                   f"{len(bad_rows):,} row{'s' * (len(bad_rows) != 1)}")
    else:
        summary = f"Import refused: {len(problems):,} problem{'s' * (len(problems) != 1)}"
    return ImportRejected(f"{summary}; nothing was written.", problems)
