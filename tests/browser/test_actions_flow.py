"""Browser flows of the Order page's actions (docs/design.md §3, §5): a refunder refunds by items
and by a manual amount, refunds an order without items by its amount (an admin, when no such order
is in the refunder's scope), and cancels a Pending order; each ends on the "Success" pop-up with the
amount, the new status and the reference.

The orders are picked from the demo database before the server opens it; one signed-in session
per user walks through them (each flow acts on its own order, so their order does not matter).
"""
from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import openpyxl

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (choose_reason, heading, query_db, scope_sql, screenshot,
                                    sign_in)
from tests.browser.test_orders_flow import GRID_HEADER_PX, GRID_ROW_PX

pytestmark = pytest.mark.browser

MANUAL_TEXT, MANUAL_AMOUNT = "10,50", Decimal("10.50")  # a comma is a decimal separator too
MANUAL_REASON = "Goodwill: late delivery"


def _money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


@pytest.fixture(scope="module")
def oracle(demo_dir) -> dict:
    """Four untouched orders in the refunder's scope, one per flow."""
    from core.demo import DEMO_USERS

    refunder = next(row for row in DEMO_USERS if row[0] == "refunder")
    where, params = scope_sql(refunder)
    base = f"FROM orders o JOIN stores s ON s.store_id = o.store_id WHERE {where} "
    with_lines = ("AND o.status = 'Completed' AND o.refunded_amount = 0 AND (SELECT count(*) "
                  "FROM order_items i WHERE i.order_id = o.order_id) >= 2 ")
    item_orders = query_db(demo_dir, f"SELECT o.order_id {base}{with_lines}"
                           f"AND o.amount > {MANUAL_AMOUNT} ORDER BY o.order_id LIMIT 3", params)
    items_id, manual_id, register_id = (row[0] for row in item_orders)
    first_line = query_db(demo_dir, "SELECT unit_price, quantity FROM order_items WHERE order_id = ? "
                          "ORDER BY line_no LIMIT 1", [items_id])[0]
    # The demo refunder's stores all provide item lines; then an admin refunds the plain order.
    plain_user = "refunder"
    for plain_user, (where_plain, params_plain) in (("refunder", (where, params)),
                                                     ("admin", ("TRUE", []))):
        plain = query_db(
            demo_dir,
            "SELECT o.order_id, o.amount FROM orders o JOIN stores s ON s.store_id = o.store_id "
            f"WHERE {where_plain} AND o.status = 'Completed' AND o.refunded_amount = 0 "
            "AND NOT EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = o.order_id) "
            "ORDER BY o.order_id LIMIT 1", params_plain)
        if plain:
            plain_id, plain_amount = plain[0]
            break
    pending_id = query_db(demo_dir, f"SELECT o.order_id {base}AND o.status = 'Pending' "
                          "ORDER BY o.order_id LIMIT 1", params)[0][0]
    return {
        "items_id": items_id, "first_unit_price": first_line[0],
        "manual_id": manual_id, "register_id": register_id,
        "plain_id": plain_id, "plain_amount": plain_amount, "plain_user": plain_user,
        "pending_id": pending_id,
    }


@pytest.fixture(scope="module")
def signed_in(browser, browser_context_args, server):
    """A signed-in page per user, kept for the module (signing in costs seconds each time)."""
    contexts, pages = [], {}

    def page_of(username: str) -> Page:
        if username not in pages:
            context = browser.new_context(**browser_context_args)
            contexts.append(context)
            page = context.new_page()
            page.set_default_timeout(15_000)
            sign_in(page, server.url, username, server.password(username))
            pages[username] = page
        return pages[username]

    yield page_of
    for context in contexts:
        context.close()


def _open_order(page: Page, order_id: int) -> None:
    """Through the app's own Order ID field: a reload would need the sign-in cookie."""
    page.keyboard.press("Escape")  # a dialog left open by a failed flow would hide the page
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Order", exact=True).click()
    lookup = page.get_by_role("textbox", name="Order ID")
    lookup.fill(str(order_id))
    lookup.press("Enter")
    expect(heading(page, f"Order {order_id}")).to_be_visible()


def _expect_success(page: Page, amount: str, status: str, reference: str) -> None:
    success = page.get_by_role("dialog", name="Success")
    expect(success).to_be_visible()
    if amount:
        expect(success).to_contain_text(f"Refund of {amount} completed.")
    expect(success).to_contain_text(f"New status: {status}")
    expect(success).to_contain_text(re.compile(rf"{reference} ID: [RC]-\d+"))


def _close_success_and_expect(page: Page, status: str, refunded: str) -> None:
    page.get_by_role("dialog", name="Success").get_by_role("button", name="Close").last.click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_text(re.compile(rf"^{status} · "))).to_be_visible()
    expect(page.get_by_test_id("stMetric").filter(has_text="Refunded amount")).to_contain_text(
        refunded)


def test_refund_chosen_items(signed_in, oracle):
    page = signed_in("refunder")
    _open_order(page, oracle["items_id"])
    page.get_by_role("button", name="Process a refund").click()
    form = page.get_by_role("dialog", name="Process a refund")
    expect(form).to_be_visible()

    quantity = form.get_by_role("spinbutton").first  # line 1
    quantity.fill("1")
    quantity.press("Enter")
    amount = _money(oracle["first_unit_price"])
    expect(form.get_by_test_id("stMetric").filter(has_text="Amount of the chosen items")
           ).to_contain_text(amount)
    choose_reason(page, form)
    screenshot(page, "refund-items-dialog")

    form.get_by_role("button", name="Complete a refund").click()
    _expect_success(page, amount, "Completed", "Refund")
    screenshot(page, "refund-items-success")
    _close_success_and_expect(page, "Completed", amount)


def test_refund_a_manual_amount_with_a_reason(signed_in, oracle):
    page = signed_in("refunder")
    _open_order(page, oracle["manual_id"])
    page.get_by_role("button", name="Process a refund").click()
    form = page.get_by_role("dialog", name="Process a refund")
    expect(form).to_be_visible()

    form.get_by_text("Enter manually", exact=True).click()
    amount_box = form.get_by_role("textbox", name="Refund amount")
    expect(amount_box).to_be_visible()
    amount_box.fill(MANUAL_TEXT)
    amount_box.press("Enter")
    choose_reason(page, form, "Price adjustment")
    reason_box = form.get_by_role("textbox", name="Comment")
    reason_box.fill(MANUAL_REASON)
    reason_box.press("Enter")
    expect(reason_box).to_have_value(MANUAL_REASON)
    screenshot(page, "refund-manual-dialog")

    form.get_by_role("button", name="Complete a refund").click()
    _expect_success(page, _money(MANUAL_AMOUNT), "Completed", "Refund")
    screenshot(page, "refund-manual-success")
    _close_success_and_expect(page, "Completed", _money(MANUAL_AMOUNT))


def test_refund_the_whole_amount_of_an_order_without_items(signed_in, oracle):
    page = signed_in(oracle["plain_user"])
    _open_order(page, oracle["plain_id"])
    expect(page.get_by_text("The store does not provide item lines for its orders.")).to_be_visible()
    page.get_by_role("button", name="Process a refund").click()
    form = page.get_by_role("dialog", name="Process a refund")
    expect(form).to_be_visible()

    amount = str(oracle["plain_amount"])
    amount_box = form.get_by_role("textbox", name="Refund amount")
    amount_box.fill(amount)
    amount_box.press("Enter")
    expect(amount_box).to_have_value(amount)
    choose_reason(page, form, "Goods not delivered")
    screenshot(page, "refund-amount-dialog")

    form.get_by_role("button", name="Complete a refund").click()
    _expect_success(page, _money(oracle["plain_amount"]), "Return", "Refund")
    screenshot(page, "refund-amount-success")
    _close_success_and_expect(page, "Return", _money(oracle["plain_amount"]))
    expect(page.get_by_role("button", name="Process a refund")).to_be_disabled()


def test_cancel_a_pending_order_after_confirming(signed_in, oracle):
    page = signed_in("refunder")
    _open_order(page, oracle["pending_id"])
    page.get_by_role("button", name="Cancel order").click()
    confirm = page.get_by_role("dialog", name="Cancel order")
    expect(confirm).to_contain_text("cannot be undone")
    screenshot(page, "cancel-dialog")

    confirm.get_by_role("button", name="Yes, cancel the order").click()
    _expect_success(page, "", "Cancel", "Cancel")
    expect(page.get_by_role("dialog", name="Success")).to_contain_text("The order is cancelled.")
    screenshot(page, "cancel-success")
    _close_success_and_expect(page, "Cancel", "0.00")
    expect(page.get_by_role("button", name="Cancel order")).to_be_disabled()


def test_a_refund_reaches_the_register_its_export_and_back_to_its_order(signed_in, oracle,
                                                                       tmp_path: Path):
    """From the refund dialog to the refund's row in the Refunds register, its line in the
    register's export, and from the row back to its order."""
    page = signed_in("refunder")
    order_id = oracle["register_id"]
    _open_order(page, order_id)
    page.get_by_role("button", name="Process a refund").click()
    form = page.get_by_role("dialog", name="Process a refund")
    form.get_by_text("Enter manually", exact=True).click()
    amount_box = form.get_by_role("textbox", name="Refund amount")
    amount_box.fill("3,25")
    amount_box.press("Enter")
    choose_reason(page, form, "Damaged or defective")
    comment = form.get_by_role("textbox", name="Comment")
    comment.fill("Scratched lid")
    comment.press("Enter")
    expect(comment).to_have_value("Scratched lid")
    form.get_by_role("button", name="Complete a refund").click()
    success = page.get_by_role("dialog", name="Success")
    expect(success).to_contain_text("Refund of 3.25 completed.")
    reference = re.search(r"R-\d+", success.inner_text()).group(0)
    success.get_by_role("button", name="Close").last.click()
    expect(page.get_by_role("dialog")).to_have_count(0)

    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Refunds", exact=True).click()
    expect(heading(page, "Refunds")).to_be_visible()
    search = page.get_by_role("textbox", name="Search")
    search.fill(reference)
    search.press("Enter")
    expect(page.get_by_text("1–1 of 1 refunds · page 1 of 1 · refunded 3.25")).to_be_visible(
        timeout=20_000)
    expect(page).to_have_url(re.compile(rf"[?&]rq={reference}\b"))
    screenshot(page, "refunds-register-found")

    page.get_by_role("button", name="Export to xlsx").click()
    download_button = page.get_by_role("button", name=re.compile(r"Download xlsx"))
    expect(download_button).to_be_visible(timeout=30_000)
    with page.expect_download() as download_info:
        download_button.click()
    path = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(path)
    book = openpyxl.load_workbook(path, read_only=True)
    assert book.sheetnames == ["Refunds", "Export info"]
    header, *rows = book["Refunds"].iter_rows(values_only=True)
    book.close()
    line = dict(zip(header, rows[0]))
    assert len(rows) == 1 and isinstance(line["Refund date"], datetime)
    assert (line["Refund ID"], int(line["Order ID"]), line["Refund amount"], line["Reason"],
            line["Comment"], line["Refunded by"]) == (
        reference, order_id, 3.25, "Damaged or defective", "Scratched lid", "refunder")

    page.get_by_test_id("stDataFrame").click(
        position={"x": 15, "y": GRID_HEADER_PX + GRID_ROW_PX * 0 + 17})
    expect(heading(page, f"Order {order_id}")).to_be_visible(timeout=15_000)
    screenshot(page, "refunds-register-to-order")
