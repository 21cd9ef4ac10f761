"""The rules of an import file's values: amounts, whole numbers, order dates, statuses.

Each rule is a pure function that says why a text is not a valid value (or None when it is one),
as a ``core.i18n.Message``: English text that keeps its template and values, translated where it
is shown; the patterns and the date window are defined here once. ``core.db.importing`` applies
the same patterns and window to whole files in SQL and words each bad value with these
functions, so a million rows are checked in seconds; table tests keep the SQL and these functions
equal.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from core.db.schema import BIGINT_MAX
from core.i18n import N_, Message, N_plural
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


EMPTY = N_("is empty")


def amount_problem(text: str | None, *, zero_allowed: bool = False) -> Message | None:
    """Why ``text`` is not an amount of an import file, or None when it is one.

    An amount is digits with an optional '.' and at most 2 decimals, greater than 0 (an item's
    unit price and a refunded amount may be 0), at most ``MAX_AMOUNT``.
    """
    if is_blank(text):
        return Message(EMPTY)
    assert text is not None
    value = shown(text)
    if not _AMOUNT_RE.fullmatch(text):
        if text != text.strip():
            return Message(N_("has spaces around the number ('{value}')"), value=value)
        if many := _MANY_DECIMALS_RE.fullmatch(text):
            return N_plural("has {count} decimal place ({value})",
                            "has {count} decimal places ({value})", len(many.group(1)),
                            value=value)
        if _NEGATIVE_RE.fullmatch(text):
            return _not_positive(value, zero_allowed)
        if re.fullmatch(r"[0-9]+,[0-9]+", text):
            return Message(N_("uses a comma ({value}); write the decimal point as '.'"),
                           value=value)
        return Message(N_("is not a number with at most 2 decimals, like 339.99 ({value})"),
                       value=value)
    amount = Decimal(text)
    if amount > MAX_AMOUNT:
        return Message(N_("is too large: at most {limit} ({value})"), limit=str(MAX_AMOUNT),
                       value=value)
    if amount == 0 and not zero_allowed:
        return _not_positive(value, zero_allowed)
    return None


def _not_positive(value: str, zero_allowed: bool) -> Message:
    if zero_allowed:
        return Message(N_("must be 0 or more ({value})"), value=value)
    return Message(N_("must be greater than 0 ({value})"), value=value)


def parse_import_amount(text: str | None, *, zero_allowed: bool = False) -> Decimal:
    """The amount in ``text`` as an exact Decimal with 2 places; ``ValueError(reason)`` if invalid."""
    problem = amount_problem(text, zero_allowed=zero_allowed)
    if problem:
        raise ValueError(problem)
    return Decimal(text).quantize(Decimal("0.01"))  # type: ignore[arg-type]


def whole_number_problem(text: str | None, *, max_value: int = BIGINT_MAX) -> Message | None:
    """Why ``text`` is not a whole number from 1 to ``max_value``, or None when it is one."""
    if is_blank(text):
        return Message(EMPTY)
    assert text is not None
    if not _WHOLE_RE.fullmatch(text):
        return Message(N_("is not a whole number ({value})"), value=shown(text))
    number = int(text)
    if number < 1:
        return Message(N_("must be 1 or more ({value})"), value=shown(text))
    if number > max_value:
        return Message(N_("is too large ({value})"), value=shown(text))
    return None


@dataclass(frozen=True)
class DateWindow:
    """The moments (naive UTC) an order's ``created_at`` may hold: from ``earliest`` up to
    ``ahead`` after the import's own time, both ends included."""

    earliest: dt.datetime
    ahead: dt.timedelta

    def latest(self, now: dt.datetime) -> dt.datetime:
        return now + self.ahead

    def describe(self, now: dt.datetime) -> Message:
        return Message(N_("{earliest} to {latest} (up to a day after the import)"),
                       earliest=f"{self.earliest:%Y-%m-%dT%H:%M:%S}Z",
                       latest=f"{self.latest(now):%Y-%m-%dT%H:%M:%S}Z")


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
    default the current time). Raises ``ValueError(reason)`` for anything else, the reason a
    ``Message`` (``created_at_problem``).
    """
    if is_blank(text):
        raise ValueError(Message(EMPTY))
    assert text is not None
    match = _CREATED_AT_RE.fullmatch(text)
    if not match:
        raise ValueError(Message(
            N_("is not an ISO 8601 date and time like 2024-01-31T14:05:00Z ({value})"),
            value=shown(text)))
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    outside = ValueError(Message(N_("is outside the order date window, {window} ({value})"),
                                 window=CREATED_AT_WINDOW.describe(now or utc_now()),
                                 value=shown(text)))
    try:
        # The year 0 (1 BC) has the calendar of 2000: its February 29th is a valid date.
        dt.date(int(year) or 2000, int(month), int(day))
    except ValueError:
        raise ValueError(Message(N_("is not a valid date ({value})"), value=shown(text))) \
            from None
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


def created_at_problem(text: str | None, *, now: dt.datetime | None = None) -> Message | None:
    """Why ``text`` is not an order date of an import made at ``now``, or None."""
    try:
        parse_created_at(text, now=now)
    except ValueError as exc:
        return exc.args[0]
    return None


def status_change_problem(current: str, requested: str) -> Message | None:
    """Why an order in status ``current`` cannot be imported as ``requested``, or None.

    The moves allowed are ``core.status.IMPORT_MOVES`` (docs/design.md §3). Return needs the
    refunded amount to equal the amount, which every Return row must state (or leave for the
    default): the checks of ``core.db.importing`` see to that.
    """
    if may_import(current, requested):
        return None
    # The statuses are the file's values (placeholders): a translation keeps them as written.
    if current in FINAL_STATUSES:
        why = Message(N_("{status} is a final status"), status=current)
    elif (current, requested) == (Status.COMPLETED, Status.CANCEL):
        why = Message(N_("a {status} order cannot be cancelled; it is refunded"), status=current)
    elif current == Status.COMPLETED:
        why = Message(N_("a {status} order cannot go back to {requested}"), status=current,
                      requested=requested)
    else:
        why = Message(N_("a {status} order can only become {first} or {second}"),
                      status=current, first=Status.COMPLETED, second=Status.CANCEL)
    return Message(N_("cannot change from {current} to {requested}: {why}"), current=current,
                   requested=requested, why=why)


def start_problem(status: str, channel: str) -> Message | None:
    """Why an order of ``channel`` cannot be in ``status`` (an offline order is never Pending),
    or None; ``core.status.STARTING_STATUSES`` decides."""
    if may_start(status, channel):
        return None
    return Message(N_("an {channel} order is never {status}"), channel=channel, status=status)
