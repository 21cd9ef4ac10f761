"""Loading stores, orders and item lines from CSV, Parquet or XLSX files (docs/design.md §7).

Every row of every file is checked before anything is written: one bad row refuses the whole
import, and the report names each problem (file, row, column, reason). A clean import is written
in one transaction, and a re-imported order is updated within the status rules of §3 (a status
sync, ``core.status.IMPORT_MOVES``), never lowering a refund nor changing the amount or lines of
an order that has refunds. Refunds and cancels that an import brings in are recorded in
``order_events`` like any other, so the refunded amount always equals the sum of its refunds.

Row numbers count data rows under the header, from 1; blank lines (empty spreadsheet rows) are
not counted. "row 5" is the 5th data row: line 6 of a CSV file, spreadsheet row 6.

The package, by job: ``formats`` (the files' columns and the limits), ``values`` (the pure rules
of a value), ``xlsx`` (the bounded spreadsheet reader), ``files`` (a file's type and header),
``report`` (problems and counts), ``run`` (``import_files``, the orchestration). Its SQL — DuckDB
reading the files, the checks over whole files and the merge — is ``core.db.importing``.

An import's memory is bounded: DuckDB reads the files from disk under ``IMPORT_MEMORY_LIMIT``,
and a spreadsheet is read within ``XLSX_MAX_ROWS``, ``XLSX_MAX_COLUMNS`` and
``XLSX_MAX_UNPACKED_BYTES``.
"""
# The pure modules first: core.db.importing, which ``run`` uses, imports them.
from core.importer.report import ImportProblem, ImportReport, Progress, TABLES
from core.importer.formats import (
    COLUMNS, EXTENSIONS, IMPORT_MEMORY_LIMIT, IMPORT_USERNAME, ITEM_COLUMNS, KINDS,
    OPTIONAL_COLUMNS, ORDER_COLUMNS, ROW_NUMBER_HELP, STORE_COLUMNS, header_problems,
)
from core.importer.values import (
    AMOUNT_PATTERN, CREATED_AT_PATTERN, CREATED_AT_WINDOW, WHOLE_NUMBER_PATTERN, DateWindow,
    amount_problem, created_at_problem, parse_created_at, parse_import_amount, start_problem,
    status_change_problem, whole_number_problem,
)
from core.importer.xlsx import XLSX_MAX_COLUMNS, XLSX_MAX_ROWS, XLSX_MAX_UNPACKED_BYTES
from core.importer.run import import_files
from core.db.importing.sql import sql_amount, sql_created_at, sql_whole_number
from core.phones import phone_digits

__all__ = [
    "AMOUNT_PATTERN", "COLUMNS", "CREATED_AT_PATTERN", "CREATED_AT_WINDOW", "DateWindow",
    "EXTENSIONS", "IMPORT_MEMORY_LIMIT", "IMPORT_USERNAME", "ITEM_COLUMNS", "ImportProblem",
    "ImportReport", "KINDS", "OPTIONAL_COLUMNS", "ORDER_COLUMNS", "Progress", "ROW_NUMBER_HELP",
    "STORE_COLUMNS", "TABLES", "WHOLE_NUMBER_PATTERN", "XLSX_MAX_COLUMNS", "XLSX_MAX_ROWS",
    "XLSX_MAX_UNPACKED_BYTES", "amount_problem", "created_at_problem", "header_problems",
    "import_files", "parse_created_at", "parse_import_amount", "phone_digits", "sql_amount",
    "sql_created_at", "sql_whole_number", "start_problem", "status_change_problem",
    "whole_number_problem",
]
