"""What an import tells its caller: the problems that refused it, or what it wrote.

``ImportProblem`` names one reason (file, row, column) an import was refused; ``rejected`` sorts
them into the ``ImportRejected`` error the command line and the Data page show. ``ImportReport``
counts the rows a successful import added, updated and left unchanged.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from core.errors import ImportRejected
from core.i18n import format_count, translator

TABLES = ("stores", "orders", "order_items", "order_events")

Progress = Callable[[float, str], None]
"""``progress(fraction, message)``, called as an import goes on (for a progress bar)."""


@dataclass(frozen=True)
class ImportProblem:
    """One reason an import was refused: a bad row's column, or a problem of a whole file.

    ``reason`` is English (the command line's words), a ``core.i18n.Message`` that keeps its
    template and values (the file's values, quoted and cut as the English text quotes them), so
    that the Data page shows it in the user's language (``reason_in``)."""

    file: str
    row: int | None
    column: str | None
    reason: str

    def reason_in(self, lang: str | None) -> str:
        """The reason in ``lang`` (English, unknown or None: ``reason`` itself)."""
        t = translator(lang)
        translated = getattr(self.reason, "translated", None)
        return translated(t) if translated else t(self.reason)

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(self.column)
        return f"{', '.join(where)}: {self.reason}"


@dataclass
class ImportReport:
    """What a successful import wrote: rows added, updated and left unchanged per table."""

    files: tuple[str, ...]
    added: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))
    updated: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))
    unchanged: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))
    refund_events: int = 0
    cancel_events: int = 0

    def lines(self, lang: str | None = None) -> list[str]:
        """The report's lines, in English or in ``lang`` (``core.i18n.LANGUAGES``); the tables'
        names are the file kinds' and stay as they are."""
        t = translator(lang)

        def n(count: int) -> str:
            return f"{format_count(count, lang):>9}"

        out = [t("Imported {files}:").format(files=", ".join(self.files))]
        for table in TABLES[:3]:
            out.append(f"  {table:<12} " + t("{added} added  {updated} updated  {unchanged} "
                                             "unchanged").format(
                added=n(self.added[table]), updated=n(self.updated[table]),
                unchanged=n(self.unchanged[table])))
        events = t("{added} added ({refunds}, {cancels})").format(
            added=n(self.added["order_events"]),
            refunds=t.ngettext("{count} refund", "{count} refunds", self.refund_events).format(
                count=format_count(self.refund_events, lang)),
            cancels=t.ngettext("{count} cancel", "{count} cancels", self.cancel_events).format(
                count=format_count(self.cancel_events, lang)))
        out.append(f"  {'order_events':<12} {events}")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


def rejected(problems: list[ImportProblem], files: Sequence[str],
             columns: Sequence[tuple[str, Sequence[str]]] = ()) -> ImportRejected:
    """The error of a refused import: its problems in file, row and column order, and a summary.

    ``columns`` pairs each checked file's name with its kind's columns (in kinds' order), which
    orders a row's problems by the file format's columns; without it, by their reasons.
    """
    file_order = {name: i for i, name in enumerate(files)}

    def column_order(p: ImportProblem) -> int:
        for name, known in columns:
            if name == p.file and p.column in known:
                return list(known).index(p.column)
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
