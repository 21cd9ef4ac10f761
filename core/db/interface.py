"""The reads every backend's database offers (``core.db.reads``), in one place: the DuckDB file's
``Database`` and PostgreSQL's ``PostgresDatabase`` inherit them, and differ only in how they
connect, begin a transaction and translate their driver's errors.
"""
from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from zoneinfo import ZoneInfo

from core.db import reads
from core.query import OrderQuery
from core.users import Scope


class OrderReads:
    """The reads of a database with ``snapshot()``, ``cursor()`` and a ``cache``."""

    def forget_cached(self) -> None:
        """Forget what the reads keep between calls (the store lists): the page's Refresh. On
        PostgreSQL other processes write too; their changes are read from here on."""
        self.cache.generation += 1

    def count_orders(self, scope: Scope, query: OrderQuery, tz: ZoneInfo) -> tuple[int, Decimal]:
        """How many orders match, and their total captured amount."""
        return reads.count_orders(self, scope, query, tz)

    def orders_where(self, scope: Scope, query: OrderQuery, tz: ZoneInfo) -> tuple[str, list]:
        """A WHERE clause over ``orders o`` alone selecting exactly the orders of ``query``
        within ``scope``: the stores resolved and a search answered as for the Orders page."""
        return reads.orders_where(self, scope, query, tz)

    def resolve(self, scope: Scope, query: OrderQuery, tz: ZoneInfo):
        """The query resolved as the Orders page reads it (``core.db.views.View``), or None when
        no order can match."""
        return reads.resolve(self, scope, query, tz)

    def fetch_page(self, scope: Scope, query: OrderQuery, tz: ZoneInfo,
                   page: int) -> reads.OrderPage:
        """One page of 15, sorted over the whole filtered result; ``page`` is clamped to range."""
        return reads.fetch_page(self, scope, query, tz, page)

    def iter_export_rows(self, scope: Scope, query: OrderQuery, tz: ZoneInfo,
                         batch_size: int = 10_000) -> Iterator[tuple]:
        """Every matching order as the export's 15 values (``core.columns.EXPORT_COLUMNS``), in
        the screen's order."""
        return reads.iter_export_rows(self, scope, query, tz, batch_size)

    def fetch_scope_options(self, scope: Scope) -> reads.ScopeOptions:
        """The filter choices a user may pick from: only what is in their scope."""
        return reads.fetch_scope_options(self, scope)

    def fetch_order(self, scope: Scope, order_id: object, tz: ZoneInfo) -> reads.OrderDetails:
        """The order, or ``OrderNotFound`` — also when it exists outside the user's scope."""
        return reads.fetch_order(self, scope, order_id, tz)

    # Items and history take the order ``fetch_order`` returned: holding one proves it is in the
    # user's scope, so the scope is checked once per page, not once per read.

    def fetch_items(self, order: reads.OrderDetails) -> list[reads.ItemLine]:
        """The order's item lines, by line number."""
        return reads.fetch_items(self, order)

    def fetch_history(self, order: reads.OrderDetails, tz: ZoneInfo) -> list[reads.OrderEvent]:
        """Every cancel and refund of the order, oldest first."""
        return reads.fetch_history(self, order, tz)
