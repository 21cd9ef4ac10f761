"""Two app replicas on one PostgreSQL database behind the nginx example, in Chromium.

The replicas (``scripts/serve_replicas.py``) share the database, the users and the cookie key;
nginx runs ``deploy/nginx/orderdesk.conf`` with its sticky sessions, and its access log (the
test's own format) says which replica served each request, so each browser can be given a route
to the replica the test wants (the route cookie nginx itself would have set). A refund made
through one replica shows in the other's Overview after Refresh; ``kill -9`` of a replica sends
its browser to the other, where the sign-in cookie signs the user in again and work goes on.
The kill is the module's last test: the replicas are shared.
"""
from __future__ import annotations

import os
import re
import ssl
import urllib.request
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from scripts import serve_replicas
from scripts.serve_replicas import Proxy, Replica
from tests.browser.conftest import caption_counts, choose_reason, heading, sign_in
from tests.replicas import (TZ, add_users, app_env, password, refundable_orders, seed_sample,
                            stored_order)

pytestmark = pytest.mark.browser

ROUTE_COOKIE = "orderdesk_route"
LOG_FORMAT = "$orderdesk_route $upstream_addr $request_uri"


@dataclass
class World:
    url: str
    sample: object
    replicas: list[Replica]
    proxy: Proxy
    routes: dict[str, str]  # replica address → a route nginx sends there

    def log_tail(self) -> str:
        return "\n".join(r.log_tail(1500) for r in self.replicas) + self.proxy.error_log()


def _routes(proxy: Proxy, replicas: list[Replica]) -> dict[str, str]:
    """A route for each replica, found as nginx hands them out: a request without a route gets
    a new one, and the access log names the replica that served it."""
    context = ssl.create_default_context(cafile=str(proxy.cert))
    log = proxy.root / "access.log"
    routes: dict[str, str] = {}
    for _ in range(40):
        with urllib.request.urlopen(f"{proxy.url}/_stcore/health", context=context,
                                    timeout=10) as response:
            assert response.status == 200
        route, upstream, _ = log.read_text().splitlines()[-1].split(" ", 2)
        routes.setdefault(upstream, route)
        if len(routes) == len(replicas):
            return routes
    pytest.fail(f"nginx sent 40 new browsers to {sorted(routes)} only")


@pytest.fixture(scope="module")
def world(postgres_cluster, tmp_path_factory) -> World:
    folder = tmp_path_factory.mktemp("replicas")
    if serve_replicas.nginx_binary() is None:
        pytest.fail("nginx is not installed: bash scripts/test.sh installs it")
    url = postgres_cluster.create_database(f"browser_replicas_{os.getpid()}")
    sample = seed_sample(url)
    env = app_env(url, folder / "users.yaml")
    add_users(env)
    replicas = serve_replicas.start_replicas(
        [serve_replicas.free_port(), serve_replicas.free_port()], env, folder)
    cert, key = serve_replicas.self_signed_certificate(folder / "tls")
    proxy = serve_replicas.start_proxy(folder / "nginx", [r.address for r in replicas], cert, key,
                                       log_format=LOG_FORMAT)
    try:
        yield World(url, sample, replicas, proxy, _routes(proxy, replicas))
    finally:
        proxy.stop()
        for replica in replicas:
            replica.stop()


def tab_on(browser: Browser, world: World, replica: Replica) -> Page:
    """A new browser whose route cookie sends it to ``replica``."""
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 800},
                                  timezone_id=TZ)
    context.add_cookies([{"name": ROUTE_COOKIE, "value": world.routes[replica.address],
                          "url": world.proxy.url, "secure": True, "httpOnly": True}])
    return context.new_page()


def served_by(world: World, route: str) -> list[str]:
    """The replicas that served the requests of ``route``, in order (a retried request names
    each replica it tried, the last one answered)."""
    lines = (world.proxy.root / "access.log").read_text().splitlines()
    return [line.split(" ", 2)[1].split(", ")[-1] for line in lines if line.startswith(route + " ")]


def sign_in_on(page: Page, world: World, username: str, path: str = "") -> None:
    try:
        sign_in(page, world.proxy.url, username, password(username), path=path,
                expect_heading=re.compile(r"^(Orders|Overview|Order \d+)$"))
    except AssertionError:
        pytest.fail(f"no sign-in through the proxy:\n{world.log_tail()}")


def refund_in_dialog(page: Page, amount: Decimal) -> None:
    """The open order's refund dialog with a manual amount (an order without item lines)."""
    page.get_by_role("button", name="Process a refund").click()
    page.get_by_role("textbox", name="Refund amount").fill(str(amount))
    choose_reason(page, page.get_by_role("dialog", name="Process a refund"), "Other")
    page.get_by_role("textbox", name="Comment").fill("replicas test")
    page.wait_for_timeout(300)  # the inputs registered before the click
    page.get_by_role("button", name="Complete a refund").click()
    expect(page.get_by_text(re.compile(r"Refund of .* completed"))).to_be_visible(timeout=20_000)


def tile(page: Page, label: str) -> str:
    metric = page.get_by_test_id("stMetric").filter(has_text=label).first
    expect(metric).to_be_visible(timeout=20_000)
    return metric.get_by_test_id("stMetricValue").inner_text()


def test_a_refund_through_one_replica_shows_in_the_others_overview_after_refresh(browser, world):
    first, second = world.replicas
    order = refundable_orders(world.sample, "Alpha SRL")[0]
    watcher, actor = tab_on(browser, world, second), tab_on(browser, world, first)
    sign_in_on(watcher, world, "admin", "overview")
    expect(heading(watcher, "Overview")).to_be_visible(timeout=20_000)
    before = tile(watcher, "Refunded amount")

    sign_in_on(actor, world, "refunder", f"order?id={order['order_id']}")
    expect(heading(actor, f"Order {order['order_id']}")).to_be_visible(timeout=20_000)
    refund_in_dialog(actor, Decimal("1.00"))

    watcher.get_by_role("button", name="Refresh").click()
    expect(watcher.get_by_test_id("stMetric").filter(has_text="Refunded amount")
           .get_by_test_id("stMetricValue")).not_to_have_text(before, timeout=20_000)
    after = tile(watcher, "Refunded amount")
    assert Decimal(after.replace(",", "")) == Decimal(before.replace(",", "")) + Decimal("1.00")
    # Each browser stayed on its replica throughout.
    assert set(served_by(world, world.routes[second.address])) == {second.address}
    assert set(served_by(world, world.routes[first.address])) == {first.address}
    assert stored_order(world.url, order["order_id"])[1] == Decimal("1.00")
    watcher.context.close()
    actor.context.close()


def test_kill_9_of_a_replica_and_its_user_goes_on_on_the_other_signed_in_by_the_cookie(
        browser, world):
    survivor, doomed = world.replicas
    order = refundable_orders(world.sample, "Alpha SRL")[1]
    page = tab_on(browser, world, doomed)
    sign_in_on(page, world, "refunder", f"order?id={order['order_id']}")
    expect(heading(page, f"Order {order['order_id']}")).to_be_visible(timeout=20_000)
    refund_in_dialog(page, Decimal("2.00"))

    doomed.kill()
    # The open tab reconnects on its own, through nginx, to the survivor, which signs the user
    # in again from the cookie: the same order, now read there.
    for _ in range(100):  # the tab's health check and host config go to the survivor
        if survivor.address in served_by(world, world.routes[doomed.address]):
            break
        page.wait_for_timeout(200)
    for _ in range(100):
        if "restored from cookie: user='refunder'" in survivor.log_tail():
            break
        page.wait_for_timeout(200)
    else:
        pytest.fail(f"the survivor never signed the tab in:\n{world.log_tail()}")
    expect(heading(page, f"Order {order['order_id']}")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("textbox", name="Username")).to_have_count(0)
    assert tile(page, "Refunded amount") == "2.00"  # read on the survivor
    page.get_by_role("link", name="Orders").click()
    expect(heading(page, "Orders")).to_be_visible(timeout=20_000)
    first, last, *_ = caption_counts(page)
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text(f"{last + 1}–{last + 15} of")).to_be_visible(timeout=20_000)
    assert served_by(world, world.routes[doomed.address])[-1] == survivor.address
    # Nothing committed was lost.
    assert stored_order(world.url, order["order_id"])[1:] == (Decimal("2.00"), "Completed", 1)
    page.context.close()
