"""Reading one import file: its type by extension, its header sniffed and checked.

A CSV file's delimiter is the one that splits its header into the most expected names. The rows
themselves are read by DuckDB (``core.db.importing.files``), a spreadsheet's after its conversion
(``core.importer.xlsx``); what comes back is a relation of the file's rows, or the problems that
refuse the file.
"""
from __future__ import annotations

import csv
from pathlib import Path

from core.db.importing.files import (
    StagedFile, converted_source, read_with_duckdb, staged_file,
)
from core.i18n import N_, Message
from core.importer.formats import COLUMNS, EXTENSIONS, Unreadable, header_problems
from core.importer.report import ImportProblem
from core.importer.xlsx import read_xlsx

_CSV_DELIMITERS = (",", ";", "\t", "|")


def csv_header(path: Path, kind: str) -> tuple[list[str], str]:
    """The header's names and the delimiter that splits it into the most expected names."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            first = fh.readline()
    except UnicodeDecodeError as exc:
        raise Unreadable(Message(N_("is not UTF-8 text"))) from exc
    if not first.strip():
        raise Unreadable(Message(N_("is empty: the first line must be the header")))
    best: tuple[int, list[str], str] | None = None
    for delimiter in _CSV_DELIMITERS:
        names = next(csv.reader([first.rstrip("\r\n")], delimiter=delimiter))
        score = sum(n in COLUMNS[kind] for n in names)
        if best is None or score > best[0]:
            best = (score, names, delimiter)
    assert best is not None
    return best[1], best[2]


def _rows_source(database, kind: str, path: Path, scratch: Path
                 ) -> tuple[list[str], str, list, list[tuple[int, str]]]:
    """The header's names, a relation of the rows (empty when the header has duplicate names,
    which the caller reports) and (row, reason) for stray spreadsheet values."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        converted = scratch / f"{kind}.parquet"
        names, stray = read_xlsx(path, converted)
        return (names, *converted_source(converted), stray)
    header = None
    if suffix == ".csv":
        header = csv_header(path, kind)
        if len(set(header[0])) < len(header[0]):
            return header[0], "", [], []
    return (*read_with_duckdb(database, path, header), [])


def read_file(database, kind: str, path: Path, scratch: Path
              ) -> tuple[StagedFile | None, list[ImportProblem]]:
    """The file's header checked and a relation of its rows; ``scratch`` is a folder for the
    spreadsheet's converted rows, kept until the import ends."""
    name = path.name
    if path.suffix.lower() not in EXTENSIONS:
        return None, [ImportProblem(name, None, None, Message(N_(
            "is not a .csv, .parquet or .xlsx file; the file type is chosen by its extension")))]
    if not path.is_file():
        return None, [ImportProblem(name, None, None,
                                    Message(N_("no such file ({path})"), path=str(path)))]
    try:
        names, source, params, stray = _rows_source(database, kind, path, scratch)
    except Unreadable as exc:
        return None, [ImportProblem(name, None, None, exc.reason)]
    problems = [ImportProblem(name, None, None,
                              Message(N_("column {number} has no name"), number=str(i)))
                for i, n in enumerate(names, start=1) if not n.strip()]
    problems += [ImportProblem(name, None, n, Message(N_("this column appears more than once")))
                 for n in sorted({n for n in names if n.strip() and names.count(n) > 1})]
    problems += [ImportProblem(name, row, None, reason) for row, reason in stray]
    problems += header_problems(kind, name, [n for n in names if n.strip()])
    if problems:
        return None, problems
    return staged_file(kind, name, names, source, params), problems
