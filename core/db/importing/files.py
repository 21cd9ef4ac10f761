"""An import file as a SQL relation of text: DuckDB reads CSV and Parquet files itself.

The rows never pass through Python, and DuckDB reads them from disk within its memory limit. A
spreadsheet arrives here already converted to Parquet (``core.importer.xlsx``). Every relation
has the file's columns as text and ``_row``, the data row's number from 1 in file order.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from core.errors import DataUnavailable
from core.i18n import N_, Message, N_plural
from core.importer.formats import Unreadable


@dataclass
class StagedFile:
    """One checked file of an import, ready to be staged."""

    kind: str
    name: str
    columns: tuple[str, ...]  # the file's header
    source: str  # a SQL relation of the file's rows: its columns as text, and ``_row``
    params: list


def sql_name(name: str) -> str:
    """A quoted SQL identifier (a header's name may hold any character)."""
    return '"' + name.replace('"', '""') + '"'


def read_with_duckdb(database, path: Path, csv_header: tuple[list[str], str] | None
                     ) -> tuple[list[str], str, list]:
    """The header's names of a CSV file (``csv_header``: its names and delimiter) or a Parquet
    file (None), and a relation DuckDB reads it through: every column as text, numbered ``_0``,
    ``_1``… in file order, and ``_row``.

    The whole file is scanned once here, so that a file DuckDB cannot read (a ragged line, a
    broken quote, bytes that are not UTF-8) raises ``Unreadable`` before any row is checked.
    """
    if csv_header is not None:
        names, delimiter = csv_header
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
            select = ", ".join(f"CAST({sql_name(n)} AS VARCHAR) AS _{i}"
                               for i, n in enumerate(names))
            # Rows are numbered in file order: DuckDB preserves the order of a scan (its
            # default ``preserve_insertion_order``) through a window without ORDER BY.
            source = f"(SELECT row_number() OVER () AS _row, {select} FROM {reader})"
            # Counting every column makes DuckDB parse and check every value of the file.
            cur.execute(f"SELECT count(*), {', '.join(f'count(_{i})' for i in range(len(names)))} "
                        f"FROM {source}", params).fetchone()
    except DataUnavailable as exc:
        raise Unreadable(_duckdb_reason(path, str(exc.__cause__ or exc))) from exc
    return names, source, params


def _duckdb_reason(path: Path, text: str) -> Message:
    """Why DuckDB could not read the file, from its error's ``text``, in the report's words
    (DuckDB's own words, English, quoted where nothing better is known)."""
    kind_name = "CSV" if path.suffix.lower() == ".csv" else "Parquet"
    line = re.search(r"CSV Error on Line: ([0-9]+)", text)
    expected = re.search(r"Expected Number of Columns: ([0-9]+)", text)
    if line and expected:
        return N_plural("cannot be read as CSV: line {line} does not have the header's {count} "
                        "value",
                        "cannot be read as CSV: line {line} does not have the header's {count} "
                        "values", int(expected.group(1)), line=line.group(1))
    if line:
        return Message(N_("cannot be read as CSV: line {line} is malformed"), line=line.group(1))
    first = next((part for part in text.splitlines() if part.strip()), text)
    return Message(N_("cannot be read as {format}: {error}"), format=kind_name,
                   error=first.strip())


def converted_source(path: Path) -> tuple[str, list]:
    """The relation of a spreadsheet's rows converted to the Parquet file ``path``."""
    return "read_parquet(?)", [str(path)]


def staged_file(kind: str, name: str, names: list[str], source: str, params: list) -> StagedFile:
    """The file's relation with its header's names for the numbered columns of ``source``."""
    columns = ", ".join(f"_{i} AS {sql_name(n)}" for i, n in enumerate(names))
    return StagedFile(kind, name, tuple(names), f"(SELECT _row, {columns} FROM {source})", params)
