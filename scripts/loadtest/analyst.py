"""One simulated analyst: signs in through the real form, then works the Orders page by a mix.

Each ``step`` picks one interaction by the weights of ``MIX`` (a page turn, a filter, a search, a
sort, an order opened by a row click or by its address, an export), tells the session's
``Expect`` what it set, sends it and has ``PageChecks`` look at the answer. After an order is
opened the next step goes back to the list, as a person would.
"""
from __future__ import annotations

import json
import random
from urllib.parse import quote

from scripts.loadtest.checks import TOO_LARGE, Expect, PageChecks, page_count
from scripts.loadtest.client import Client
from scripts.loadtest.oracle import CHANNEL_CHOICES, DEMO_PASSWORDS, STATUS_CHOICES, Oracle, View
from scripts.loadtest.refunds import (AMOUNT, CONFIRMED, MIN_REFUNDABLE, REASON, REFUND_ID, Ledger,
                                      amount_shown)
from scripts.loadtest.report import Stats
from scripts.loadtest.server import ServerProcess

SORTS = ("Order date", "Captured amount", "Customer email", "Store name", "Order ID")
# kind → weight in the mix of an active, signed-in session on the Orders page (--mix replaces it).
MIX = {"next": 35, "previous": 8, "filter": 12, "search": 12, "sort": 10, "open": 10,
       "open_link": 5, "export": 2}
MIX_KINDS = frozenset(MIX)
# With --refunds: the share of orders a refunder or admin opens that it refunds.
REFUND_SHARE = 0.5


class Session(Client):
    def __init__(self, number: int, username: str, base: str, oracle: Oracle, stats: Stats,
                 server: ServerProcess, rng: random.Random, timeout: float, exclusive_cpu: bool):
        super().__init__(number, username, base, stats, server, timeout, exclusive_cpu)
        self.oracle, self.rng = oracle, rng
        self.expect = Expect()
        self.checks = PageChecks(number, username, self.model, self.expect, oracle, stats)
        self.signed_in = False
        self.on_order = False
        self.ledger: Ledger | None = None  # set when this session refunds (--refunds, acting role)
        self.refund_due = False

    async def sign_in(self) -> bool:
        await self.connect()
        ok = await self.interact("connect", lambda: self.send_rerun(page_name="", query_string=""))
        if not ok:
            return False
        username_box = self.model.widget("text_input", "Username")
        password_box = self.model.widget("text_input", "Password")
        login = self.model.widget("button", "Login")
        if not (username_box and password_box and login):
            self.stats.error("connect", "no sign-in form", f"session {self.number}: {self.model.texts()[:5]}")
            return False
        # Form fields are sent with the submit button's trigger, as the browser's form does.
        self.model.values[username_box.id] = ("string_value", self.username)
        self.model.values[password_box.id] = ("string_value", DEMO_PASSWORDS[self.username])

        async def submit():
            await self.send_rerun(triggers={login.id: ("trigger_value", True)})

        ok = await self.interact("sign_in", submit)
        if not ok:
            return False
        if self.model.title() != "Orders":
            self.stats.error("sign_in", "not signed in",
                             f"session {self.number} ({self.username}): title {self.model.title()!r}")
            return False
        self.signed_in = True
        self.checks.orders("sign_in")
        return True

    async def step(self) -> None:
        """One interaction of the mix (after opening an order: back to the list)."""
        if self.on_order:
            if self.refund_due:
                self.refund_due = False
                await self.do_refund()
            else:
                await self.back_to_list()
            return
        total = self.checks.total() or 0
        weights = dict(MIX)
        if self.expect.page >= page_count(total):
            weights["next"] = 0
        if self.expect.page <= 1:
            weights["previous"] = 0
        if total == 0:
            weights["open"] = weights["export"] = 0
        if not any(weights.values()):
            weights = {"previous": 1} if self.expect.page > 1 else {"search": 1}
        kind = self.rng.choices(list(weights), weights=list(weights.values()))[0]
        await getattr(self, f"do_{kind}")()

    async def do_next(self) -> None:
        self.expect.page += 1
        if await self.click("page turn", "Next"):
            self.checks.orders("page turn")

    async def do_previous(self) -> None:
        self.expect.page -= 1
        if await self.click("page turn", "Previous"):
            self.checks.orders("page turn")

    async def do_filter(self) -> None:
        view = self.expect.view
        if self.rng.random() < 0.5:
            label, value = "Status", self.rng.choice([c for c in STATUS_CHOICES if c != view.statuses])
            self.expect.view = View(value, view.channels, view.search)
        else:
            label, value = "Channel", self.rng.choice([c for c in CHANNEL_CHOICES if c != view.channels])
            self.expect.view = View(view.statuses, value, view.search)
        self.expect.page = 1
        if await self.set_widget("filter", "multiselect", label, list(value)):
            self.checks.orders("filter")

    async def do_search(self) -> None:
        view = self.expect.view
        choices = [s for s in ["", *self.oracle.searches.get(self.username, [])] if s != view.search]
        text = self.rng.choice(choices)
        self.expect.view = View(view.statuses, view.channels, text)
        self.expect.page = 1
        if await self.set_widget("search", "text_input", "Search", text):
            self.checks.orders("search")

    async def do_sort(self) -> None:
        self.expect.page = 1
        if self.rng.random() < 0.6:
            self.expect.sort = self.rng.choice([s for s in SORTS if s != self.expect.sort])
            ok = await self.set_widget("sort", "selectbox", "Sort by", self.expect.sort)
        else:
            self.expect.descending = not self.expect.descending
            ok = await self.set_widget("sort", "checkbox", "Descending", self.expect.descending)
        if ok:
            self.checks.orders("sort")

    async def do_open(self) -> None:
        table = self.model.table()
        if table is None:
            if self.expect.page < page_count(self.checks.total() or 0):
                await self.do_next()
            return
        table_id, data = table
        row = self.rng.randrange(data.num_rows)
        order_id = str(data.column("Order ID")[row].as_py())
        selection = json.dumps({"selection": {"rows": [row], "columns": [], "cells": []}})
        self.model.values[table_id] = ("string_value", selection)
        fragment = self.model.fragment_id(table_id)
        if await self.interact("open order", lambda: self.send_rerun(fragment_id=fragment)):
            self.check_order("open order", order_id)

    async def do_open_link(self) -> None:
        """An order opened by its address (/order?id=…), as a pasted link or bookmark does."""
        order_ids = self.oracle.order_ids.get(self.username) or []
        order_page = self.model.pages.get("order")
        if not order_ids or not order_page:
            return await self.do_next()
        order_id = str(self.rng.choice(order_ids))
        ok = await self.interact("open order (link)", lambda: self.send_rerun(
            page_script_hash=order_page, query_string=f"id={quote(order_id)}"))
        if ok:
            self.check_order("open order (link)", order_id)

    def check_order(self, kind: str, order_id: str) -> None:
        self.on_order = True
        self.refund_due = self.ledger is not None and self.rng.random() < REFUND_SHARE
        self.checks.order(kind, order_id)

    async def do_refund(self) -> None:
        """Refund ``AMOUNT`` of the open order through its dialog, and note what was confirmed."""
        button = self.model.widget("button", "Process a refund")
        refundable = self.model.metric("Refundable now")
        if (button is None or button.element.disabled or refundable is None
                or amount_shown(refundable) < MIN_REFUNDABLE):
            return await self.back_to_list()
        order_id = int((self.model.title() or "").removeprefix("Order "))
        if not await self.click("refund form", "Process a refund"):
            return
        if self.model.widget("checkbox", "Enter manually") is not None:
            if not await self.set_widget("refund form", "checkbox", "Enter manually", True):
                return
        for kind, label, text in (("text_input", "Refund amount", str(AMOUNT)),
                                  ("selectbox", "Reason", "Other"),
                                  ("text_input", "Comment", REASON)):
            box = self.model.widget(kind, label)
            if box is None:
                shown = [w.text_input.label for w in self.model.of_kind("text_input")]
                self.stats.error("refund", "widget missing",
                                 f"session {self.number} order {order_id}: {label} (shown: {shown})")
                return
            self.model.values[box.id] = ("string_value", text)  # typed; sent with the click
        if not await self.click("refund", "Complete a refund"):
            return
        texts = " ".join(self.model.texts())
        done, reference = CONFIRMED.search(texts), REFUND_ID.search(texts)
        if not (done and reference) or amount_shown(done.group(1)) != AMOUNT:
            self.stats.error("refund", "refund not confirmed",
                             f"session {self.number} order {order_id}: {self.model.errors()[:2]}")
            return
        self.ledger.add(order_id, int(reference.group(1)))
        await self.click("refund form", "Close")

    async def back_to_list(self) -> None:
        """The "Orders" entry of the navigation: the Orders page, its address without a query."""
        self.on_order = False
        orders_page = self.model.pages.get("orders") or self.model.pages.get("")
        if await self.interact("back to list", lambda: self.send_rerun(
                page_script_hash=orders_page or "", query_string="")):
            self.checks.orders("back to list")

    def expected_error(self, kind: str, problem: str) -> bool:
        """An export of more orders than one sheet holds is refused, and must be."""
        return kind == "export" and self.checks.export_too_large() and TOO_LARGE in problem

    async def do_export(self) -> None:
        if await self.click("export", "Export to xlsx"):
            self.checks.export()
