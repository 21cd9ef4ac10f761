"""Money parsing and formatting: exact decimals, two places, clear refusals."""
from decimal import Decimal

import pytest

from core.errors import InvalidAmount
from core.money import format_amount, parse_amount, quantize_amount


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("339.99", Decimal("339.99")),
        ("339,99", Decimal("339.99")),
        (" 12.5 ", Decimal("12.50")),
        ("7", Decimal("7.00")),
        ("0.01", Decimal("0.01")),
        (Decimal("19.99"), Decimal("19.99")),
    ],
)
def test_parse_amount_accepts(text, amount):
    assert parse_amount(text) == amount
    assert str(parse_amount(text)) == str(amount)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Enter an amount"),
        ("0", "greater than zero"),
        ("0.00", "greater than zero"),
        ("-5", "greater than zero"),
        ("0.001", "at most 2 decimal places"),
        ("1.999", "at most 2 decimal places"),
        ("1e3", "not an amount"),
        ("NaN", "not an amount"),
        ("inf", "not an amount"),
        ("abc", "not an amount"),
        ("1,000.00", "not an amount"),
        ("1 000", "not an amount"),
        (19.99, "as text"),
        (None, "as text"),
        ("99999999999999999", "too large"),
        ("1000000000000", "too large"),
    ],
)
def test_parse_amount_refuses(text, message):
    with pytest.raises(InvalidAmount, match=message):
        parse_amount(text)


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (Decimal("0"), "0.00"),
        (Decimal("1234567.5"), "1,234,567.50"),
        (Decimal("0.005"), "0.01"),
        (None, ""),
    ],
)
def test_format_amount(amount, text):
    assert format_amount(amount) == text


def test_quantize_rounds_half_up():
    assert quantize_amount(Decimal("2.675")) == Decimal("2.68")
