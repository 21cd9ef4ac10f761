"""The order query object: filters, search, sort and page → SQL with bound parameters.

One ``OrderQuery`` describes what a user is looking at. ``where_clause`` turns it and the user's
``Scope`` into ``(sql, params)``; the Orders page, its counts, the Overview and the export all run
the same clause, so none of them can disagree with the screen. Every value is a bound parameter;
sort keys come from an allowlist (DuckDB cannot bind ``ORDER BY ?``), and the order ID always
breaks ties. ``describe`` says the same filters in words for captions and the export's info sheet.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.errors import InvalidQuery
from core.db.schema import CHANNELS, PHONE_KEY_DIGITS, STATUSES, phone_signature
from core.users import Scope

PAGE_SIZE = 15
MAX_SEARCH_LENGTH = 200
MAX_BIGINT = 2**63 - 1

# The order times orderdesk reads as dates: stored (UTC) from 1970 up to, not including, 2200.
# Every real order falls in it, and every time in it is a date in any display zone, in Python and
# in pandas (whose timestamps end in 2262). A time outside it (a database can hold year 1 BC,
# year 10000 or infinity) is shown as stored and flagged (``core.db.InvalidDate``).
FIRST_READABLE = datetime(1970, 1, 1)
END_READABLE = datetime(2200, 1, 1)
# A period from a URL is kept within these days. From them, no date arithmetic can leave the
# calendar: a day's end, the previous period of equal length, the date picker's years around.
EARLIEST_DAY = FIRST_READABLE.date()
LATEST_DAY = date(2199, 12, 31)

# Column label (the export's names where they overlap) → SQL over ``orders o JOIN stores s``.
COLUMNS: dict[str, str] = {
    "Order date": "o.created_at",
    "Order ID": "o.order_id",
    "Offline Barcode / Online order ID": "o.merchant_order_id",
    "Status": "o.status",
    "Captured amount": "o.amount",
    "Refunded amount": "o.refunded_amount",
    "Customer registration kind": "o.channel",
    "Customer email": "o.email",
    "Customer phone": "o.phone",
    "Store name": "s.store_name",
    "Store ID": "s.merchant_store_id",
    "Region": "s.region",
    "Legal entity": "s.legal_entity",
    "Zone": "s.zone",
}
DEFAULT_SORT = "Order date"
# The filters that choose among values: (label, OrderQuery field, SQL over FROM_SQL).
LIST_FILTERS = (
    ("Status", "statuses", "o.status"),
    ("Channel", "channels", "o.channel"),
    ("Legal entity", "legal_entities", "s.legal_entity"),
    ("Region", "regions", "s.region"),
    ("Store", "stores", "o.store_id"),
)
FROM_SQL = "orders o JOIN stores s ON s.store_id = o.store_id"

# The columns of ``COLUMNS`` that live in ``stores``. Filtering by them never needs the join: the
# store filters and the scope are resolved to store IDs first (``store_clause``); only sorting by
# them, and showing the 15 rows of a page, does.
STORE_COLUMNS: dict[str, str] = {
    label: sql for label, sql in COLUMNS.items() if sql.startswith("s.")
}
# Sort columns ranked first by an integer key of their first bytes (``core.db.schema.sort_key``).
SORT_KEYS = {"Customer phone": "o.phone_sort", "Customer email": "o.email_sort"}
# Sort columns with few distinct values: a page is found from the count of orders per value.
GROUPED_SORTS = frozenset({"Status", "Customer registration kind", *STORE_COLUMNS})
# Up to this many store IDs the scope is a filter inside the scan (see ``store_ids_sql``).
SMALL_STORE_LIST = 100

_SEARCH_DIGIT_NOISE = re.compile(r"[\s+\-()]")


@dataclass(frozen=True)
class Search:
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

    def sql(self) -> tuple[str, list]:
        if self.kind == "email":
            return "contains(lower(o.email), ?)", [self.value]
        if self.kind == "digits":
            parts = ["o.merchant_order_id = ?", "contains(o.phone_digits, ?)"]
            params: list = [self.value, self.value]
            if int(self.value) <= MAX_BIGINT:
                parts.insert(0, "o.order_id = ?")
                params.insert(0, int(self.value))
            return "(" + " OR ".join(parts) + ")", params
        if self.kind == "text":
            return (
                "(o.merchant_order_id = ? OR contains(lower(o.email), ?))",
                [self.value, self.value.lower()],
            )
        return "", []

    def index_sql(self) -> tuple[tuple[str, list], tuple[str, list] | None]:
        """The same match over the search index ``order_search i`` (``core.db.schema``), in two
        parts: the exact one, and the merchant order ID's, which compares hashes and is confirmed
        on ``orders`` (None when the search does not look at it).

        A phone's ``phone_key`` is ``1`` followed by its digits, so "the digits contain q" (q of L
        digits) is: some window of L digits, i places from the right, equals q and lies below
        the leading 1 (``phone_key >= 10^(i+L)``): integer arithmetic instead of decoding text,
        tried only on phones whose signature has every bit of q's.
        """
        merchant = ("i.merchant_key = hash(?)", [self.value])
        if self.kind == "email":
            return ("contains(i.email, ?)", [self.value]), None
        if self.kind == "text":
            return ("contains(i.email, ?)", [self.value.lower()]), merchant
        if self.kind != "digits":
            return ("FALSE", []), None
        width, value = len(self.value), int(self.value)
        windows, params = ["contains(i.phone_long, ?)"], [self.value]
        for shift in range(PHONE_KEY_DIGITS - width + 1):
            windows.append("((i.phone_key // ?) % ? = ? AND i.phone_key >= ?)")
            params += [10 ** shift, 10 ** width, value, 10 ** (shift + width)]
        signature = phone_signature(self.value)
        sql = f"((i.phone_sig & ?::UBIGINT) = ?::UBIGINT AND ({' OR '.join(windows)}))"
        params = [signature, signature, *params]
        if value <= MAX_BIGINT:
            sql = f"(i.order_id = ? OR {sql})"
            params = [value, *params]
        return (sql, params), merchant

    def describe(self) -> str:
        return {
            "email": "e-mail contains “{}”",
            "digits": "order ID or merchant order ID is {0}, or phone contains {0}",
            "text": "merchant order ID is “{0}” or e-mail contains “{0}”",
        }.get(self.kind, "").format(self.value)


@dataclass(frozen=True)
class OrderQuery:
    """What the user filters, searches and sorts by. Empty fields restrict nothing."""

    start: date | None = None
    end: date | None = None
    statuses: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    legal_entities: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    stores: tuple[str, ...] = ()
    search: str = ""
    sort: str = DEFAULT_SORT
    descending: bool = True

    def __post_init__(self) -> None:
        if self.start and self.end and self.start > self.end:
            raise InvalidQuery(
                f"The period starts ({self.start:%d.%m.%Y}) after it ends ({self.end:%d.%m.%Y})."
            )
        if unknown := set(self.statuses) - set(STATUSES):
            raise InvalidQuery(f"Unknown status: {', '.join(sorted(unknown))}.")
        if unknown := set(self.channels) - set(CHANNELS):
            raise InvalidQuery(f"Unknown channel: {', '.join(sorted(unknown))}.")
        if self.sort not in COLUMNS:
            raise InvalidQuery(f"Orders cannot be sorted by “{self.sort[:60]}”.")
        Search.parse(self.search)  # refuses an over-long search early

    def with_changes(self, **changes) -> "OrderQuery":
        return replace(self, **changes)

    # -- SQL -------------------------------------------------------------------------------------

    def where_clause(self, scope: Scope, tz: ZoneInfo) -> tuple[str, list]:
        """The WHERE clause over ``FROM_SQL`` (without the keyword) and its parameters, scope first."""
        clauses, params = _scope_sql(scope)
        period_sql, period_params = self._period_sql(tz)
        clauses += period_sql
        params += period_params
        self._add_lists(clauses, params, LIST_FILTERS)
        self._add_search(clauses, params)
        return " AND ".join(clauses) or "TRUE", params

    def store_clause(self, scope: Scope) -> tuple[str, list] | None:
        """The WHERE clause over ``stores s`` choosing the stores the view may show orders of:
        the scope and the store filters (legal entity, region, store). None: every store."""
        clauses, params = _scope_sql(scope)
        clauses = [c.replace("o.store_id", "s.store_id") for c in clauses]
        self._add_lists(clauses, params, [
            (label, field, sql.replace("o.store_id", "s.store_id"))
            for label, field, sql in LIST_FILTERS if sql.startswith("s.") or field == "stores"
        ])
        return (" AND ".join(clauses), params) if clauses else None

    def orders_where(self, tz: ZoneInfo, store_ids: tuple[str, ...] | None) -> tuple[str, list]:
        """The WHERE clause over ``orders o`` alone, once ``store_clause`` has been resolved to
        the store IDs it allows (None: every store). Selects exactly the rows of ``where_clause``:
        every order has exactly one store."""
        clauses, params = [], []
        if store_ids is not None:
            sql, values = store_ids_sql(store_ids)
            clauses.append(sql)
            params.extend(values)
        period_sql, period_params = self._period_sql(tz)
        clauses += period_sql
        params += period_params
        self._add_lists(clauses, params, [
            f for f in LIST_FILTERS if f[2].startswith("o.") and f[1] != "stores"
        ])
        self._add_search(clauses, params)
        return " AND ".join(clauses) or "TRUE", params

    def _add_lists(self, clauses: list[str], params: list, filters) -> None:
        for _, field, sql in filters:
            if values := getattr(self, field):
                clauses.append(f"{sql} IN ({', '.join('?' * len(values))})")
                params.extend(values)

    def _add_search(self, clauses: list[str], params: list) -> None:
        search_sql, search_params = Search.parse(self.search).sql()
        if search_sql:
            clauses.append(search_sql)
            params.extend(search_params)

    def _period_sql(self, tz: ZoneInfo) -> tuple[list[str], list]:
        clauses, params = [], []
        for day, operator in ((self.start, ">="), (self.end, "<")):
            if day:
                ordinal = day.toordinal() + (operator == "<")  # the end: the next day's start
                sql, param = _bound_sql(_utc_start_us(ordinal, tz))
                clauses.append(f"o.created_at {operator} {sql}")
                params.append(param)
        return clauses, params

    def order_by(self, key: str | None = None) -> str:
        """The ORDER BY list; ``key`` stands in for the sort column's SQL (a CTE's column)."""
        direction = "DESC" if self.descending else "ASC"
        column = COLUMNS[self.sort]
        tie = f"o.order_id {direction}"
        if column == "o.order_id":
            return tie
        return f"{key or column} {direction} NULLS LAST, {tie}"

    # -- words -----------------------------------------------------------------------------------

    def describe_filters(self) -> str:
        parts = []
        if self.start or self.end:
            start = f"{self.start:%d.%m.%Y}" if self.start else "the first order"
            end = f"{self.end:%d.%m.%Y}" if self.end else "today"
            parts.append(f"Period {start} – {end}")
        for label, field, _ in LIST_FILTERS:
            if values := getattr(self, field):
                parts.append(f"{label}: {', '.join(values)}")
        return "; ".join(parts) or "No filters"

    def describe_search(self) -> str:
        return Search.parse(self.search).describe()

    def describe_sort(self) -> str:
        if self.sort == "Order date":
            return "Order date, " + ("newest first" if self.descending else "oldest first")
        return f"{self.sort}, " + ("descending" if self.descending else "ascending")

    @property
    def is_filtered(self) -> bool:
        return any(
            (self.start, self.end, self.statuses, self.channels, self.legal_entities,
             self.regions, self.stores, self.search.strip())
        )


def _scope_sql(scope: Scope) -> tuple[list[str], list]:
    if scope.all_orders:
        return [], []
    parts, params = [], []
    if scope.legal_entities:
        parts.append(f"s.legal_entity IN ({', '.join('?' * len(scope.legal_entities))})")
        params.extend(sorted(scope.legal_entities))
    if scope.stores:
        parts.append(f"o.store_id IN ({', '.join('?' * len(scope.stores))})")
        params.extend(sorted(scope.stores))
    if not parts:
        return ["FALSE"], []
    return ["(" + " OR ".join(parts) + ")"], params


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
    marks = ", ".join("?" * len(store_ids))
    if len(store_ids) <= SMALL_STORE_LIST:
        return f"(o.store_id IN ({marks})) IS TRUE", list(store_ids)
    return f"o.store_id IN ({marks})", list(store_ids)


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


def page_count(total: int, page_size: int = PAGE_SIZE) -> int:
    return max(1, -(-total // page_size))


def clamp_page(page: int, total: int, page_size: int = PAGE_SIZE) -> int:
    return min(max(1, page), page_count(total, page_size))


# -- the view in the URL ---------------------------------------------------------------------------
# Query parameter names. Lists repeat the parameter (``status=Pending&status=Completed``).
URL_KEYS = ("from", "to", "status", "channel", "le", "region", "store", "q", "sort", "desc", "page")


def to_url_params(query: OrderQuery, page: int = 1) -> dict[str, str | list[str]]:
    """The query as URL parameters; defaults are left out so a plain view has a plain URL."""
    params: dict[str, str | list[str]] = {}
    if query.start:
        params["from"] = query.start.isoformat()
    if query.end:
        params["to"] = query.end.isoformat()
    for key, values in (
        ("status", query.statuses),
        ("channel", query.channels),
        ("le", query.legal_entities),
        ("region", query.regions),
        ("store", query.stores),
    ):
        if values:
            params[key] = list(values)
    if query.search.strip():
        params["q"] = query.search.strip()
    if query.sort != DEFAULT_SORT:
        params["sort"] = query.sort
    if not query.descending:
        params["desc"] = "0"
    if page > 1:
        params["page"] = str(page)
    return params


def from_url_params(
    params: dict[str, list[str]],
    *,
    legal_entities: tuple[str, ...] = (),
    regions: tuple[str, ...] = (),
    stores: tuple[str, ...] = (),
) -> tuple[OrderQuery, int, list[str]]:
    """A query from URL parameters, keeping only what is valid and within the given choices.

    Returns the query, the page and one message per ignored value: a forged or stale URL never
    fails the page and never widens the scope (the scope is applied in SQL regardless).
    """
    problems: list[str] = []

    def one(key: str) -> str:
        values = params.get(key) or []
        return values[-1] if values else ""

    def pick(key: str, label: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
        chosen = []
        for value in dict.fromkeys(params.get(key) or []):
            if value in allowed:
                chosen.append(value)
            else:
                problems.append(f"Ignored {label} “{value[:60]}”: not one of your choices.")
        return tuple(chosen)

    def day(key: str, label: str) -> date | None:
        text = one(key)
        if not text:
            return None
        try:
            value = date.fromisoformat(text)
        except ValueError:
            problems.append(f"Ignored the period’s {label} “{text[:30]}”: not a date (YYYY-MM-DD).")
            return None
        kept = min(max(value, EARLIEST_DAY), LATEST_DAY)
        if kept != value:
            problems.append(
                f"The period’s {label} {value.isoformat()} is outside the dates orders can have "
                f"({EARLIEST_DAY:%d.%m.%Y} – {LATEST_DAY:%d.%m.%Y}); using {kept:%d.%m.%Y}."
            )
        return kept

    start, end = day("from", "start"), day("to", "end")
    if start and end and start > end:
        problems.append(
            f"Ignored the period: it starts ({start:%d.%m.%Y}) after it ends ({end:%d.%m.%Y})."
        )
        start = end = None
    search = one("q")
    try:
        Search.parse(search)
    except InvalidQuery as exc:
        problems.append(f"Ignored the search: {exc}")
        search = ""
    sort = one("sort") or DEFAULT_SORT
    if sort not in COLUMNS:
        problems.append(f"Ignored the sort “{sort[:60]}”: not a column.")
        sort = DEFAULT_SORT
    query = OrderQuery(
        start=start,
        end=end,
        statuses=pick("status", "status", STATUSES),
        channels=pick("channel", "channel", CHANNELS),
        legal_entities=pick("le", "legal entity", legal_entities),
        regions=pick("region", "region", regions),
        stores=pick("store", "store", stores),
        search=search,
        sort=sort,
        descending=one("desc") != "0",
    )
    page_text = one("page") or "1"
    page = int(page_text) if page_text.isdigit() and len(page_text) < 10 else 0
    if page < 1:
        problems.append(f"Ignored the page “{page_text[:20]}”: not a page number.")
        page = 1
    return query, page, problems
