"""Orders whose stored time no display zone can show, written straight into a database with
SQL, as an old database (or an import made before dates were checked) may hold them."""
from __future__ import annotations

from decimal import Decimal

from core.db import Database, index_orders

# order ID → the stored TIMESTAMP as DuckDB writes it (and what the import file said, if any)
UNREADABLE = {
    900001: "0001-12-31 (BC) 23:00:00",  # 0001-01-01T00:00:00+01:00
    900002: "0001-01-01 (BC) 00:00:00",  # 0000-01-01Z
    900003: "10000-01-01 00:59:59",  # 9999-12-31T23:59:59-01:00
    900004: "9999-12-31 23:30:00",  # 9999-12-31T23:30Z: year 10000 in Europe/Warsaw
    900005: "infinity",
    900006: "-infinity",
    900007: "294247-01-10 04:00:54.775806",  # DuckDB's latest TIMESTAMP
    900008: "1900-06-01 12:00:00",  # a Python date, but no order of a real merchant
}
# The same times as PostgreSQL writes (and reads) them: BC after the time.
STORED_BY_BACKEND = {
    "duckdb": UNREADABLE,
    "postgresql": {**UNREADABLE, 900001: "0001-12-31 23:00:00 BC",
                   900002: "0001-01-01 00:00:00 BC"},
}
STORE_ID = "S01"  # Alpha SRL
AMOUNT = Decimal("12.34")


def add_unreadable_orders(database: Database) -> None:
    """The orders of ``UNREADABLE`` in store S01, Completed online, each with its own e-mail."""
    with database.transaction() as cur:
        for order_id, stored in STORED_BY_BACKEND[database.backend].items():
            cur.execute(
                "INSERT INTO orders (order_id, created_at, amount, status, channel, email, "
                "store_id) VALUES (?, CAST(? AS TIMESTAMP), ?, 'Completed', 'online', ?, ?)",
                [order_id, stored, AMOUNT, f"bad-date-{order_id}@example.com", STORE_ID],
            )
        index_orders(cur, "o.order_id >= 900000")
