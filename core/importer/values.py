"""The rules of an import file's values: amounts, whole numbers, order dates, statuses.

Each rule is a pure function that says why a text is not a valid value (or None when it is one);
the patterns and the date window are defined here once. ``core.db.importing`` applies the same
patterns and window to whole files in SQL and words each bad value with these functions, so a
million rows are checked in seconds; table tests keep the SQL and these functions equal.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from core.db.schema import BIGINT_MAX
from core.money import MAX_AMOUNT
from core.status import FINAL_STATUSES, Status, may_import, may_start

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


def shown(text: str, limit: int = 40) -> str:
    """A value as quoted in a reason: cut to ``limit`` characters."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def is_blank(text: object) -> bool:
    return text is None or (isinstance(text, str) and not text.strip())


def amount_problem(text: str | None, *, zero_allowed: bool = False) -> str | None:
    """Why ``text`` is not an amount of an import file, or None when it is one.

    An amount is digits with an optional '.' and at most 2 decimals, greater than 0 (an item's
    unit price and a refunded amount may be 0), at most ``MAX_AMOUNT``.
    """
    if is_blank(text):
        return "is empty"
    assert text is not None
    if not _AMOUNT_RE.fullmatch(text):
        if text != text.strip():
            return f"has spaces around the number ('{shown(text)}')"
        if many := _MANY_DECIMALS_RE.fullmatch(text):
            return f"has {len(many.group(1))} decimal places ({shown(text)})"
        if _NEGATIVE_RE.fullmatch(text):
            return f"must be {'0 or more' if zero_allowed else 'greater than 0'} ({shown(text)})"
        if re.fullmatch(r"[0-9]+,[0-9]+", text):
            return f"uses a comma ({shown(text)}); write the decimal point as '.'"
        return f"is not a number with at most 2 decimals, like 339.99 ({shown(text)})"
    value = Decimal(text)
    if value > MAX_AMOUNT:
        return f"is too large: at most {MAX_AMOUNT} ({shown(text)})"
    if value == 0 and not zero_allowed:
        return f"must be greater than 0 ({shown(text)})"
    return None


def parse_import_amount(text: str | None, *, zero_allowed: bool = False) -> Decimal:
    """The amount in ``text`` as an exact Decimal with 2 places; ``ValueError(reason)`` if invalid."""
    problem = amount_problem(text, zero_allowed=zero_allowed)
    if problem:
        raise ValueError(problem)
    return Decimal(text).quantize(Decimal("0.01"))  # type: ignore[arg-type]


def whole_number_problem(text: str | None, *, max_value: int = BIGINT_MAX) -> str | None:
    """Why ``text`` is not a whole number from 1 to ``max_value``, or None when it is one."""
    if is_blank(text):
        return "is empty"
    assert text is not None
    if not _WHOLE_RE.fullmatch(text):
        return f"is not a whole number ({shown(text)})"
    value = int(text)
    if value < 1:
        return f"must be 1 or more ({shown(text)})"
    if value > max_value:
        return f"is too large ({shown(text)})"
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


def utc_now() -> dt.datetime:
    """The current time as naive UTC, the form every stored time has."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def parse_created_at(text: str | None, *, now: dt.datetime | None = None) -> dt.datetime:
    """An ISO 8601 date and time as a naive UTC datetime: no offset means UTC, an offset is applied.

    The moment must lie in ``CREATED_AT_WINDOW`` for an import made at ``now`` (naive UTC; by
    default the current time). Raises ``ValueError(reason)`` for anything else.
    """
    if is_blank(text):
        raise ValueError("is empty")
    assert text is not None
    match = _CREATED_AT_RE.fullmatch(text)
    if not match:
        raise ValueError(
            f"is not an ISO 8601 date and time like 2024-01-31T14:05:00Z ({shown(text)})"
        )
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    outside = ValueError(
        f"is outside the order date window, {CREATED_AT_WINDOW.describe(now or utc_now())} "
        f"({shown(text)})"
    )
    try:
        # The year 0 (1 BC) has the calendar of 2000: its February 29th is a valid date.
        dt.date(int(year) or 2000, int(month), int(day))
    except ValueError:
        raise ValueError(f"is not a valid date ({shown(text)})") from None
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
    if not CREATED_AT_WINDOW.earliest <= moment <= CREATED_AT_WINDOW.latest(now or utc_now()):
        raise outside
    return moment


def created_at_problem(text: str | None, *, now: dt.datetime | None = None) -> str | None:
    try:
        parse_created_at(text, now=now)
    except ValueError as exc:
        return str(exc)
    return None


def status_change_problem(current: str, requested: str) -> str | None:
    """Why an order in status ``current`` cannot be imported as ``requested``, or None.

    The moves allowed are ``core.status.IMPORT_MOVES`` (docs/design.md §3). Return needs the
    refunded amount to equal the amount, which every Return row must state (or leave for the
    default): the checks of ``core.db.importing`` see to that.
    """
    if may_import(current, requested):
        return None
    if current in FINAL_STATUSES:
        why = f"{current} is a final status"
    elif (current, requested) == (Status.COMPLETED, Status.CANCEL):
        why = "a Completed order cannot be cancelled; it is refunded"
    elif current == Status.COMPLETED:
        why = "a Completed order cannot go back to Pending"
    else:
        why = "a Pending order can only become Completed or Cancel"
    return f"cannot change from {current} to {requested}: {why}"


def start_problem(status: str, channel: str) -> str | None:
    """Why an order of ``channel`` cannot be in ``status`` (an offline order is never Pending),
    or None; ``core.status.STARTING_STATUSES`` decides."""
    if may_start(status, channel):
        return None
    return f"an {channel} order is never {status}"
