"""The conditions of a query as small objects: each yields its SQL and its words.

A filter is written once against a ``Source`` (what the WHERE clause is over), so the same
filter serves the whole join, the stores table alone and the orders table alone without its SQL
being edited as text; ``where`` is the one place the clauses are joined. Filters that depend on
the order's store alone (``about_stores``) are resolved on the small stores table first
(``core.db.views``); the others run on the orders. Every value is a bound parameter.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.db.schema import BIGINT_MAX
from core.errors import InvalidQuery
from core.users import Scope

MAX_SEARCH_LENGTH = 200
# Up to this many store IDs the scope is a filter inside the scan (see ``store_ids_sql``).
SMALL_STORE_LIST = 100
_SEARCH_DIGIT_NOISE = re.compile(r"[\s+\-()]")


@dataclass(frozen=True)
class Source:
    """What a WHERE clause is over, and how it names an order's store."""

    from_sql: str
    store_id: str
    orders: bool  # the orders' own columns can be read
    stores: bool  # the stores' columns can be read


JOINED = Source("orders o JOIN stores s ON s.store_id = o.store_id", "o.store_id", True, True)
ORDERS = Source("orders o", "o.store_id", True, False)
STORES = Source("stores s", "s.store_id", False, True)


class Filter:
    """One condition of a query."""

    about_stores = False  # decided by the order's store alone

    def sql(self, source: Source) -> tuple[str, list] | None:
        """The condition over ``source`` and its parameters; None when it restricts nothing."""
        raise NotImplementedError

    def words(self) -> str | None:
        """The condition as the captions and the export's info sheet say it."""
        return None


def where(filters, source: Source) -> tuple[str, list] | None:
    """The filters as one WHERE clause over ``source`` (without the keyword), in the order given;
    None when none of them restricts anything."""
    clauses, params = [], []
    for condition in filters:
        if (part := condition.sql(source)) is not None:
            clauses.append(part[0])
            params.extend(part[1])
    return (" AND ".join(clauses), params) if clauses else None


def _marks(values) -> str:
    return ", ".join("?" * len(values))


@dataclass(frozen=True)
class InList(Filter):
    """A column among the chosen values (none chosen: no restriction)."""

    label: str  # as the filter is named in words
    table: str  # "o" or "s"; a store ID is named as the source names it
    column: str
    values: tuple[str, ...]

    @property
    def about_stores(self) -> bool:
        return self.table == "s" or self.column == "store_id"

    def sql(self, source: Source) -> tuple[str, list] | None:
        if not self.values:
            return None
        column = source.store_id if self.column == "store_id" else f"{self.table}.{self.column}"
        return f"{column} IN ({_marks(self.values)})", list(self.values)

    def words(self) -> str | None:
        return f"{self.label}: {', '.join(self.values)}" if self.values else None


@dataclass(frozen=True)
class InScope(Filter):
    """The user's scope: their legal entities' stores and their own stores."""

    scope: Scope
    about_stores = True

    def sql(self, source: Source) -> tuple[str, list] | None:
        scope = self.scope
        if scope.all_orders:
            return None
        parts, params = [], []
        if scope.legal_entities:
            parts.append(f"s.legal_entity IN ({_marks(scope.legal_entities)})")
            params.extend(sorted(scope.legal_entities))
        if scope.stores:
            parts.append(f"{source.store_id} IN ({_marks(scope.stores)})")
            params.extend(sorted(scope.stores))
        if not parts:
            return "FALSE", []
        return "(" + " OR ".join(parts) + ")", params


@dataclass(frozen=True)
class InStores(Filter):
    """``o.store_id`` among stores already resolved (``store_ids_sql``)."""

    store_ids: tuple[str, ...]

    def sql(self, source: Source) -> tuple[str, list] | None:
        return store_ids_sql(self.store_ids)


def store_ids_sql(store_ids: tuple[str, ...]) -> tuple[str, list]:
    """``o.store_id`` among the given stores, written so that DuckDB can filter inside the scan.

    A bare ``IN`` list becomes a hash join fed by every row of the period, every column the query
    reads included. Wrapped in ``IS TRUE`` it stays a filter of the table scan, evaluated on the
    column's dictionary, and the other columns are read only for the rows that pass: about half
    the time for a 50-store user on 5M orders (EXPLAIN ANALYZE; README, "Performance"). The
    expression costs grow with the list, so long lists keep the hash join. (Rows this process
    wrote itself are filtered row by row until the file is opened again: a bulk import from the
    Data page is slower to read in its own server process, never wrong.)
    """
    if not store_ids:
        return "FALSE", []
    marks = _marks(store_ids)
    if len(store_ids) <= SMALL_STORE_LIST:
        return f"(o.store_id IN ({marks})) IS TRUE", list(store_ids)
    return f"o.store_id IN ({marks})", list(store_ids)


@dataclass(frozen=True)
class Period(Filter):
    """The orders of the days ``start`` to ``end`` (both included) in the display zone."""

    start: date | None
    end: date | None
    tz: ZoneInfo | None = None  # needed for the SQL only

    def sql(self, source: Source) -> tuple[str, list] | None:
        clauses, params = [], []
        for day, operator in ((self.start, ">="), (self.end, "<")):
            if day:
                ordinal = day.toordinal() + (operator == "<")  # the end: the next day's start
                sql, param = _bound_sql(_utc_start_us(ordinal, self.tz))
                clauses.append(f"o.created_at {operator} {sql}")
                params.append(param)
        return (" AND ".join(clauses), params) if clauses else None

    def words(self) -> str | None:
        if not (self.start or self.end):
            return None
        start = f"{self.start:%d.%m.%Y}" if self.start else "the first order"
        end = f"{self.end:%d.%m.%Y}" if self.end else "today"
        return f"Period {start} – {end}"


_DAY_US = 86_400_000_000
_EPOCH = datetime(1970, 1, 1)


def _utc_start_us(ordinal: int, tz: ZoneInfo) -> int:
    """Midnight of the day ``ordinal`` (``date.toordinal``, up to the day after ``date.max``) in
    the display time zone, in microseconds since 1970 UTC. Integers: the start of the day after
    31.12.9999, or of 01.01.0001 east of Greenwich, lies outside Python's datetime."""
    if ordinal > date.max.toordinal():
        offset = tz.utcoffset(datetime.max)  # the offset at that midnight, as it is just before
    else:
        offset = tz.utcoffset(datetime.combine(date.fromordinal(ordinal), time.min))
    return (ordinal - _EPOCH.toordinal()) * _DAY_US - offset // timedelta(microseconds=1)


def _bound_sql(us: int) -> tuple[str, object]:
    """A bound on ``o.created_at`` as SQL and its parameter: a naive UTC datetime where Python
    has one, else the microseconds (DuckDB's timestamps reach far beyond). DuckDB folds both into
    a constant that skips row groups."""
    try:
        return "?", _EPOCH + timedelta(microseconds=us)
    except OverflowError:
        return "make_timestamp(?)", us


@dataclass(frozen=True)
class Search(Filter):
    """How a search text is matched, decided from its shape (docs/design.md §2)."""

    kind: str  # "email", "digits", "text" or "" (no search)
    value: str

    @classmethod
    def parse(cls, text: str | None) -> "Search":
        text = (text or "").strip()
        if not text:
            return cls("", "")
        if len(text) > MAX_SEARCH_LENGTH:
            raise InvalidQuery(
                f"The search is too long ({len(text):,} characters); "
                f"use at most {MAX_SEARCH_LENGTH}."
            )
        if "@" in text:
            return cls("email", text.lower())
        digits = _SEARCH_DIGIT_NOISE.sub("", text)
        if digits.isdigit() and digits.isascii():
            return cls("digits", digits)
        return cls("text", text)

    def sql(self, source: Source = ORDERS) -> tuple[str, list] | None:
        if self.kind == "email":
            return "contains(lower(o.email), ?)", [self.value]
        if self.kind == "digits":
            parts = ["o.merchant_order_id = ?", "contains(o.phone_digits, ?)"]
            params: list = [self.value, self.value]
            if int(self.value) <= BIGINT_MAX:
                parts.insert(0, "o.order_id = ?")
                params.insert(0, int(self.value))
            return "(" + " OR ".join(parts) + ")", params
        if self.kind == "text":
            return (
                "(o.merchant_order_id = ? OR contains(lower(o.email), ?))",
                [self.value, self.value.lower()],
            )
        return None

    def words(self) -> str | None:
        return {
            "email": "e-mail contains “{}”",
            "digits": "order ID or merchant order ID is {0}, or phone contains {0}",
            "text": "merchant order ID is “{0}” or e-mail contains “{0}”",
        }.get(self.kind, "").format(self.value) or None

    def describe(self) -> str:
        return self.words() or ""
