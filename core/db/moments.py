"""Stored order times as dates: where every stored time crosses into Python (``read_moment``) and
into the export's and the Overview's dates (``readable_sql``, ``local_day_sql``).

A time no calendar can show (before 1970 or from 2200 on, in UTC) is flagged as ``InvalidDate``
here, never raised on a page: the order can still be found, opened and corrected.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from core.query import END_READABLE, FIRST_READABLE

UTC = ZoneInfo("UTC")


def readable_sql(column: str) -> str:
    """SQL: the stored time ``column`` is one orderdesk reads as a date (``FIRST_READABLE``),
    the same window as ``read_moment``'s."""
    return (f"({column} >= TIMESTAMP '{FIRST_READABLE}' "
            f"AND {column} < TIMESTAMP '{END_READABLE}')")


def local_day_sql(column: str) -> str:
    """SQL: the day of the stored time ``column`` in the display zone (the first parameter), NULL
    for a time that is not read as a date. (DuckDB converts only the rows the CASE lets through:
    its latest timestamps fail to convert at all.)"""
    return (f"CASE WHEN {readable_sql(column)} "
            f"THEN CAST(timezone(?, {column}::TIMESTAMPTZ) AS DATE) END")


@dataclass(frozen=True)
class InvalidDate:
    """A stored order time that is no date orderdesk can show (before 1970 or from 2200 on, in
    UTC: year 1 BC, year 10000, infinity…). It is shown as stored, so that the order can still
    be found, opened and corrected, and nobody takes it for a real date."""

    stored: str  # as DuckDB writes it: "0001-12-31 (BC) 23:00:00", "infinity"

    def __str__(self) -> str:
        return f"invalid date (stored: {self.stored})"


def read_moment(stored: str, tz: ZoneInfo) -> datetime | InvalidDate:
    """A stored time, read as text (``column::VARCHAR``), as an aware time in the display zone.

    Every stored time crosses into Python here. The driver would hand over a time outside
    Python's years as text and infinity as the largest datetime; read as text, every value is
    told apart, and the window (``readable_sql``) is the same as in SQL.
    """
    try:
        moment = datetime.fromisoformat(stored)
    except ValueError:  # a year before 1 or after 9999, infinity
        return InvalidDate(stored)
    if not FIRST_READABLE <= moment < END_READABLE:
        return InvalidDate(stored)
    return moment.replace(tzinfo=UTC).astimezone(tz)


def format_moment(moment: datetime | InvalidDate, pattern: str) -> str:
    """A time from ``read_moment`` as text: formatted with ``pattern``, or its flag."""
    return str(moment) if isinstance(moment, InvalidDate) else moment.strftime(pattern)
