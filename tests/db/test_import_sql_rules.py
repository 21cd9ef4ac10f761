"""The SQL forms of the importer's value rules agree with the pure rules, value by value, in the
DuckDB database an import of each backend types its values in: the DuckDB file itself, or the
in-memory one of an import into PostgreSQL (tests/unit/test_importer_rows.py holds the tables)."""
from __future__ import annotations

import pytest

from core.db.sql_text import phone_digits_sql
from core.importer import (
    amount_problem,
    parse_created_at,
    parse_import_amount,
    sql_amount,
    sql_created_at,
    sql_whole_number,
    start_problem,
    whole_number_problem,
)
from core.phones import phone_digits
from core.status import CHANNELS, STATUSES, may_start
from core.db import Database
from core.db.importing.session import file_reader
from tests.db.import_fixtures import (  # noqa: F401 (fixtures)
    base_db, database, order_row, rejected, unchanged_store, write_files,
)


# --- the SQL forms of the value rules agree with the pure rules ----------------------------------

@pytest.fixture
def stager(unchanged_store, tmp_path):
    """The DuckDB database in which an import into ``unchanged_store`` types its values."""
    with file_reader(unchanged_store, tmp_path) as reader:
        yield reader


def _sql_values(database: Database, expression, texts: list) -> list:
    with database.cursor() as cur:
        return [cur.execute(f"SELECT {expression('t')} FROM (SELECT CAST(? AS VARCHAR) AS t)",
                            [text]).fetchone()[0] for text in texts]


def test_sql_amount_flags_exactly_what_the_rule_refuses(stager):
    from tests.unit.test_importer_rows import AMOUNTS

    for zero_allowed in (False, True):
        texts = [text for text, _, _ in AMOUNTS] + ["1" * 40, "0.001", "12.", "0001"]
        values = _sql_values(stager, lambda c: sql_amount(c, zero_allowed=zero_allowed), texts)
        for text, value in zip(texts, values):
            problem = amount_problem(text, zero_allowed=zero_allowed)
            assert (value is None) == (problem is not None), (text, zero_allowed)
            if value is not None:
                assert value == parse_import_amount(text, zero_allowed=zero_allowed)


def test_sql_whole_number_flags_exactly_what_the_rule_refuses(stager):
    from tests.unit.test_importer_rows import WHOLE_NUMBERS

    for max_value in (10, 2**31 - 1, 2**63 - 1):
        texts = [text for text, _, _ in WHOLE_NUMBERS] + ["9" * 40, "2147483648"]
        values = _sql_values(stager, lambda c: sql_whole_number(c, max_value=max_value), texts)
        for text, value in zip(texts, values):
            problem = whole_number_problem(text, max_value=max_value)
            assert (value is None) == (problem is not None), (text, max_value)
            if value is not None:
                assert value == int(text)


def test_sql_created_at_converts_exactly_like_the_rule(stager):
    from tests.unit.test_importer_rows import CREATED_AT, NOT_ISO, NOW

    texts = [text for text, _ in CREATED_AT] + NOT_ISO + ["", None, "2024-01-31T23:59:59-23:59"]
    values = _sql_values(stager, lambda c: sql_created_at(c, now=NOW), texts)
    for text, value in zip(texts, values):
        try:
            expected = parse_created_at(text, now=NOW)
        except ValueError:
            expected = None
        assert value == expected, text


def test_phone_digits_sql_equals_the_rule(stager):
    from tests.unit.test_importer_rows import PHONES

    texts = [phone for phone, _ in PHONES]
    values = _sql_values(stager, phone_digits_sql, texts)
    assert values == [phone_digits(text) for text in texts]


def test_the_start_check_refuses_exactly_what_the_rule_refuses(unchanged_store, tmp_path):
    pairs = [(status, channel) for status in STATUSES for channel in CHANNELS]
    rows = [order_row(201 + i, status=status, channel=channel)
            for i, (status, channel) in enumerate(pairs)]
    assert rejected(unchanged_store, write_files(tmp_path, orders=rows)) == [
        f"orders.csv, row {i}, status: {start_problem(status, channel)}"
        for i, (status, channel) in enumerate(pairs, start=1) if not may_start(status, channel)
    ]
