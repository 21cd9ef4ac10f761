"""The sign-in cookie in a real browser: written SameSite=Strict (and not Secure over plain HTTP),
it signs the user back in after a reload; after Logout a copy of it, kept by someone else, no
longer signs in."""
from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import heading, sign_in

pytestmark = pytest.mark.browser


def test_a_copied_cookie_stops_working_after_logout(page: Page, browser: Browser, server):
    sign_in(page, server.url, "viewer", server.password("viewer"))
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "orderdesk_session"]
    assert cookie["sameSite"] == "Strict"
    assert cookie["secure"] is False  # plain HTTP here; behind HTTPS it is Secure

    page.reload()  # the cookie signs the user back in
    expect(heading(page, "Orders")).to_be_visible(timeout=20_000)

    page.get_by_role("button", name="Logout").click()
    expect(page.get_by_role("textbox", name="Username")).to_be_visible(timeout=20_000)

    thief = browser.new_context()
    try:
        thief.add_cookies([cookie])
        stolen = thief.new_page()
        stolen.goto(server.url)
        expect(stolen.get_by_role("textbox", name="Username")).to_be_visible(timeout=20_000)
        stolen.wait_for_timeout(1_500)  # a cookie still honoured would sign in about now
        expect(stolen.get_by_role("button", name="Logout")).to_have_count(0)
        expect(heading(stolen, "Orders")).to_have_count(0)
    finally:
        thief.close()
