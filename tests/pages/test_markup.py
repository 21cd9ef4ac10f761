"""Values from a URL, the database or the users file show as text on every page, never as
markup (AppTest, through the real sign-in form).

Every string the page sends to be rendered as Markdown — text, captions, alerts, headings,
widget labels and help, metric labels, dialog titles — is checked: the hostile value is there
for the reader, and nothing in the string would draw a link, an image, a tag or an icon.
"""
from __future__ import annotations

from dataclasses import replace

import pytest
from streamlit.testing.v1.element_tree import Block

from core.db import open_database
from tests.markdown_text import markup_in, shown
from tests.pages.conftest import edit_test_users, new_app, sign_in, target_of

LINK = "[Sign in again](https://ev.il/a)"
IMAGE = "![logo](https://ev.il/pixel.png)"
STYLED = "**Urgent** :red[call] :material/warning: $x$ # 1."
HTML = "<img src=x onerror=alert(1)>"
ADDRESS = "help@ev.il or https://ev.il/login"
BETA = "Beta Sp. z o.o."


def markdown_strings(at) -> list[str]:
    """Every string of the rendered page that Streamlit draws as Markdown."""
    found = []
    for node in at._tree:
        if isinstance(node, Block):
            if node.type == "dialog":
                found.append(node.proto.dialog.title)
            continue
        if node.type in ("text", "html") or node.proto is None:  # not Markdown; html is the
            continue                                              # app's own stylesheet
        fields = node.proto.DESCRIPTOR.fields_by_name
        found += [getattr(node.proto, name) for name in ("body", "label", "help")
                  if name in fields and isinstance(getattr(node.proto, name), str)]
    return [text for text in found if text]


def assert_shown_as_text(at, *values: str) -> None:
    assert not at.exception
    strings = markdown_strings(at)
    for value in values:
        quoting = [text for text in strings if value in shown(text)]
        assert quoting, f"{value!r} is not shown to the reader"
        for text in quoting:
            assert value not in text, f"{value!r} sent as Markdown in {text!r}"
    for text in strings:
        assert markup_in(text) == [], text


@pytest.mark.parametrize("page", ["screens/orders.py", "screens/overview.py"])
def test_hostile_url_values_survive_sign_in_only_as_text(app_env, page):
    params = {"le": LINK, "region": IMAGE, "store": [STYLED, ADDRESS], "sort": HTML,
              "page": LINK}
    at = sign_in(new_app(params), "admin")
    if page != "screens/orders.py":  # arriving with the view in the URL, as a shared link does
        for key, value in params.items():
            at.query_params[key] = value
        at.switch_page(page).run()
    assert len(at.warning) == 6
    assert_shown_as_text(at, LINK, IMAGE, STYLED, ADDRESS, HTML)


def test_a_hostile_search_is_quoted_as_text_on_the_overview(app_env):
    at = sign_in(new_app({"q": LINK}), "admin")
    at.switch_page("screens/overview.py").run()
    assert any("Search (from the Orders page)" in shown(c.value) for c in at.caption)
    assert_shown_as_text(at, LINK)


@pytest.fixture
def hostile_data(writable):
    """The private database copy with one Beta store's names, its items' names and its order's
    e-mail set to markup."""
    root, sample = writable
    order = next(o for o in sample.orders
                 if sample.store_of(o)["legal_entity"] == BETA and o["store_id"] != "S02"
                 and o["status"] == "Completed" and not o["refunded_amount"]
                 and any(i["order_id"] == o["order_id"] for i in sample.items))
    store_id = order["store_id"]
    with open_database(target_of(root)) as database, database.transaction() as db:
        db.execute("UPDATE stores SET store_name = ?, region = ?, store_address = ?,"
                   " brand = ? WHERE store_id = ?",
                   [LINK, IMAGE, f"{STYLED} {HTML}", ADDRESS, store_id])
        db.execute("UPDATE order_items SET name = ? WHERE order_id = ?", [LINK, order["order_id"]])
        db.execute("UPDATE orders SET email = ? WHERE order_id = ?",
                   ["vera@ev.il", order["order_id"]])
    return root, order


def test_hostile_names_in_the_database_show_as_text_on_the_order_page(hostile_data):
    _, order = hostile_data
    at = sign_in(new_app(), "refunder")
    at.switch_page("screens/order.py").run()
    at.query_params["id"] = str(order["order_id"])
    at.run()
    assert at.title[0].value == f"Order {order['order_id']}"
    assert_shown_as_text(at, LINK, IMAGE, f"{STYLED} {HTML}", ADDRESS, "vera@ev.il")


def test_a_hostile_item_name_is_a_plain_label_in_the_refund_dialog(hostile_data):
    _, order = hostile_data
    at = sign_in(new_app(), "refunder")
    at.switch_page("screens/order.py").run()
    at.query_params["id"] = str(order["order_id"])
    at.run()
    next(b for b in at.button if b.label == "Process a refund").click().run()
    labels = [shown(n.label) for n in at.number_input]
    assert labels and all(label.startswith(f"{LINK} · ") for label in labels)
    assert_shown_as_text(at, LINK)


def test_a_hostile_user_name_shows_as_text_in_the_sidebar(writable):
    root, _ = writable
    with edit_test_users(root) as users:
        users["refunder"] = replace(users["refunder"], name=LINK)
    at = sign_in(new_app(), "refunder")
    sidebar = [m.value for m in at.sidebar.markdown]
    assert any(shown(text).startswith(f"**{LINK}**  \n") for text in sidebar)
    assert_shown_as_text(at, LINK)


def test_hostile_legal_entity_and_region_names_show_as_text_in_captions(hostile_data):
    root, order = hostile_data
    with open_database(target_of(root)) as database, database.transaction() as db:
        db.execute("UPDATE stores SET legal_entity = ? WHERE store_id = ?",
                   [LINK, order["store_id"]])
    at = sign_in(new_app({"le": LINK, "region": IMAGE}), "admin")
    assert not at.warning  # both are real choices now: the view is filtered by them
    at.switch_page("screens/overview.py").run()
    assert any("Legal entity" in shown(c.value) for c in at.caption)
    assert_shown_as_text(at, LINK, IMAGE)
