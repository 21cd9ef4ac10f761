"""How a page is found on PostgreSQL: its own page strategies, each answered by an index
(``core.db.postgres.schema.INDEXES``) rather than by a scan of the view's orders.

DuckDB scans columns quickly and ranks in memory (``core.db.paging``); PostgreSQL reads rows, so
a page is found by walking an index in the screen's order and stopping after it (measured on
5,000,000 orders: docs/stack-facts.md, PostgreSQL):

* an order's own column: the index on (column, order ID) read in order, the view's conditions
  checked on the index's own copy of the store, time, status and channel;
* a store's column: the stores in the screen's order (from the small stores table), their orders
  by order ID, store after store, a store skipped whole when the page lies beyond it (counted
  only up to the page);
* a deep page by date within some stores: located by the count per day (``page_by_day``).
"""
from __future__ import annotations

from core.db.filters import column_sql, order_by
from core.db.paging import DEEP_OFFSET, PagePlan, count_and_total, page_by_day
from core.db.postgres.sql import store_ids_sql
from core.db.views import View
from core.query import PAGE_SIZE, OrderQuery, clamp_page


def locate_page(cur, view: View, query: OrderQuery, page: int) -> PagePlan:
    """The page's plan on PostgreSQL."""
    column = query.sort_column
    if (column.key == "created_at" and view.store_ids is not None
            and (page - 1) * PAGE_SIZE >= DEEP_OFFSET):
        return page_by_day(cur, view, query, page)
    total, total_amount = count_and_total(cur, view)
    page = clamp_page(page, total)
    if not total:
        return PagePlan(0, total_amount, 1, [])
    first = (page - 1) * PAGE_SIZE
    if column.in_stores:
        ids = ids_by_stores(cur, view, query, first)
    else:
        ids = [r[0] for r in cur.execute(
            f"SELECT o.order_id FROM orders o WHERE {view.where} "
            f"ORDER BY {order_by(query, postgres=True)} LIMIT ? OFFSET ?",
            [*view.params, PAGE_SIZE, first],
        ).fetchall()]
    return PagePlan(total, total_amount, page, ids)


def store_groups(cur, view: View, query: OrderQuery) -> list[tuple[str, ...]]:
    """The view's stores grouped by the sort column's value, in the screen's order (empty
    values last); within a value, orders rank by order ID alone."""
    column = column_sql(query.sort_column)
    where, params = ("TRUE", []) if view.store_ids is None else (
        f"s.store_id IN ({', '.join('?' * len(view.store_ids))})", list(view.store_ids))
    direction = "DESC" if query.descending else "ASC"
    rows = cur.execute(
        f"SELECT array_agg(s.store_id ORDER BY s.store_id) FROM stores s WHERE {where} "
        f"GROUP BY {column} ORDER BY {column} {direction} NULLS LAST", params,
    ).fetchall()
    return [tuple(r[0]) for r in rows]


def ids_by_stores(cur, view: View, query: OrderQuery, first: int) -> list[int]:
    """Rows ``first`` .. ``first + PAGE_SIZE`` of the view sorted by a store's column: the groups
    of stores in order, each skipped whole when the page lies beyond it (its orders counted up
    to the page only), the page's rows read by order ID within the groups it falls on."""
    direction = "DESC" if query.descending else "ASC"
    skip, ids = first, []
    for group in store_groups(cur, view, query):
        within, params = store_ids_sql(group)
        where, args = f"{view.where} AND {within}", [*view.params, *params]
        if skip:
            n = cur.execute(f"SELECT count(*) FROM (SELECT 1 FROM orders o WHERE {where} "
                            f"LIMIT ?) c", [*args, skip + 1]).fetchone()[0]
            if n <= skip:
                skip -= n
                continue
        ids += [r[0] for r in cur.execute(
            f"SELECT o.order_id FROM orders o WHERE {where} ORDER BY o.order_id {direction} "
            f"LIMIT ? OFFSET ?", [*args, PAGE_SIZE - len(ids), skip]).fetchall()]
        skip = 0
        if len(ids) >= PAGE_SIZE:
            break
    return ids
