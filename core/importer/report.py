"""What an import tells its caller: the problems that refused it, or what it wrote.

``ImportProblem`` names one reason (file, row, column) an import was refused; ``rejected`` sorts
them into the ``ImportRejected`` error the command line and the Data page show. ``ImportReport``
counts the rows a successful import added, updated and left unchanged.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter

from core.errors import ImportRejected
from core.i18n import Message, N_plural, fill, format_count, translator

TABLES = ("stores", "orders", "order_items", "order_events")

Progress = Callable[[float, str], None]
"""``progress(fraction, message)``, called as an import goes on (for a progress bar)."""


@dataclass(frozen=True)
class ImportProblem:
    """One reason an import was refused: a bad row's column, or a problem of a whole file.

    ``ImportProblem(file, row, column, reason)``, the reason a ``core.i18n.Message`` (or English
    text without values). The problem keeps the reason's template, its values (the file's values,
    quoted and cut as the English text quotes them) and its plural form, not its text: ``reason``
    writes it in English (the command line's words), ``reason_in`` in a user's language (the Data
    page). A refusal may hold a million problems: ``values`` is a dict of strings, which the
    garbage collector does not track, and no English text is held (docs/stack-facts.md, Babel:
    a ``Message`` per problem made a refusal of 400,000 problems 2.5 times as slow)."""

    file: str
    row: int | None
    column: str | None
    template: str
    values: Mapping[str, object] = field(default_factory=dict, hash=False)  # not to be changed
    plural: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.template, Message):  # a reason given whole: kept as its parts
            reason = self.template
            object.__setattr__(self, "template", reason.template)
            object.__setattr__(self, "values", reason.values)
            object.__setattr__(self, "plural", reason.plural)

    @property
    def reason(self) -> str:
        """The reason in English."""
        if not self.values:
            return self.template
        plain = self.plural is None or self.values["count"] == 1
        return fill(self.template if plain else self.plural, self.values)

    def message(self) -> Message:
        """The reason as a ``Message`` (its English text, and what translates it)."""
        if self.plural is None:
            return Message(self.template, **self.values)
        values = dict(self.values)
        return N_plural(self.template, self.plural, values.pop("count"), **values)

    def reason_in(self, lang: str | None) -> str:
        """The reason in ``lang`` (English, unknown or None: ``reason`` itself)."""
        return self.message().translated(translator(lang))

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

    placed = sorted((((file_order.get(p.file, 99), p.row or 0, column_order(p)), p)
                     for p in problems), key=itemgetter(0))
    # Problems in the same place (a file's own, a row's in one column: few) in their reasons'
    # order: only those are written out in English to be sorted.
    problems = []
    for _place, same in groupby(placed, key=itemgetter(0)):
        same = [p for _, p in same]
        problems += same if len(same) == 1 else sorted(same, key=lambda p: p.reason)
    bad_rows = {(p.file, p.row) for p in problems if p.row is not None}
    if bad_rows:
        summary = (f"Import refused: {len(problems):,} problem{'s' * (len(problems) != 1)} in "
                   f"{len(bad_rows):,} row{'s' * (len(bad_rows) != 1)}")
    else:
        summary = f"Import refused: {len(problems):,} problem{'s' * (len(problems) != 1)}"
    return ImportRejected(f"{summary}; nothing was written.", problems)
