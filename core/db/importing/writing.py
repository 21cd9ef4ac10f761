"""Writing a checked import: the staged rows merged into the tables, in the import's transaction.

Each table is merged through a temporary table that marks every row new, changed or unchanged,
which also gives the report its counts (``plan``, in DuckDB beside the staged rows); ``apply``
then writes the new and changed rows, on the database's own cursor — the same one on DuckDB, the
PostgreSQL transaction in the server mode, into which the work tables were copied
(``core.db.postgres.importing``). A re-imported order is updated (its status synced); the refunds
and cancels an import brings in are recorded in ``order_events`` like any other, so the refunded
amount always equals the sum of its refunds.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from core.db import index_orders
from core.db.importing.slices import write_in_slices
from core.db.sql_text import phone_digits_sql, sql_in, sql_literal
from core.db.written import rows_written
from core.importer.formats import IMPORT_USERNAME, STORE_COLUMNS
from core.importer.pace import FULL_SPEED, Pace
from core.importer.report import ImportReport
from core.refunds import IMPORTED
from core.status import ALL_REFUNDED, Status

_ORDER_VALUE_COLUMNS = (
    "created_at", "merchant_order_id", "amount", "refunded_amount", "status", "channel", "email",
    "phone", "phone_digits", "salesperson_id", "salesperson_name",
)
_ITEM_VALUE_COLUMNS = ("name", "quantity", "unit_price")


WORK_TABLES = ("w_stores", "w_orders", "w_items")
"""The merge's work tables; only their new and changed rows (``is_new OR is_changed``) are
written, so only those are copied to PostgreSQL."""


def plan(cur, report: ImportReport) -> None:
    """The work tables of the merge, beside the staged rows, and the report's row counts.

    Each marks its rows new or changed against the database's rows; the stores, orders and lines
    an import writes do not change what another table's rows are marked (orders never look at
    stores, lines never at orders), so all three may be planned before anything is written."""
    _plan_stores(cur)
    report.added["stores"], report.updated["stores"], report.unchanged["stores"] = \
        _counts(cur, "w_stores")
    _plan_orders(cur)
    report.added["orders"], report.updated["orders"], report.unchanged["orders"] = \
        _counts(cur, "w_orders")
    _plan_items(cur)
    report.added["order_items"], report.updated["order_items"], report.unchanged["order_items"] = \
        _counts(cur, "w_items")


def apply(cur, report: ImportReport, orders_file: str | None, now: dt.datetime,
          pace: Pace = FULL_SPEED) -> None:
    """Write the planned new and changed rows, the import's events and the search rows; the
    orders and lines at ``pace`` (``core.importer.pace``)."""
    # Foreign keys are checked eagerly (docs/stack-facts.md, DuckDB): stores first, then the
    # orders, updated and inserted before the events and lines that reference them; an update
    # never touches store_id.
    store_values = STORE_COLUMNS[1:]
    cur.execute(f"""
        UPDATE stores SET {', '.join(f'{c} = w.{c}' for c in store_values)}
        FROM w_stores w WHERE stores.store_id = w.store_id AND w.is_changed""")
    cur.execute(f"""
        INSERT INTO stores ({', '.join(STORE_COLUMNS)})
        SELECT {', '.join(STORE_COLUMNS)} FROM w_stores WHERE is_new""")
    write_in_slices(cur, pace, "w_orders", "w.is_changed", f"""
        UPDATE orders SET {', '.join(f'{c} = w.{c}' for c in _ORDER_VALUE_COLUMNS)}
        FROM w_orders w WHERE orders.order_id = w.order_id AND {{rows}}""")
    all_order_columns = ", ".join(("order_id", *_ORDER_VALUE_COLUMNS, "store_id"))
    write_in_slices(cur, pace, "w_orders", "w.is_new", f"""
        INSERT INTO orders ({all_order_columns})
        SELECT {all_order_columns} FROM w_orders w WHERE {{rows}}""")
    index_orders(cur, "o.order_id IN (SELECT order_id FROM w_orders WHERE is_new OR is_changed)")
    _write_events(cur, report, orders_file, now)
    write_in_slices(cur, pace, "w_items", "w.is_changed", f"""
        UPDATE order_items SET {', '.join(f'{c} = w.{c}' for c in _ITEM_VALUE_COLUMNS)}
        FROM w_items w
        WHERE order_items.order_id = w.order_id AND order_items.line_no = w.line_no
          AND {{rows}}""")
    write_in_slices(cur, pace, "w_items", "w.is_new", """
        INSERT INTO order_items (order_id, line_no, name, quantity, unit_price)
        SELECT order_id, line_no, name, quantity, unit_price FROM w_items w WHERE {rows}""")


def _counts(cur, table: str) -> tuple[int, int, int]:
    added, changed, total = cur.execute(
        f"SELECT count(*) FILTER (is_new), count(*) FILTER (is_changed), count(*) FROM {table}"
    ).fetchone()
    return added, changed, total - added - changed


def _distinct(columns: Iterable[str], left: str = "w", right: str = "db") -> str:
    return " OR ".join(f"{left}.{c} IS DISTINCT FROM {right}.{c}" for c in columns)


def _plan_stores(cur) -> None:
    cur.execute(f"""
        CREATE OR REPLACE TEMP TABLE w_stores AS
        SELECT s.*, db.store_id IS NULL AS is_new,
               db.store_id IS NOT NULL AND ({_distinct(STORE_COLUMNS[1:], 's')}) AS is_changed
        FROM v_stores s LEFT JOIN stores db USING (store_id)""")


def _plan_orders(cur) -> None:
    # A blank refunded_amount states nothing: a Return is fully refunded, an order already in the
    # database keeps its refunds (made in the app), a new order has none.
    cur.execute(f"""
        CREATE OR REPLACE TEMP TABLE w_orders AS
        WITH n AS (
            SELECT o.order_id, o.created_at, o.merchant_order_id, o.amount,
                   CASE WHEN o.refunded_amount IS NOT NULL THEN o.refunded_amount
                        WHEN o.status IN {sql_in(ALL_REFUNDED)} THEN o.amount
                        WHEN db.order_id IS NOT NULL THEN db.refunded_amount
                        ELSE 0 END AS refunded_amount,
                   o.status, o.channel, o.email, o.phone,
                   {phone_digits_sql('o.phone')} AS phone_digits,
                   o.store_id, o.salesperson_id, o.salesperson_name,
                   db.order_id IS NULL AS is_new, db.refunded_amount AS old_refunded_amount,
                   db.status AS old_status,
                   {', '.join(f'db.{c} AS old_{c}' for c in _ORDER_VALUE_COLUMNS
                              if c not in ('refunded_amount', 'status'))}
            FROM v_orders o LEFT JOIN orders db USING (order_id))
        SELECT {', '.join(c for c in ('order_id', *_ORDER_VALUE_COLUMNS, 'store_id', 'is_new',
                                      'old_refunded_amount', 'old_status'))},
               NOT is_new AND ({' OR '.join(
                   f'{c} IS DISTINCT FROM old_{c}' for c in _ORDER_VALUE_COLUMNS)}) AS is_changed
        FROM n""")


def _write_events(cur, report: ImportReport, orders_file: str | None, now: dt.datetime) -> None:
    """A refund event for each rise of a refunded amount (its reason "Imported", at the
    import's time), a cancel event for each new Cancel."""
    reason = f"Imported from {orders_file}"
    # gen_random_uuid(): DuckDB's uuid() under the name PostgreSQL knows too.
    cur.execute("""
        INSERT INTO order_events (order_id, kind, amount, reason, username, created_at,
                                  idempotency_key, reason_code)
        SELECT order_id, 'refund', refunded_amount - coalesce(old_refunded_amount, 0), ?, ?, ?,
               'import-' || CAST(gen_random_uuid() AS VARCHAR), ?
        FROM w_orders WHERE refunded_amount > coalesce(old_refunded_amount, 0)""",
                [reason, IMPORT_USERNAME, now, IMPORTED])
    refunds = rows_written(cur)
    cancel = sql_literal(Status.CANCEL)
    cur.execute(f"""
        INSERT INTO order_events (order_id, kind, amount, reason, username, created_at,
                                  idempotency_key)
        SELECT order_id, 'cancel', 0, ?, ?, ?, 'import-' || CAST(gen_random_uuid() AS VARCHAR)
        FROM w_orders WHERE status = {cancel} AND coalesce(old_status, '') <> {cancel}""",
                [reason, IMPORT_USERNAME, now])
    cancels = rows_written(cur)
    report.refund_events, report.cancel_events = refunds, cancels
    report.added["order_events"] = refunds + cancels


def _plan_items(cur) -> None:
    cur.execute(f"""
        CREATE OR REPLACE TEMP TABLE w_items AS
        SELECT i.order_id, i.line_no, i.name, i.quantity, i.unit_price,
               db.order_id IS NULL AS is_new,
               db.order_id IS NOT NULL AND ({_distinct(_ITEM_VALUE_COLUMNS, 'i')}) AS is_changed
        FROM v_items i LEFT JOIN order_items db USING (order_id, line_no)""")
