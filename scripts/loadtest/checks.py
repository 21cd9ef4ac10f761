"""The checks a session makes on every answer: what the page shows against what its user must see.

The Orders page must show the count the oracle computed and the page the session is on, no row
of a store outside the user's scope, and every widget with the value the session set; an opened
order must be the one asked for; an export must count the orders of the view. Each difference is
an error of the shared ``Stats``, under the interaction's kind.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from scripts.loadtest.oracle import Oracle, View
from scripts.loadtest.page import Caption, PageModel
from scripts.loadtest.report import Stats

PAGE_SIZE = 15
MAX_EXPORT_ROWS = 1_048_575  # one sheet's rows less the header (core.export); more is refused
# What the page says then (the message as shown: its punctuation escaped).
TOO_LARGE = "more than the 1\\,048\\,575 rows one Excel sheet holds"
EXPORT_READY = re.compile(r": ([\d,]+) orders, ready to download")


def page_count(total: int) -> int:
    return max(1, math.ceil(total / PAGE_SIZE))


def expected_caption(total: int, page: int) -> Caption:
    """What the caption must say for ``total`` orders on page ``page``."""
    first = (page - 1) * PAGE_SIZE + 1 if total else 0
    return Caption(first, min(page * PAGE_SIZE, total), total, page, page_count(total))


@dataclass
class Expect:
    """What the session set and must see again: its view, sort and page."""

    view: View = View()
    sort: str = "Order date"
    descending: bool = True
    page: int = 1


class PageChecks:
    """One session's checks, on its page model against its expectations and its user's counts."""

    def __init__(self, number: int, username: str, model: PageModel, expect: Expect,
                 oracle: Oracle, stats: Stats) -> None:
        self.number, self.username = number, username
        self.model, self.expect = model, expect
        self.oracle, self.stats = oracle, stats

    def total(self) -> int | None:
        """How many orders the session's view holds for its user (None: a view not counted)."""
        return self.oracle.count(self.username, self.expect.view)

    def orders(self, kind: str) -> None:
        """The Orders page shows the count, page, rows and widget values this session expects."""
        model = self.model
        if model.title() != "Orders":
            self.stats.error(kind, "wrong page", f"session {self.number}: title {model.title()!r}")
            return
        caption = model.caption()
        total = self.total()
        if caption is None:
            if total != 0:
                self.stats.error(kind, "no caption", f"session {self.number}")
            return
        if total is not None:
            self.expect.page = min(self.expect.page, page_count(total))
            want = expected_caption(total, self.expect.page)
            if caption.total != total:
                self.stats.error(kind, "wrong count",
                                 f"session {self.number} ({self.username}) {self.expect.view}: "
                                 f"shown {caption.total}, expected {total}")
            elif caption != want:
                self.stats.error(kind, "wrong page number",
                                 f"session {self.number}: shown {caption}, expected {want}")
        self.rows(kind)
        self.widgets(kind)

    def rows(self, kind: str) -> None:
        table = self.model.table()
        if table is None:
            return
        _, data = table
        names = data.column_names
        if "Store ID" not in names or "Store name" not in names:
            self.stats.error(kind, "table without store columns", str(names))
            return
        allowed = self.oracle.allowed_stores.get(self.username, set())
        for merchant, name in zip(data.column("Store ID").to_pylist(),
                                  data.column("Store name").to_pylist()):
            if ((merchant or ""), name) not in allowed:
                self.stats.error(kind, "row out of scope",
                                 f"session {self.number} ({self.username}): store {merchant} {name}")

    def widgets(self, kind: str) -> None:
        expect = self.expect
        wanted = [
            ("multiselect", "Status", list(expect.view.statuses)),
            ("multiselect", "Channel", list(expect.view.channels)),
            ("text_input", "Search", expect.view.search),
            ("selectbox", "Sort by", expect.sort),
            ("checkbox", "Descending", expect.descending),
        ]
        for widget_kind, label, value in wanted:
            widget = self.model.widget(widget_kind, label)
            if widget is None:
                self.stats.error(kind, "widget missing", f"session {self.number}: {label}")
                continue
            shown = self.model.value_of(widget)
            if widget_kind == "multiselect":
                shown = sorted(shown or [])
                value = sorted(value)
            if shown != value:
                self.stats.error(kind, "lost widget value",
                                 f"session {self.number} ({self.username}): {label} is {shown!r}, "
                                 f"set {value!r}")
        if self.model.caption() is not None:
            page_box = self.model.widget("number_input", "Page")
            if page_box and int(self.model.value_of(page_box) or 0) != self.expect.page:
                self.stats.error(kind, "lost widget value",
                                 f"session {self.number}: Page is {self.model.value_of(page_box)}, "
                                 f"expected {self.expect.page}")

    def order(self, kind: str, order_id: str) -> None:
        title = self.model.title()
        if title != f"Order {order_id}":
            self.stats.error(kind, "wrong order shown",
                             f"session {self.number}: title {title!r}, expected Order {order_id}")

    def export_too_large(self) -> bool:
        return (self.total() or 0) > MAX_EXPORT_ROWS

    def export(self) -> None:
        """The export's message counts the orders of the view (then the page is checked); a view
        larger than one sheet must be refused instead."""
        total = self.total()
        if self.export_too_large():
            if not any(TOO_LARGE in error for error in self.model.errors()):
                self.stats.error("export", "export not refused",
                                 f"session {self.number}: {total:,} orders do not fit one sheet")
            self.orders("export")
            return
        ready = [m for t in self.model.texts() if (m := EXPORT_READY.search(t))]
        if not ready:
            self.stats.error("export", "export not ready", f"session {self.number}")
        elif total is not None and int(ready[0].group(1).replace(",", "")) != total:
            self.stats.error("export", "wrong count",
                             f"session {self.number}: exported {ready[0].group(1)}, expected {total}")
        self.orders("export")
