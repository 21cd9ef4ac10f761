"""The Refunds page through the real sign-in form (AppTest): the register of the user's scope,
its caption and total, its own filters, search, sort and pages, a row that opens its order, the
URL, and the export read back with openpyxl.

The sample's Return orders carry their refunded amount without refund events, as an import
brings them: they are the register's "Imported" rows. Each test that refunds works on a copy.
"""
from __future__ import annotations

import io
from dataclasses import replace
import os
from datetime import datetime
from decimal import Decimal

import openpyxl
import pytest

from core import actions
from core.db import open_database
from core.users import User
from tests.pages.conftest import edit_test_users, new_app, sign_in
from zoneinfo import ZoneInfo

WARSAW = ZoneInfo("Europe/Warsaw")
BETA = "Beta Sp. z o.o."


def imported(sample, in_scope=lambda order: True):
    """The sample's imported refunds (its Return orders), newest first."""
    rows = [o for o in sample.orders if o["refunded_amount"] > 0 and in_scope(o)]
    return sorted(rows, key=lambda o: (o["created_at"], o["order_id"]), reverse=True)


def viewer_scope(sample):
    return lambda o: (sample.store_of(o)["legal_entity"] == "Alpha SRL" or o["store_id"] == "S02")


def open_refunds(username, query_params=None):
    at = sign_in(new_app(query_params), username)
    at.switch_page("screens/refunds.py").run()
    assert not at.exception
    return at


def caption_of(at) -> str:
    return next(c.value for c in at.caption if " refunds · page " in c.value)


def table(at):
    return at.dataframe[0].value


@pytest.mark.parametrize("username", ["viewer", "refunder", "admin"])
def test_every_role_opens_the_page(app_env, username):
    at = open_refunds(username)
    assert at.title[0].value == "Refunds"


def test_viewer_sees_the_refunds_of_the_scope_only(app_env):
    _, sample = app_env
    at = open_refunds("viewer")
    expected = imported(sample, viewer_scope(sample))
    total = sum((o["refunded_amount"] for o in expected), Decimal("0.00"))
    pages = -(-len(expected) // 15)
    assert caption_of(at) == (f"1–15 of {len(expected):,} refunds · page 1 of {pages}"
                              f" · refunded {total:,.2f}")
    shown = table(at)
    assert list(shown["Order ID"]) == [str(o["order_id"]) for o in expected[:15]]
    assert set(shown["Reason"]) == {"Imported"}
    assert set(shown["Refund ID"]) == {""}
    assert "The period filters the refund's date" in " ".join(c.value for c in at.caption)


def test_a_viewer_of_one_store_sees_only_that_stores_refunds(writable):
    """The viewer, narrowed to store S05 (an edit of the users, as the command line makes it),
    sees that store's refunds only, the app's and the imported ones."""
    root, sample = writable
    order = next(o for o in sample.orders if o["status"] == "Completed" and o["store_id"] == "S05")
    other = next(o for o in sample.orders if o["status"] == "Completed" and o["store_id"] != "S05")
    admin = User("admin", "A", "a@x", "h", "admin")
    with open_database(os.environ["ORDERDESK_DB"]) as database:
        made = [actions.refund_order(database, admin, o["order_id"], idempotency_key=f"k-{n}",
                                     amount="1.00", reason="Return desk",
                                     reason_code="Goods returned", tz=WARSAW)
                for n, o in enumerate((order, other))]
    with edit_test_users(root) as users:
        users["viewer"] = replace(users["viewer"], legal_entities=(), stores=("S05",))
    at = open_refunds("viewer")
    expected = imported(sample, lambda o: o["store_id"] == "S05")
    shown = table(at)
    assert len(shown) == min(15, len(expected) + 1)
    assert made[0].reference in set(shown["Refund ID"])
    assert made[1].reference not in set(shown["Refund ID"])
    stores = {s["store_id"]: s["store_name"] for s in sample.stores}
    assert set(shown["Store name"]) == {stores["S05"]}
    total = sum((o["refunded_amount"] for o in expected), Decimal("1.00"))
    assert caption_of(at).endswith(f" · refunded {total:,.2f}")


def test_a_refund_made_in_the_dialog_is_its_first_row_with_reason_and_comment(writable):
    _, sample = writable
    order = next(o for o in sample.orders if o["status"] == "Completed"
                 and sample.store_of(o)["legal_entity"] == BETA)
    database = open_database(os.environ["ORDERDESK_DB"])
    refunder = User("refunder", "R", "r@x", "h", "refunder", legal_entities=(BETA,))
    result = actions.refund_order(database, refunder, order["order_id"], idempotency_key="k-1",
                                  amount="2,50", reason="Box dented", reason_code="Damaged or defective",
                                  tz=WARSAW)
    database.close()
    at = open_refunds("refunder")
    first = table(at).iloc[0]
    assert first["Refund ID"] == result.reference
    assert first["Order ID"] == str(order["order_id"])
    assert first["Refund amount"] == "2.50"
    assert (first["Reason"], first["Comment"], first["Refunded by"]) == (
        "Damaged or defective", "Box dented", "refunder")
    assert first["Legal entity"] == BETA and first["Order status"] == "Completed"
    # Found by its refund ID, and by its reason.
    at.text_input(key="refunds.search").input(result.reference).run()
    assert list(table(at)["Refund ID"]) == [result.reference]
    assert at.query_params["rq"] == result.reference
    at.text_input(key="refunds.search").input("").run()
    at.multiselect(key="refunds.reason").select("Damaged or defective").run()
    assert list(table(at)["Refund ID"]) == [result.reference]
    assert caption_of(at) == "1–1 of 1 refunds · page 1 of 1 · refunded 2.50"
    at.multiselect(key="refunds.by").select("refunder").run()
    assert list(table(at)["Refund ID"]) == [result.reference]


def test_sort_pages_and_the_url(app_env):
    _, sample = app_env
    expected = imported(sample)
    at = open_refunds("admin")
    at.selectbox(key="refunds.sort").select("Refund amount").run()
    at.toggle(key="refunds.desc").set_value(False).run()
    by_amount = sorted(expected, key=lambda o: (o["refunded_amount"], -o["order_id"]))
    # Ties of the refund amount break by the row's key (minus the order ID for an imported one).
    assert list(table(at)["Order ID"]) == [str(o["order_id"]) for o in by_amount[:15]]
    next(b for b in at.button if b.label == "Next").click().run()
    assert list(table(at)["Order ID"]) == [str(o["order_id"]) for o in by_amount[15:30]]
    assert at.query_params["rsort"] == "Refund amount" and at.query_params["rdesc"] == "0"
    assert at.query_params["rpage"] == "2"


def test_a_link_with_the_view_opens_it(app_env):
    _, sample = app_env
    at = new_app({"store": "S02", "reason": ["Imported", "Nonsense"], "rsort": "Order ID"})
    at.switch_page("screens/refunds.py")
    at = sign_in(at, "admin")
    assert at.title[0].value == "Refunds"
    expected = sorted(imported(sample, lambda o: o["store_id"] == "S02"),
                      key=lambda o: o["order_id"], reverse=True)
    assert list(table(at)["Order ID"]) == [str(o["order_id"]) for o in expected[:15]]
    assert at.multiselect(key="refunds.reason").value == ["Imported"]
    assert at.multiselect(key="filters.store").value == ["S02"]
    assert any("Ignored reason “Nonsense”" in w.value for w in at.warning)


def test_row_click_opens_the_order(app_env):
    _, sample = app_env
    at = open_refunds("admin")
    first = imported(sample)[0]
    at.dataframe[0].proto  # the table is there
    at.session_state["refunds.table"] = {"selection": {"rows": [0], "columns": []}}
    at.run()
    assert at.title[0].value == f"Order {first['order_id']}"
    # The way back leads to the register it came from, not to the Orders list.
    assert "Back to orders" not in [b.label for b in at.button]
    next(b for b in at.button if b.label == "Back to refunds").click().run()
    assert at.title[0].value == "Refunds"


def test_an_order_opened_from_the_orders_list_goes_back_to_it(app_env):
    at = open_refunds("admin")
    at.session_state["refunds.table"] = {"selection": {"rows": [0], "columns": []}}
    at.run()
    at.switch_page("screens/orders.py").run()
    at.session_state["orders.table"] = {"selection": {"rows": [0], "columns": []}}
    at.run()
    assert at.title[0].value.startswith("Order ")
    assert "Back to refunds" not in [b.label for b in at.button]
    next(b for b in at.button if b.label == "Back to orders").click().run()
    assert at.title[0].value == "Orders"


def test_export_reads_back_with_the_rows_and_the_info_sheet(app_env):
    _, sample = app_env
    expected = imported(sample, viewer_scope(sample))
    at = open_refunds("viewer")
    next(b for b in at.button if b.label == "Export to xlsx").click().run()
    assert not at.exception
    download = next(b for b in at.get("download_button"))
    content = at.session_state["orders.export"][1]
    book = openpyxl.load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["Refunds", "Export info"]
    rows = list(book["Refunds"].iter_rows(values_only=True))
    assert rows[0][:5] == ("Refund date", "Refund ID", "Order ID",
                           "Offline Barcode / Online order ID", "Refund amount")
    assert [r[2] for r in rows[1:]] == [o["order_id"] for o in expected]
    assert all(isinstance(r[0], datetime) for r in rows[1:])
    assert [Decimal(str(r[4])).quantize(Decimal("0.01")) for r in rows[1:]] == [
        o["refunded_amount"] for o in expected]
    info = dict(book["Export info"].iter_rows(min_row=2, values_only=True))
    assert info["Rows"] == len(expected)
    assert Decimal(str(info["Total refunded amount"])).quantize(Decimal("0.01")) == sum(
        (o["refunded_amount"] for o in expected), Decimal("0.00"))
    assert info["Exported by"] == "Vera Viewer (viewer)"
    assert download is not None
