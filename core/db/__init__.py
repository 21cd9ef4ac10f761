"""The database: the only package that talks to a database driver (DuckDB's, psycopg).

Its public interface is what a second backend would implement: a ``Database`` (open and close,
``cursor``/``transaction``/``snapshot`` for the writers in core.actions, core.importer and
core.demo, and the reads ``count_orders``, ``orders_where``, ``fetch_page``,
``iter_export_rows``, ``fetch_scope_options``, ``fetch_order``, ``fetch_items``,
``fetch_history``), the rows those reads return, the search index's upkeep (``index_orders``,
``cluster_search_index``) and the reading of stored times (``read_moment`` and its SQL twins).

The package by job:
  opening      ``ORDERDESK_DB`` opened: a DuckDB file or a PostgreSQL URL (``open_database``)
  interface    the reads every backend's database offers (``OrderReads``)
  connection   the DuckDB file's connection, cursors and transactions (``Database``)
  postgres/    the server mode on PostgreSQL: its pool (``PostgresDatabase``), schema, errors
  driver       driver errors → ``DataUnavailable`` and its kinds; the memory limit's check
  schema       the tables, the CHECKs generated from core.status, the search rows
  moments      stored times → dates (``read_moment``, ``InvalidDate``, ``readable_sql``)
  filters      a query's conditions as SQL: the one WHERE builder, ``where_clause``,
               ``store_clause``, ``orders_where``, ``order_by``
  views        a query and a scope → a WHERE clause over the orders; the store-list caches
  paging       the five page strategies, each returning a ``PagePlan``
  rows         a page's ``OrderRow``s and the export's rows
  reads        the reads behind ``Database``'s methods; one order, its items and history
  search_index answering a search from the index, and the index's upkeep

The names below are loaded when first used (PEP 562), so that importing one submodule
(``core.db.schema``, ``core.db.filters``) does not import the whole package and, through it,
core.query.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

_EXPORTS = {
    "Database": "connection",
    "open_database": "opening",
    "open_for_serving": "opening",
    "after_bulk_write": "opening",
    "display_target": "opening",
    "SERVER_MEMORY_LIMIT": "connection",
    "InvalidDate": "moments",
    "read_moment": "moments",
    "format_moment": "moments",
    "readable_sql": "moments",
    "local_day_sql": "moments",
    "OrderPage": "rows",
    "OrderRow": "rows",
    "ScopeOptions": "reads",
    "OrderDetails": "reads",
    "ItemLine": "reads",
    "OrderEvent": "reads",
    "index_orders": "search_index",
    "cluster_search_index": "search_index",
}
__all__ = list(_EXPORTS)

if TYPE_CHECKING:
    from core.db.connection import SERVER_MEMORY_LIMIT, Database
    from core.db.opening import (
        after_bulk_write, display_target, open_database, open_for_serving,
    )
    from core.db.moments import (
        InvalidDate,
        format_moment,
        local_day_sql,
        read_moment,
        readable_sql,
    )
    from core.db.reads import ItemLine, OrderDetails, OrderEvent, ScopeOptions
    from core.db.rows import OrderPage, OrderRow
    from core.db.search_index import cluster_search_index, index_orders


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'core.db' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"core.db.{module}"), name)
    globals()[name] = value  # the next lookup is an ordinary one
    return value
