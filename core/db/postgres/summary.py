"""The orders counted per UTC hour, status and channel (``order_hours``), kept by triggers in the
transaction of every write to the orders: a view of every store (an admin's) is counted from it
instead of from its millions of orders (docs/stack-facts.md, PostgreSQL).

The table only ever receives rows: each statement that inserts, changes or deletes orders adds
one row per (hour, status, channel) it changed, with what it added or took away. Writers
therefore never wait for one another on it (a refund and an import touch no common row), and a
read sums the rows of its hours. ``compact`` merges the rows of each key into one when they have
grown (any process may, at any time: one statement, atomic). A period's partial hours at its ends
(a display zone whose midnight is no whole UTC hour) are counted from the orders.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from core.db.filters import ORDERS_PG, condition_sql, period_bounds_us
from core.query import OrderQuery
from core.query_filters import InList, Period, Search

_HOUR_US = 3_600_000_000
_EPOCH = datetime(1970, 1, 1)

# What one statement changed, as rows of (hour, status, channel, orders, amounts) to add.
_DELTA = """
    SELECT date_trunc('hour', created_at), status, channel, {sign} count(*),
           {sign} sum(amount), {sign} sum(refunded_amount)
    FROM {rows} GROUP BY 1, 2, 3"""

DDL = f"""
CREATE TABLE IF NOT EXISTS order_hours (
    hour            TIMESTAMP NOT NULL,
    status          VARCHAR COLLATE "C" NOT NULL,
    channel         VARCHAR COLLATE "C" NOT NULL,
    orders          BIGINT NOT NULL,
    amount          DECIMAL(38,2) NOT NULL,
    refunded_amount DECIMAL(38,2) NOT NULL
);
CREATE INDEX IF NOT EXISTS order_hours_hour ON order_hours (hour);

CREATE OR REPLACE FUNCTION order_hours_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO order_hours {_DELTA.format(sign="", rows="new_rows")};
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO order_hours {_DELTA.format(sign="-", rows="old_rows")};
    ELSE
        INSERT INTO order_hours
        SELECT hour, status, channel, sum(n), sum(a), sum(r) FROM (
            {_DELTA.format(sign="", rows="new_rows")}
            UNION ALL {_DELTA.format(sign="-", rows="old_rows")}
        ) AS d (hour, status, channel, n, a, r)
        GROUP BY 1, 2, 3 HAVING sum(n) <> 0 OR sum(a) <> 0 OR sum(r) <> 0;
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER orders_counted_insert AFTER INSERT ON orders
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION order_hours_count();
CREATE OR REPLACE TRIGGER orders_counted_update AFTER UPDATE ON orders
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION order_hours_count();
CREATE OR REPLACE TRIGGER orders_counted_delete AFTER DELETE ON orders
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION order_hours_count();
"""

# Run once, when the table is new, in the transaction that created the triggers (which waited for
# every writer of the orders to finish): the orders already there.
BACKFILL = f"INSERT INTO order_hours {_DELTA.format(sign='', rows='orders')}"

# Each key's rows merged into one: the rows read and the rows written in one statement.
COMPACT = """
WITH gone AS (DELETE FROM order_hours RETURNING *)
INSERT INTO order_hours
SELECT hour, status, channel, sum(orders), sum(amount), sum(refunded_amount) FROM gone
GROUP BY 1, 2, 3 HAVING sum(orders) <> 0 OR sum(amount) <> 0 OR sum(refunded_amount) <> 0
"""


@dataclass(frozen=True)
class HoursView:
    """A view counted from ``order_hours``: its whole hours (a WHERE clause over
    ``order_hours o``), and the moments of its partial hours, counted from the orders."""

    where: str
    params: list
    edges: list[tuple[str, list]]  # extra conditions over ``orders o``, with the view's own


def hours_view(query: OrderQuery, tz: ZoneInfo,
               store_ids: tuple[str, ...] | None) -> HoursView | None:
    """The view as whole hours of ``order_hours``, or None when it cannot be: a store filter or
    a search (which the hours do not know), or a period beyond Python's datetimes."""
    if store_ids is not None:
        return None
    clauses, params, edges = [], [], []
    for condition in query.filters():
        if isinstance(condition, Search):
            if condition.kind:
                return None
        elif isinstance(condition, InList):
            if not condition.values:
                continue
            if condition.about_stores or condition.column not in ("status", "channel"):
                return None  # (resolved as store IDs, which are not None here)
            if (part := condition_sql(condition, ORDERS_PG)) is not None:
                clauses.append(part[0])  # ``o.status IN (…)``: the hours are ``o`` too
                params.extend(part[1])
        elif isinstance(condition, Period):
            low, high = period_bounds_us(condition, tz)
            try:
                for bound, operator, whole in ((low, ">=", -(-(low or 0) // _HOUR_US)),
                                               (high, "<", (high or 0) // _HOUR_US)):
                    if bound is None:
                        continue
                    hour = _EPOCH + timedelta(microseconds=whole * _HOUR_US)
                    clauses.append(f"o.hour {operator} ?")
                    params.append(hour)
                    if whole * _HOUR_US != bound:  # the partial hour, from the orders
                        edges.append((f"o.created_at {'<' if operator == '>=' else '>='} ?",
                                      [hour]))
            except OverflowError:
                return None
        else:
            return None
    return HoursView(" AND ".join(clauses) or "TRUE", params, edges)


def count_and_total(cur, hours: HoursView, view_where: str,
                    view_params: list) -> tuple[int, Decimal]:
    """The view's count and captured amount: its whole hours' rows summed, and the orders of its
    partial hours."""
    total, amount = cur.execute(
        f"SELECT coalesce(sum(o.orders), 0), coalesce(sum(o.amount), 0) FROM order_hours o "
        f"WHERE {hours.where}", hours.params).fetchone()
    total, amount = int(total), Decimal(amount)
    for edge, params in hours.edges:
        n, a = cur.execute(f"SELECT count(*), coalesce(sum(o.amount), 0) FROM orders o "
                           f"WHERE {view_where} AND {edge}", [*view_params, *params]).fetchone()
        total, amount = total + int(n), amount + Decimal(a)
    return total, amount
