"""The conditions of a query as small pure values, each with its words.

A condition says what it restricts (a column among values, a period, a search, the user's scope)
and how the captions and the export's info sheet say it; it writes no SQL. ``core.db.filters``
renders each kind of condition to SQL, so every condition is defined once, here, and written as
SQL once, there. Conditions that depend on the order's store alone (``about_stores``) are
resolved on the small stores table first (``core.db.views``); the others run on the orders.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from core.errors import InvalidQuery
from core.i18n import N_, Count
from core.users import Scope

MAX_SEARCH_LENGTH = 200
_SEARCH_DIGIT_NOISE = re.compile(r"[\s+\-()]")


class Filter:
    """One condition of a query. Its ``words(t)`` are English, or in the language of ``t`` (a
    ``core.i18n.translator``)."""

    about_stores = False  # decided by the order's store alone

    def words(self, t=N_) -> str | None:
        """The condition as the captions and the export's info sheet say it."""
        return None


@dataclass(frozen=True)
class InList(Filter):
    """A column among the chosen values (none chosen: no restriction)."""

    label: str  # as the filter is named in words
    table: str  # "o" (orders) or "s" (stores); a store ID is the order's store
    column: str
    values: tuple[str, ...]

    @property
    def about_stores(self) -> bool:
        return self.table == "s" or self.column == "store_id"

    def words(self, t=N_) -> str | None:
        if not self.values:
            return None
        # Statuses and channels are words of the desk; other values (names) stay as they are.
        values = [t(v) if self.column in ("status", "channel") else v for v in self.values]
        return t("{label}: {values}").format(label=t(self.label), values=", ".join(values))


@dataclass(frozen=True)
class InScope(Filter):
    """The user's scope: their legal entities' stores and their own stores."""

    scope: Scope
    about_stores = True


@dataclass(frozen=True)
class Period(Filter):
    """The orders of the days ``start`` to ``end`` (both included) in the display zone."""

    start: date | None
    end: date | None

    def words(self, t=N_) -> str | None:
        if not (self.start or self.end):
            return None
        start = f"{self.start:%d.%m.%Y}" if self.start else t("the first order")
        end = f"{self.end:%d.%m.%Y}" if self.end else t("today")
        return t("Period {start} – {end}").format(start=start, end=end)

    def dates(self, t=N_) -> str | None:
        """The period's dates alone (``01.12.2026 – today``)."""
        if not (self.start or self.end):
            return None
        start = f"{self.start:%d.%m.%Y}" if self.start else t("the first order")
        end = f"{self.end:%d.%m.%Y}" if self.end else t("today")
        return f"{start} – {end}"


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
                N_("The search is too long ({length} characters); use at most {limit}."),
                length=Count(len(text)), limit=MAX_SEARCH_LENGTH)
        if "@" in text:
            return cls("email", text.lower())
        digits = _SEARCH_DIGIT_NOISE.sub("", text)
        if digits.isdigit() and digits.isascii():
            return cls("digits", digits)
        return cls("text", text)

    def words(self, t=N_) -> str | None:
        template = {
            "email": N_("e-mail contains “{value}”"),
            "digits": N_("order ID or merchant order ID is {value}, or phone contains {value}"),
            "text": N_("merchant order ID is “{value}” or e-mail contains “{value}”"),
        }.get(self.kind)
        return t(template).format(value=self.value) if template else None

    def describe(self, t=N_) -> str:
        return self.words(t) or ""
