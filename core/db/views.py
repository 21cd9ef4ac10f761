"""Resolving a view: a query and a scope become a WHERE clause over ``orders o`` alone.

Where the time goes on 5,000,000 orders (EXPLAIN ANALYZE; figures in README, Performance):
joining ``stores`` before filtering made DuckDB read every column of every order of the period,
and the scope's IN list ran as a hash join over all of them. So the scope and the store filters
are first resolved to store IDs on the small stores table (kept in ``ReadCache``); the orders are
then filtered alone, inside the scan (``store_ids_sql``), and a search is answered from the
search index where it can be (``core.db.search_index``).
"""
from __future__ import annotations

import collections
import threading
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import duckdb

from core.db.filters import SMALL_STORE_LIST, orders_where, store_clause
from core.db.postgres import is_postgres
from core.db.postgres.summary import HoursView, hours_view
from core.db.rows import read_stores
from core.db.search_index import search_index
from core.query import PAGE_SIZE, OrderQuery
from core.query_filters import Search
from core.users import Scope

CHOSEN_KEPT = 512  # store lists kept (``ReadCache.stores_chosen``): users × store filters in use


@dataclass(frozen=True)
class View:
    """A query resolved against the stores table and the search index: a WHERE clause over
    ``orders o`` alone."""

    where: str
    params: list
    narrow: bool  # a few stores or a search: few rows pass, a single scan serves count and page
    few: bool = False  # at most a page of orders (found by the search index): read them at once
    # On PostgreSQL: the stores the view is within (None: every store), for its page strategies.
    store_ids: tuple[str, ...] | None = None
    hours: HoursView | None = None  # on PostgreSQL: the view counted by hour, if it can be


class ReadCache:
    """What the reads keep, each read in a snapshot begun at a ``generation`` and kept until the
    next write transaction commits (``Database.transaction`` counts them): every write goes
    through this process (DuckDB lets one process open the file), and the stores change only
    with imports."""

    def __init__(self) -> None:
        self.generation = 0
        self._chosen: collections.OrderedDict = collections.OrderedDict()
        self._chosen_lock = threading.Lock()
        self._recent: tuple[int, bool] | None = None  # (generation, has rows)
        self._stores: tuple[int, dict] | None = None  # (generation, stores)

    def stores_by_id(self, cur: duckdb.DuckDBPyConnection, generation: int) -> dict[str, dict]:
        """Every store's columns (``core.columns.STORE_KEYS``) by store ID."""
        if (kept := self._stores) is not None and kept[0] == self.generation:
            return kept[1]
        stores = read_stores(cur)
        self._stores = (generation, stores)
        return stores

    def has_recent(self, cur: duckdb.DuckDBPyConnection, generation: int) -> bool:
        """Whether ``order_search_recent`` has rows (empty after the index is clustered)."""
        if (kept := self._recent) is not None and kept[0] == self.generation:
            return kept[1]
        if is_postgres(cur):
            return False  # PostgreSQL has no search index tables: its indexes are the orders'
        recent = cur.execute("SELECT EXISTS (FROM order_search_recent)").fetchone()[0]
        self._recent = (generation, recent)
        return recent

    def stores_chosen(self, cur: duckdb.DuckDBPyConnection, chosen: tuple[str, list],
                      generation: int) -> tuple[tuple[str, ...], list[int]]:
        """The store IDs (sorted) and search index numbers of the stores ``chosen`` selects (a
        clause over ``stores s``)."""
        key = (chosen[0], tuple(chosen[1]))
        with self._chosen_lock:
            hit = self._chosen.get(key)
        if hit is not None and hit[0] == self.generation:
            return hit[1]
        # PostgreSQL has no search index, so no store numbers either.
        rows = cur.execute(
            f"SELECT s.store_id, NULL FROM stores s WHERE {chosen[0]}" if is_postgres(cur) else
            f"SELECT s.store_id, ss.store_no FROM stores s LEFT JOIN search_stores ss "
            f"ON ss.store_id = s.store_id WHERE {chosen[0]}", chosen[1]
        ).fetchall()
        rows.sort()
        result = (tuple(r[0] for r in rows), [r[1] for r in rows if r[1] is not None])
        with self._chosen_lock:
            self._chosen[key] = (generation, result)
            self._chosen.move_to_end(key)
            while len(self._chosen) > CHOSEN_KEPT:
                self._chosen.popitem(last=False)
        return result


def resolve_view(cur: duckdb.DuckDBPyConnection, cache: ReadCache, scope: Scope,
                 query: OrderQuery, tz: ZoneInfo, generation: int) -> View | None:
    """The query as a WHERE clause over ``orders o``, or None when no order can match (no
    store allowed, or no order found by the search)."""
    store_ids = store_nos = None
    if (chosen := store_clause(query, scope)) is not None:
        store_ids, store_nos = cache.stores_chosen(cur, chosen, generation)
        if not store_ids:
            return None
    search = Search.parse(query.search)
    postgres = is_postgres(cur)
    if postgres:
        # The search is a condition of the query, answered by PostgreSQL's own indexes
        # (``core.db.postgres.schema.INDEXES``).
        where, params = orders_where(query, tz, store_ids, postgres=True)
        return View(where, params, narrow=bool(search.kind) or (
            store_ids is not None and len(store_ids) <= SMALL_STORE_LIST), store_ids=store_ids,
            hours=hours_view(query, tz, store_ids))
    if search.kind and (ids := search_index(
            cur, search, store_nos, cache.has_recent(cur, generation))) is not None:
        # The index matched exactly these orders among the allowed stores: the orders are
        # read by ID, and only the period, status and channel remain to be checked.
        if not ids:
            return None
        where, params = orders_where(query.with_changes(search=""), tz, None)
        return View(f"o.order_id IN ({', '.join('?' * len(ids))}) AND {where}",
                    [*ids, *params], narrow=True, few=len(ids) <= PAGE_SIZE)
    where, params = orders_where(query, tz, store_ids)
    narrow = bool(search.kind) or (
        store_ids is not None and len(store_ids) <= SMALL_STORE_LIST
    )
    return View(where, params, narrow)
