"""The order query object: what a user filters, searches and sorts by, in words and in URLs.

One ``OrderQuery`` describes what a user is looking at; it is pure (no SQL): ``filters`` lists its
conditions (``core.query_filters``), which ``core.db.filters`` renders to the one WHERE clause the
Orders page, its counts, the Overview and the export all run. ``describe_filters`` says the same
conditions in words for captions and the export's info sheet. The sort is a label of
``core.columns`` (as the sort box and the URL name it); the database code works with its column
(``sort_column``). The paging helpers and the URL codec are at the end.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from core import columns
from core.columns import BY_LABEL, Column
from core.errors import InvalidQuery
from core.i18n import N_, Message
from core.query_filters import Filter, InList, Period, Search
from core.status import CHANNELS, STATUSES

PAGE_SIZE = 15

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

# The sort box's choices and the ``sort=`` values of a URL, in the table's order
# (``core.columns`` maps each label to its column).
SORT_LABELS: tuple[str, ...] = tuple(column.label for column in columns.PAGE_COLUMNS)
DEFAULT_SORT = columns.DEFAULT_SORT.label
# The filters that choose among values: (label, OrderQuery field, table, column).
LIST_FILTERS = (
    (N_("Status"), "statuses", "o", "status"),
    (N_("Channel"), "channels", "o", "channel"),
    (N_("Legal entity"), "legal_entities", "s", "legal_entity"),
    (N_("Region"), "regions", "s", "region"),
    (N_("Store"), "stores", "s", "store_id"),
)


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
            raise InvalidQuery(N_("The period starts ({start}) after it ends ({end})."),
                               start=f"{self.start:%d.%m.%Y}", end=f"{self.end:%d.%m.%Y}")
        if unknown := set(self.statuses) - set(STATUSES):
            raise InvalidQuery(N_("Unknown status: {values}."), values=", ".join(sorted(unknown)))
        if unknown := set(self.channels) - set(CHANNELS):
            raise InvalidQuery(N_("Unknown channel: {values}."),
                               values=", ".join(sorted(unknown)))
        if self.sort not in BY_LABEL:
            raise InvalidQuery(N_("Orders cannot be sorted by “{sort}”."), sort=self.sort[:60])
        Search.parse(self.search)  # refuses an over-long search early

    def with_changes(self, **changes) -> "OrderQuery":
        return replace(self, **changes)

    @property
    def sort_column(self) -> Column:
        """The column sorted by; the database code works with its key."""
        return BY_LABEL[self.sort]

    # -- the filters -----------------------------------------------------------------------------

    def filters(self) -> list[Filter]:
        """The query's conditions, in the order their SQL and their words are written."""
        return [
            Period(self.start, self.end),
            *(InList(label, table, column, getattr(self, field))
              for label, field, table, column in LIST_FILTERS),
            Search.parse(self.search),
        ]

    # -- words -----------------------------------------------------------------------------------

    # The words take ``t``, a ``core.i18n.translator``: English by default.
    def describe_filters(self, t=N_) -> str:
        words = [f.words(t) for f in self.filters() if not isinstance(f, Search)]
        return "; ".join(w for w in words if w) or t("No filters")

    def describe_search(self, t=N_) -> str:
        return Search.parse(self.search).describe(t)

    def describe_sort(self, t=N_) -> str:
        if self.sort_column is columns.DEFAULT_SORT:
            return t("Order date") + ", " + (t("newest first") if self.descending
                                             else t("oldest first"))
        return f"{t(self.sort)}, " + (t("descending") if self.descending else t("ascending"))

    @property
    def is_filtered(self) -> bool:
        return any(
            (self.start, self.end, self.statuses, self.channels, self.legal_entities,
             self.regions, self.stores, self.search.strip())
        )


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
    url = _UrlReader(params)
    start, end = url.period()
    search, sort = url.search(), url.sort()  # noted before the lists' problems, as always
    query = OrderQuery(
        start=start,
        end=end,
        statuses=url.pick("status", STATUSES),
        channels=url.pick("channel", CHANNELS),
        legal_entities=url.pick("le", legal_entities),
        regions=url.pick("region", regions),
        stores=url.pick("store", stores),
        search=search,
        sort=sort,
        descending=url.one("desc") != "0",
    )
    return query, url.page(), url.problems


# Each list's notice, named in its words (a translator's sentence each).
_NOT_CHOSEN = {
    "status": N_("Ignored status “{value}”: not one of your choices."),
    "channel": N_("Ignored channel “{value}”: not one of your choices."),
    "le": N_("Ignored legal entity “{value}”: not one of your choices."),
    "region": N_("Ignored region “{value}”: not one of your choices."),
    "store": N_("Ignored store “{value}”: not one of your choices."),
}


class _UrlReader:
    """URL parameters read one by one, each ignored value noted in ``problems`` (English
    ``core.i18n.Message``s, shown in the user's language)."""

    def __init__(self, params: dict[str, list[str]]) -> None:
        self.params = params
        self.problems: list[str] = []

    def one(self, key: str) -> str:
        values = self.params.get(key) or []
        return values[-1] if values else ""

    def pick(self, key: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
        chosen = []
        for value in dict.fromkeys(self.params.get(key) or []):
            if value in allowed:
                chosen.append(value)
            else:
                self.problems.append(Message(_NOT_CHOSEN[key], value=value[:60]))
        return tuple(chosen)

    def day(self, key: str) -> date | None:
        text = self.one(key)
        if not text:
            return None
        start = key == "from"
        try:
            value = date.fromisoformat(text)
        except ValueError:
            self.problems.append(Message(
                N_("Ignored the period’s start “{text}”: not a date (YYYY-MM-DD).") if start
                else N_("Ignored the period’s end “{text}”: not a date (YYYY-MM-DD)."),
                text=text[:30]))
            return None
        kept = min(max(value, EARLIEST_DAY), LATEST_DAY)
        if kept != value:
            self.problems.append(Message(
                N_("The period’s start {value} is outside the dates orders can have ({first} – "
                   "{last}); using {kept}.") if start else
                N_("The period’s end {value} is outside the dates orders can have ({first} – "
                   "{last}); using {kept}."),
                value=value.isoformat(), first=f"{EARLIEST_DAY:%d.%m.%Y}",
                last=f"{LATEST_DAY:%d.%m.%Y}", kept=f"{kept:%d.%m.%Y}"))
        return kept

    def period(self) -> tuple[date | None, date | None]:
        start, end = self.day("from"), self.day("to")
        if start and end and start > end:
            self.problems.append(Message(
                N_("Ignored the period: it starts ({start}) after it ends ({end})."),
                start=f"{start:%d.%m.%Y}", end=f"{end:%d.%m.%Y}"))
            return None, None
        return start, end

    def search(self) -> str:
        search = self.one("q")
        try:
            Search.parse(search)
        except InvalidQuery as exc:
            self.problems.append(Message(N_("Ignored the search: {problem}"), problem=exc))
            return ""
        return search

    def sort(self) -> str:
        """A column's label, as URLs have always named it (``core.columns``)."""
        sort = self.one("sort") or DEFAULT_SORT
        if sort not in BY_LABEL:
            self.problems.append(Message(N_("Ignored the sort “{sort}”: not a column."),
                                         sort=sort[:60]))
            return DEFAULT_SORT
        return sort

    def page(self) -> int:
        page_text = self.one("page") or "1"
        page = int(page_text) if page_text.isdigit() and len(page_text) < 10 else 0
        if page < 1:
            self.problems.append(Message(N_("Ignored the page “{page}”: not a page number."),
                                         page=page_text[:20]))
            return 1
        return page
