"""Amounts, counts, dates and times in each language's conventions (CLDR, through Babel); English
exactly as the screens printed them before languages existed."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from core.errors import InvalidAmount, InvalidInput, OrderNotFound
from core.i18n import (check_language, format_count, format_day, format_money, format_time,
                       translate_error)
from core.money import format_amount, parse_amount

NBSP = "\xa0"
MOMENT = datetime(2026, 12, 2, 14, 35, 8, tzinfo=timezone(timedelta(hours=1)))

# value → (en, pl, ro, ru)
AMOUNTS = [
    (Decimal("9307345.67"), ("9,307,345.67", f"9{NBSP}307{NBSP}345,67", "9.307.345,67",
                              f"9{NBSP}307{NBSP}345,67")),
    (Decimal("-1234.5"), ("-1,234.50", f"-1{NBSP}234,50", "-1.234,50", f"-1{NBSP}234,50")),
    (Decimal("0"), ("0.00", "0,00", "0,00", "0,00")),
    (Decimal("339.99"), ("339.99", "339,99", "339,99", "339,99")),
    (Decimal("999999999999.99"), ("999,999,999,999.99",
                                  f"999{NBSP}999{NBSP}999{NBSP}999,99", "999.999.999.999,99",
                                  f"999{NBSP}999{NBSP}999{NBSP}999,99")),
    (Decimal("0.005"), ("0.01", "0,01", "0,01", "0,01")),  # half up, as quantize_amount
]
COUNTS = [
    (0, ("0", "0", "0", "0")),
    (999, ("999", "999", "999", "999")),
    (1234567, ("1,234,567", f"1{NBSP}234{NBSP}567", "1.234.567", f"1{NBSP}234{NBSP}567")),
]
LANGS = ("en", "pl", "ro", "ru")


@pytest.mark.parametrize("value, expected", AMOUNTS)
def test_amounts(value, expected):
    assert tuple(format_money(value, lang) for lang in LANGS) == expected
    assert format_money(value, "en") == format_amount(value)  # English as before


@pytest.mark.parametrize("value, expected", COUNTS)
def test_counts(value, expected):
    assert tuple(format_count(value, lang) for lang in LANGS) == expected
    assert format_count(value, "en") == f"{value:,}"


@pytest.mark.parametrize("lang", LANGS)
def test_dates_and_times(lang):
    assert format_day(date(2026, 12, 1), lang) == "01.12.2026"
    assert format_time(MOMENT, lang) == "02.12.2026 14:35"  # its own wall clock, not UTC
    assert format_time(MOMENT, lang, seconds=True) == "02.12.2026 14:35:08"
    assert format_time(MOMENT.replace(tzinfo=None), lang, seconds=True) == "02.12.2026 14:35:08"
    assert format_money(None, lang) == format_count(None, lang) == format_day(None, lang) == ""


def test_a_decimal_stays_exact():
    huge = Decimal("123456789012.35")
    assert format_money(huge, "pl") == f"123{NBSP}456{NBSP}789{NBSP}012,35"


@pytest.mark.parametrize("typed", ["339,99", "339.99"])
def test_the_decimal_comma_is_still_accepted(typed):
    assert parse_amount(typed) == Decimal("339.99")


def test_errors_are_shown_in_the_language_with_their_values():
    with pytest.raises(InvalidInput) as caught:
        check_language("de")
    assert str(caught.value) == "Unknown language 'de': choose one of en, pl, ro, ru."
    assert translate_error(caught.value, "pl") == ("Nieznany język 'de': wybierz jeden z: "
                                                   "en, pl, ro, ru.")
    assert translate_error(OrderNotFound(5), "ru") == "Заказ не найден"
    assert translate_error(InvalidAmount("Untranslated {x}"), "ro") == "Untranslated {x}"


def test_an_error_s_counts_and_amounts_follow_the_language():
    from core.errors import ExportTooLarge
    from core.export import check_export_size
    from core.rules import check_refund_amount

    with pytest.raises(ExportTooLarge) as too_large:
        check_export_size(2_000_000)
    assert str(too_large.value).startswith("The export would have 2,000,000 orders, more than "
                                           "the 1,048,575 rows")
    assert translate_error(too_large.value, "ru").startswith(
        f"В экспорте было бы заказов: 2{NBSP}000{NBSP}000 — больше, чем 1{NBSP}048{NBSP}575")
    with pytest.raises(InvalidAmount) as too_much:
        check_refund_amount("1500,5", Decimal("1234.56"))
    assert str(too_much.value) == ("The refund of 1,500.50 is more than the refundable amount "
                                   "(1,234.56).")
    assert translate_error(too_much.value, "ro") == ("Rambursarea de 1.500,50 depășește suma care "
                                                     "se poate rambursa (1.234,56).")
