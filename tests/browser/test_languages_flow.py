"""The desk in Polish and Russian in a real browser: the sidebar's Language switches the Orders
page at once, the Order page follows, and screenshots of both are kept for people to look at
(nothing cut off or overlapping)."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from core.i18n import LANGUAGES, format_money, translator
from tests.browser.conftest import heading, query_db, screenshot, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def oracle(demo_dir) -> dict:
    """A Completed order with item lines and its captured amount (admin sees every order)."""
    order_id, amount = query_db(demo_dir, (
        "SELECT o.order_id, o.amount FROM orders o WHERE o.status = 'Completed' AND "
        "o.refunded_amount = 0 AND EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = "
        "o.order_id) ORDER BY o.amount DESC LIMIT 1"))[0]
    return {"order_id": order_id, "amount": amount}


def _choose_language(page: Page, lang: str, label: str) -> None:
    """The sidebar's Language box (``label`` in the language shown now)."""
    box = page.get_by_test_id("stSidebar").get_by_role("combobox", name=label)
    box.click()
    page.get_by_role("option", name=LANGUAGES[lang], exact=True).click()


@pytest.mark.parametrize("lang", ["pl", "ru"])
def test_orders_and_order_pages_in_polish_and_russian(page: Page, server, oracle, lang):
    sign_in(page, server.url, "admin", server.password("admin"))
    t = translator(lang)
    _choose_language(page, lang, "Language")
    expect(heading(page, t("Orders"))).to_be_visible(timeout=15_000)
    expect(page.get_by_role("button", name=t("Export to xlsx"))).to_be_visible()
    # The boxes show their values in the new language too, not the labels they had.
    expect(page.get_by_role("combobox", name=t("Sort by"))).to_have_value(t("Order date"))
    expect(page.get_by_test_id("stSidebar").get_by_role("combobox", name=t("Quick period"))
           ).to_have_value(t("Any time"))
    screenshot(page, f"orders-{lang}")

    page.goto(f"{server.url}/order?id={oracle['order_id']}")
    expect(heading(page, t("Order {order_id}").format(order_id=oracle["order_id"]))).to_be_visible(
        timeout=20_000)
    expect(page.get_by_text(t("Contents of the order"))).to_be_visible()
    expect(page.get_by_text(format_money(oracle["amount"], lang)).first).to_be_visible()
    screenshot(page, f"order-{lang}")

    # The Overview's tiles and charts, for a look.
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=t("Overview"), exact=True).click()
    expect(heading(page, t("Overview"))).to_be_visible(timeout=20_000)
    expect(page.get_by_role("heading", name=t("Orders by status"))).to_be_visible(timeout=20_000)
    screenshot(page, f"overview-{lang}")

    # Back to English for the next sign-in of the module's admin.
    _choose_language(page, "en", t("Language"))
    expect(heading(page, "Overview")).to_be_visible(timeout=15_000)


def test_the_sign_in_form_speaks_the_browsers_language(browser, browser_context_args, server):
    """Before anybody is known the form follows the browser (pl-PL); once signed in, the desk
    speaks the user's own language (the admin's is English)."""
    context = browser.new_context(**{**browser_context_args, "locale": "pl-PL"})
    page = context.new_page()
    try:
        t = translator("pl")
        page.goto(server.url)
        expect(page.get_by_text(t("Orders desk of the merchant cabinet. Sign in to continue."))
               ).to_be_visible(timeout=20_000)
        page.get_by_role("textbox", name=t("Username")).fill("admin")
        page.get_by_role("textbox", name=t("Password")).fill("wrong-password")
        page.wait_for_timeout(500)  # let the form register both values before the click
        page.get_by_role("button", name=t("Login")).click()
        expect(page.get_by_text(t("Username or password is incorrect."))).to_be_visible(
            timeout=20_000)
        screenshot(page, "signin-pl")
        page.get_by_role("textbox", name=t("Password")).fill(server.password("admin"))
        page.wait_for_timeout(500)
        page.get_by_role("button", name=t("Login")).click()
        expect(heading(page, "Orders")).to_be_visible(timeout=20_000)
    finally:
        context.close()
