"""A large result read in batches from the server (a named, server-side cursor), so that an
export of a million rows holds one batch in the process, not the whole result: psycopg's
ordinary cursor receives every row of a statement before the first is fetched."""
from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence

from core.db.postgres.connection import Cursor, pyformat

_names = itertools.count(1)


def stream_rows(cur: Cursor, sql: str, params: Sequence, batch_size: int) -> Iterator[list]:
    """The rows of ``sql`` in batches of ``batch_size``, read through a server-side cursor inside
    the transaction ``cur`` is in (a ``snapshot``: the batches see one moment)."""
    connection = cur.raw.connection
    with connection.cursor(name=f"orderdesk_stream_{next(_names)}") as server:
        server.itersize = batch_size
        server.execute(pyformat(sql), params)
        while batch := server.fetchmany(batch_size):
            yield batch
