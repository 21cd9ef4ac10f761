"""The DuckDB store: the only module that talks to the database driver.

One ``Store`` holds one connection to the database file for the life of the process; each call
works on its own cursor, so Streamlit's session threads can share it. Every read and every write
takes the user's ``Scope`` as an argument and applies it in SQL. Driver errors are translated
here, once, into ``DataUnavailable`` and its kinds (``DatabaseBusy``, ``WriteConflict``,
``ConstraintViolation``). Stored order times cross into Python in one place, ``read_moment``
(and into the export's and the Overview's dates through ``readable_sql``): a time no calendar
can show is flagged there, never raised on a page.
"""
from __future__ import annotations

import collections
import contextlib
import json
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from core.errors import (
    ConstraintViolation,
    DatabaseBusy,
    DataUnavailable,
    OrderNotFound,
    WriteConflict,
)
from core.query import (
    COLUMNS,
    END_READABLE,
    FIRST_READABLE,
    FROM_SQL,
    GROUPED_SORTS,
    PAGE_SIZE,
    SMALL_STORE_LIST,
    SORT_KEYS,
    STORE_COLUMNS,
    OrderQuery,
    Search,
    clamp_page,
    store_ids_sql,
)
from core.db.schema import DDL, SCHEMA_VERSION, SEARCH_ROWS, sort_key
from core.users import Scope

UTC = ZoneInfo("UTC")


def readable_sql(column: str) -> str:
    """SQL: the stored time ``column`` is one orderdesk reads as a date (``FIRST_READABLE``),
    the same window as ``read_moment``'s."""
    return (f"({column} >= TIMESTAMP '{FIRST_READABLE}' "
            f"AND {column} < TIMESTAMP '{END_READABLE}')")


def local_day_sql(column: str) -> str:
    """SQL: the day of the stored time ``column`` in the display zone (the first parameter), NULL
    for a time that is not read as a date. (DuckDB converts only the rows the CASE lets through:
    its latest timestamps fail to convert at all.)"""
    return (f"CASE WHEN {readable_sql(column)} "
            f"THEN CAST(timezone(?, {column}::TIMESTAMPTZ) AS DATE) END")


# The export's 15 columns (docs/design.md §6), in order; the date is the order's day in the display
# zone, followed by the stored time as text where it is not read as a date (``iter_export_rows``).
# The database sorts only the orders' own values; the store's five columns are added in Python from
# the small stores table (``_EXPORT_STORE_COLUMNS``): for 1M rows that halves what the sort holds in
# memory.
EXPORT_ORDER_SELECT = f"""
    {local_day_sql("o.created_at")},
    CASE WHEN NOT {readable_sql("o.created_at")} THEN o.created_at::VARCHAR END,
    o.order_id, o.merchant_order_id, o.amount, o.status, o.email, o.phone, o.store_id,
    o.salesperson_id, o.salesperson_name, o.channel
"""
_EXPORT_STORE_AT = 8  # where o.store_id stands in a row above, and the store's columns go
_EXPORT_STORE_COLUMNS = "zone, store_name, merchant_store_id, store_address, brand"

# The first window of order IDs a page by order ID within many stores is looked for in
# (``_by_id_in_windows``): about a day of a large merchant's orders.
ID_WINDOW = 4096

# From this many rows into a view of many orders, a page by date is located by day
# (``_page_by_day``); before it DuckDB's own ranking is quicker.
DEEP_OFFSET = 3_000

# DuckDB's memory for the server process (``ui.context``). The hot columns of 5M orders fit (page
# times were the same as without a limit), while a large export's sort spills to a temporary
# file instead of growing the process: a 1M-row export peaked at 550 MB without the limit,
# 455 MB at 256 MB, 334 MB at 192 MB (scripts/bench.py; the target is 400 MB).
SERVER_MEMORY_LIMIT = "192MB"

# The search index (``core.db.schema``) is rebuilt in row groups of this many rows, clustered by
# store: DuckDB skips a row group whose stores are not searched, so a user with 50 of 2,000 stores
# reads about 80 of 1,221 row groups of 5M orders. Measured with 2,048 to 122,880 (DuckDB's
# default, which the orders keep): 4,096 was the quickest; at 122,880 a search read every row.
SEARCH_ROW_GROUP_SIZE = 4096
_CHOSEN_KEPT = 512  # store lists kept (``Store._stores_chosen``): users × store filters in use
# The rows of orders written since the index was last clustered (``order_search_recent``) are read
# in every search. The index is clustered again when a read-write open finds more of them than
# this, and than a tenth of all orders.
SEARCH_TAIL_ROWS = 50_000
# A search answered from the index reads at most this many orders by ID; when more orders match
# (a few digits of a phone, a common e-mail part), the orders are filtered by the search itself.
INDEX_CANDIDATES = 1_000
_MEMORY_LIMIT = re.compile(r"[0-9]+(\.[0-9]+)?\s*[KMGT]i?B", re.IGNORECASE)


@dataclass(frozen=True)
class InvalidDate:
    """A stored order time that is no date orderdesk can show (before 1970 or from 2200 on, in
    UTC: year 1 BC, year 10000, infinity…). It is shown as stored, so that the order can still
    be found, opened and corrected, and nobody takes it for a real date."""

    stored: str  # as DuckDB writes it: "0001-12-31 (BC) 23:00:00", "infinity"

    def __str__(self) -> str:
        return f"invalid date (stored: {self.stored})"


def read_moment(stored: str, tz: ZoneInfo) -> datetime | InvalidDate:
    """A stored time, read as text (``column::VARCHAR``), as an aware time in the display zone.

    Every stored time crosses into Python here. The driver would hand over a time outside
    Python's years as text and infinity as the largest datetime; read as text, every value is
    told apart, and the window (``readable_sql``) is the same as in SQL.
    """
    try:
        moment = datetime.fromisoformat(stored)
    except ValueError:  # a year before 1 or after 9999, infinity
        return InvalidDate(stored)
    if not FIRST_READABLE <= moment < END_READABLE:
        return InvalidDate(stored)
    return moment.replace(tzinfo=UTC).astimezone(tz)


def format_moment(moment: datetime | InvalidDate, pattern: str) -> str:
    """A time from ``read_moment`` as text: formatted with ``pattern``, or its flag."""
    return str(moment) if isinstance(moment, InvalidDate) else moment.strftime(pattern)


@dataclass(frozen=True)
class OrderPage:
    """One page of the Orders list: rows as dicts keyed by ``COLUMNS`` labels."""

    rows: list[dict]
    total: int
    page: int
    total_amount: Decimal


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

    @property
    def refundable_amount(self) -> Decimal:
        return self.captured_amount - self.refunded_amount


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
    reason: str | None
    username: str
    created_at: datetime | InvalidDate  # aware, in the display time zone


def _translate(exc: duckdb.Error, path: Path | str) -> DataUnavailable:
    text = str(exc)
    if isinstance(exc, duckdb.IOException) and (
        "Could not set lock" in text or "Conflicting lock" in text
    ):
        return DatabaseBusy(
            f"The database {path} is in use by another process (is orderdesk running?). "
            "Stop it and try again; nothing was changed."
        )
    first_line = text.splitlines()[0] if text else type(exc).__name__
    # DuckDB is optimistic: a transaction that touches rows another one committed after it began
    # fails ("Conflict on update", or "Failed to commit: ... constraint violation" for a
    # concurrent duplicate key). Nothing of it is written, so callers may retry from a fresh read.
    if isinstance(exc, duckdb.TransactionException) and (
        "conflict" in text.lower() or "failed to commit" in text.lower()
    ):
        return WriteConflict(
            "Someone else changed the same order at the same moment; nothing was changed. "
            "Please try again."
        )
    if isinstance(exc, duckdb.ConstraintException):
        return ConstraintViolation(f"The database could not be read or written: {first_line}")
    return DataUnavailable(f"The database could not be read or written: {first_line}")


class Database:
    """A DuckDB database file opened read-write (or read-only) by this process."""

    def __init__(self, path: Path | str, *, read_only: bool = False,
                 memory_limit: str | None = None) -> None:
        self.path = Path(path)
        # The stores a scope and its store filters choose (``_stores_chosen``), kept until the
        # next write transaction commits: every write goes through this process (DuckDB lets one
        # process open the file), and the stores change only with imports.
        self._generation = 0
        self._chosen: collections.OrderedDict = collections.OrderedDict()
        self._chosen_lock = threading.Lock()
        self._recent: tuple[int, bool] | None = None  # (generation, has rows): ``_has_recent``
        self._stores: tuple[int, dict] | None = None  # (generation, stores): ``_stores_by_id``
        if memory_limit is not None and not _MEMORY_LIMIT.fullmatch(memory_limit):
            raise ValueError(f"not a memory size: {memory_limit!r}")
        self.memory_limit = memory_limit  # DuckDB's, as given (None: DuckDB's default)
        try:
            if not read_only:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                cluster_search_index(self.path)
            self._con = duckdb.connect(str(self.path), read_only=read_only)
            self._con.execute("SET GLOBAL TimeZone = 'UTC'")  # every cursor's too
            # A checkpoint's vacuum would merge the search index's 4,096-row groups into groups
            # of this connection's size (122,880), undoing the clustering: measured on a file of
            # 10,000 index rows, one write to any table merged its 3 row groups into 1. The
            # store never deletes orders; the few index rows it replaces are not worth it.
            self._con.execute("SET GLOBAL max_vacuum_tasks = 0")
            if memory_limit is not None:
                self._con.execute(f"SET memory_limit = '{memory_limit}'")
            if not read_only:
                self._con.execute(DDL)
                self._con.execute(
                    "INSERT INTO meta VALUES ('schema_version', ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    [str(SCHEMA_VERSION)],
                )
        except duckdb.Error as exc:
            raise _translate(exc, self.path) from exc

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextlib.contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor of its own for one unit of work; driver errors become ``DataUnavailable``."""
        cur = self._con.cursor()
        try:
            yield cur
        except duckdb.Error as exc:
            raise _translate(exc, self.path) from exc
        finally:
            cur.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor inside one transaction: committed when the block ends, rolled back on any error.

        A failed COMMIT after a conflict may not raise (docs/stack-facts.md, DuckDB), so callers
        verify what they wrote before they report success.
        """
        with self.snapshot() as cur:
            yield cur
        self._generation += 1  # after the commit: what was read before it is not reused

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor inside one transaction that only reads: all its reads see the same data."""
        with self.cursor() as cur:
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
            except BaseException:
                with contextlib.suppress(duckdb.Error):
                    cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    def _view(self, cur: duckdb.DuckDBPyConnection, scope: Scope, query: OrderQuery,
              tz: ZoneInfo, generation: int) -> "_View | None":
        """The query as a WHERE clause over ``orders o``, or None when no order can match (no
        store allowed, or no order found by the search)."""
        store_ids = store_nos = None
        if (chosen := query.store_clause(scope)) is not None:
            store_ids, store_nos = self._stores_chosen(cur, chosen, generation)
            if not store_ids:
                return None
        search = Search.parse(query.search)
        if search.kind and (ids := _search_index(
                cur, search, store_nos, self._has_recent(cur, generation))) is not None:
            # The index matched exactly these orders among the allowed stores: the orders are
            # read by ID, and only the period, status and channel remain to be checked.
            if not ids:
                return None
            where, params = query.with_changes(search="").orders_where(tz, None)
            return _View(f"o.order_id IN ({', '.join('?' * len(ids))}) AND {where}",
                         [*ids, *params], narrow=True, few=len(ids) <= PAGE_SIZE)
        where, params = query.orders_where(tz, store_ids)
        narrow = bool(search.kind) or (
            store_ids is not None and len(store_ids) <= SMALL_STORE_LIST
        )
        return _View(where, params, narrow)

    def _stores_by_id(self, cur: duckdb.DuckDBPyConnection,
                      generation: int) -> dict[str, dict]:
        """Every store's ``COLUMNS`` by store ID, kept as ``_stores_chosen`` keeps its lists."""
        if (kept := self._stores) is not None and kept[0] == self._generation:
            return kept[1]
        stores = _read_stores(cur)
        self._stores = (generation, stores)
        return stores

    def _has_recent(self, cur: duckdb.DuckDBPyConnection, generation: int) -> bool:
        """Whether ``order_search_recent`` has rows, read as ``_stores_chosen`` reads (kept until
        the next write transaction commits; empty after the index is clustered)."""
        if (kept := self._recent) is not None and kept[0] == self._generation:
            return kept[1]
        recent = cur.execute("SELECT EXISTS (FROM order_search_recent)").fetchone()[0]
        self._recent = (generation, recent)
        return recent

    def _stores_chosen(self, cur: duckdb.DuckDBPyConnection, chosen: tuple[str, list],
                       generation: int) -> tuple[tuple[str, ...], list[int]]:
        """The store IDs (sorted) and search index numbers of the stores ``chosen`` selects (a
        clause over ``stores s``), read by ``cur`` in a snapshot begun at ``generation``."""
        key = (chosen[0], tuple(chosen[1]))
        with self._chosen_lock:
            hit = self._chosen.get(key)
        if hit is not None and hit[0] == self._generation:
            return hit[1]
        rows = cur.execute(
            f"SELECT s.store_id, ss.store_no FROM stores s LEFT JOIN search_stores ss "
            f"ON ss.store_id = s.store_id WHERE {chosen[0]}", chosen[1]
        ).fetchall()
        rows.sort()
        result = (tuple(r[0] for r in rows), [r[1] for r in rows if r[1] is not None])
        with self._chosen_lock:
            self._chosen[key] = (generation, result)
            self._chosen.move_to_end(key)
            while len(self._chosen) > _CHOSEN_KEPT:
                self._chosen.popitem(last=False)
        return result

    # -- reads: every one takes the user's scope ------------------------------------------------
    #
    # Where the time goes on 5,000,000 orders (EXPLAIN ANALYZE; figures in README, Performance):
    # joining ``stores`` before filtering made DuckDB read every column of every order of the
    # period, and the scope's IN list ran as a hash join over all of them. So the scope and the
    # store filters are first resolved to store IDs on the small stores table; the orders are
    # then filtered alone, inside the scan (``store_ids_sql``); a page is ranked over narrow rows
    # (order ID and the sort key) and only its 15 rows are read in full and joined with their
    # stores. Columns with few values (status, channel, the store's columns) are ranked from the
    # count per value, which also yields the total, so one scan serves the count and the page.

    def count_orders(self, scope: Scope, query: OrderQuery, tz: ZoneInfo) -> tuple[int, Decimal]:
        """How many orders match, and their total captured amount."""
        generation = self._generation
        with self.snapshot() as cur:
            view = self._view(cur, scope, query, tz, generation)
            if view is None:
                return 0, Decimal("0.00")
            count, total = cur.execute(
                f"SELECT count(*), coalesce(sum(o.amount), 0) FROM orders o WHERE {view.where}",
                view.params,
            ).fetchone()
        return int(count), Decimal(total)

    def orders_where(self, scope: Scope, query: OrderQuery, tz: ZoneInfo) -> tuple[str, list]:
        """A WHERE clause over ``orders o`` alone selecting exactly the orders of ``query``
        within ``scope``: the stores resolved and a search answered as for the Orders page."""
        generation = self._generation
        with self.snapshot() as cur:
            view = self._view(cur, scope, query, tz, generation)
        return ("FALSE", []) if view is None else (view.where, view.params)

    def fetch_page(self, scope: Scope, query: OrderQuery, tz: ZoneInfo, page: int) -> OrderPage:
        """One page of 15, sorted over the whole filtered result; ``page`` is clamped to range."""
        generation = self._generation
        with self.snapshot() as cur:  # the count and the page agree
            view = self._view(cur, scope, query, tz, generation)
            if view is None:
                return OrderPage(rows=[], total=0, page=1, total_amount=Decimal("0.00"))
            stores = self._stores_by_id(cur, generation)
            if view.few:  # the whole result is one page: read in full at once
                # Sorted by the database where it can be: an order's own values, the date
                # among them, are compared as stored (a date not read as one included).
                by_store = query.sort in STORE_COLUMNS
                rows = _full_rows(cur, view.where, view.params, stores,
                                  None if by_store else query.order_by())
                if by_store:
                    rows = _in_screen_order(rows, query)
                total, page = len(rows), 1
                total_amount = sum((r["Captured amount"] for r in rows), Decimal("0.00"))
            else:
                total, total_amount, page, ids = _locate_page(cur, view, query, page)
                rows = _order_rows(cur, ids, stores)
        for row in rows:
            row["Order date"] = read_moment(row["Order date"], tz)
        return OrderPage(rows=rows, total=total, page=page, total_amount=total_amount)

    def iter_export_rows(
        self, scope: Scope, query: OrderQuery, tz: ZoneInfo, batch_size: int = 10_000
    ) -> Iterator[tuple]:
        """Every matching order as the export's 15 values, in the screen's order."""
        generation = self._generation
        with self.snapshot() as cur:  # the stores and the orders agree
            view = self._view(cur, scope, query, tz, generation)
            if view is None:
                return
            stores = {row[0]: row[1:] for row in cur.execute(
                f"SELECT store_id, {_EXPORT_STORE_COLUMNS} FROM stores").fetchall()}
            join = (" LEFT JOIN stores s ON s.store_id = o.store_id"
                    if query.sort in STORE_COLUMNS else "")
            result = cur.execute(
                f"SELECT {EXPORT_ORDER_SELECT} FROM orders o{join} WHERE {view.where} "
                f"ORDER BY {query.order_by()}",
                [tz.key, *view.params],
            )
            at = _EXPORT_STORE_AT
            while batch := result.fetchmany(batch_size):
                for row in batch:
                    # A time that is not a date is written as the same flag the page shows:
                    # an empty cell would pass for an order without a date, and the file would
                    # no longer say what the database holds.
                    day = row[0] if row[1] is None else str(InvalidDate(row[1]))
                    yield (day, *row[2:at], *stores[row[at]], *row[at + 1:])

    def fetch_scope_options(self, scope: Scope) -> ScopeOptions:
        where, params = OrderQuery().where_clause(scope, UTC)
        store_where = where.replace("o.store_id", "s.store_id")
        with self.cursor() as cur:
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

    def fetch_order(self, scope: Scope, order_id: object, tz: ZoneInfo) -> OrderDetails:
        """The order, or ``OrderNotFound`` — also when it exists outside the user's scope."""
        key = _order_key(order_id)
        where, params = OrderQuery().where_clause(scope, tz)
        with self.cursor() as cur:
            row = cur.execute(
                "SELECT o.order_id, o.created_at::VARCHAR, o.merchant_order_id, o.amount, "
                "o.refunded_amount, o.status, o.channel, o.email, o.phone, s.store_id, "
                "s.store_name, s.store_address, s.merchant_store_id, s.brand, s.legal_entity, "
                "s.region, s.zone, o.salesperson_id, o.salesperson_name "
                f"FROM {FROM_SQL} WHERE o.order_id = ? AND {where}",
                [key, *params],
            ).fetchone()
        if row is None:
            raise OrderNotFound(order_id)
        details = OrderDetails(*row)
        return replace(details, created_at=read_moment(details.created_at, tz))

    # Items and history take the order ``fetch_order`` returned: holding one proves it is in the
    # user's scope, so the scope is checked once per page, not once per read.

    def fetch_items(self, order: OrderDetails) -> list[ItemLine]:
        """The order's item lines, by line number."""
        key = order.order_id
        with self.cursor() as cur:
            rows = cur.execute(
                "SELECT line_no, name, quantity, unit_price, refunded_quantity FROM order_items "
                "WHERE order_id = ? ORDER BY line_no",
                [key],
            ).fetchall()
        return [ItemLine(*row) for row in rows]

    def fetch_history(self, order: OrderDetails, tz: ZoneInfo) -> list[OrderEvent]:
        """Every cancel and refund of the order, oldest first."""
        key = order.order_id
        with self.cursor() as cur:
            rows = cur.execute(
                "SELECT event_id, kind, amount, items, reason, username, created_at::VARCHAR "
                "FROM order_events WHERE order_id = ? ORDER BY created_at, event_id",
                [key],
            ).fetchall()
        return [
            OrderEvent(eid, kind, amount, json.loads(items) if items else [], reason, user,
                       read_moment(created, tz))
            for eid, kind, amount, items, reason, user, created in rows
        ]


# -- how a page is found ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _View:
    """A query resolved against the stores table and the search index (``Store._view``): a WHERE
    clause over ``orders o`` alone."""

    where: str
    params: list
    narrow: bool  # a few stores or a search: few rows pass, a single scan serves count and page
    few: bool = False  # at most a page of orders (found by the search index): read them at once


def _search_index(cur: duckdb.DuckDBPyConnection, search: Search, store_nos: list[int] | None,
                  recent: bool = True) -> list[int] | None:
    """The IDs of the orders of the given stores (their ``store_no``; None: every store) that
    ``search`` matches, from the search index (``recent``: ``order_search_recent`` has rows);
    None when more than ``INDEX_CANDIDATES`` match."""
    (match, params), merchant = search.index_sql()
    if merchant is not None:
        match, params = f"({match} OR {merchant[0]})", [*params, *merchant[1]]
        hashed, hashed_params = merchant
    else:
        hashed, hashed_params = "FALSE", []
    if store_nos is not None:
        if not store_nos:
            return []
        match = f"i.store_no IN ({', '.join('?' * len(store_nos))}) AND {match}"
        params = [*store_nos, *params]
    sql = f"SELECT i.order_id, {hashed} FROM order_search i WHERE {match}"
    args = [*hashed_params, *params]
    if recent:
        # The clustered rows, except those of orders written since, and the rows of those
        # orders. (Only then: the anti-join costs 8-9 ms on 5M orders even when it is empty.)
        sql = (f"{sql} AND i.order_id NOT IN (SELECT order_id FROM order_search_recent) "
               f"UNION ALL SELECT i.order_id, {hashed} FROM order_search_recent i WHERE {match}")
        args += args
    rows = cur.execute(f"{sql} LIMIT ?", [*args, INDEX_CANDIDATES + 1]).fetchall()
    if len(rows) > INDEX_CANDIDATES:
        return None
    ids = [order_id for order_id, by_hash in rows if not by_hash]
    if hashed_ids := [order_id for order_id, by_hash in rows if by_hash]:
        # The merchant order ID's hash matched (rarely): the search is confirmed on the orders.
        sql, sql_params = search.sql()
        ids += [r[0] for r in cur.execute(
            f"SELECT o.order_id FROM orders o WHERE o.order_id IN "
            f"({', '.join('?' * len(hashed_ids))}) AND {sql}", [*hashed_ids, *sql_params]
        ).fetchall()]
    return ids


def index_orders(cur: duckdb.DuckDBPyConnection, where: str | None = None,
                 params: Sequence = ()) -> None:
    """Write what is derived from the orders ``o`` matching ``where`` (None: every order, and
    the index is emptied first) in the transaction that wrote those orders: their sort keys
    (``core.db.schema.sort_key``) and their rows in ``order_search_recent``, which
    ``cluster_search_index`` takes into the clustered index when they have grown."""
    cur.execute(f"UPDATE orders o SET phone_sort = {sort_key('o.phone')}, "
                f"email_sort = {sort_key('o.email')} WHERE {where or 'TRUE'}", params)
    _number_stores(cur)
    if where is None:
        cur.execute("DELETE FROM order_search; DELETE FROM order_search_recent")
        where = "TRUE"
    else:
        cur.execute(f"DELETE FROM order_search_recent WHERE order_id IN "
                    f"(SELECT o.order_id FROM orders o WHERE {where})", params)
    cur.execute(f"INSERT INTO order_search_recent {SEARCH_ROWS} WHERE {where} "
                "ORDER BY ss.store_no, o.order_id", params)


def _number_stores(cur: duckdb.DuckDBPyConnection) -> None:
    cur.execute(
        "INSERT INTO search_stores SELECT store_id, (SELECT coalesce(max(store_no), 0) "
        "FROM search_stores) + row_number() OVER (ORDER BY store_id) FROM stores "
        "WHERE store_id NOT IN (SELECT store_id FROM search_stores)"
    )


def cluster_search_index(path: Path | str, *, memory_limit: str | None = None) -> bool:
    """Rebuild ``order_search`` from every order, clustered by store in row groups of
    ``SEARCH_ROW_GROUP_SIZE``, when the index is missing (a database of schema 1) or incomplete,
    or ``order_search_recent`` holds more than ``SEARCH_TAIL_ROWS`` rows (and a tenth of all);
    the orders' sort keys are written again with it. True when it was rebuilt.

    DuckDB sets the row group size per attached database, so this runs on a connection of its own
    before the store's (``Store`` calls it on every read-write open); the orders keep DuckDB's
    default row groups, which their scans are tuned for. When this process has the file open
    already, the open connection did this, and nothing is done. ``memory_limit`` bounds DuckDB's
    memory on that connection as ``Store``'s does.
    """
    if memory_limit is not None and not _MEMORY_LIMIT.fullmatch(memory_limit):
        raise ValueError(f"not a memory size: {memory_limit!r}")
    try:
        return _cluster_search_index(path, memory_limit)
    except duckdb.Error as exc:
        raise _translate(exc, path) from exc


def _cluster_search_index(path: Path | str, memory_limit: str | None) -> bool:
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        if memory_limit is not None:
            con.execute(f"SET memory_limit = '{memory_limit}'")
        try:
            con.execute(f"ATTACH ? AS orderdesk (ROW_GROUP_SIZE {SEARCH_ROW_GROUP_SIZE})",
                        [str(path)])
        except duckdb.Error as exc:
            if "Unique file handle conflict" in str(exc):
                return False
            raise
        con.execute("USE orderdesk")
        con.execute(DDL)
        orders, indexed, recent, unkeyed = con.execute(
            "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM order_search WHERE "
            "order_id NOT IN (SELECT order_id FROM order_search_recent)), "
            "(SELECT count(*) FROM order_search_recent), (SELECT count(*) FROM orders "
            "WHERE (phone_sort IS NULL AND phone IS NOT NULL) "
            "OR (email_sort IS NULL AND email IS NOT NULL))"
        ).fetchone()
        if (indexed + recent == orders and not unkeyed
                and recent <= max(SEARCH_TAIL_ROWS, orders // 10)):
            return False
        con.execute("BEGIN TRANSACTION")
        con.execute("DROP TABLE order_search; DROP TABLE order_search_recent; "
                    "DROP TABLE search_stores")
        con.execute(DDL)
        con.execute(f"UPDATE orders o SET phone_sort = {sort_key('o.phone')}, "
                    f"email_sort = {sort_key('o.email')}")
        _number_stores(con)
        con.execute(f"INSERT INTO order_search {SEARCH_ROWS} ORDER BY ss.store_no, o.order_id")
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
        return True
    finally:
        con.close()


def _locate_page(cur: duckdb.DuckDBPyConnection, view: _View, query: OrderQuery,
                 page: int) -> tuple[int, Decimal, int, list[int]]:
    """(total, total amount, clamped page, the page's order IDs), the quickest way for the view."""
    if query.sort in GROUPED_SORTS and not view.narrow:
        return _page_by_groups(cur, view, query, page)
    if query.sort in SORT_KEYS:
        return _page_by_key(cur, view, query, page)
    if query.sort == "Order date" and not view.narrow and (page - 1) * PAGE_SIZE >= DEEP_OFFSET:
        return _page_by_day(cur, view, query, page)
    return _page_by_rank(cur, view, query, page)


def _page_by_rank(cur: duckdb.DuckDBPyConnection, view: _View, query: OrderQuery,
                  page: int) -> tuple[int, Decimal, int, list[int]]:
    """(total, total amount, clamped page, the page's order IDs) by ranking on the sort key."""
    key = COLUMNS[query.sort]
    by_store = query.sort in STORE_COLUMNS
    # Orders lie on disk in time order, so ranking by date or ID (and by the merchant's order
    # number, which grows with time too) skips most of the table by itself (DuckDB prunes by
    # the top 15 found so far) and is cheaper as its own query, unless a search makes every
    # scan costly.
    time_ordered = (key in ("o.created_at", "o.order_id", "o.merchant_order_id")
                    and not query.search.strip())
    if view.narrow and not time_ordered:
        # One scan: the few matching rows, narrowed to ID, amount and key (or store), are kept,
        # counted and ranked; a store's column is joined to those rows only.
        kept = "o.store_id" if by_store else f"{key} AS sort_key"
        ranked = ("f o LEFT JOIN stores s ON s.store_id = o.store_id" if by_store else "f o")
        ranked_key = key if by_store else "o.sort_key"
        total, total_amount, ids = cur.execute(
            f"WITH f AS MATERIALIZED (SELECT o.order_id, o.amount, {kept} "
            f"FROM orders o WHERE {view.where}) "
            f"SELECT count(*), coalesce(sum(amount), 0), (SELECT list(o.order_id ORDER BY "
            f"{query.order_by('o.sort_key')}) FROM (SELECT o.order_id, {ranked_key} AS sort_key "
            f"FROM {ranked} ORDER BY {query.order_by(ranked_key)} LIMIT ? OFFSET ?) o) FROM f",
            [*view.params, PAGE_SIZE, (max(page, 1) - 1) * PAGE_SIZE],
        ).fetchone()
        total, total_amount = int(total), Decimal(total_amount)
        if clamp_page(page, total) == page:
            return total, total_amount, page, list(ids or [])
    else:
        total, total_amount = cur.execute(
            f"SELECT count(*), coalesce(sum(o.amount), 0) FROM orders o WHERE {view.where}",
            view.params,
        ).fetchone()
        total, total_amount = int(total), Decimal(total_amount)
    page = clamp_page(page, total)
    join = " LEFT JOIN stores s ON s.store_id = o.store_id" if by_store else ""
    ids = [r[0] for r in cur.execute(
        f"SELECT o.order_id FROM orders o{join} WHERE {view.where} "
        f"ORDER BY {query.order_by()} LIMIT ? OFFSET ?",
        [*view.params, PAGE_SIZE, (page - 1) * PAGE_SIZE],
    ).fetchall()] if total else []
    return total, total_amount, page, ids


def _page_by_key(cur: duckdb.DuckDBPyConnection, view: _View, query: OrderQuery,
                 page: int) -> tuple[int, Decimal, int, list[int]]:
    """The same by phone or e-mail (``SORT_KEYS``), whose ranking decodes every text (34 ms for
    2.1M phones): their integer keys are ranked first. The page's last row has a key at least as
    high (low) as the key found at its rank, so only the orders with such keys are ranked by the
    text. A view of few orders is scanned once for the count, the total and those orders."""
    integer_key = SORT_KEYS[query.sort]
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
        total, total_amount = cur.execute(
            f"SELECT count(*), coalesce(sum(o.amount), 0) FROM orders o WHERE {view.where}",
            view.params,
        ).fetchone()
        bound = cur.execute(
            f"SELECT {integer_key} FROM orders o WHERE {view.where} "
            f"ORDER BY {integer_key} {direction} NULLS LAST LIMIT 1 OFFSET ?",
            [*view.params, last],
        ).fetchone()
        bound = bound[0] if bound else None
    total, total_amount = int(total), Decimal(total_amount)
    if not total:
        return 0, total_amount, 1, []
    source, params = "orders o", view.params
    if bound is None:
        # Past the last page, or the page reaches orders without a phone (e-mail): rank them all.
        where = view.where
    elif ids is not None and len(ids) <= INDEX_CANDIDATES:
        # Read by ID first: filtered in the same scan, DuckDB would decode every text of the table.
        source = (f"(WITH p AS MATERIALIZED (SELECT o.order_id, {COLUMNS[query.sort]} "
                  f"FROM orders o WHERE o.order_id IN ({', '.join('?' * len(ids))})) "
                  f"SELECT * FROM p) o")
        where, params = "TRUE", ids
    else:
        where, params = f"{view.where} AND {integer_key} {reach} ?", [*view.params, bound]
    page = clamp_page(page, total)
    ids = [r[0] for r in cur.execute(
        f"SELECT o.order_id FROM {source} WHERE {where} "
        f"ORDER BY {query.order_by()} LIMIT ? OFFSET ?",
        [*params, PAGE_SIZE, (page - 1) * PAGE_SIZE],
    ).fetchall()]
    return total, total_amount, page, ids


def _page_by_day(cur: duckdb.DuckDBPyConnection, view: _View, query: OrderQuery,
                 page: int) -> tuple[int, Decimal, int, list[int]]:
    """A deep page by order date, over many orders: the count per day locates the page (and
    gives the total), then only the day or two it falls on are ranked. DuckDB's own ranking
    keeps every row up to the page in a heap: 85 ms for page 2,000 of 2.1M orders, against
    about 30 ms this way."""
    direction = "DESC" if query.descending else "ASC"
    # The days as DuckDB writes them, handed back to it as they are: a database may hold days
    # Python has no date for (year 1 BC, year 10000, infinity), and the day after the last one
    # may not exist at all. The page's rows lie from its earliest day up to the next day listed.
    days = cur.execute(
        f"SELECT day::VARCHAR, n, amount FROM (SELECT date_trunc('day', o.created_at) AS day, "
        f"count(*) AS n, sum(o.amount) AS amount FROM orders o WHERE {view.where} GROUP BY day) "
        f"ORDER BY day {direction}",
        view.params,
    ).fetchall()
    total = sum(int(n) for _day, n, _amount in days)
    total_amount = sum((Decimal(a) for _day, _n, a in days), Decimal("0.00"))
    page = clamp_page(page, total)
    if not total:
        return 0, total_amount, page, []
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
        f"ORDER BY {query.order_by()} LIMIT ? OFFSET ?",
        [*view.params, *params, PAGE_SIZE, offset],
    ).fetchall()]
    return total, total_amount, page, ids


def _page_by_groups(cur: duckdb.DuckDBPyConnection, view: _View, query: OrderQuery,
                    page: int) -> tuple[int, Decimal, int, list[int]]:
    """The same for a sort column with few values: count per value, then rank only the values
    that the page falls on (within one value, orders are ranked by ID alone)."""
    direction = "DESC" if query.descending else "ASC"
    column = COLUMNS[query.sort]
    if query.sort in STORE_COLUMNS:
        # Counted per store on the orders alone; the few store rows are joined afterwards.
        groups = cur.execute(
            f"SELECT {column}, list(c.store_id ORDER BY c.store_id), sum(c.n), sum(c.amount) "
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
        return 0, total_amount, page, []
    first = (page - 1) * PAGE_SIZE
    return total, total_amount, page, _ids_in_groups(cur, view, query, groups, first)


def _ids_in_groups(cur: duckdb.DuckDBPyConnection, view: _View, query: OrderQuery,
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
    if query.sort in STORE_COLUMNS:
        store_ids = tuple(sid for _rank, _value, stores in covering for sid in stores)
        within, params = store_ids_sql(store_ids)
    else:
        column = COLUMNS[query.sort]
        within = f"{column} IN ({', '.join('?' * len(covering))})"
        params = [value for _rank, value, _stores in covering]
    if len(covering) == 1:
        # One value: the order ID alone ranks the rows, and DuckDB skips by it on disk.
        if len(params) > SMALL_STORE_LIST:
            expected = min(PAGE_SIZE, groups[covering[0][0]][2] - offset)
            return _by_id_in_windows(cur, f"{view.where} AND {within}", [*view.params, *params],
                                     query.descending, offset, expected)
        sql = (f"SELECT o.order_id FROM orders o WHERE {view.where} AND {within} "
               f"ORDER BY o.order_id {direction} LIMIT ? OFFSET ?")
        args = [*view.params, *params, PAGE_SIZE, offset]
    elif query.sort in STORE_COLUMNS:
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
               f"ORDER BY {query.order_by()} LIMIT ? OFFSET ?")
        args = [*view.params, *params, PAGE_SIZE, offset]
    return [r[0] for r in cur.execute(sql, args).fetchall()]


# A page's orders in full: the orders' own ``COLUMNS`` by ID, and their stores' from the stores
# the store keeps (``Store._stores_by_id``). Joined in SQL, the page took 3 ms instead of 1.
_STORE_SELECT = ", ".join(f'{sql} AS "{label}"' for label, sql in STORE_COLUMNS.items())
# The order date as text, for ``read_moment``.
_ORDER_SELECT = ", ".join(
    [f'{sql}{"::VARCHAR" * (sql == "o.created_at")} AS "{label}"'
     for label, sql in COLUMNS.items() if sql.startswith("o.")]
    + ["o.store_id"]
)


def _full_rows(cur: duckdb.DuckDBPyConnection, where: str, params: list,
               stores: dict[str, dict], order_by: str | None = None) -> list[dict]:
    """The orders ``o`` matching ``where`` in full, each with its store's columns, sorted by
    ``order_by`` (over ``orders o``; None: in any order)."""
    order = f" ORDER BY {order_by}" if order_by else ""
    result = cur.execute(f"SELECT {_ORDER_SELECT} FROM orders o WHERE {where}{order}", params)
    labels = [d[0] for d in result.description]
    found = [dict(zip(labels, values)) for values in result.fetchall()]
    if missing := {row["store_id"] for row in found} - stores.keys():
        # A store committed while ``stores`` was being taken for current: read it here.
        stores = {**stores, **_read_stores(cur, missing)}
    rows = []
    for row in found:
        row.update(stores[row.pop("store_id")])
        rows.append({label: row[label] for label in COLUMNS})
    return rows


def _read_stores(cur: duckdb.DuckDBPyConnection,
                 store_ids: set[str] | None = None) -> dict[str, dict]:
    """The ``COLUMNS`` of the given stores (None: every store) by store ID."""
    where, params = ("TRUE", []) if store_ids is None else (
        f"s.store_id IN ({', '.join('?' * len(store_ids))})", sorted(store_ids))
    result = cur.execute(f"SELECT s.store_id, {_STORE_SELECT} FROM stores s WHERE {where}",
                         params)
    labels = [d[0] for d in result.description][1:]
    return {row[0]: dict(zip(labels, row[1:])) for row in result.fetchall()}


def _order_rows(cur: duckdb.DuckDBPyConnection, ids: list[int],
                stores: dict[str, dict]) -> list[dict]:
    """The orders ``ids`` in full, in the order of ``ids``."""
    if not ids:
        return []
    by_id = {row["Order ID"]: row for row in _full_rows(
        cur, f"o.order_id IN ({', '.join('?' * len(ids))})", ids, stores)}
    return [by_id[i] for i in ids if i in by_id]


def _in_screen_order(rows: list[dict], query: OrderQuery) -> list[dict]:
    """``rows`` as ``query.order_by()`` sorts them by a store's column: the column (empty values
    last either way), then the order ID, both in the chosen direction. Texts compare by code
    point, as DuckDB's binary collation compares their UTF-8 bytes."""
    rows = sorted(rows, key=lambda row: row["Order ID"], reverse=query.descending)
    if query.sort == "Order ID":
        return rows
    present = [row for row in rows if row[query.sort] is not None]
    present.sort(key=lambda row: row[query.sort], reverse=query.descending)  # stable
    return present + [row for row in rows if row[query.sort] is None]


def _by_id_in_windows(cur: duckdb.DuckDBPyConnection, where: str, params: list,
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


def _order_key(order_id: object) -> int:
    """An order ID from a URL or a form: digits only, within BIGINT; anything else is not found."""
    text = str(order_id).strip()
    if not text.isdigit() or not text.isascii() or len(text) > 18:
        raise OrderNotFound(order_id)
    return int(text)
