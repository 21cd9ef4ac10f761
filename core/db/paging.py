"""How a page is found: the five page strategies, each returning a ``PagePlan``.

A page is ranked over narrow rows (order ID and the sort key) and only its 15 rows are then read
in full (``core.db.rows``). Columns with few values (status, channel, the store's columns) are
ranked from the count per value, which also yields the total, so one scan serves the count and
the page; phones and e-mails are ranked by their integer keys first; a deep page by date is
located by the count per day. ``locate_page`` picks the quickest for the view.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import duckdb

from core.db.filters import SMALL_STORE_LIST, column_sql, order_by, store_ids_sql
from core.db.postgres import is_postgres
from core.db.postgres.summary import count_and_total as hours_count
from core.db.search_index import INDEX_CANDIDATES
from core.db.views import View
from core.query import PAGE_SIZE, OrderQuery, clamp_page

# The first window of order IDs a page by order ID within many stores is looked for in
# (``by_id_in_windows``): about a day of a large merchant's orders.
ID_WINDOW = 4096

# From this many rows into a view of many orders, a page by date is located by day
# (``page_by_day``); before it DuckDB's own ranking is quicker.
DEEP_OFFSET = 3_000

@dataclass(frozen=True)
class PagePlan:
    """Where a page lies: the view's count and total, the page (clamped to range) and its
    orders' IDs in the screen's order."""

    total: int
    total_amount: Decimal
    page: int
    ids: list[int]


def count_and_total(cur: duckdb.DuckDBPyConnection, view: View) -> tuple[int, Decimal]:
    """How many orders the view holds, and their captured amount (on PostgreSQL, counted by
    hour where the view allows: ``core.db.postgres.summary``)."""
    if view.hours is not None:
        return hours_count(cur, view.hours, view.where, view.params)
    total, total_amount = cur.execute(
        f"SELECT count(*), coalesce(sum(o.amount), 0) FROM orders o WHERE {view.where}",
        view.params,
    ).fetchone()
    return int(total), Decimal(total_amount)


def locate_page(cur: duckdb.DuckDBPyConnection, view: View, query: OrderQuery,
                page: int) -> PagePlan:
    """The page's plan, found the quickest way for the view (on PostgreSQL, by its own
    strategies: ``core.db.postgres.paging``)."""
    if is_postgres(cur):
        from core.db.postgres import paging as pg_paging  # it builds on this module
        return pg_paging.locate_page(cur, view, query, page)
    column = query.sort_column
    if column.few_values and not view.narrow:
        return page_by_groups(cur, view, query, page)
    if column.sort_key and not is_postgres(cur):  # PostgreSQL ranks texts by its indexes
        return page_by_key(cur, view, query, page)
    if column.key == "created_at" and not view.narrow and (page - 1) * PAGE_SIZE >= DEEP_OFFSET:
        return page_by_day(cur, view, query, page)
    return page_by_rank(cur, view, query, page)


def page_by_rank(cur: duckdb.DuckDBPyConnection, view: View, query: OrderQuery,
                 page: int) -> PagePlan:
    """The page by ranking on the sort key."""
    key = column_sql(query.sort_column)
    by_store = query.sort_column.in_stores
    # Orders lie on disk in time order, so ranking by date or ID (and by the merchant's order
    # number, which grows with time too) skips most of the table by itself (DuckDB prunes by
    # the top 15 found so far) and is cheaper as its own query, unless a search makes every
    # scan costly.
    time_ordered = query.sort_column.time_ordered and not query.search.strip()
    if view.narrow and not time_ordered:
        # One scan: the few matching rows, narrowed to ID, amount and key (or store), are kept,
        # counted and ranked; a store's column is joined to those rows only.
        kept = "o.store_id" if by_store else f"{key} AS sort_key"
        ranked = ("f o LEFT JOIN stores s ON s.store_id = o.store_id" if by_store else "f o")
        ranked_key = key if by_store else "o.sort_key"
        total, total_amount, ids = cur.execute(
            f"WITH f AS MATERIALIZED (SELECT o.order_id, o.amount, {kept} "
            f"FROM orders o WHERE {view.where}) "
            f"SELECT count(*), coalesce(sum(amount), 0), (SELECT array_agg(o.order_id ORDER BY "
            f"{order_by(query, 'o.sort_key')}) FROM (SELECT o.order_id, {ranked_key} AS sort_key "
            f"FROM {ranked} ORDER BY {order_by(query, ranked_key)} LIMIT ? OFFSET ?) o) FROM f",
            [*view.params, PAGE_SIZE, (max(page, 1) - 1) * PAGE_SIZE],
        ).fetchone()
        total, total_amount = int(total), Decimal(total_amount)
        if clamp_page(page, total) == page:
            return PagePlan(total, total_amount, page, list(ids or []))
    else:
        total, total_amount = count_and_total(cur, view)
    page = clamp_page(page, total)
    join = " LEFT JOIN stores s ON s.store_id = o.store_id" if by_store else ""
    ids = [r[0] for r in cur.execute(
        f"SELECT o.order_id FROM orders o{join} WHERE {view.where} "
        f"ORDER BY {order_by(query)} LIMIT ? OFFSET ?",
        [*view.params, PAGE_SIZE, (page - 1) * PAGE_SIZE],
    ).fetchall()] if total else []
    return PagePlan(total, total_amount, page, ids)


def page_by_key(cur: duckdb.DuckDBPyConnection, view: View, query: OrderQuery,
                page: int) -> PagePlan:
    """The same by phone or e-mail (``Column.sort_key``), whose ranking decodes every text (34 ms for
    2.1M phones): their integer keys are ranked first. The page's last row has a key at least as
    high (low) as the key found at its rank, so only the orders with such keys are ranked by the
    text. A view of few orders is scanned once for the count, the total and those orders."""
    integer_key = column_sql(query.sort_column, query.sort_column.sort_key)
    direction, reach = ("DESC", ">=") if query.descending else ("ASC", "<=")
    last = page * PAGE_SIZE - 1
    ids = None
    if view.narrow:
        total, total_amount, bound, ids = cur.execute(
            f"WITH f AS MATERIALIZED (SELECT o.order_id, o.amount, {integer_key} AS k "
            f"FROM orders o WHERE {view.where}), "
            f"b AS (SELECT k FROM f ORDER BY k {direction} NULLS LAST LIMIT 1 OFFSET ?) "
            f"SELECT count(*), coalesce(sum(amount), 0), (SELECT k FROM b), "
            f"(SELECT list(order_id) FROM f WHERE k {reach} (SELECT k FROM b)) FROM f",
            [*view.params, last],
        ).fetchone()
    else:
        total, total_amount = count_and_total(cur, view)
        bound = cur.execute(
            f"SELECT {integer_key} FROM orders o WHERE {view.where} "
            f"ORDER BY {integer_key} {direction} NULLS LAST LIMIT 1 OFFSET ?",
            [*view.params, last],
        ).fetchone()
        bound = bound[0] if bound else None
    total, total_amount = int(total), Decimal(total_amount)
    if not total:
        return PagePlan(0, total_amount, 1, [])
    source, params = "orders o", view.params
    if bound is None:
        # Past the last page, or the page reaches orders without a phone (e-mail): rank them all.
        where = view.where
    elif ids is not None and len(ids) <= INDEX_CANDIDATES:
        # Read by ID first: filtered in the same scan, DuckDB would decode every text of the table.
        source = (f"(WITH p AS MATERIALIZED (SELECT o.order_id, {column_sql(query.sort_column)} "
                  f"FROM orders o WHERE o.order_id IN ({', '.join('?' * len(ids))})) "
                  f"SELECT * FROM p) o")
        where, params = "TRUE", ids
    else:
        where, params = f"{view.where} AND {integer_key} {reach} ?", [*view.params, bound]
    page = clamp_page(page, total)
    ids = [r[0] for r in cur.execute(
        f"SELECT o.order_id FROM {source} WHERE {where} "
        f"ORDER BY {order_by(query)} LIMIT ? OFFSET ?",
        [*params, PAGE_SIZE, (page - 1) * PAGE_SIZE],
    ).fetchall()]
    return PagePlan(total, total_amount, page, ids)


def page_by_day(cur: duckdb.DuckDBPyConnection, view: View, query: OrderQuery,
                page: int) -> PagePlan:
    """A deep page by order date, over many orders: the count per day locates the page (and
    gives the total), then only the day or two it falls on are ranked. DuckDB's own ranking
    keeps every row up to the page in a heap: 85 ms for page 2,000 of 2.1M orders, against
    about 30 ms this way."""
    direction = "DESC" if query.descending else "ASC"
    # The days as DuckDB writes them, handed back to it as they are: a database may hold days
    # Python has no date for (year 1 BC, year 10000, infinity), and the day after the last one
    # may not exist at all. The page's rows lie from its earliest day up to the next day listed.
    # (The text has a name of its own: PostgreSQL would sort by an output column named ``day``.)
    days = cur.execute(
        f"SELECT day::VARCHAR AS day_text, n, amount FROM (SELECT date_trunc('day', o.created_at) AS day, "
        f"count(*) AS n, sum(o.amount) AS amount FROM orders o WHERE {view.where} GROUP BY day) d "
        f"ORDER BY day {direction}",
        view.params,
    ).fetchall()
    total = sum(int(n) for _day, n, _amount in days)
    total_amount = sum((Decimal(a) for _day, _n, a in days), Decimal("0.00"))
    page = clamp_page(page, total)
    if not total:
        return PagePlan(0, total_amount, page, [])
    first = (page - 1) * PAGE_SIZE
    seen, covering, offset = 0, [], 0
    for index, (_day, n, _amount) in enumerate(days):
        if seen + n > first:
            if not covering:
                offset = first - seen
            covering.append(index)
        seen += n
        if seen >= first + PAGE_SIZE:
            break
    if query.descending:
        earliest, later = covering[-1], covering[0] - 1
    else:
        earliest, later = covering[0], covering[-1] + 1
    bounds, params = "o.created_at >= CAST(? AS TIMESTAMP)", [days[earliest][0]]
    if 0 <= later < len(days):
        bounds += " AND o.created_at < CAST(? AS TIMESTAMP)"
        params.append(days[later][0])
    ids = [r[0] for r in cur.execute(
        f"SELECT o.order_id FROM orders o WHERE {view.where} AND {bounds} "
        f"ORDER BY {order_by(query)} LIMIT ? OFFSET ?",
        [*view.params, *params, PAGE_SIZE, offset],
    ).fetchall()]
    return PagePlan(total, total_amount, page, ids)


def page_by_groups(cur: duckdb.DuckDBPyConnection, view: View, query: OrderQuery,
                   page: int) -> PagePlan:
    """The same for a sort column with few values: count per value, then rank only the values
    that the page falls on (within one value, orders are ranked by ID alone)."""
    direction = "DESC" if query.descending else "ASC"
    column = column_sql(query.sort_column)
    if query.sort_column.in_stores:
        # Counted per store on the orders alone; the few store rows are joined afterwards.
        groups = cur.execute(
            f"SELECT {column}, array_agg(c.store_id ORDER BY c.store_id), sum(c.n), sum(c.amount) "
            f"FROM (SELECT o.store_id, count(*) AS n, sum(o.amount) AS amount FROM orders o "
            f"WHERE {view.where} GROUP BY o.store_id) c JOIN stores s ON s.store_id = c.store_id "
            f"GROUP BY {column} ORDER BY {column} {direction} NULLS LAST",
            view.params,
        ).fetchall()
    else:
        groups = cur.execute(
            f"SELECT {column}, NULL, count(*), sum(o.amount) FROM orders o WHERE {view.where} "
            f"GROUP BY {column} ORDER BY {column} {direction} NULLS LAST",
            view.params,
        ).fetchall()
    total = sum(int(g[2]) for g in groups)
    total_amount = sum((Decimal(g[3]) for g in groups), Decimal("0.00"))
    page = clamp_page(page, total)
    if not total:
        return PagePlan(0, total_amount, page, [])
    first = (page - 1) * PAGE_SIZE
    return PagePlan(total, total_amount, page, ids_in_groups(cur, view, query, groups, first))


def ids_in_groups(cur: duckdb.DuckDBPyConnection, view: View, query: OrderQuery,
                  groups: list[tuple], first: int) -> list[int]:
    """The order IDs of rows ``first`` .. ``first + PAGE_SIZE`` of the groups, in order."""
    direction = "DESC" if query.descending else "ASC"
    seen, covering = 0, []
    for rank, (value, stores, n, _amount) in enumerate(groups):
        if seen + n > first and seen < first + PAGE_SIZE:
            if not covering:
                offset = first - seen
            covering.append((rank, value, stores))
        seen += n
        if seen >= first + PAGE_SIZE:
            break
    if query.sort_column.in_stores:
        store_ids = tuple(sid for _rank, _value, stores in covering for sid in stores)
        within, params = store_ids_sql(store_ids, is_postgres(cur))
    else:
        column = column_sql(query.sort_column)
        within = f"{column} IN ({', '.join('?' * len(covering))})"
        params = [value for _rank, value, _stores in covering]
    if len(covering) == 1:
        # One value: the order ID alone ranks the rows, and DuckDB skips by it on disk.
        if len(params) > SMALL_STORE_LIST:
            expected = min(PAGE_SIZE, groups[covering[0][0]][2] - offset)
            return by_id_in_windows(cur, f"{view.where} AND {within}", [*view.params, *params],
                                     query.descending, offset, expected)
        sql = (f"SELECT o.order_id FROM orders o WHERE {view.where} AND {within} "
               f"ORDER BY o.order_id {direction} LIMIT ? OFFSET ?")
        args = [*view.params, *params, PAGE_SIZE, offset]
    elif query.sort_column.in_stores:
        # The groups' ranks as a small table: no join with stores over the matching orders.
        ranks = [(sid, rank) for rank, _value, stores in covering for sid in stores]
        sql = (f"SELECT o.order_id FROM orders o JOIN (SELECT unnest(?::VARCHAR[]) AS store_id, "
               f"unnest(?::INTEGER[]) AS group_rank) r ON r.store_id = o.store_id "
               f"WHERE {view.where} AND {within} "
               f"ORDER BY r.group_rank, o.order_id {direction} LIMIT ? OFFSET ?")
        args = [[sid for sid, _ in ranks], [rank for _, rank in ranks], *view.params, *params,
                PAGE_SIZE, offset]
    else:
        sql = (f"SELECT o.order_id FROM orders o WHERE {view.where} AND {within} "
               f"ORDER BY {order_by(query)} LIMIT ? OFFSET ?")
        args = [*view.params, *params, PAGE_SIZE, offset]
    return [r[0] for r in cur.execute(sql, args).fetchall()]


def by_id_in_windows(cur: duckdb.DuckDBPyConnection, where: str, params: list,
                     descending: bool, offset: int, expected: int) -> list[int]:
    """The ``expected`` order IDs from ``offset`` of the orders matching ``where``, by order ID,
    looked for among the newest (or oldest) IDs first.

    A long store list is a hash join that DuckDB runs over every order of the view (26 ms for a
    zone of 670 stores among 2.1M orders); within a window of IDs it runs over a row group or
    two. Every order outside the window ranks after every order in it, so a window that holds
    the whole page gives exactly the page; otherwise it grows sixteenfold, up to every order.
    """
    low, high = cur.execute("SELECT min(order_id), max(order_id) FROM orders").fetchone()
    direction, bound_sql = ("DESC", ">=") if descending else ("ASC", "<=")
    span = ID_WINDOW
    while True:
        bound = high - span if descending else low + span
        whole = bound <= low if descending else bound >= high
        window, window_params = ("", []) if whole else (f" AND o.order_id {bound_sql} ?", [bound])
        ids = [r[0] for r in cur.execute(
            f"SELECT o.order_id FROM orders o WHERE {where}{window} "
            f"ORDER BY o.order_id {direction} LIMIT ? OFFSET ?",
            [*params, *window_params, PAGE_SIZE, offset],
        ).fetchall()]
        if whole or len(ids) >= expected:
            return ids
        span *= 16
