"""SQL text built from Python constants, shared by the importer's and the demo's SQL.

Only constants defined in the code go through these helpers, never a file's or a user's data:
those are always bound as parameters. ``phone_digits_sql`` is the SQL twin of
``core.phones.phone_digits``.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence


def sql_literal(text: str) -> str:
    """A SQL string literal of a constant of the code (never of file or user data)."""
    return "'" + text.replace("'", "''") + "'"


def sql_in(values: Iterable[str]) -> str:
    """A parenthesised list of string literals, for ``IN``."""
    return "(" + ", ".join(sql_literal(v) for v in values) + ")"


def sql_array(values: Sequence[object]) -> str:
    """A DuckDB list literal of strings and numbers (``['a', 1]``); indexed from 1."""
    return "[" + ", ".join(sql_literal(v) if isinstance(v, str) else str(v) for v in values) + "]"


def phone_digits_sql(column: str) -> str:
    """SQL: the digits of the phone in ``column``, NULL when it has none (``core.phones``)."""
    return f"NULLIF(regexp_replace(coalesce({column}, ''), '[^0-9]', '', 'g'), '')"
