"""The promises of several app processes on one PostgreSQL database, with real OS processes.

Two replicas (``streamlit run app.py``, started by ``scripts/serve_replicas.py``) serve one
database with the sample orders; the tests drive them as browsers do, through Streamlit's own
WebSocket protocol (``scripts/loadtest/client.py``: the real sign-in form, the real refund
dialog, the sign-in cookie kept and sent back). What one process keeps in memory — the cached
pages of the Orders list, the filter choices, the store lists of the reads (``ReadCache``), the
Overview's figures — must not hide another process's commit past the next "Refresh"; a refund
is exactly once and within the captured amount across processes; ``kill -9`` of a replica loses
nothing it committed, and its user goes on on the other replica through the sign-in cookie.
(The same opened form submitted by two processes at once is tests/db/test_refunds_processes.py.)
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import os
from decimal import Decimal
from pathlib import Path

import pytest

from core.db.opening import open_database
from scripts.loadtest.client import Client
from scripts.loadtest.page import CAPTION
from scripts.loadtest.report import Stats
from scripts.loadtest.server import ServerProcess
from scripts.serve_replicas import Replica, free_port, start_replicas
from tests.replicas import (add_users, app_env, password, refundable_orders,
                            seed_sample, stored_order)

TIMEOUT_S = 30
REASON = "cross-process test"


class Desk(Client):
    """One browser tab on one replica, as the tests need it."""

    def __init__(self, replica: Replica, username: str, cookies: dict | None = None) -> None:
        super().__init__(0, username, replica.url, Stats(), ServerProcess(None), TIMEOUT_S, False)
        self.model.cookies.update(cookies or {})

    async def connect(self) -> None:
        """The WebSocket with the browser's cookies in its handshake, as a browser sends them:
        the app reads the sign-in cookie from there (``st.context.cookies``)."""
        from websockets.asyncio.client import connect

        cookies = "; ".join(f"{name}={value}" for name, value in self.model.cookies.items())
        self.ws = await connect(f"ws://{self.base.split('//', 1)[1]}/_stcore/stream",
                                subprotocols=["streamlit"], max_size=64 * 2**20,
                                open_timeout=self.timeout,
                                additional_headers={"Cookie": cookies} if cookies else None)
        self.reader = asyncio.create_task(self._read())

    def problems(self) -> str:
        return "; ".join(self.stats.examples) or "none recorded"

    async def must(self, done) -> None:
        assert await done, f"{self.username} on {self.base}: {self.problems()}"

    async def open(self) -> None:
        """Connect and run the app once, as opening its address does (the cookie is answered)."""
        await self.connect()
        await self.must(self.interact("open", lambda: self.send_rerun(query_string="")))

    async def sign_in(self) -> None:
        await self.open()
        login = self.model.widget("button", "Login")
        assert login is not None, self.model.texts()[:5]
        for label, value in (("Username", self.username), ("Password", password(self.username))):
            self.model.values[self.model.widget("text_input", label).id] = ("string_value", value)
        await self.must(self.interact("sign in", lambda: self.send_rerun(
            triggers={login.id: ("trigger_value", True)})))
        assert self.model.title() == "Orders", (self.model.title(), self.model.texts()[:5])

    async def go(self, page: str, query_string: str = "") -> None:
        """A page by its address, as a link or the navigation opens it."""
        script = self.model.pages.get(page) or (self.model.pages.get("") if page == "orders"
                                                 else None)
        assert script, sorted(self.model.pages)
        await self.must(self.interact(f"go {page}", lambda: self.send_rerun(
            page_script_hash=script, query_string=query_string)))

    async def click(self, kind: str, label: str) -> bool:
        await self.must(super().click(kind, label))
        return True

    async def oldest_first(self) -> None:
        """The Orders list sorted by order ID, ascending: the first page holds the lowest IDs."""
        await self.must(self.set_widget("sort", "selectbox", "Sort by", "Order ID"))
        await self.must(self.set_widget("sort", "checkbox", "Descending", False))

    async def refresh(self) -> None:
        await self.click("refresh", "Refresh")

    async def refund(self, order_id: int, amount: Decimal, *, submit: bool = True) -> None:
        """Open the order and fill its refund dialog with a manual amount; submitted unless not
        (``complete`` then submits it)."""
        await self.go("order", f"id={order_id}")
        await self.click("refund form", "Process a refund")
        if self.model.widget("checkbox", "Enter manually") is not None:
            await self.must(self.set_widget("refund form", "checkbox", "Enter manually", True))
        for kind, label, text in (("text_input", "Refund amount", str(amount)),
                                  ("selectbox", "Reason", "Other"),
                                  ("text_input", "Comment", REASON)):
            box = self.model.widget(kind, label)
            assert box is not None, f"no {label!r}: {self.model.texts()}"
            self.model.values[box.id] = ("string_value", text)
        if submit:
            await self.complete()

    async def complete(self) -> None:
        await self.click("refund", "Complete a refund")

    def confirmed(self) -> bool:
        return any("completed" in text and "Refund of" in text for text in self.model.texts())

    def total(self) -> int:
        caption = self.model.caption()
        assert caption is not None, self.model.texts()
        return caption.total

    def captured_caption(self) -> str:
        match = next(m for t in self.model.texts() if (m := CAPTION.search(t)))
        return match.group(6)

    def column(self, name: str) -> list:
        table = self.model.table()
        assert table is not None, self.model.texts()
        return table[1].column(name).to_pylist()

    def listed(self, order_id: int, name: str):
        """Column ``name`` of order ``order_id``'s row in the list shown."""
        return dict(zip(self.column("Order ID"), self.column(name)))[str(order_id)]


def run(flow):
    """Run the coroutine ``flow()`` to its end (at most 120 s), in a thread of its own: a browser
    test run earlier in this process (Playwright's sync API) may have left an event loop set in
    this thread, where ``asyncio.run`` refuses to start another."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, asyncio.wait_for(flow(), 120)).result()


# --- the database and two replicas -------------------------------------------------------------


@pytest.fixture(scope="module")
def world(postgres_cluster, tmp_path_factory):
    """The sample on a new PostgreSQL database, its users, and two replicas serving it."""
    folder = tmp_path_factory.mktemp("replicas")
    url = postgres_cluster.create_database(f"cross_{os.getpid()}")
    sample = seed_sample(url)
    env = app_env(url, folder / "users.yaml")
    add_users(env)
    replicas = start_replicas([free_port(), free_port()], env, folder)
    yield url, sample, env, replicas, folder
    for replica in replicas:
        replica.stop()


def test_a_refund_on_one_replica_shows_on_the_other_after_refresh(world):
    url, sample, _, (first, second), _ = world
    order = refundable_orders(sample, "Alpha SRL")[0]
    order_id, amount = order["order_id"], Decimal("1.00")

    async def flow():
        watcher, actor = Desk(second, "admin"), Desk(first, "refunder")
        await watcher.sign_in()
        await watcher.oldest_first()  # the list, cached by the second replica
        assert watcher.listed(order_id, "Refunded amount") == ""  # nothing refunded yet
        await watcher.go("overview")  # the Overview's figures, cached there too
        refunded_before = watcher.model.metric("Refunded amount")
        assert refunded_before is not None, (watcher.model.errors(), watcher.model.texts()[:8])
        await actor.sign_in()
        await actor.refund(order_id, amount)
        assert actor.confirmed(), (actor.model.errors(), actor.model.texts()[-6:])
        await watcher.go("orders")  # the same view, from the second replica's cache or not
        await watcher.refresh()
        assert watcher.listed(order_id, "Refunded amount") == f"{amount:,.2f}"
        await watcher.go("overview")
        assert watcher.model.metric("Refunded amount") != refunded_before
        await watcher.go("order", f"id={order_id}")
        assert watcher.model.metric("Refunded amount") == f"{amount:,.2f}"
        await watcher.close()
        await actor.close()

    run(flow)
    assert stored_order(url, order_id)[1:] == (amount, "Completed", 1)


def _add_store_with_orders(url: str, legal_entity: str, count: int) -> str:
    """A new store of ``legal_entity`` with ``count`` orders, committed by this test's process
    (not a replica), as a feed's import does; the store's name."""
    database = open_database(url)
    try:
        with database.transaction() as cur:
            cur.execute("INSERT INTO stores VALUES ('S90', 'Store New', 'New Street 1', NULL, "
                        "'Reserved', ?, 'Mazowieckie', 'PL')", [legal_entity])
            for n in range(count):
                cur.execute(
                    "INSERT INTO orders (order_id, created_at, merchant_order_id, amount,"
                    " refunded_amount, status, channel, email, phone, phone_digits, store_id,"
                    " salesperson_id, salesperson_name) VALUES (?, now() AT TIME ZONE 'UTC',"
                    " NULL, 10.00, 0, 'Completed', 'offline', NULL, NULL, NULL, 'S90', NULL,"
                    " NULL)", [900_000 + n])
    finally:
        database.close()
    return "Store New"


def test_a_store_and_orders_another_process_adds_show_on_both_replicas_after_refresh(world):
    url, sample, _, replicas, _ = world
    legal_entity = "Beta Sp. z o.o."
    expected = sum(1 for o in sample.orders if sample.store_of(o)["legal_entity"] == legal_entity)

    async def flow():
        desks = [Desk(replica, "viewer") for replica in replicas]
        for desk in desks:  # each process reads the scope's stores and counts, and keeps them
            await desk.sign_in()
            assert desk.total() == expected
        store_name = _add_store_with_orders(url, legal_entity, 3)
        for desk in desks:
            await desk.refresh()
            assert desk.total() == expected + 3
            store_filter = desk.model.widget("multiselect", "Store")
            assert store_filter is not None
            assert any(store_name in option for option in store_filter.element.options)
            await desk.close()

    run(flow)


def test_two_replicas_refunding_one_order_at_once_never_exceed_what_was_captured(world):
    url, sample, _, (first, second), _ = world
    order = refundable_orders(sample, "Alpha SRL")[1]
    order_id, captured = order["order_id"], order["amount"]
    share = (captured * Decimal("0.6")).quantize(Decimal("0.01"))

    async def flow():
        desks = [Desk(first, "refunder"), Desk(second, "refunder")]
        for desk in desks:
            await desk.sign_in()
            await desk.refund(order_id, share, submit=False)  # both forms open, filled
        await asyncio.gather(*(desk.complete() for desk in desks))  # submitted at once
        confirmed = [desk.confirmed() for desk in desks]
        for desk in desks:
            await desk.close()
        return confirmed

    confirmed = run(flow)
    assert confirmed.count(True) == 1, confirmed
    assert stored_order(url, order_id) == (captured, share, "Completed", 1)


def test_kill_9_of_a_replica_loses_nothing_committed_and_its_user_goes_on_elsewhere(world):
    url, sample, env, (survivor, _), folder = world
    doomed = start_replicas([free_port()], env, Path(folder) / "doomed")[0]
    orders = refundable_orders(sample, "Alpha SRL")[2:4]

    async def flow():
        desk = Desk(doomed, "refunder")
        await desk.sign_in()
        for order in orders:
            await desk.refund(order["order_id"], Decimal("3.00"))
            assert desk.confirmed(), desk.model.texts()
        doomed.kill()  # right after the last confirmation
        await desk.close()
        # The same browser (its sign-in cookie) reaches the other replica: signed in already.
        moved = Desk(survivor, "refunder", cookies=desk.model.cookies)
        await moved.open()
        assert moved.model.title() == "Orders", moved.model.texts()[:5]
        await moved.go("order", f"id={orders[-1]['order_id']}")
        assert moved.model.metric("Refunded amount") == "3.00"
        await moved.close()

    try:
        run(flow)
    finally:
        doomed.stop()
    assert doomed.process.returncode == -9
    for order in orders:
        assert stored_order(url, order["order_id"])[1:] == (Decimal("3.00"), "Completed", 1)
