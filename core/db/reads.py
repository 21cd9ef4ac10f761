"""The reads: a page of the Orders list, its count, its export, the scope's filter choices, and
one order with its items and history. Every one takes the user's scope and applies it in SQL.

The list's reads resolve the view first (``core.db.views``), in one snapshot with what they read
after it, so the count, the page and the stores agree.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from core.columns import BY_KEY
from core.db.filters import FROM_SQL, STORES, column_sql, order_by, where, where_clause
from core.db.moments import InvalidDate, read_moment
from core.db.paging import count_and_total, locate_page
from core.db.refunds import REFUND_REASON_SQL
from core.db.rows import (
    OrderPage,
    export_rows,
    full_rows,
    in_screen_order,
    order_rows,
    typed_rows,
)
from core.db.schema import BIGINT_MAX
from core.db.sql_text import sql_literal
from core.db.views import resolve_view
from core.errors import OrderNotFound
from core.query import OrderQuery
from core.query_filters import InScope
from core.status import Action
from core.users import Scope

if TYPE_CHECKING:  # the connection calls these
    from core.db.connection import Database


_REFUND = sql_literal(str(Action.REFUND))


@dataclass(frozen=True)
class ScopeOptions:
    """The filter choices a user may pick from: only what is in their scope."""

    legal_entities: tuple[str, ...]
    regions: tuple[str, ...]
    stores: tuple[tuple[str, str], ...]  # (store_id, store name)


@dataclass(frozen=True)
class OrderDetails:
    order_id: int
    created_at: datetime | InvalidDate  # aware, in the display time zone
    merchant_order_id: str | None
    captured_amount: Decimal
    refunded_amount: Decimal
    status: str
    channel: str
    email: str | None
    phone: str | None
    store_id: str
    store_name: str
    store_address: str | None
    merchant_store_id: str | None
    brand: str | None
    legal_entity: str
    region: str
    zone: str
    salesperson_id: str | None
    salesperson_name: str | None


@dataclass(frozen=True)
class ItemLine:
    line_no: int
    name: str
    quantity: int
    unit_price: Decimal
    refunded_quantity: int

    @property
    def refundable_quantity(self) -> int:
        return self.quantity - self.refunded_quantity


@dataclass(frozen=True)
class OrderEvent:
    event_id: int
    kind: str
    amount: Decimal
    items: list[dict]
    reason: str | None  # the text typed with it: a refund's comment, a cancel's reason
    username: str
    created_at: datetime | InvalidDate  # aware, in the display time zone
    reason_code: str | None = None  # a refund's reason, as the register reads it


def count_orders(db: Database, scope: Scope, query: OrderQuery,
                 tz: ZoneInfo) -> tuple[int, Decimal]:
    generation = db.cache.generation
    with db.snapshot() as cur:
        view = resolve_view(cur, db.cache, scope, query, tz, generation)
        if view is None:
            return 0, Decimal("0.00")
        return count_and_total(cur, view)


def orders_where(db: Database, scope: Scope, query: OrderQuery,
                 tz: ZoneInfo) -> tuple[str, list]:
    generation = db.cache.generation
    with db.snapshot() as cur:
        view = resolve_view(cur, db.cache, scope, query, tz, generation)
    return ("FALSE", []) if view is None else (view.where, view.params)


def resolve(db: Database, scope: Scope, query: OrderQuery, tz: ZoneInfo):
    generation = db.cache.generation
    with db.snapshot() as cur:
        return resolve_view(cur, db.cache, scope, query, tz, generation)


def fetch_page(db: Database, scope: Scope, query: OrderQuery, tz: ZoneInfo,
               page: int) -> OrderPage:
    generation = db.cache.generation
    with db.snapshot() as cur:  # the count and the page agree
        view = resolve_view(cur, db.cache, scope, query, tz, generation)
        if view is None:
            return OrderPage(rows=[], total=0, page=1, total_amount=Decimal("0.00"))
        stores = db.cache.stores_by_id(cur, generation)
        if view.few:  # the whole result is one page: read in full at once
            # Sorted by the database where it can be: an order's own values, the date
            # among them, are compared as stored (a date not read as one included).
            by_store = query.sort_column.in_stores
            rows = full_rows(cur, view.where, view.params, stores,
                             None if by_store else order_by(query))
            if by_store:
                rows = in_screen_order(rows, query)
            total, page = len(rows), 1
            total_amount = sum((r["amount"] for r in rows), Decimal("0.00"))
        else:
            plan = locate_page(cur, view, query, page)
            total, total_amount, page = plan.total, plan.total_amount, plan.page
            rows = order_rows(cur, plan.ids, stores)
    return OrderPage(rows=typed_rows(rows, tz), total=total, page=page,
                     total_amount=total_amount)


def iter_export_rows(db: Database, scope: Scope, query: OrderQuery, tz: ZoneInfo,
                     batch_size: int) -> Iterator[tuple]:
    generation = db.cache.generation
    with db.snapshot() as cur:  # the stores and the orders agree
        view = resolve_view(cur, db.cache, scope, query, tz, generation)
        if view is None:
            return
        yield from export_rows(cur, view.where, view.params, query, tz, batch_size)


def fetch_scope_options(db: Database, scope: Scope) -> ScopeOptions:
    store_where, params = where([InScope(scope)], STORES) or ("TRUE", [])
    with db.cursor() as cur:
        rows = cur.execute(
            "SELECT s.store_id, s.store_name, s.legal_entity, s.region FROM stores s "
            f"WHERE {store_where} ORDER BY s.store_name, s.store_id",
            params,
        ).fetchall()
    return ScopeOptions(
        legal_entities=tuple(sorted({r[2] for r in rows})),
        regions=tuple(sorted({r[3] for r in rows})),
        stores=tuple((r[0], r[1]) for r in rows),
    )


# ``OrderDetails``' fields as SQL over ``FROM_SQL``, the order date as text for ``read_moment``.
_DETAILS_SELECT = ", ".join(
    {"created_at": "o.created_at::VARCHAR", "captured_amount": "o.amount",
     "store_id": "s.store_id"}.get(name) or column_sql(BY_KEY[name])
    for name in OrderDetails.__dataclass_fields__
)


def fetch_order(db: Database, scope: Scope, order_id: object, tz: ZoneInfo) -> OrderDetails:
    key = _order_key(order_id)
    where_sql, params = where_clause(OrderQuery(), scope, tz)
    with db.cursor() as cur:
        row = cur.execute(
            f"SELECT {_DETAILS_SELECT} FROM {FROM_SQL} WHERE o.order_id = ? AND {where_sql}",
            [key, *params],
        ).fetchone()
    if row is None:
        raise OrderNotFound(order_id)
    details = OrderDetails(*row)
    return replace(details, created_at=read_moment(details.created_at, tz))


def fetch_items(db: Database, order: OrderDetails) -> list[ItemLine]:
    with db.cursor() as cur:
        rows = cur.execute(
            "SELECT line_no, name, quantity, unit_price, refunded_quantity FROM order_items "
            "WHERE order_id = ? ORDER BY line_no",
            [order.order_id],
        ).fetchall()
    return [ItemLine(*row) for row in rows]


def fetch_history(db: Database, order: OrderDetails, tz: ZoneInfo) -> list[OrderEvent]:
    with db.cursor() as cur:
        rows = cur.execute(
            "SELECT e.event_id, e.kind, e.amount, e.items, e.reason, e.username, "
            f"e.created_at::VARCHAR, CASE WHEN e.kind = {_REFUND} THEN {REFUND_REASON_SQL} END "
            "FROM order_events e WHERE e.order_id = ? ORDER BY e.created_at, e.event_id",
            [order.order_id],
        ).fetchall()
    return [
        OrderEvent(eid, kind, amount, json.loads(items) if items else [], reason, user,
                   read_moment(created, tz), code)
        for eid, kind, amount, items, reason, user, created, code in rows
    ]


def _order_key(order_id: object) -> int:
    """An order ID from a URL or a form: digits only, within BIGINT; anything else is not found.
    (The length is checked first: a text of a million digits is not worth converting.)"""
    text = str(order_id).strip()
    if not text.isdigit() or not text.isascii() or len(text) > 19 or int(text) > BIGINT_MAX:
        raise OrderNotFound(order_id)
    return int(text)
