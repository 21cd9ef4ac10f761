"""The limits that keep one import file from breaking the desk: the amounts a new database holds,
spreadsheets bounded by their header's columns and a row limit, and imports of millions of orders
in bounded memory (DuckDB reads CSV and Parquet files itself)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from core.errors import ConstraintViolation
from core.store import Store


@pytest.mark.parametrize("statement", [
    "INSERT INTO orders (order_id, created_at, amount, status, channel, store_id) "
    "VALUES (1, TIMESTAMP '2024-03-01', 10000000000000.00, 'Completed', 'online', 'S1')",
    "UPDATE orders SET amount = 10000000000000.00 WHERE order_id = 7",
    "INSERT INTO order_items (order_id, line_no, name, quantity, unit_price) "
    "VALUES (7, 2, 'Gold', 1, 10000000000000.00)",
])
def test_a_new_database_refuses_amounts_above_the_limit(tmp_path, statement):
    with Store(tmp_path / "orders.duckdb") as store:
        with store.transaction() as cur:
            cur.execute("INSERT INTO stores VALUES ('S1', 'One', NULL, NULL, NULL, 'LE1', 'R', 'PL')")
            cur.execute("INSERT INTO orders (order_id, created_at, amount, status, channel, "
                        "store_id) VALUES (7, TIMESTAMP '2024-03-01', 9999999999999.99, "
                        "'Completed', 'online', 'S1')")
        with pytest.raises(ConstraintViolation), store.transaction() as cur:
            cur.execute(statement)
        with store.cursor() as cur:
            assert cur.execute("SELECT max(amount) FROM orders").fetchone()[0] == \
                Decimal("9999999999999.99")
            assert cur.execute("SELECT count(*) FROM order_items").fetchone()[0] == 0
