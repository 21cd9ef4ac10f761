"""The Refunds register's PostgreSQL-only parts (``core.db.refunds`` writes the statements both
engines share): the events' conditions led by their own store, and the page of a register of
every store, counted and ranked by two statements instead of one materialized set.

Schema 5 gives every event its order's store (``order_events.store_id``) and two partial indexes
of the refunds: by store and time, and by time (``core.db.postgres.schema.INDEXES``). A view
within some stores then starts from the first, reading the scope's refunds alone; a register of
every store has hundreds of thousands of rows in a year, which a materialized set would copy and
sort whole: it is counted by an index-only scan of the second, and its page read by a walk of an
index in the screen's order where one exists (docs/stack-facts.md, PostgreSQL, "Refunds
register").
"""
from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from zoneinfo import ZoneInfo

from core.db.filters import orders_where
from core.query import PAGE_SIZE, clamp_page


def events_by_store(db, scope, query, tz: ZoneInfo, events: list[str], params: list,
                    by_refund_id: bool) -> tuple[list[str], list, bool]:
    """The events' conditions (and whether they read the orders) led by the events' own store,
    so that the planner starts from the index of the scope's refunds by store and time; when the
    view's only condition on the orders is their stores, the events are read without them."""
    view = db.resolve(scope, query.order_query(), tz)
    if view is None or view.store_ids is None:
        return events, params, True
    by_store = [f"e.store_id IN ({', '.join('?' * len(view.store_ids))})"]
    own, _ = orders_where(query.order_query(), tz, None, postgres=True)
    if own == "TRUE" and not by_refund_id:
        return by_store, list(view.store_ids), False
    return [*by_store, *events], [*view.store_ids, *params], True


def page_statements(rows_sql: str, count_sql: str, order_by: str) -> tuple[str, str]:
    """The count and total of ``count_sql``'s rows, and one page of ``rows_sql``'s (parameters:
    the rows', then the limit and offset), for a register of every store. Neither is
    materialized, so the planner counts from an index alone and walks the page's index."""
    count = f"SELECT count(*), coalesce(sum(amount), 0) FROM ({count_sql}) r"
    page = (f"SELECT r.event_id, r.order_id, CAST(r.refunded_at AS VARCHAR), r.amount, r.reason, "
            f"r.username FROM ({rows_sql}) r ORDER BY {order_by} LIMIT ? OFFSET ?")
    return count, page


def page_in_two(db, statements: tuple[str, str], params: list, page: int,
                read_rows: Callable) -> tuple[list, int, int, Decimal]:
    """A register of every store's page (its rows read in full by ``read_rows(cur, ranked)``),
    count, clamped page number and total, by ``page_statements``, in one snapshot."""
    count_sql, page_sql = statements
    with db.snapshot() as cur:
        total, amount = cur.execute(count_sql, params).fetchone()
        shown = clamp_page(page, int(total), PAGE_SIZE)
        ranked = cur.execute(page_sql, [*params, PAGE_SIZE, (shown - 1) * PAGE_SIZE]).fetchall()
        return read_rows(cur, ranked), int(total), shown, Decimal(amount)
