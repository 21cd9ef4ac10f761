"""Phone numbers as search sees them: only their digits.

People type a phone as '+48 (606) 606-606' or '0048 606 606 606'; search matches the digits
('48606606606'), stored beside the typed phone in ``orders.phone_digits``. This is the one Python
form of that rule; ``core.db.sql_text.phone_digits_sql`` is its SQL twin (the importer's and the
demo's writes use it), and a table test keeps the two equal.
"""
from __future__ import annotations

import re

_NOT_DIGITS = re.compile(r"[^0-9]")  # [0-9], never \d: Python's \d also matches other scripts' digits


def phone_digits(phone: str | None) -> str | None:
    """The digits of a phone number, what search matches ('+48 (606) 606-606' → '48606606606');
    None when it has none."""
    digits = _NOT_DIGITS.sub("", phone or "")
    return digits or None
