"""Copying a DuckDB file into PostgreSQL (core.db.postgres.copying): every row and value arrives,
an empty text stays empty and NULL stays NULL, the event IDs go on after the copied ones, and a
database that already holds orders is refused untouched."""
from __future__ import annotations

import pytest

from core.db import open_database
from core.db.postgres.copying import copy_from_duckdb
from core.errors import InvalidInput
from tests.sample_data import sample_database

TABLE_SUMMARIES = {
    "stores": "SELECT count(*), count(merchant_store_id), min(store_name) FROM stores",
    "orders": "SELECT count(*), sum(amount), sum(refunded_amount), count(email), "
              "count(*) FILTER (WHERE email = ''), min(created_at), max(created_at) FROM orders",
    "order_items": "SELECT count(*), sum(quantity * unit_price), sum(refunded_quantity) "
                   "FROM order_items",
    "order_events": "SELECT count(*), sum(amount), count(reason), "
                    "count(*) FILTER (WHERE reason = ''), max(event_id) FROM order_events",
}


@pytest.fixture
def duckdb_file(tmp_path):
    database, _ = sample_database(tmp_path / "source.duckdb")
    with database.transaction() as cur:
        cur.execute("UPDATE orders SET email = '' WHERE order_id = 1001")
        cur.executemany(
            "INSERT INTO order_events (order_id, kind, amount, reason, username, created_at, "
            "idempotency_key) VALUES (?, 'refund', 1.00, ?, 'anna', TIMESTAMP '2026-02-01', ?)",
            [[1002, "", "k1"], [1003, None, "k2"], [1004, "Goods returned", "k3"]])
    database.close()
    return tmp_path / "source.duckdb"


def summaries(database) -> dict:
    with database.cursor() as cur:
        return {table: tuple(cur.execute(sql).fetchone()) for table, sql in TABLE_SUMMARIES.items()}


def test_every_row_and_value_arrives(duckdb_file, postgres_cluster):
    target = open_database(postgres_cluster.create_database("copy_all"))
    counts = copy_from_duckdb(duckdb_file, target)
    with open_database(duckdb_file, read_only=True) as source:
        assert summaries(target) == summaries(source)
    assert counts == {"stores": 12, "orders": 300, "order_items": counts["order_items"],
                      "order_events": 3}
    with target.cursor() as cur:
        (next_id,) = cur.execute("SELECT nextval('order_event_ids')").fetchone()
    assert next_id == summaries(target)["order_events"][-1] + 1
    target.close()


def test_a_database_with_orders_is_refused_untouched(duckdb_file, postgres_cluster):
    target = open_database(postgres_cluster.create_database("copy_twice"))
    copy_from_duckdb(duckdb_file, target)
    before = summaries(target)
    with pytest.raises(InvalidInput, match="already holds orders; nothing was copied"):
        copy_from_duckdb(duckdb_file, target)
    assert summaries(target) == before
    target.close()
