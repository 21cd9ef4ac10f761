"""What an import file is: its kinds, their exact columns, the file types, and the limits.

A file is chosen by its extension (CSV, Parquet or XLSX, docs/design.md §7) and its header must
name exactly its kind's columns. Row numbers in every report count data rows under the header.
"""
from __future__ import annotations

from collections.abc import Sequence

from core.i18n import N_, Message
from core.importer.report import ImportProblem

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

IMPORT_USERNAME = "import"  # the user of the refunds and cancels an import records

IMPORT_MEMORY_LIMIT = "400MB"
"""DuckDB's memory during an import, the command line's and the app's (whose own, smaller limit
is raised to this while an import runs, then set back). DuckDB spills what does not fit to a
temporary folder beside the database. Measured through ``python -m core import``
(``scripts/measure_import.py``): 5,000,000 orders from a 614 MB CSV peaked at 631 MB RSS for the
whole process (52 s on a quiet machine, 157 s on a busy one); without a limit at 3.3 GB, and
through an Arrow table in Python at 4.2 GB. At 256 MB the commit of 5,000,000 new orders ran out
of memory: the indexes of their keys are held in it."""


class Unreadable(Exception):
    """A file that cannot be read at all; the message says why (``reason``: a
    ``core.i18n.Message``, or plain English text)."""

    @property
    def reason(self) -> str:
        return self.args[0] if self.args else ""


def header_problems(kind: str, name: str, names: Sequence[str]) -> list[ImportProblem]:
    """What is wrong with the header ``names`` of the ``kind`` file ``name``: missing columns,
    unexpected ones."""
    expected, optional = COLUMNS[kind], OPTIONAL_COLUMNS[kind]
    problems = [
        ImportProblem(name, None, column, Message(N_("missing column")))
        for column in expected
        if column not in names and column not in optional
    ]
    if optional:
        unexpected = Message(N_("unexpected column; {kind} files have exactly the columns "
                                "{columns} ({optional} optional)"), kind=kind,
                             columns=", ".join(expected), optional=", ".join(optional))
    else:
        unexpected = Message(N_("unexpected column; {kind} files have exactly the columns "
                                "{columns}"), kind=kind, columns=", ".join(expected))
    problems += [ImportProblem(name, None, column, unexpected)
                 for column in names if column not in expected and column != "_row"]
    if "_row" in names:
        problems.append(ImportProblem(name, None, "_row", Message(N_("unexpected column"))))
    return problems
