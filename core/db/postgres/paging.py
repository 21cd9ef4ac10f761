"""How a page is found on PostgreSQL: its own page strategies, each answered by an index
(``core.db.postgres.schema.INDEXES``) rather than by a scan of the view's orders.

DuckDB scans columns quickly and ranks in memory (``core.db.paging``); PostgreSQL reads rows, so
a page is found by walking an index in the screen's order and stopping after it (measured on
5,000,000 orders: docs/stack-facts.md, PostgreSQL):

* an order's own column: the index on (column, order ID) read in order, the view's conditions
  checked on the index's own copy of the store, time, status and channel;
* the merchant's order ID: the same walk within each month of the view (an index led by the
  month), the months' walks merged, since the IDs do not follow the orders' time (a view of
  few orders, a store or two, is read through its stores' indexes and sorted whole);
* a store's column: the stores in the screen's order (from the small stores table), their orders
  by order ID, store after store, a store skipped whole when the page lies beyond it (counted
  only up to the page);
* a search within some stores: its matches found once (by the trigram indexes, the primary key
  and the merchant order ID's index), then counted and ranked in the same statement;
* a deep page by date within some stores: located by the count per day (``page_by_day``).
"""
from __future__ import annotations

from decimal import Decimal

from core.db.filters import column_sql, order_by
from core.db.paging import DEEP_OFFSET, PagePlan, count_and_total, page_by_day
from core.db.postgres.sql import email_in_stores, store_ids_sql
from core.db.views import View
from core.query import PAGE_SIZE, OrderQuery, clamp_page
from core.query_filters import Search


# Up to this many stores a search's matches are counted and ranked in one statement: they are at
# most these stores' orders. (Broad searches of every store, such as "gmail.com" in 1.7M orders,
# took 4.4 s so against 2.1 s counted and walked apart.)
SEARCH_STORES = 100
# Up to this many orders a view by merchant order ID is read and sorted whole: one store's
# months walked apart read about every store's orders (118 ms for a store's year of 2,518
# orders, 12 ms sorted).
SORTED_AT_ONCE = 10_000


def locate_page(cur, view: View, query: OrderQuery, page: int) -> PagePlan:
    """The page's plan on PostgreSQL."""
    column = query.sort_column
    if (column.key == "created_at" and view.store_ids is not None
            and (page - 1) * PAGE_SIZE >= DEEP_OFFSET):
        return page_by_day(cur, view, query, page)
    if (search := Search.parse(query.search)).kind and view.store_ids is not None and len(
            view.store_ids) <= SEARCH_STORES:
        if (plan := page_of_search(cur, view, query, page, search)) is not None:
            return plan
    total, total_amount = count_and_total(cur, view)
    page = clamp_page(page, total)
    if not total:
        return PagePlan(0, total_amount, 1, [])
    first = (page - 1) * PAGE_SIZE
    ids = None
    if column.in_stores:
        ids = ids_by_stores(cur, view, query, first)
    elif column.key == "merchant_order_id" and not search.kind:
        # (A search's condition is not in the month-led indexes: each walk would test the
        # table row by row. Its matches are left to the planner, as before.)
        ids = (ids_by_months(cur, view, query, first) if total > SORTED_AT_ONCE
               else ids_sorted_at_once(cur, view, query, first))
    if ids is None:
        ids = [r[0] for r in cur.execute(
            f"SELECT o.order_id FROM orders o WHERE {view.where} "
            f"ORDER BY {order_by(query, postgres=True)} LIMIT ? OFFSET ?",
            [*view.params, PAGE_SIZE, first],
        ).fetchall()]
    return PagePlan(total, total_amount, page, ids)


def page_of_search(cur, view: View, query: OrderQuery, page: int,
                   search: Search) -> PagePlan | None:
    """The page of a search, counted and ranked in one statement over its matches, read once:
    finding them is the cost (the trigram index's candidates are tested in the table), and a
    count and a page asked apart found them twice. An e-mail searched within some stores is
    found by the stores' own trigrams (``email_in_stores``). None when the page lies past the
    last one (then the last page is asked for as any other)."""
    where, params = view.where, view.params
    if search.kind == "email" and (
            within := email_in_stores(view.store_ids, search.value)) is not None:
        where, params = f"{where} AND {within[0]}", [*params, *within[1]]
    column = query.sort_column
    key = column_sql(column)
    joined = " JOIN stores s ON s.store_id = o.store_id" if column.in_stores else ""
    ranked = order_by(query, "o.sort_key")
    total, total_amount, ids = cur.execute(
        f"WITH f AS MATERIALIZED (SELECT o.order_id, o.amount, {key} AS sort_key "
        f"FROM orders o{joined} WHERE {where}) "
        f"SELECT count(*), coalesce(sum(f.amount), 0), (SELECT array_agg(o.order_id ORDER BY "
        f"{ranked}) FROM (SELECT o.order_id, o.sort_key FROM f o ORDER BY {ranked} "
        f"LIMIT ? OFFSET ?) o) FROM f",
        [*params, PAGE_SIZE, max(page - 1, 0) * PAGE_SIZE],
    ).fetchone()
    total, total_amount = int(total), Decimal(total_amount)
    if clamp_page(page, total) != page:
        return None
    return PagePlan(total, total_amount, page, list(ids or []))


def ids_sorted_at_once(cur, view: View, query: OrderQuery, first: int) -> list[int]:
    """Rows ``first`` .. ``first + PAGE_SIZE`` of a view of few orders, read (by the indexes of
    its stores and period) and sorted whole: asked as one ordered statement, the planner may
    walk the sort column's index across every store instead."""
    return [r[0] for r in cur.execute(
        f"WITH f AS MATERIALIZED (SELECT o.order_id, {column_sql(query.sort_column)} AS sort_key "
        f"FROM orders o WHERE {view.where}) SELECT o.order_id FROM f o "
        f"ORDER BY {order_by(query, 'o.sort_key')} LIMIT ? OFFSET ?",
        [*view.params, PAGE_SIZE, first]).fetchall()]


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


# More months than this in a view (20 years) and a page by merchant order ID walks one index.
MAX_MONTHS = 240
# The month of an order, as the indexes ``orders_merchant_month`` (and its descending twin) lead
# with it (``core.db.postgres.schema.INDEXES``).
# Each month's walk repeats the view's parameters; a statement takes at most 65,535.
MAX_PARAMS = 30_000
MONTH_SQL = "date_trunc('month', o.created_at)"

# The months that hold orders, from the view's first order's to its last one's: each month found
# by one step down the month-led index, from the month before. As text, handed back as it is (a
# month may be one Python has no date for: BC, infinity).
_MONTHS = f"""
WITH RECURSIVE span AS MATERIALIZED (
    SELECT date_trunc('month', min(o.created_at)) AS low,
           date_trunc('month', max(o.created_at)) AS high
    FROM orders o WHERE {{where}}
), months (month) AS (
    SELECT low FROM span WHERE low IS NOT NULL
    UNION ALL
    SELECT (SELECT min({MONTH_SQL}) FROM orders o
            WHERE {MONTH_SQL} > months.month AND {MONTH_SQL} <= (SELECT high FROM span))
    FROM months WHERE months.month < (SELECT high FROM span)
)
SELECT month::VARCHAR FROM months WHERE month IS NOT NULL LIMIT ?"""


def ids_by_months(cur, view: View, query: OrderQuery, first: int) -> list[int] | None:
    """Rows ``first`` .. ``first + PAGE_SIZE`` of the view by merchant order ID: each month's
    orders walked in that order on the month-led index (the view's conditions checked in it),
    the walks merged (PostgreSQL's Merge Append reads each only as far as the page needs).

    One walk over every month's IDs skipped 1.5M rows of other years before a year's first page,
    since the IDs do not grow with time (barcodes before ``WEB-…``, ``WEB-9…`` after
    ``WEB-10…``); a month's walk skips at most that month's rows outside the period
    (docs/stack-facts.md, PostgreSQL). None when the view spans more than ``MAX_MONTHS``."""
    months = [r[0] for r in cur.execute(_MONTHS.format(where=view.where),
                                        [*view.params, MAX_MONTHS + 1]).fetchall()]
    if len(months) > MAX_MONTHS or len(months) * (len(view.params) + 2) > MAX_PARAMS:
        return None
    if not months:
        return []
    # Each month's walk is a subquery sorted and limited on its own: written as plain
    # branches of the UNION ALL, the month's equality did not make the index's order the
    # screen's, and every month was read whole and sorted (850 ms for an admin's year).
    ranked = order_by(query, postgres=True)
    one = (f"(SELECT o.order_id, o.merchant_order_id FROM orders o "
           f"WHERE {MONTH_SQL} = CAST(? AS TIMESTAMP) AND {view.where} "
           f"ORDER BY {ranked} LIMIT ?)")
    rows = cur.execute(
        f"SELECT o.order_id FROM ({' UNION ALL '.join([one] * len(months))}) o "
        f"ORDER BY {ranked} LIMIT ? OFFSET ?",
        [arg for month in months for arg in (month, *view.params, first + PAGE_SIZE)]
        + [PAGE_SIZE, first],
    ).fetchall()
    return [r[0] for r in rows]
