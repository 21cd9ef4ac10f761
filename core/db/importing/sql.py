"""The SQL forms of the importer's value rules (``core.importer.values``), for whole files.

Each turns a text column into its typed value, or NULL exactly where the pure rule objects: the
same patterns, limits and date window. tests/db/test_import.py keeps each equal to its rule.
"""
from __future__ import annotations

import datetime as dt

from core.db.schema import BIGINT_MAX
from core.db.sql_text import sql_literal
from core.importer.values import (
    AMOUNT_PATTERN, CREATED_AT_PATTERN, CREATED_AT_WINDOW, WHOLE_NUMBER_PATTERN,
)
from core.money import MAX_AMOUNT


def sql_blank(col: str) -> str:
    return f"({col} IS NULL OR trim({col}) = '')"


def sql_text(col: str) -> str:
    """Optional text: blank becomes NULL, anything else is kept exactly."""
    return f"CASE WHEN {sql_blank(col)} THEN NULL ELSE {col} END"


def sql_amount(col: str, *, zero_allowed: bool = False) -> str:
    """The amount in text column ``col`` as DECIMAL(18,2), NULL where ``amount_problem`` objects."""
    lowest = ">= 0" if zero_allowed else "> 0"
    value = f"TRY_CAST({col} AS DECIMAL(38,2))"
    return (
        f"CASE WHEN regexp_full_match({col}, {sql_literal(AMOUNT_PATTERN)}) AND {value} {lowest} "
        f"AND {value} <= {MAX_AMOUNT} THEN CAST({col} AS DECIMAL(18,2)) END"
    )


def sql_whole_number(col: str, *, max_value: int = BIGINT_MAX) -> str:
    """The whole number in ``col`` as BIGINT, NULL where ``whole_number_problem`` objects."""
    value = f"TRY_CAST({col} AS HUGEINT)"
    return (
        f"CASE WHEN regexp_full_match({col}, {sql_literal(WHOLE_NUMBER_PATTERN)}) "
        f"AND {value} BETWEEN 1 AND {max_value} THEN CAST({col} AS BIGINT) END"
    )


def sql_created_at(col: str, *, now: dt.datetime) -> str:
    """``col`` as a naive UTC TIMESTAMP (the cursor's time zone is UTC), NULL where
    ``parse_created_at`` objects for an import made at ``now``: the pattern and the window are the
    same, DuckDB's cast checks the calendar."""
    moment = f"make_timestamp(epoch_us(TRY_CAST({col} AS TIMESTAMPTZ)))"
    earliest = CREATED_AT_WINDOW.earliest.isoformat(sep=" ")
    latest = CREATED_AT_WINDOW.latest(now).isoformat(sep=" ")
    return (
        f"CASE WHEN regexp_full_match({col}, {sql_literal(CREATED_AT_PATTERN)}) "
        f"AND {moment} BETWEEN TIMESTAMP {sql_literal(earliest)} "
        f"AND TIMESTAMP {sql_literal(latest)} THEN {moment} END"
    )
