"""Each event's store on PostgreSQL (``order_events.store_id``, schema 5): every writer's events
carry their order's store (a refund, a cancel, an import, the copy from a DuckDB file), and an
upgrade from schema 4 fills the stores of the events already there, the register reading the
same after it.

PostgreSQL only: the column is its own (DuckDB's register joins the orders).
"""
from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from core import actions
from core.db import open_database
from core.db import refunds as register
from core.db.postgres.copying import copy_from_duckdb
from core.importer import import_files
from core.refunds import SORT_LABELS, RefundQuery
from core.users import Scope, User
from tests.db.import_fixtures import order_row, store_row, write_files
from tests.sample_data import sample_database

WARSAW = ZoneInfo("Europe/Warsaw")
ADMIN = User("anna", "Anna", "anna@x", "h", "admin")
SCOPES = {"admin": Scope.everything(), "one store": Scope(False, frozenset(), frozenset({"S03"})),
          "entity + store": Scope(False, frozenset({"Beta Sp. z o.o."}), frozenset({"S01"}))}


def stores_of_events(database) -> list[tuple]:
    """Every event's (event ID, kind, its store, its order's store)."""
    with database.cursor() as cur:
        return cur.execute(
            "SELECT e.event_id, e.kind, e.store_id, o.store_id FROM order_events e "
            "JOIN orders o ON o.order_id = e.order_id ORDER BY e.event_id").fetchall()


def first_order(sample, status: str) -> int:
    return next(o["order_id"] for o in sample.orders if o["status"] == status)


def by_refund(database, sample, tmp_path):
    actions.refund_order(database, ADMIN, first_order(sample, "Completed"),
                         idempotency_key="r1", amount="1.00", reason="note", reason_code="Goods returned",
                         tz=WARSAW)


def by_cancel(database, sample, tmp_path):
    actions.cancel_order(database, ADMIN, first_order(sample, "Pending"), idempotency_key="c1",
                         tz=WARSAW)


def by_import(database, sample, tmp_path):
    """A new order refunded by the import, and an old one whose refunded amount rises."""
    old = next(o for o in sample.orders if o["status"] == "Completed")
    rows = [order_row(990_001, store_id="IMP1", amount="50.00", refunded_amount="20.00"),
            order_row(old["order_id"], store_id=old["store_id"], amount=str(old["amount"]),
                      created_at=old["created_at"].strftime("%Y-%m-%dT%H:%M:%S"),
                      merchant_order_id=old["merchant_order_id"], status=old["status"],
                      channel=old["channel"], refunded_amount="1.00")]
    import_files(database, **write_files(tmp_path, stores=[store_row("IMP1")], orders=rows))


WRITERS = {"refund": (by_refund, {"refund"}), "cancel": (by_cancel, {"cancel"}),
           "import": (by_import, {"refund"})}


@pytest.mark.parametrize("writer", [*WRITERS, "copy"])
def test_every_writer_s_events_carry_their_order_s_store(writer, postgres_cluster, tmp_path):
    url = postgres_cluster.create_database(f"event_stores_{writer}")
    if writer == "copy":
        source, _ = sample_database(tmp_path / "source.duckdb")
        with source.transaction() as cur:
            cur.executemany(
                "INSERT INTO order_events (order_id, kind, amount, username, created_at, "
                "idempotency_key) VALUES (?, 'refund', 1.00, 'anna', TIMESTAMP '2026-02-01', ?)",
                [[1002, "k1"], [1003, "k2"]])
        source.close()
        with open_database(url) as database:
            copy_from_duckdb(tmp_path / "source.duckdb", database)
            kinds = {"refund"}
            events = stores_of_events(database)
    else:
        write, kinds = WRITERS[writer]
        database, sample = sample_database(url)
        with database:
            write(database, sample, tmp_path)
            events = stores_of_events(database)
    assert {kind for _, kind, _, _ in events} == kinds
    assert [(e, own) for e, _, own, _ in events] == [(e, order) for e, _, _, order in events]


def register_pages(database) -> dict:
    """Every register page's rows for each scope and sort, as the user sees them."""
    pages = {}
    for name, scope in SCOPES.items():
        for sort in SORT_LABELS:
            query = RefundQuery(sort=sort)
            first = register.fetch_refund_page(database, scope, query, WARSAW, 1)
            rows = list(first.rows)
            for page in range(2, -(-first.total // 15) + 1):
                rows += register.fetch_refund_page(database, scope, query, WARSAW, page).rows
            pages[name, sort] = (first.total, first.total_amount, rows)
    return pages


def test_an_upgrade_from_schema_4_fills_the_events_stores(postgres_cluster):
    url = postgres_cluster.create_database("event_stores_upgrade")
    database, sample = sample_database(url)
    completed = [o for o in sample.orders if o["status"] == "Completed"]
    for n, order in enumerate(completed[:30]):
        actions.refund_order(database, ADMIN, order["order_id"], idempotency_key=f"k{n}",
                             amount=str(Decimal(n + 1) / 10), reason="note", reason_code="Goods returned",
                             tz=WARSAW)
    before = register_pages(database)
    assert before["admin", SORT_LABELS[0]][0] > 30  # the sample's imported refunds too
    # Schema 4: no store on the events, no trigger, none of the register's indexes.
    with database.transaction() as cur:
        cur.execute("DROP TRIGGER order_events_store ON order_events")
        cur.execute("DROP FUNCTION order_event_store()")
        cur.execute("DROP INDEX order_events_refund_store, order_events_refund_time, "
                    "order_events_refund_amount, order_events_refund_reason")
        cur.execute("ALTER TABLE order_events DROP COLUMN store_id")
        cur.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    database.close()
    with open_database(url) as database:
        events = stores_of_events(database)
        assert len(events) == 30 and all(own == order for _, _, own, order in events)
        with database.cursor() as cur:
            version = cur.execute(
                "SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
            nullable = cur.execute(
                "SELECT is_nullable FROM information_schema.columns "
                "WHERE table_name = 'order_events' AND column_name = 'store_id'").fetchone()[0]
        assert (version, nullable) == ("5", "NO")
        assert register_pages(database) == before
        # And the trigger is back: a new refund carries its store.
        actions.refund_order(database, ADMIN, completed[40]["order_id"], idempotency_key="n1",
                             amount="1.00", reason="note", reason_code="Goods returned", tz=WARSAW)
        assert all(own == order for _, _, own, order in stores_of_events(database))


def test_the_reason_index_is_the_register_s_reason():
    """The sort by reason walks ``order_events_refund_reason`` only while its expression is the
    register's own."""
    from core.db.postgres.schema import INDEXES
    assert register.REFUND_REASON_SQL.replace("e.", "") in INDEXES
