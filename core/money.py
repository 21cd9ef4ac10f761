"""Money: exact decimals with two places, parsed from user text and formatted for screens.

Money is ``Decimal`` from the database to the screen; floats never carry an amount.
"""
from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from core.errors import InvalidAmount
from core.i18n import N_

CENT = Decimal("0.01")
# The largest amount orderdesk accepts: 14 significant digits. A spreadsheet number is a binary
# double, exact to 15 digits, but LibreOffice Calc already shows 9,999,999,999,999.99 (15 digits)
# as 10,000,000,000,000.00; one digit fewer is shown and stored exactly (docs/stack-facts.md,
# Money). The schema's DECIMAL(18,2) could hold ten thousand times more.
MAX_AMOUNT = Decimal("999999999999.99")
_AMOUNT_TEXT = re.compile(r"^\d+(?:[.,]\d{1,2})?$")


def quantize_amount(value: Decimal | int | str) -> Decimal:
    """Round to cents, half up (as DuckDB casts do)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def parse_amount(text: object) -> Decimal:
    """A positive amount typed by a user: digits, optionally ',' or '.' and 1–2 decimals.

    ``339,99`` and ``339.99`` are accepted; zero, negatives, three decimals, exponents, NaN,
    infinity, thousands separators and any other text are refused with a message.
    """
    if isinstance(text, Decimal):
        text = format(text, "f")
    if not isinstance(text, str):
        raise InvalidAmount(N_("Enter the amount as text, for example 339.99."))
    cleaned = text.strip()
    if not cleaned:
        raise InvalidAmount(N_("Enter an amount."))
    if cleaned.startswith("-"):
        raise InvalidAmount(N_("The amount must be greater than zero."))
    if not _AMOUNT_TEXT.match(cleaned):
        if re.match(r"^\d+[.,]\d{3,}$", cleaned):
            raise InvalidAmount(N_("The amount can have at most 2 decimal places."))
        raise InvalidAmount(
            N_("“{text}” is not an amount: use digits with at most 2 decimals, e.g. 339.99."),
            text=cleaned[:40])
    try:
        amount = Decimal(cleaned.replace(",", "."))
    except InvalidOperation as exc:  # unreachable after the pattern, kept as a backstop
        raise InvalidAmount(N_("That is not an amount.")) from exc
    if amount <= 0:
        raise InvalidAmount(N_("The amount must be greater than zero."))
    if amount > MAX_AMOUNT:
        raise InvalidAmount(N_("The amount is too large."))
    return quantize_amount(amount)


def format_amount(amount: Decimal | None) -> str:
    """``12345.6`` → ``12,345.60``; ``None`` → empty."""
    if amount is None:
        return ""
    return f"{quantize_amount(amount):,.2f}"
