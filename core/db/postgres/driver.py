"""psycopg's errors translated, once, into ``DataUnavailable`` and its kinds, as
``core.db.driver`` does for DuckDB's; and a URL as messages may show it (no password)."""
from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import errors

from core.errors import ConstraintViolation, DataUnavailable, WriteConflict

def display_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    netloc = f"{parts.username}@{host}" if parts.username else host
    return urlunsplit(parts._replace(netloc=netloc))


def translate(exc: psycopg.Error, where: str) -> DataUnavailable:
    """A driver error as the ``DataUnavailable`` kind a caller can act on."""
    text = (str(exc).splitlines() or [type(exc).__name__])[0]
    # Two transactions waited on each other's rows, or a snapshot met a row written after it
    # began: nothing of the losing one is written, so callers may retry from a fresh read.
    if isinstance(exc, (errors.SerializationFailure, errors.DeadlockDetected)):
        return WriteConflict(
            "Someone else changed the same order at the same moment; nothing was changed. "
            "Please try again."
        )
    if isinstance(exc, psycopg.IntegrityError):
        return ConstraintViolation(f"The database could not be read or written: {text}")
    if isinstance(exc, psycopg.OperationalError):
        return DataUnavailable(f"The database {where} could not be reached: {text}")
    return DataUnavailable(f"The database could not be read or written: {text}")
