"""The demo's transaction: the plan loaded, the tables replaced, the generated rows inserted.

Every store, order, item line and event is replaced in one transaction; the temporary tables and
macros of the build are dropped before it commits. The search index is written in the same
transaction (``index_orders``) and clustered afterwards by ``cluster_search_index``.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from core.db import index_orders
from core.db.demo_data.choices import CANCEL, OFFLINE, ONLINE, PARTIAL, RETURN, Choices
from core.db.demo_data.lines import insert_events, insert_items
from core.db.demo_data.orders import insert_orders
from core.db.demo_data.skeleton import base, macros
from core.db.schema import DDL
from core.demo.places import ZONES
from core.demo.plan import EDGE_COLUMNS, EDGE_ORDERS, DemoSummary, PlannedStore
from core.importer.formats import STORE_COLUMNS  # the stores table's columns, as its file's

FIRST_EVENT_SEQUENCE_ID = 1000001  # where ``order_event_ids`` starts in core.db.schema


def _load_plan(cur, planned: list[PlannedStore]) -> None:
    """Temporary tables of the stores' weights and of the fixed edge cases."""
    cur.execute(
        "CREATE TEMP TABLE demo_stores AS SELECT * FROM (SELECT unnest(?) AS store_no, "
        "unnest(?) AS store_id, unnest(?) AS zone, unnest(?) AS provides_items, "
        "unnest(?) AS utc_offset, unnest(?) AS online_weight, unnest(?) AS offline_weight)",
        [list(range(len(planned))), [s.store_id for s in planned], [s.zone for s in planned],
         [s.provides_items for s in planned], [ZONES[s.zone]["utc_offset"] for s in planned],
         [s.online_weight for s in planned], [s.offline_weight for s in planned]],
    )
    # Each store owns as many slots of a channel as its weight; an order picks a slot.
    cur.execute(f"""
        CREATE TEMP TABLE demo_slots AS
        SELECT channel, row_number() OVER (PARTITION BY channel ORDER BY store_no, k) - 1 AS slot,
               store_no
        FROM (SELECT {ONLINE} AS channel, store_no, unnest(range(online_weight)) AS k
              FROM demo_stores
              UNION ALL
              SELECT {OFFLINE}, store_no, unnest(range(offline_weight)) FROM demo_stores)
    """)
    cur.execute(
        "CREATE TEMP TABLE demo_edge AS SELECT * FROM (SELECT unnest(?) AS order_id, "
        + ", ".join(f"unnest(?) AS {c}" for c in EDGE_COLUMNS) + ")",
        [[order_id for order_id, _ in EDGE_ORDERS]]
        + [[fields.get(c) for _, fields in EDGE_ORDERS] for c in EDGE_COLUMNS],
    )


def _recreate_tables(cur, event_count: int) -> None:
    """Empty tables, and an event sequence that starts above the demo's own event IDs.

    Dropping is the only way to empty them in one transaction: DuckDB refuses to delete rows that
    rows deleted in the same transaction referred to.
    """
    cur.execute("DROP TABLE IF EXISTS order_search; DROP TABLE IF EXISTS order_search_recent; "
                "DROP TABLE IF EXISTS search_stores; "
                "DROP TABLE IF EXISTS order_events; DROP TABLE IF EXISTS order_items; "
                "DROP TABLE IF EXISTS orders; DROP TABLE IF EXISTS stores; "
                "DROP SEQUENCE IF EXISTS order_event_ids")
    cur.execute(f"CREATE SEQUENCE order_event_ids START "
                f"{max(FIRST_EVENT_SEQUENCE_ID, event_count + 1)}")
    cur.execute(DDL)


def _summary(cur) -> DemoSummary:
    def count(sql: str) -> int:
        return cur.execute(sql).fetchone()[0]

    return DemoSummary(
        orders=count("SELECT count(*) FROM orders"),
        stores=count("SELECT count(*) FROM stores"),
        legal_entities=count("SELECT count(DISTINCT legal_entity) FROM stores"),
        items=count("SELECT count(*) FROM order_items"),
        refunds=count("SELECT count(*) FROM order_events WHERE kind = 'refund'"),
    )


def write_demo(database, orders: int, seed: int, start: dt.datetime, end: dt.datetime,
               planned: list[PlannedStore], report: Callable[[float], None]) -> DemoSummary:
    """Replace the tables' rows with ``orders`` orders of the ``planned`` stores in the UTC period
    ``[start, end)``, generated from ``seed``; ``report(fraction)`` as the work goes on."""
    c = Choices(orders, seed, start, end, planned)
    report(0.0)
    with database.transaction() as cur:
        for macro in macros(c):
            cur.execute(macro)
        _load_plan(cur, planned)
        cur.execute(base(c))
        report(0.35)
        _recreate_tables(cur, cur.execute(
            f"SELECT count(*) FROM demo_base WHERE fate IN ({CANCEL}, {RETURN}, {PARTIAL})"
        ).fetchone()[0])
        cur.execute(
            f"INSERT INTO stores ({', '.join(STORE_COLUMNS)}) SELECT * FROM (SELECT "
            + ", ".join("unnest(?)" for _ in STORE_COLUMNS) + ")",
            [[getattr(s, column) for s in planned] for column in STORE_COLUMNS],
        )
        cur.execute(insert_orders(c))
        index_orders(cur)  # then clustered by cluster_search_index
        report(0.6)
        cur.execute(insert_items(c))
        report(0.85)
        cur.execute(insert_events(c))
        report(0.95)
        summary = _summary(cur)
        cur.execute("DROP TABLE demo_base; DROP TABLE demo_edge; DROP TABLE demo_slots; "
                    "DROP TABLE demo_stores; DROP MACRO demo_partial_qty; DROP MACRO demo_qty; "
                    "DROP MACRO demo_price; DROP MACRO demo_garment")
    report(1.0)
    return summary
