"""Browser flows of the Orders list: sign-in per role, the sign-in cookie, deep links, filters in the
URL, search, opening a row of the canvas grid, a real xlsx download, and sign-out.

Expected counts and orders come from the demo database file, read before the server opens it.
"""
from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, replace
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    CAPTION,
    caption_counts,
    heading,
    query_db,
    scope_sql,
    screenshot,
    sign_in,
)

pytestmark = pytest.mark.browser


EXPORT_HEADERS = [  # docs/design.md §6, in this order
    "Order date", "Order ID", "Offline Barcode / Online order ID", "Captured amount", "Status",
    "Customer email", "Customer phone", "Zone", "Store name", "Store ID", "Store address",
    "Merchant brand", "Sales person ID", "Sales person name", "Customer registration kind",
]
ROLES = ("admin", "refunder", "viewer")
STATUS_FILTER = "Return"
SEARCH = "@yahoo"  # an e-mail part: the viewer's Romanian legal entity has many yahoo customers
GRID_HEADER_PX, GRID_ROW_PX = 35, 35
PAGE_SIZE = 15
SORT_SQL = {"Order date": "o.created_at", "Captured amount": "o.amount", "Order ID": "o.order_id"}


@dataclass(frozen=True)
class View:
    """What the Orders page must show: every widget's value, and the page of the list."""
    status: tuple[str, ...] = ()
    search: str = ""
    sort: str = "Order date"
    descending: bool = True
    page: int = 1


# The quick sequence, three times over in one session: (status, search, sort, descending, how
# to reach which page). Each round but the first starts with "Clear filters".
ROUNDS = (
    ("Completed", "@gmail", "Captured amount", True, ("next", 2)),
    ("Return", "@gmail", "Order ID", False, ("next", 2)),
    ("Completed", "@yahoo", "Order date", True, ("type", 3)),
)
DEEP_LINK = View(status=("Completed",), sort="Captured amount", descending=False)


def round_views(start: View, status, search, sort, descending, to_page) -> list[tuple[str, View]]:
    """The steps of one round, each with the view it must leave on the screen."""
    steps = [("status", replace(start, status=(status,), page=1))]
    steps.append(("search", replace(steps[-1][1], search=search)))
    steps.append(("sort", replace(steps[-1][1], sort=sort)))
    steps.append(("descending", replace(steps[-1][1], descending=descending)))
    steps.append(("page", replace(steps[-1][1], page=to_page[1])))
    return steps


def planned_views() -> list[View]:
    views, current = [DEEP_LINK, replace(DEEP_LINK, page=2)], View()
    views.append(current)
    for number, plan in enumerate(ROUNDS):
        if number:
            current = View(sort=current.sort, descending=current.descending)
            views.append(current)
        for _, current in round_views(current, *plan):
            views.append(current)
    return views


@pytest.fixture(scope="module")
def oracle(demo_dir) -> dict:
    """Counts per role, the viewer's filtered result in screen order, and two orders to open."""
    from core.demo import DEMO_USERS

    users = {row[0]: row for row in DEMO_USERS}
    base = "FROM orders o JOIN stores s ON s.store_id = o.store_id WHERE "
    counts = {}
    for role in ROLES:
        where, params = scope_sql(users[role])
        counts[role] = query_db(demo_dir, f"SELECT count(*) {base}{where}", params)[0][0]

    where, params = scope_sql(users["viewer"])
    filtered_ids = [row[0] for row in query_db(
        demo_dir,
        f"SELECT o.order_id {base}{where} AND o.status = ? AND contains(lower(o.email), ?) "
        "ORDER BY o.created_at DESC, o.order_id DESC",
        params + [STATUS_FILTER, SEARCH],
    )]
    status_count = query_db(demo_dir, f"SELECT count(*) {base}{where} AND o.status = ?",
                            params + [STATUS_FILTER])[0][0]
    outside = query_db(
        demo_dir,
        f"SELECT o.order_id, o.email {base} NOT {where} AND o.email IS NOT NULL "
        "ORDER BY o.order_id LIMIT 1", params,
    )[0]
    # A partly refunded order with item lines: the details page shows every section filled.
    deep = query_db(
        demo_dir,
        f"SELECT o.order_id, o.email {base} o.status = 'Completed' AND o.refunded_amount > 0 "
        "AND o.email IS NOT NULL AND EXISTS (SELECT 1 FROM order_items i "
        "WHERE i.order_id = o.order_id) ORDER BY o.order_id LIMIT 1",
    )[0]
    assert 0 < len(filtered_ids) <= 2 * 15, "the demo no longer suits the filter flow"

    def listed(view: View) -> list[int]:
        """The view's whole result in screen order: docs/design.md §2's sort, ties by order ID."""
        direction = "DESC" if view.descending else "ASC"
        sql = f"SELECT o.order_id {base}{where}"
        extra = []
        if view.status:
            sql += " AND o.status IN (SELECT unnest(?::VARCHAR[]))"
            extra.append(list(view.status))
        if view.search:
            sql += " AND contains(lower(o.email), ?)"
            extra.append(view.search.lower())
        sql += (f" ORDER BY {SORT_SQL[view.sort]} {direction} NULLS LAST, "
                f"o.order_id {direction}")
        return [row[0] for row in query_db(demo_dir, sql, params + extra)]

    lists = {}
    for view in planned_views():
        found = lists.setdefault(replace(view, page=1), listed(view))
        assert len(found) > (view.page - 1) * PAGE_SIZE, f"the demo no longer suits {view}"
    return {
        "counts": counts,
        "status_count": status_count,
        "filtered_ids": filtered_ids,
        "outside_id": outside[0], "outside_email": outside[1],
        "deep_id": deep[0], "deep_email": deep[1],
        "lists": lists,
    }


def _expect_caption_total(page: Page, total: int) -> None:
    expect(page.get_by_text(CAPTION)).to_contain_text(f"of {total:,} orders")


def _descending(page: Page):
    return page.get_by_role("switch", name="Descending")


def _table_ids(page: Page) -> list[int]:
    """The Order IDs of the grid's rows, top to bottom (read from the canvas grid's a11y table)."""
    grids = page.get_by_test_id("stDataFrame")
    if grids.count() != 1:  # a rerun still shows the previous view's table beside the new one
        return []
    cells = grids.evaluate("""grid => {
        const head = [...grid.querySelectorAll('table[role=grid] th')]
            .find(th => th.textContent === 'Order ID');
        if (!head) return [];
        const column = head.getAttribute('aria-colindex');
        return [...grid.querySelectorAll(`table[role=grid] tbody td[aria-colindex="${column}"]`)]
            .map(td => td.textContent);
    }""")
    return [int(cell) for cell in cells if cell]


def _expect_table(page: Page, ids: list[int], timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while (shown := _table_ids(page)) != ids and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert shown == ids, "the table does not show the view's orders in the view's order"


def _status_box(page: Page):
    return page.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect").filter(
        has=page.get_by_text("Status", exact=True))


def _expect_view(page: Page, view: View, lists: dict, step: str) -> None:
    """Every widget shows what was chosen, and the caption and the table agree with it."""
    listed = lists[replace(view, page=1)]
    try:
        chips = _status_box(page).locator("[data-tag]")
        if view.status:
            expect(chips).to_have_text(list(view.status))
        else:
            expect(chips).to_have_count(0)
        expect(page.get_by_role("textbox", name="Search")).to_have_value(view.search)
        expect(page.get_by_role("combobox", name="Sort by")).to_have_value(view.sort)
        if view.descending:
            expect(_descending(page)).to_be_checked()
        else:
            expect(_descending(page)).not_to_be_checked()
        expect(page.get_by_role("spinbutton", name="Page")).to_have_value(str(view.page))
        pages = math.ceil(len(listed) / PAGE_SIZE)
        expect(page.get_by_text(CAPTION)).to_contain_text(
            f"of {len(listed):,} orders · page {view.page:,} of {pages:,}")
        first = (view.page - 1) * PAGE_SIZE
        _expect_table(page, listed[first:first + PAGE_SIZE])
    except AssertionError as exc:
        screenshot(page, f"orders-view-lost-after-{step}")
        raise AssertionError(f"after the {step} step, expected {view}: {exc}") from None


def _expect_no_order_data(page: Page) -> None:
    expect(page.get_by_role("textbox", name="Username")).to_be_visible()
    expect(heading(page, "Orders")).to_have_count(0)
    expect(heading(page, re.compile(r"^Order \d+"))).to_have_count(0)
    expect(page.get_by_text(CAPTION)).to_have_count(0)
    expect(page.locator("[data-testid=stDataFrame]")).to_have_count(0)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_the_orders_of_its_scope(page: Page, server, oracle, role):
    sign_in(page, server.url, role, server.password(role))

    total = oracle["counts"][role]
    first, last, shown_total, page_no, pages = caption_counts(page)
    assert (first, last, shown_total, page_no, pages) == (
        1, min(15, total), total, 1, math.ceil(total / 15))
    expect(page.get_by_test_id("stSidebar")).to_contain_text(f"{role.capitalize()} · {role}")
    screenshot(page, f"orders-{role}")

    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_role("link", name="Data", exact=True)).to_have_count(
        1 if role == "admin" else 0)  # data loading is for admins only
    if role == "admin":
        nav.get_by_role("link", name="Overview", exact=True).click()
        expect(heading(page, "Overview")).to_be_visible()
        expect(page.get_by_role("heading", name="Top 10 stores by captured amount")).to_be_visible()
        screenshot(page, "overview")
        nav.get_by_role("link", name="Data", exact=True).click()
        expect(heading(page, "Data")).to_be_visible()
        screenshot(page, "data")

    if role == "viewer":
        # An order outside the scope is exactly like one that does not exist.
        page.get_by_test_id("stSidebarNav").get_by_role("link", name="Order", exact=True).click()
        lookup = page.get_by_role("textbox", name="Order ID")
        lookup.fill(str(oracle["outside_id"]))
        lookup.press("Enter")
        expect(page.get_by_text("Order not found")).to_be_visible()
        expect(page).to_have_url(re.compile(rf"[?&]id={oracle['outside_id']}\b"))
        expect(page.get_by_text(oracle["outside_email"])).to_have_count(0)


def test_sign_in_survives_a_reload_of_a_deep_link(page: Page, server, oracle):
    sign_in(page, server.url, "viewer", server.password("viewer"))
    page.wait_for_timeout(1_500)  # the cookie is written by a component, after the rerun
    cookies = {cookie["name"] for cookie in page.context.cookies()}
    assert "orderdesk_session" in cookies, cookies
    order_id = oracle["filtered_ids"][0]
    page.goto(f"{server.url}/order?id={order_id}")
    expect(heading(page, f"Order {order_id}")).to_be_visible(timeout=15_000)


def test_wrong_password_gives_one_generic_message_and_no_data(page: Page, server):
    sign_in(page, server.url, "viewer", "not-the-password", expect_heading=None)

    expect(page.get_by_text("Username or password is incorrect.")).to_be_visible()
    _expect_no_order_data(page)
    screenshot(page, "signin-wrong-password")


def test_deep_link_shows_only_sign_in_then_opens_the_order(page: Page, server, oracle):
    order_id, email = oracle["deep_id"], oracle["deep_email"]
    page.goto(f"{server.url}/order?id={order_id}")
    expect(page.get_by_role("textbox", name="Username")).to_be_visible(timeout=20_000)
    _expect_no_order_data(page)
    expect(page.get_by_text(email)).to_have_count(0)
    screenshot(page, "signin")

    sign_in(page, server.url, "admin", server.password("admin"), path=f"order?id={order_id}",
            expect_heading=f"Order {order_id}")
    assert f"id={order_id}" in page.url
    expect(page.get_by_text(email)).to_be_visible()
    expect(page.get_by_text("Contents of the order")).to_be_visible()
    screenshot(page, "order")


def test_filter_search_export_open_and_sign_out(page: Page, server, oracle, tmp_path: Path):
    sign_in(page, server.url, "viewer", server.password("viewer"))
    _expect_caption_total(page, oracle["counts"]["viewer"])

    # Status filter in the sidebar: the count changes and the URL carries the view.
    page.get_by_label("Status").click()
    page.get_by_role("option", name=STATUS_FILTER).click()
    page.keyboard.press("Escape")  # the open list hides the rest of the page from the a11y tree
    _expect_caption_total(page, oracle["status_count"])
    expect(page).to_have_url(re.compile(rf"[?&]status={STATUS_FILTER}\b"))

    # Search an e-mail part; it combines with the filter.
    search = page.get_by_role("textbox", name="Search")
    search.fill(SEARCH)
    search.press("Enter")
    ids = oracle["filtered_ids"]
    _expect_caption_total(page, len(ids))
    expect(page).to_have_url(re.compile(r"[?&]q=%40yahoo\b"))
    expect(_descending(page)).to_be_checked()  # the quick changes keep every other widget
    expect(page).not_to_have_url(re.compile(r"[?&]desc=0"))
    _expect_table(page, ids[:15])
    screenshot(page, "orders-filtered")

    # Export: the file holds exactly the screen's result, in the screen's order.
    page.get_by_role("button", name="Export to xlsx").click()
    download_button = page.get_by_role("button", name=re.compile(r"Download xlsx"))
    expect(download_button).to_be_visible(timeout=30_000)
    with page.expect_download() as download_info:
        download_button.click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    screenshot(page, "orders-export")

    book = openpyxl.load_workbook(path, read_only=True)
    assert "Export info" in book.sheetnames
    rows = list(book["Orders"].iter_rows(values_only=True))
    book.close()
    assert list(rows[0]) == EXPORT_HEADERS
    assert len(rows) - 1 == caption_counts(page)[2] == len(ids)
    assert [int(row[1]) for row in rows[1:]] == ids

    # Selecting the first row (its checkbox in the canvas grid's row-marker column) opens it.
    # (a locator click, so Playwright scrolls the row out from under Streamlit's fixed header)
    page.get_by_test_id("stDataFrame").click(
        position={"x": 15, "y": GRID_HEADER_PX + GRID_ROW_PX * 0 + 17})
    expect(heading(page, f"Order {ids[0]}")).to_be_visible(timeout=15_000)
    expect(page).to_have_url(re.compile(rf"/order\?id={ids[0]}\b"))
    screenshot(page, "order-from-list")

    # Sign out: the form comes back, and a reload (the cookie is gone) shows no data.
    page.get_by_role("button", name="Logout").click()
    _expect_no_order_data(page)
    page.reload()
    expect(page.get_by_role("textbox", name="Username")).to_be_visible(timeout=20_000)
    page.wait_for_timeout(1_000)  # a kept cookie would sign the user back in about now
    _expect_no_order_data(page)
    screenshot(page, "signed-out")


def test_a_deep_linked_view_survives_sign_in(page: Page, server, oracle):
    # Right after sign-in the cookie component reruns the page while the browser is still
    # loading the widgets' code: a widget mounted then showed its default, not the view.
    sign_in(page, server.url, "viewer", server.password("viewer"),
            path="?status=Completed&sort=Captured+amount&desc=0")
    _expect_view(page, DEEP_LINK, oracle["lists"], "sign-in")
    page.get_by_role("button", name="Next").click()
    _expect_view(page, replace(DEEP_LINK, page=2), oracle["lists"], "next page")


def test_a_link_naming_the_orders_page_opens_it_with_its_view(page: Page, server, oracle):
    """``/orders?…`` (typed, or kept from an older link) in a session after the server's first:
    the default page lives at ``/``, and its own name used to raise Streamlit's "Page not found"
    pop-up over the sign-in form, which then took no input."""
    sign_in(page, server.url, "viewer", server.password("viewer"),
            path="orders?status=Completed&sort=Captured+amount&desc=0")
    expect(page.get_by_text("Page not found")).to_have_count(0)
    _expect_view(page, DEEP_LINK, oracle["lists"], "sign-in through /orders")
    assert "/orders" not in page.url


def test_quick_changes_keep_every_widget_value(page: Page, server, oracle):
    """Status, search, sort, direction and page, changed as fast as the page answers, three
    rounds in one session: no widget may lose its value, and the table must follow them."""
    sign_in(page, server.url, "viewer", server.password("viewer"))
    lists = oracle["lists"]
    current = View()
    _expect_view(page, current, lists, "sign-in")
    for number, plan in enumerate(ROUNDS):
        if number:
            page.get_by_role("button", name="Clear filters").click()
            current = View(sort=current.sort, descending=current.descending)
            _expect_view(page, current, lists, f"round {number + 1}: clear filters")
        for step, view in round_views(current, *plan):
            label = f"round {number + 1}: {step}"
            if step == "status":
                _status_box(page).click()
                page.get_by_role("option", name=view.status[0], exact=True).click()
                page.keyboard.press("Escape")
            elif step == "search":
                search = page.get_by_role("textbox", name="Search")
                search.fill(view.search)
                search.press("Enter")
            elif step == "sort":
                sort_box = page.get_by_role("combobox", name="Sort by")
                sort_box.click()
                sort_box.fill(view.sort)  # narrows the list, which may not show every column
                page.get_by_role("option", name=view.sort, exact=True).click()
            elif step == "descending":
                if view.descending != current.descending:
                    page.get_by_text("Descending", exact=True).click()
            else:
                how, target = plan[4]
                if how == "next":
                    for _ in range(target - 1):
                        page.get_by_role("button", name="Next").click()
                else:
                    number_box = page.get_by_role("spinbutton", name="Page")
                    number_box.fill(str(target))
                    number_box.press("Enter")
            _expect_view(page, view, lists, label)
            current = view
    screenshot(page, "orders-quick-changes")


def _shown_page(page: Page, timeout_s: float = 10) -> list[int]:
    """The Order IDs once one full page of the table is drawn."""
    deadline = time.monotonic() + timeout_s
    while len(shown := _table_ids(page)) != 15 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    return shown


def _click_row(page: Page, row: int) -> None:
    page.get_by_test_id("stDataFrame").click(
        position={"x": 15, "y": GRID_HEADER_PX + GRID_ROW_PX * row + 17})


def test_a_row_opens_its_own_order_after_page_turns_and_a_way_back(page: Page, server, oracle):
    """The table keeps one key across pages (a page turn updates it in place): a row chosen
    before is never chosen again, on another page or after coming back from its order."""
    sign_in(page, server.url, "viewer", server.password("viewer"))
    expect(page.get_by_text(re.compile(r"page 1 of"))).to_be_visible(timeout=20_000)
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text(re.compile(r"page 2 of"))).to_be_visible(timeout=20_000)
    second_page = _shown_page(page)
    assert len(second_page) == 15
    _click_row(page, 1)
    expect(heading(page, f"Order {second_page[1]}")).to_be_visible(timeout=15_000)

    page.get_by_role("button", name="Back to orders").click()
    expect(page.get_by_text(re.compile(r"page 2 of"))).to_be_visible(timeout=20_000)
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text(re.compile(r"page 3 of"))).to_be_visible(timeout=20_000)
    page.wait_for_timeout(1_000)  # a remembered choice would have opened an order by now
    expect(heading(page, "Orders")).to_be_visible()
    third_page = _shown_page(page)
    assert len(third_page) == 15 and not set(third_page) & set(second_page)
    _click_row(page, 4)
    expect(heading(page, f"Order {third_page[4]}")).to_be_visible(timeout=15_000)
