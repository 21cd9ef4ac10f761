"""The Refunds register (pure): its reason codes and their rules, its columns, and its query.

A register row is one refund of an order in the user's scope (docs/design.md §5a): a refund event
(an import's own have the reason ``IMPORTED``, at the import's time), or the part of an order's
refunded amount that no refund event covers (data loaded without its events), shown with the
reason ``IMPORTED`` too. The reasons a user picks from are the fixed list ``REASONS``
(as Stripe's refunds carry one of a fixed list); a refund stored before reasons were asked for
reads ``NOT_RECORDED``, its free text the comment.

``RefundQuery`` is what the Refunds page looks at: the shared view's filters (``OrderQuery``,
whose period here filters the refund's date), plus reasons, who refunded, a search and a sort of
its own. ``core.db.refunds`` renders it as SQL; this module writes none.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from core.errors import InvalidInput, InvalidQuery
from core.i18n import N_, Message
from core.query import DEFAULT_SORT as ORDERS_DEFAULT_SORT
from core.query import OrderQuery
from core.query_filters import InList, Period, Search

# -- reasons -----------------------------------------------------------------------------------------

OTHER = N_("Other")
# The refund dialog's "Reason" choices, in this order; stored as written here.
REASONS: tuple[str, ...] = (
    N_("Goods returned"),
    N_("Goods not delivered"),
    N_("Damaged or defective"),
    N_("Duplicate order"),
    N_("Price adjustment"),
    N_("Suspected fraud"),
    OTHER,
)
IMPORTED = N_("Imported")  # a refund an import brought
NOT_RECORDED = N_("Not recorded")  # a refund stored before reasons were asked for
# What the register's "Reason" filter offers: every reason a row can have.
REGISTER_REASONS: tuple[str, ...] = (*REASONS, IMPORTED, NOT_RECORDED)
MAX_COMMENT_LENGTH = 500


def comment_required(reason: str, *, manual: bool) -> bool:
    """A comment is required for "Other" and whenever the amount was entered manually."""
    return reason == OTHER or manual


def check_refund_reason(reason: object, comment: object, *, manual: bool) -> tuple[str, str | None]:
    """The refund's reason (one of ``REASONS``) and its comment (stripped, None when empty), or
    ``InvalidInput`` saying what is missing."""
    if not isinstance(reason, str) or reason not in REASONS:
        if reason:
            raise InvalidInput(N_("“{reason}” is not a refund reason: choose one of the list."),
                               reason=str(reason)[:60])
        raise InvalidInput(N_("Choose a reason for the refund."))
    if comment is not None and not isinstance(comment, str):
        raise InvalidInput(N_("The comment must be text."))
    text = (comment or "").strip()
    if len(text) > MAX_COMMENT_LENGTH:
        raise InvalidInput(N_("The comment is too long: at most {limit} characters."),
                           limit=MAX_COMMENT_LENGTH)
    if not text and comment_required(reason, manual=manual):
        raise InvalidInput(N_("Enter a comment: it is required for the reason “Other”.")
                           if reason == OTHER and not manual else
                           N_("Enter a comment: it is required for an amount entered manually."))
    return reason, text or None


@dataclass(frozen=True)
class ReasonBar:
    """The Overview's refunds of the view's orders with one reason (``REGISTER_REASONS``)."""

    reason: str
    refunds: int
    refunded_amount: Decimal


def reasons_of(rows: list[tuple[str, int, Decimal]]) -> tuple[ReasonBar, ...]:
    """The by-reason rows in the register's order of reasons (an unknown stored one last)."""
    rank = {reason: i for i, reason in enumerate(REGISTER_REASONS)}
    return tuple(ReasonBar(reason, n, amount) for reason, n, amount in
                 sorted(rows, key=lambda r: (rank.get(r[0], len(rank)), r[0])))


def shown_reason(reason_code: str | None) -> str:
    """How a stored refund event's reason reads in the register and the history."""
    return reason_code or NOT_RECORDED


# -- columns -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefundColumn:
    key: str  # the field of ``core.db.refunds.RefundRow``
    label: str
    sortable: bool = True


COLUMNS: tuple[RefundColumn, ...] = (
    RefundColumn("refunded_at", N_("Refund date")),
    RefundColumn("refund_id", N_("Refund ID")),
    RefundColumn("order_id", N_("Order ID")),
    RefundColumn("merchant_order_id", N_("Offline Barcode / Online order ID")),
    RefundColumn("amount", N_("Refund amount")),
    RefundColumn("reason", N_("Reason")),
    RefundColumn("comment", N_("Comment")),
    # The item list is JSON text in the database, and neither engine turns it into these words
    # in the same SQL: the column is shown and exported, not sorted.
    RefundColumn("items", N_("Items"), sortable=False),
    RefundColumn("username", N_("Refunded by")),
    RefundColumn("store_name", N_("Store name")),
    RefundColumn("legal_entity", N_("Legal entity")),
    RefundColumn("status", N_("Order status")),
)
BY_KEY = {column.key: column for column in COLUMNS}
BY_LABEL = {column.label: column for column in COLUMNS}
SORT_LABELS: tuple[str, ...] = tuple(c.label for c in COLUMNS if c.sortable)
DEFAULT_SORT = COLUMNS[0].label


def items_text(items: list[dict] | None) -> str:
    """The refunded items as the register shows them: ``2 × Jacket, 1 × Belt``."""
    return ", ".join(f"{item['quantity']} × {item['name']}" for item in items or ())


def reference(event_id: int | None) -> str | None:
    """A refund event's ID as the user sees it (``R-<event id>``); None for an imported refund."""
    return None if event_id is None else f"R-{event_id}"


_REFUND_ID = re.compile(r"[Rr]-?\s*(\d{1,18})")


def refund_id_of(search: str) -> int | None:
    """The refund event a search names: ``R-1000123``, ``r1000123`` or the digits alone."""
    text = (search or "").strip()
    match = _REFUND_ID.fullmatch(text)
    if match:
        return int(match.group(1))
    digits = Search.parse(text)
    if digits.kind == "digits" and len(digits.value) <= 18:
        return int(digits.value)
    return None


# -- the query ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefundQuery:
    """What the Refunds page shows. ``view`` is the shared view: its filters apply to the
    refund's order, its period to the refund's date; its search and sort are the Orders page's
    and are not used here."""

    view: OrderQuery = field(default_factory=OrderQuery)
    reasons: tuple[str, ...] = ()
    refunded_by: tuple[str, ...] = ()
    search: str = ""
    sort: str = DEFAULT_SORT
    descending: bool = True

    def __post_init__(self) -> None:
        if unknown := set(self.reasons) - set(REGISTER_REASONS):
            raise InvalidQuery(N_("Unknown reason: {values}."), values=", ".join(sorted(unknown)))
        if self.sort not in SORT_LABELS:
            raise InvalidQuery(N_("Refunds cannot be sorted by “{sort}”."), sort=self.sort[:60])
        Search.parse(self.search)

    def with_changes(self, **changes) -> "RefundQuery":
        return replace(self, **changes)

    @property
    def sort_key(self) -> str:
        return BY_LABEL[self.sort].key

    @property
    def start(self) -> date | None:
        return self.view.start

    @property
    def end(self) -> date | None:
        return self.view.end

    def order_query(self) -> OrderQuery:
        """The conditions on the refund's order: the view's filters without its period, with
        this page's search (its refund-ID part is ``refund_id``)."""
        return self.view.with_changes(start=None, end=None, search=self.search,
                                      sort=ORDERS_DEFAULT_SORT, descending=True)

    @property
    def refund_id(self) -> int | None:
        return refund_id_of(self.search)

    @property
    def includes_imported(self) -> bool:
        """Whether the register's imported differences (refunded amounts no event covers, which
        have nobody who refunded them) may be rows of this query."""
        return not self.refunded_by and (not self.reasons or IMPORTED in self.reasons)

    # -- words ---------------------------------------------------------------------------------

    # The words take ``t``, a ``core.i18n.translator``: English by default.
    def describe_filters(self, t=N_) -> str:
        view = self.view
        words = []
        period = Period(view.start, view.end).dates(t)
        if period:
            words.append(t("Refund date {dates}").format(dates=period))
        for condition in view.filters():
            if isinstance(condition, InList) and condition.words(t):
                words.append(condition.words(t))
        for label, values in ((N_("Reason"), tuple(map(t, self.reasons))),
                              (N_("Refunded by"), self.refunded_by)):
            if values:
                words.append(t("{label}: {values}").format(label=t(label),
                                                           values=", ".join(values)))
        return "; ".join(words) or t("No filters")

    def describe_search(self, t=N_) -> str:
        words = Search.parse(self.search).describe(t)
        if words and self.refund_id is not None:
            words += t(", or refund ID is R-{refund_id}").format(refund_id=self.refund_id)
        return words

    def describe_sort(self, t=N_) -> str:
        if self.sort == DEFAULT_SORT:
            return t("Refund date") + ", " + (t("newest first") if self.descending
                                              else t("oldest first"))
        return f"{t(self.sort)}, " + (t("descending") if self.descending else t("ascending"))

    @property
    def is_filtered(self) -> bool:
        return self.view.is_filtered or bool(self.reasons or self.refunded_by
                                             or self.search.strip())


# -- the page's own part of the URL ------------------------------------------------------------------
# The shared filters are in the URL under the Orders page's keys (``core.query.to_url_params``);
# these are the Refunds page's own.
URL_KEYS = ("reason", "by", "rq", "rsort", "rdesc", "rpage")


def to_url_params(query: RefundQuery, page: int = 1) -> dict[str, str | list[str]]:
    params: dict[str, str | list[str]] = {}
    if query.reasons:
        params["reason"] = list(query.reasons)
    if query.refunded_by:
        params["by"] = list(query.refunded_by)
    if query.search.strip():
        params["rq"] = query.search.strip()
    if query.sort != DEFAULT_SORT:
        params["rsort"] = query.sort
    if not query.descending:
        params["rdesc"] = "0"
    if page > 1:
        params["rpage"] = str(page)
    return params


def from_url_params(params: dict[str, list[str]], view: OrderQuery,
                    refunders: tuple[str, ...]) -> tuple[RefundQuery, int, list[str]]:
    """The page's own part of a URL, keeping what is valid: (query, page, one note per value
    ignored). ``refunders`` are the names "Refunded by" may choose."""
    problems: list[str] = []

    def one(key: str) -> str:
        values = params.get(key) or []
        return values[-1] if values else ""

    def pick(key: str, notice: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
        chosen = []
        for value in dict.fromkeys(params.get(key) or []):
            if value in allowed:
                chosen.append(value)
            else:
                problems.append(Message(notice, value=value[:60]))
        return tuple(chosen)

    search = one("rq")
    try:
        Search.parse(search)
    except InvalidQuery as exc:
        problems.append(Message(N_("Ignored the search: {problem}"), problem=exc))
        search = ""
    sort = one("rsort") or DEFAULT_SORT
    if sort not in SORT_LABELS:
        problems.append(Message(N_("Ignored the sort “{sort}”: not a column."), sort=sort[:60]))
        sort = DEFAULT_SORT
    page_text = one("rpage") or "1"
    page = int(page_text) if page_text.isdigit() and len(page_text) < 10 else 0
    if page < 1:
        problems.append(Message(N_("Ignored the page “{page}”: not a page number."),
                                page=page_text[:20]))
        page = 1
    query = RefundQuery(
        view=view,
        reasons=pick("reason", N_("Ignored reason “{value}”: not one of your choices."),
                     REGISTER_REASONS),
        refunded_by=pick("by", N_("Ignored refunder “{value}”: not one of your choices."),
                         refunders),
        search=search,
        sort=sort,
        descending=one("rdesc") != "0",
    )
    return query, page, problems
