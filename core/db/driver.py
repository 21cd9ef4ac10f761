"""The driver's edge: DuckDB's errors translated, once, into ``DataUnavailable`` and its kinds
(``DatabaseBusy``, ``WriteConflict``, ``ConstraintViolation``), and the memory limit checked
before it is written into a SET statement. Every connection of orderdesk goes through these.
"""
from __future__ import annotations

import re
from pathlib import Path

import duckdb

from core.errors import (
    ConstraintViolation,
    DatabaseBusy,
    DataUnavailable,
    WriteConflict,
)

_MEMORY_SIZE = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*([KMGT])(i?)B", re.IGNORECASE)
_SIZE_POWERS = {"K": 1, "M": 2, "G": 3, "T": 4}


def memory_bytes(text: str) -> float:
    """'400MB', '1.5GB', '512MiB' or DuckDB's own '381.4 MiB' as bytes, as DuckDB reads them
    (MB: 10^6, MiB: 2^20)."""
    match = _MEMORY_SIZE.fullmatch(text.strip())
    if not match:
        raise ValueError(f"not a memory size: {text!r}")
    base = 1024 if match.group(3) else 1000
    return float(match.group(1)) * base ** _SIZE_POWERS[match.group(2).upper()]


def check_memory_limit(memory_limit: str | None) -> None:
    """Refuse a memory limit that is not a size: it is written into a SET statement."""
    if memory_limit is not None and not _MEMORY_SIZE.fullmatch(memory_limit):
        raise ValueError(f"not a memory size: {memory_limit!r}")


def translate(exc: duckdb.Error, path: Path | str) -> DataUnavailable:
    """A driver error as the ``DataUnavailable`` kind a caller can act on."""
    text = str(exc)
    if isinstance(exc, duckdb.IOException) and (
        "Could not set lock" in text or "Conflicting lock" in text
    ):
        return DatabaseBusy(
            f"The database {path} is in use by another process (is orderdesk running?). "
            "Stop it and try again; nothing was changed."
        )
    first_line = text.splitlines()[0] if text else type(exc).__name__
    # DuckDB is optimistic: a transaction that touches rows another one committed after it began
    # fails ("Conflict on update", or "Failed to commit: ... constraint violation" for a
    # concurrent duplicate key). Nothing of it is written, so callers may retry from a fresh read.
    if isinstance(exc, duckdb.TransactionException) and (
        "conflict" in text.lower() or "failed to commit" in text.lower()
    ):
        return WriteConflict(
            "Someone else changed the same order at the same moment; nothing was changed. "
            "Please try again."
        )
    if isinstance(exc, duckdb.ConstraintException):
        return ConstraintViolation(f"The database could not be read or written: {first_line}")
    return DataUnavailable(f"The database could not be read or written: {first_line}")
