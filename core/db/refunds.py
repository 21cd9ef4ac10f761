"""The Refunds register's SQL: its page, count and total, its export, the names "Refunded by"
offers, and the Overview's refunded amount by reason. Written once for both engines (DuckDB and
PostgreSQL run the same statements: ``?`` placeholders, no engine-only functions).

A register row is a refund event of an order the view selects (``python -m core import`` and
the Data page write one for each rise of a refunded amount, with the reason "Imported", at the
import's time), or, for an order whose refunded amount is more than its refund events add up to
(data loaded without its events), one row "Imported" with the difference, dated with the order's
date: no other time is known for it (docs/design.md §5a). The order's conditions are the shared view's WHERE
clause over ``orders o`` (``Database.orders_where``: scope and store filters resolved, a search
answered as on the Orders page); the view's period applies to the refund's date instead.

Both kinds of rows are gathered into one narrow set (``MATERIALIZED``: its key, order, date,
amount, reason, who, and the sort column when it is not one of those), counted and summed, and
ranked once; only the page's rows are then read in full (docs/stack-facts.md, "Refunds
register").
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from core.db.moments import InvalidDate, read_moment
from core.db.postgres import register as pg_register
from core.db.rows import read_stores
from core.db.sql_text import sql_literal
from core.importer.formats import IMPORT_USERNAME
from core.query import END_READABLE, FIRST_READABLE, PAGE_SIZE, OrderQuery, clamp_page
from core.refunds import IMPORTED, NOT_RECORDED, RefundQuery, items_text, reference
from core.status import Action
from core.users import Scope

if TYPE_CHECKING:
    from core.db.connection import Database

_REFUND = sql_literal(str(Action.REFUND))
# A refund event's reason, as the register and the order's history read it: its code; one an
# import wrote before imports recorded theirs reads
# "Imported", any other stored before reasons were asked for "Not recorded".
REFUND_REASON_SQL = (f"coalesce(e.reason_code, CASE WHEN e.username = {sql_literal(IMPORT_USERNAME)} "
           f"THEN {sql_literal(IMPORTED)} ELSE {sql_literal(NOT_RECORDED)} END)")
# What an order's refund events add up to (a correlated subquery: DuckDB runs it as one join
# limited to the orders at hand, PostgreSQL by the index on order_events.order_id).
_EVENTS_SUM = (f"coalesce((SELECT sum(x.amount) FROM order_events x WHERE x.order_id = o.order_id "
               f"AND x.kind = {_REFUND}), 0)")

# The register's columns that are not in its narrow set: (refund event's SQL, imported's SQL).
_SORT_SQL = {
    "merchant_order_id": ("o.merchant_order_id", "o.merchant_order_id"),
    "comment": ("e.reason", "CAST(NULL AS VARCHAR)"),
    "status": ("o.status", "o.status"),
    "store_name": ("s.store_name", "s.store_name"),
    "legal_entity": ("s.legal_entity", "s.legal_entity"),
}
# The narrow set's own columns a sort key names.
_NARROW_SORT = {"refunded_at": "refunded_at", "refund_id": "event_id", "order_id": "order_id",
                "amount": "amount", "reason": "reason", "username": "username"}
_NEVER_EMPTY = {"refunded_at", "order_id", "amount", "reason"}
_TEXT_KEYS = {"merchant_order_id", "comment", "status", "store_name", "legal_entity", "reason",
              "username"}


@dataclass(frozen=True)
class RefundRow:
    """One row of the register; its fields are ``core.refunds.COLUMNS``' keys."""

    refunded_at: datetime | InvalidDate  # aware, in the display zone
    refund_id: str | None  # "R-<event id>"; None for an imported refund
    order_id: int
    merchant_order_id: str | None
    amount: Decimal
    reason: str
    comment: str | None
    items: str
    username: str | None
    store_name: str
    legal_entity: str
    status: str
    event_id: int | None = None


@dataclass(frozen=True)
class RefundPage:
    rows: list[RefundRow]
    total: int
    page: int
    total_amount: Decimal


# -- the WHERE clauses ---------------------------------------------------------------------------


def _utc(day: date, tz: ZoneInfo) -> datetime:
    """Midnight of ``day`` in the display zone as a naive UTC time (times are stored so)."""
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(timezone.utc).replace(tzinfo=None)


def period_sql(column: str, query: RefundQuery, tz: ZoneInfo) -> tuple[str, list]:
    """The view's period (inclusive days in the display zone) on ``column``."""
    clauses, params = [], []
    if query.start:
        clauses.append(f"{column} >= ?")
        params.append(_utc(query.start, tz))
    if query.end:
        clauses.append(f"{column} < ?")
        params.append(_utc(date.fromordinal(query.end.toordinal() + 1), tz))
    return " AND ".join(clauses) or "TRUE", params


@dataclass(frozen=True)
class _Where:
    """The register's conditions: on a refund event's row (``e``, with ``o`` when
    ``events_need_orders``) and on an imported refund's order (``o``), or None where no row of
    that kind can match."""

    events: tuple[str, list] | None
    imported: tuple[str, list] | None
    events_need_orders: bool = True
    every_store: bool = False  # no condition on the events' orders


def _marks(values) -> str:
    return ", ".join("?" * len(values))


def register_where(db: Database, scope: Scope, query: RefundQuery, tz: ZoneInfo) -> _Where:
    """The conditions of ``query`` within ``scope``, the orders' resolved as on the Orders page."""
    orders_sql, orders_params = db.orders_where(scope, query.order_query(), tz)
    events, events_params = [], []
    if orders_sql != "TRUE":  # an admin's register without order filters reads no orders
        events, events_params = [f"({orders_sql})"], list(orders_params)
    refund_id = query.refund_id if query.search.strip() else None
    if refund_id is not None:
        plain_sql, plain_params = db.orders_where(
            scope, query.order_query().with_changes(search=""), tz)
        events = [f"(({orders_sql}) OR (({plain_sql}) AND e.event_id = ?))"]
        events_params = [*orders_params, *plain_params, refund_id]
    need_orders = bool(events)
    every_store = not events
    if db.backend == "postgresql" and need_orders and orders_sql != "FALSE":
        events, events_params, need_orders = pg_register.events_by_store(
            db, scope, query, tz, events, events_params, refund_id is not None)
    period, period_params = period_sql("e.created_at", query, tz)
    events.append(period)
    events_params.extend(period_params)
    if query.reasons:
        events.append(f"{REFUND_REASON_SQL} IN ({_marks(query.reasons)})")
        events_params.extend(query.reasons)
    if query.refunded_by:
        events.append(f"e.username IN ({_marks(query.refunded_by)})")
        events_params.extend(query.refunded_by)
    imported = None
    if query.includes_imported and (found := imported_orders(db)) != ():
        period, period_params = period_sql("o.created_at", query, tz)
        among = "TRUE" if found is None else f"o.order_id IN ({_marks(found)})"
        imported = (f"{among} AND ({orders_sql}) AND {period}",
                    [*([] if found is None else found), *orders_params, *period_params])
    return _Where((" AND ".join(events), events_params), imported, need_orders, every_store)


# -- which orders have an imported refund --------------------------------------------------------
# Finding them compares every refunded order's amount with its events' sum: 50-120 ms at
# 5,000,000 orders, most of a page's time, for a set that only an import changes (a refund made
# here adds the same amount to both sides). So it is found once and kept with the reads' cache
# (``ReadCache``) while its generation, the import's marker (meta ``last_import``) and the newest
# order ID stay the same; the register's pages then read those orders by ID (docs/stack-facts.md,
# "Refunds register"). The generation moves with every write and Refresh.
FEW_IMPORTED = 2_000


def imported_orders(db: Database) -> tuple[int, ...] | None:
    """The IDs of the orders with an imported refund (``()``: none), or None when there are more
    than ``FEW_IMPORTED`` (the register then looks among all refunded orders)."""
    generation = db.cache.generation
    with db.cursor() as cur:
        marker = (generation, *cur.execute(
            "SELECT (SELECT value FROM meta WHERE key = 'last_import'), "
            "(SELECT max(order_id) FROM orders)").fetchone())
        kept = getattr(db.cache, "imported_refunds", None)
        if kept is not None and kept[0] == marker:
            return kept[1]
        ids = [row[0] for row in cur.execute(
            f"SELECT o.order_id FROM orders o WHERE o.refunded_amount > 0 "
            f"AND o.refunded_amount > {_EVENTS_SUM} ORDER BY o.order_id LIMIT ?",
            [FEW_IMPORTED + 1]).fetchall()]
    found = None if len(ids) > FEW_IMPORTED else tuple(ids)
    db.cache.imported_refunds = (marker, found)
    return found


def _register_sql(db: Database, where: _Where, sort_key: str | None,
                  full: bool) -> tuple[str, list]:
    """The register's rows as one SELECT (``rk``: a unique key, the event ID or minus the order
    ID), with ``k`` the sort column when it is not one of the narrow set's."""
    sort = _SORT_SQL.get(sort_key)
    by_store = sort_key in ("store_name", "legal_entity")
    stores = " JOIN stores s ON s.store_id = o.store_id" if by_store else ""
    # On PostgreSQL an event names its store itself (schema 5): a sort by store reads no orders.
    own_store = db.backend == "postgresql"
    parts, params = [], []
    if where.events is not None:
        extra = [f"{sort[0]} AS k"] if sort else []
        if full:
            extra += ["e.reason AS comment", "e.items AS items", "o.merchant_order_id AS merchant",
                      "o.status AS status", "o.store_id AS store_id"]
        sort_reads_orders = sort and sort_key != "comment" and not (by_store and own_store)
        orders = (" JOIN orders o ON o.order_id = e.order_id"
                  if full or where.events_need_orders or sort_reads_orders else "")
        event_stores = (" JOIN stores s ON s.store_id = e.store_id"
                        if by_store and own_store else stores)
        parts.append(
            "SELECT e.event_id AS rk, e.event_id AS event_id, e.order_id AS order_id, "
            f"e.created_at AS refunded_at, e.amount AS amount, {REFUND_REASON_SQL} AS reason, "
            "e.username AS username" + "".join(f", {x}" for x in extra) +
            " FROM order_events e" + orders + event_stores +
            f" WHERE e.kind = {_REFUND} AND {where.events[0]}")
        params += where.events[1]
    if where.imported is not None:
        extra = [f"{sort[1]} AS k"] if sort else []
        if full:
            extra += ["CAST(NULL AS VARCHAR) AS comment", "CAST(NULL AS VARCHAR) AS items",
                      "o.merchant_order_id AS merchant", "o.status AS status",
                      "o.store_id AS store_id"]
        parts.append(
            "SELECT * FROM (SELECT -o.order_id AS rk, CAST(NULL AS BIGINT) AS event_id, "
            "o.order_id AS order_id, o.created_at AS refunded_at, "
            f"o.refunded_amount - {_EVENTS_SUM} AS amount, {sql_literal(IMPORTED)} AS reason, "
            "CAST(NULL AS VARCHAR) AS username" + "".join(f", {x}" for x in extra) +
            " FROM orders o" + stores +
            f" WHERE o.refunded_amount > 0 AND {where.imported[0]}) i WHERE i.amount > 0")
        params += where.imported[1]
    return " UNION ALL ".join(parts), params


def _order_by(db: Database, query: RefundQuery, prefix: str = "") -> str:
    direction = "DESC" if query.descending else "ASC"
    key = query.sort_key
    column = prefix + (_NARROW_SORT.get(key) or "k")
    if key in _TEXT_KEYS and db.backend == "postgresql":
        column += ' COLLATE "C"'  # as DuckDB compares texts: by their bytes
    tie = f"{prefix}rk {direction}"
    if db.backend == "postgresql" and key in _NEVER_EMPTY:
        return f"{column} {direction}, {tie}"  # the same order, which an index can give
    return f"{column} {direction} NULLS LAST, {tie}"


# -- the page -----------------------------------------------------------------------------------


def fetch_refund_page(db: Database, scope: Scope, query: RefundQuery, tz: ZoneInfo,
                      page: int) -> RefundPage:
    """One page of 15 refunds of the whole register, sorted in the database; the page is clamped
    to the register's range."""
    where = register_where(db, scope, query, tz)
    rows_sql, params = _register_sql(db, where, query.sort_key, full=False)
    if not rows_sql:
        return RefundPage([], 0, 1, Decimal("0.00"))
    sql = (
        f"WITH r AS MATERIALIZED ({rows_sql}) "
        "SELECT t.n, t.total, p.event_id, p.order_id, CAST(p.refunded_at AS VARCHAR), p.amount, "
        "p.reason, p.username "
        "FROM (SELECT count(*) AS n, coalesce(sum(amount), 0) AS total FROM r) t "
        f"LEFT JOIN (SELECT * FROM r ORDER BY {_order_by(db, query)} LIMIT ? OFFSET ?) p "
        f"ON TRUE ORDER BY {_order_by(db, query, 'p.')}"
    )
    generation = db.cache.generation
    if db.backend == "postgresql" and where.every_store:
        count_sql, _ = _register_sql(db, where, None, full=False)
        return RefundPage(*pg_register.page_in_two(
            db, pg_register.page_statements(rows_sql, count_sql, _order_by(db, query, "r.")),
            params, page, lambda cur, ranked: _page_rows(cur, db, ranked, tz, generation)))
    with db.snapshot() as cur:
        found = cur.execute(sql, [*params, PAGE_SIZE, (max(page, 1) - 1) * PAGE_SIZE]).fetchall()
        total = int(found[0][0])
        shown = clamp_page(page, total, PAGE_SIZE)
        if shown != page and total:
            found = cur.execute(sql, [*params, PAGE_SIZE, (shown - 1) * PAGE_SIZE]).fetchall()
        ranked = [row[2:] for row in found if row[3] is not None]
        rows = _page_rows(cur, db, ranked, tz, generation)
    return RefundPage(rows, total, shown, Decimal(found[0][1]))


def _page_rows(cur, db: Database, ranked: list[tuple], tz: ZoneInfo,
               generation: int) -> list[RefundRow]:
    """The page's refunds in full: their orders and events read by ID (a join with the orders
    would scan them all), their stores from the stores the reads keep."""
    if not ranked:
        return []
    order_ids = sorted({row[1] for row in ranked})
    orders = {row[0]: row[1:] for row in cur.execute(
        "SELECT o.order_id, o.merchant_order_id, o.status, o.store_id FROM orders o "
        f"WHERE o.order_id IN ({_marks(order_ids)})", order_ids).fetchall()}
    event_ids = sorted({row[0] for row in ranked if row[0] is not None})
    events = {row[0]: row[1:] for row in cur.execute(
        "SELECT e.event_id, e.reason, e.items FROM order_events e "
        f"WHERE e.event_id IN ({_marks(event_ids)})", event_ids).fetchall()} if event_ids else {}
    stores = db.cache.stores_by_id(cur, generation)
    if missing := {o[2] for o in orders.values()} - stores.keys():
        stores = {**stores, **read_stores(cur, missing)}
    rows = []
    for event_id, order_id, refunded_at, amount, reason, username in ranked:
        merchant, status, store_id = orders[order_id]
        comment, items = events.get(event_id, (None, None))
        store = stores[store_id]
        rows.append(RefundRow(
            read_moment(refunded_at, tz), reference(event_id), order_id, merchant, amount,
            reason, comment, items_text(json.loads(items) if items else None), username,
            store["store_name"], store["legal_entity"], status, event_id))
    return rows


def count_refunds(db: Database, scope: Scope, query: RefundQuery,
                  tz: ZoneInfo) -> tuple[int, Decimal]:
    """How many refunds the register has for ``query``, and their total."""
    rows_sql, params = _register_sql(db, register_where(db, scope, query, tz), None, full=False)
    if not rows_sql:
        return 0, Decimal("0.00")
    with db.cursor() as cur:
        n, total = cur.execute(
            f"SELECT count(*), coalesce(sum(amount), 0) FROM ({rows_sql}) r", params).fetchone()
    return int(n), Decimal(total)


# -- the export ---------------------------------------------------------------------------------


def _local(moment: object, tz: ZoneInfo) -> datetime | str:
    """A stored time as the export's naive local date-time, or the page's flag as text."""
    if isinstance(moment, datetime) and FIRST_READABLE <= moment < END_READABLE:
        return moment.replace(tzinfo=timezone.utc).astimezone(tz).replace(tzinfo=None)
    return str(InvalidDate(str(moment)))


def iter_refund_rows(db: Database, scope: Scope, query: RefundQuery, tz: ZoneInfo,
                     batch_size: int = 10_000) -> Iterator[tuple]:
    """Every refund of the register as the export's values (``core.refunds.COLUMNS``' order), in
    the screen's order."""
    rows_sql, params = _register_sql(db, register_where(db, scope, query, tz), query.sort_key,
                                     full=True)
    if not rows_sql:
        return
    with db.snapshot() as cur:
        stores = read_stores(cur)
        result = cur.execute(f"SELECT * FROM ({rows_sql}) r ORDER BY {_order_by(db, query)}",
                             params)
        names = [d[0] for d in result.description]
        at = {name: names.index(name) for name in (
            "event_id", "order_id", "refunded_at", "amount", "reason", "username", "comment",
            "items", "merchant", "status", "store_id")}
        while batch := result.fetchmany(batch_size):
            for row in batch:
                store = stores[row[at["store_id"]]]
                items = row[at["items"]]
                yield (
                    _local(row[at["refunded_at"]], tz), reference(row[at["event_id"]]),
                    row[at["order_id"]], row[at["merchant"]], row[at["amount"]],
                    row[at["reason"]], row[at["comment"]],
                    items_text(json.loads(items)) if items else None, row[at["username"]],
                    store["store_name"], store["legal_entity"], row[at["status"]],
                )


# -- choices and figures ------------------------------------------------------------------------


def fetch_refunders(db: Database, scope: Scope, tz: ZoneInfo) -> tuple[str, ...]:
    """Who refunded orders in ``scope``: the names "Refunded by" offers."""
    where, params = db.orders_where(scope, OrderQuery(), tz)
    with db.cursor() as cur:
        rows = cur.execute(
            "SELECT DISTINCT e.username FROM order_events e JOIN orders o "
            f"ON o.order_id = e.order_id WHERE e.kind = {_REFUND} AND {where}", params).fetchall()
    return tuple(sorted(row[0] for row in rows))


def fetch_refunded_by_reason(db: Database, scope: Scope, query: OrderQuery,
                             tz: ZoneInfo) -> list[tuple[str, int, Decimal]]:
    """The refunds of exactly the orders the Overview's view selects (their order dates in its
    period), by reason: (reason, refunds, amount). They add up to the orders' refunded amount."""
    where, params = db.orders_where(scope, query, tz)
    sql = (
        f"SELECT reason, count(*), sum(amount) FROM ("
        f"SELECT {REFUND_REASON_SQL} AS reason, e.amount AS amount FROM order_events e "
        f"JOIN orders o ON o.order_id = e.order_id WHERE e.kind = {_REFUND} AND {where} "
        f"UNION ALL SELECT {sql_literal(IMPORTED)} AS reason, i.amount AS amount FROM ("
        f"SELECT o.refunded_amount - {_EVENTS_SUM} AS amount FROM orders o "
        f"WHERE o.refunded_amount > 0 AND {where}) i WHERE i.amount > 0"
        ") r GROUP BY reason"
    )
    with db.cursor() as cur:
        rows = cur.execute(sql, [*params, *params]).fetchall()
    return [(reason, int(n), Decimal(amount)) for reason, n, amount in rows]
