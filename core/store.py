"""The DuckDB store: the only module that talks to the database driver.

One ``Store`` holds one connection to the database file for the life of the process; each call
works on its own cursor, so Streamlit's session threads can share it. Every read and every write
takes the user's ``Scope`` as an argument and applies it in SQL. Driver errors are translated
here, once, into ``DataUnavailable`` and its kinds (``DatabaseBusy``, ``WriteConflict``,
``ConstraintViolation``).
"""
from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
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
from core.query import COLUMNS, FROM_SQL, PAGE_SIZE, OrderQuery, clamp_page
from core.schema import DDL, SCHEMA_VERSION
from core.users import Scope

UTC = ZoneInfo("UTC")

# The export's 15 columns (DESIGN §6), in order; the date is the order's day in the display zone.
EXPORT_SELECT = """
    CAST(timezone(?, o.created_at::TIMESTAMPTZ) AS DATE),
    o.order_id, o.merchant_order_id, o.amount, o.status, o.email, o.phone, s.zone,
    s.store_name, s.merchant_store_id, s.store_address, s.brand,
    o.salesperson_id, o.salesperson_name, o.channel
"""


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
    created_at: datetime  # aware, in the display time zone
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
    created_at: datetime  # aware, in the display time zone


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


class Store:
    """A DuckDB database file opened read-write (or read-only) by this process."""

    def __init__(self, path: Path | str, *, read_only: bool = False) -> None:
        self.path = Path(path)
        try:
            if not read_only:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._con = duckdb.connect(str(self.path), read_only=read_only)
            self._con.execute("SET TimeZone = 'UTC'")
            if not read_only:
                self._con.execute(DDL)
                self._con.execute(
                    "INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT DO NOTHING",
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
            cur.execute("SET TimeZone = 'UTC'")
            yield cur
        except duckdb.Error as exc:
            raise _translate(exc, self.path) from exc
        finally:
            cur.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor inside one transaction: committed when the block ends, rolled back on any error.

        A failed COMMIT after a conflict may not raise (FACTS.md), so callers verify what they wrote
        before they report success.
        """
        with self.cursor() as cur:
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
            except BaseException:
                with contextlib.suppress(duckdb.Error):
                    cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    # -- reads: every one takes the user's scope ------------------------------------------------

    def count_orders(self, scope: Scope, query: OrderQuery, tz: ZoneInfo) -> tuple[int, Decimal]:
        """How many orders match, and their total captured amount."""
        where, params = query.where_clause(scope, tz)
        with self.cursor() as cur:
            count, total = cur.execute(
                f"SELECT count(*), coalesce(sum(o.amount), 0) FROM {FROM_SQL} WHERE {where}",
                params,
            ).fetchone()
        return int(count), Decimal(total)

    def fetch_page(self, scope: Scope, query: OrderQuery, tz: ZoneInfo, page: int) -> OrderPage:
        """One page of 15, sorted over the whole filtered result; ``page`` is clamped to range."""
        total, total_amount = self.count_orders(scope, query, tz)
        page = clamp_page(page, total)
        where, params = query.where_clause(scope, tz)
        select = ", ".join(f'{sql} AS "{label}"' for label, sql in COLUMNS.items())
        with self.cursor() as cur:
            result = cur.execute(
                f"SELECT {select} FROM {FROM_SQL} WHERE {where} ORDER BY {query.order_by()} "
                "LIMIT ? OFFSET ?",
                [*params, PAGE_SIZE, (page - 1) * PAGE_SIZE],
            )
            labels = [d[0] for d in result.description]
            rows = [dict(zip(labels, row)) for row in result.fetchall()]
        for row in rows:
            row["Order date"] = _local(row["Order date"], tz)
        return OrderPage(rows=rows, total=total, page=page, total_amount=total_amount)

    def iter_export_rows(
        self, scope: Scope, query: OrderQuery, tz: ZoneInfo, batch_size: int = 20_000
    ) -> Iterator[tuple]:
        """Every matching order as the export's 15 values, in the screen's order."""
        where, params = query.where_clause(scope, tz)
        with self.cursor() as cur:
            result = cur.execute(
                f"SELECT {EXPORT_SELECT} FROM {FROM_SQL} WHERE {where} ORDER BY {query.order_by()}",
                [tz.key, *params],
            )
            while batch := result.fetchmany(batch_size):
                yield from batch

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
                "SELECT o.order_id, o.created_at, o.merchant_order_id, o.amount, "
                "o.refunded_amount, o.status, o.channel, o.email, o.phone, s.store_id, "
                "s.store_name, s.store_address, s.merchant_store_id, s.brand, s.legal_entity, "
                "s.region, s.zone, o.salesperson_id, o.salesperson_name "
                f"FROM {FROM_SQL} WHERE o.order_id = ? AND {where}",
                [key, *params],
            ).fetchone()
        if row is None:
            raise OrderNotFound(order_id)
        details = OrderDetails(*row)
        return replace(details, created_at=_local(details.created_at, tz))

    def fetch_items(self, scope: Scope, order_id: object, tz: ZoneInfo) -> list[ItemLine]:
        key = self.fetch_order(scope, order_id, tz).order_id
        with self.cursor() as cur:
            rows = cur.execute(
                "SELECT line_no, name, quantity, unit_price, refunded_quantity FROM order_items "
                "WHERE order_id = ? ORDER BY line_no",
                [key],
            ).fetchall()
        return [ItemLine(*row) for row in rows]

    def fetch_history(self, scope: Scope, order_id: object, tz: ZoneInfo) -> list[OrderEvent]:
        """Every cancel and refund of the order, oldest first."""
        key = self.fetch_order(scope, order_id, tz).order_id
        with self.cursor() as cur:
            rows = cur.execute(
                "SELECT event_id, kind, amount, items, reason, username, created_at "
                "FROM order_events WHERE order_id = ? ORDER BY created_at, event_id",
                [key],
            ).fetchall()
        return [
            OrderEvent(eid, kind, amount, json.loads(items) if items else [], reason, user,
                       _local(created, tz))
            for eid, kind, amount, items, reason, user, created in rows
        ]


def _order_key(order_id: object) -> int:
    """An order ID from a URL or a form: digits only, within BIGINT; anything else is not found."""
    text = str(order_id).strip()
    if not text.isdigit() or not text.isascii() or len(text) > 18:
        raise OrderNotFound(order_id)
    return int(text)


def _local(moment: datetime, tz: ZoneInfo) -> datetime:
    """A naive UTC timestamp from the database as an aware time in the display zone."""
    return moment.replace(tzinfo=UTC).astimezone(tz)
