"""Cancel and refund on the Order page, through the real sign-in form (AppTest).

Each test works on its own copy of the sample database: ``page_data`` is shared read-only.
The refunder's scope is the legal entity "Beta Sp. z o.o."; the viewer's is "Alpha SRL" + S02.
"""
from __future__ import annotations

import os

import pytest
import streamlit as st
from streamlit.testing.v1.element_tree import Block

from core.db import open_database
from tests.markdown_text import shown
from tests.pages.conftest import new_app, private_database, sign_in, use_settings

BETA = "Beta Sp. z o.o."


@pytest.fixture
def writable(page_data, tmp_path, monkeypatch, request):
    """A private copy of the sample database, opened afresh by ``ui.context.get_store``."""
    root, sample = page_data
    use_settings(monkeypatch, private_database(page_data, tmp_path, request), root / "users.yaml")
    st.cache_data.clear()
    st.cache_resource.clear()
    yield sample
    st.cache_resource.clear()  # later tests must not keep this copy as "the" store
    st.cache_data.clear()


def pick(sample, status, *, legal_entity=BETA, with_items=None):
    for order in sample.orders:
        has_items = any(i["order_id"] == order["order_id"] for i in sample.items)
        if (order["status"] == status and sample.store_of(order)["legal_entity"] == legal_entity
                and order["store_id"] != "S02" and with_items in (None, has_items)):
            return order
    raise LookupError(status)


def lines_of(sample, order):
    return [i for i in sample.items if i["order_id"] == order["order_id"]]


def open_order(username, order_id):
    at = sign_in(new_app(), username)
    at.switch_page("screens/order.py").run()
    at.query_params["id"] = str(order_id)
    at.run()
    assert not at.exception
    return at


def dialogs(at) -> dict[str, Block]:
    """The open dialogs by title (they live outside ``at.main``)."""
    return {n.proto.dialog.title: n for n in at.get("dialog")}


def button(at, label):
    return next(b for b in at.button if b.label == label)


def metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def texts(block) -> str:
    return " | ".join(m.value for m in block.markdown)


def history(at):
    return at.dataframe[-1].value


def choose_reason(at, reason="Goods returned"):
    """Pick the refund dialog's "Reason" (required since reason codes)."""
    dialogs(at)["Process a refund"].selectbox[0].select(reason).run()


def test_viewer_sees_no_action_buttons(writable):
    order = pick(writable, "Completed", legal_entity="Alpha SRL")
    at = open_order("viewer", order["order_id"])
    assert at.title[0].value == f"Order {order['order_id']}"
    labels = [b.label for b in at.button]
    assert "Cancel order" not in labels and "Process a refund" not in labels
    # Even with the form's state planted in the session, a viewer gets no form.
    at.session_state["order.dialog"] = {"order_id": order["order_id"], "kind": "refund",
                                        "key": "planted"}
    at.run()
    assert not dialogs(at) and not at.number_input and not at.exception


DISALLOWED = [
    ("Completed", "Completed orders cannot be cancelled; refund them instead.", None),
    ("Return", "Return orders cannot be cancelled: the order is fully refunded and Return is a "
               "final status.",
     "The order is fully refunded: Return is a final status, nothing is left to refund."),
    ("Cancel", "The order is already cancelled: Cancel is a final status.",
     "Cancelled orders cannot be refunded: Cancel is a final status."),
    ("Pending", None,
     "Pending orders cannot be refunded: only Completed orders can be. Cancel it instead."),
]


def test_a_disallowed_action_has_a_disabled_button_that_says_why(writable):
    at = open_order("refunder", pick(writable, "Completed")["order_id"])
    for status, cancel_why, refund_why in DISALLOWED:
        at.query_params["id"] = str(pick(writable, status)["order_id"])
        at.run()
        captions = [c.value for c in at.caption]
        for label, why in (("Cancel order", cancel_why), ("Process a refund", refund_why)):
            found = button(at, label)
            assert found.disabled == (why is not None), (status, label)
            if why:
                assert found.help == why and why in captions, (status, label)


def test_refunder_refunds_items_and_sees_success_with_amount_status_and_id(writable):
    order = pick(writable, "Completed", with_items=True)
    first = lines_of(writable, order)[0]
    at = open_order("refunder", order["order_id"])
    button(at, "Process a refund").click().run()
    form = dialogs(at)["Process a refund"]
    assert form.number_input[0].label == (
        f"{first['name']} · {first['unit_price']:,.2f} each · {first['quantity']} of "
        f"{first['quantity']} left")
    assert metric(at, "Refundable now") == f"{order['amount']:,.2f}"
    form.number_input[0].set_value(1).run()
    assert metric(at, "Amount of the chosen items") == f"{first['unit_price']:,.2f}"
    key = at.session_state["order.dialog"]["key"]
    choose_reason(at)
    button(at, "Complete a refund").click().run()

    success = dialogs(at)["Success"]
    body = texts(success)
    assert f"Refund of **{first['unit_price']:,.2f}** completed." in body
    status = "Return" if first["unit_price"] == order["amount"] else "Completed"
    assert f"New status: **{status}**" in body
    event_id = int(body.split("Refund ID: **R-")[1].split("**")[0])
    assert "Process a refund" not in dialogs(at)
    # The page behind shows the new figures, the refunded line and the history row.
    assert metric(at, "Refunded amount") == f"{first['unit_price']:,.2f}"
    contents = at.dataframe[0].value
    assert int(contents.loc[contents["Line"] == first["line_no"], "Refunded quantity"].iloc[0]) == 1
    assert list(history(at)["Reference"]) == [f"R-{event_id}"]
    assert list(history(at)["By"]) == ["refunder"]

    # The same opened form submitted again (a double click arriving late, a rerun): one refund.
    button(at, "Close").click().run()
    assert not dialogs(at)
    at.session_state["order.dialog"] = {"order_id": order["order_id"], "kind": "refund",
                                        "key": key}
    at.run()
    dialogs(at)["Process a refund"].number_input[0].set_value(1).run()
    choose_reason(at)
    button(at, "Complete a refund").click().run()
    again = dialogs(at)["Success"]
    assert f"Refund ID: **R-{event_id}**" in texts(again)
    assert "already processed" in again.info[0].value
    assert list(history(at)["Reference"]) == [f"R-{event_id}"]


def test_refund_of_an_order_without_items_by_amount_up_to_return(writable):
    order = pick(writable, "Completed", with_items=False)
    at = open_order("refunder", order["order_id"])
    button(at, "Process a refund").click().run()
    form = dialogs(at)["Process a refund"]
    assert not form.number_input and not form.checkbox
    amount = form.text_input(key=next(t.key for t in form.text_input if t.label ==
                                      "Refund amount"))
    choose_reason(at, "Goods not delivered")
    # A bad amount: a clear error inside the form, nothing changes.
    amount.input("1e3").run()
    button(at, "Complete a refund").click().run()
    form = dialogs(at)["Process a refund"]
    assert [shown(e.value) for e in form.error] == [
        "“1e3” is not an amount: use digits with at most 2 decimals, e.g. 339.99."]
    assert metric(at, "Refunded amount") == "0.00"
    # The whole amount with a decimal comma: the order becomes Return.
    whole = f"{order['amount']:.2f}".replace(".", ",")
    next(t for t in form.text_input if t.label == "Refund amount").input(whole).run()
    button(at, "Complete a refund").click().run()
    body = texts(dialogs(at)["Success"])
    assert f"Refund of **{order['amount']:,.2f}** completed." in body
    assert "New status: **Return**" in body and "Refund ID: **R-" in body
    assert at.markdown[0].value.startswith("**Return**")
    button(at, "Close").click().run()
    assert button(at, "Process a refund").disabled


def test_manual_amount_on_an_order_with_items_needs_a_reason(writable):
    order = pick(writable, "Completed", with_items=True)
    at = open_order("refunder", order["order_id"])
    button(at, "Process a refund").click().run()
    dialogs(at)["Process a refund"].checkbox[0].check().run()
    form = dialogs(at)["Process a refund"]
    fields = {t.label: t for t in form.text_input}
    # Today's free-text reason is the comment; the reason is chosen from the fixed list.
    assert set(fields) == {"Refund amount", "Comment"}
    assert form.selectbox[0].label == "Reason" and form.selectbox[0].value is None
    fields["Refund amount"].input("5,55").run()
    button(at, "Complete a refund").click().run()
    form = dialogs(at)["Process a refund"]
    assert [shown(e.value) for e in form.error] == ["Choose a reason for the refund."]
    choose_reason(at, "Price adjustment")
    button(at, "Complete a refund").click().run()
    form = dialogs(at)["Process a refund"]
    assert [shown(e.value) for e in form.error] == [
        "Enter a comment: it is required for an amount entered manually."]
    assert metric(at, "Refunded amount") == "0.00"
    next(t for t in form.text_input if t.label == "Comment").input("Damaged box").run()
    button(at, "Complete a refund").click().run()
    body = texts(dialogs(at)["Success"])
    assert "Refund of **5.55** completed." in body and "New status: **Completed**" in body
    assert list(history(at)["Reason"]) == ["Price adjustment"]
    assert list(history(at)["Comment"]) == ["Damaged box"]
    assert "Partially refunded" in at.markdown[0].value


def test_refunder_cancels_a_pending_order_after_confirming(writable):
    order = pick(writable, "Pending")
    at = open_order("refunder", order["order_id"])
    # "Keep the order" closes the confirmation and changes nothing.
    button(at, "Cancel order").click().run()
    assert "cannot be undone" in texts(dialogs(at)["Cancel order"])
    button(at, "Keep the order").click().run()
    assert not dialogs(at)
    assert at.markdown[0].value.startswith("**Pending**")
    assert "No cancels or refunds." in [c.value for c in at.caption]

    button(at, "Cancel order").click().run()
    confirm = dialogs(at)["Cancel order"]
    next(t for t in confirm.text_input if t.label == "Reason").input("Customer asked").run()
    button(at, "Yes, cancel the order").click().run()
    body = texts(dialogs(at)["Success"])
    assert "The order is cancelled." in body and "New status: **Cancel**" in body
    assert at.markdown[0].value.startswith("**Cancel**")
    events = history(at)
    assert list(events["Action"]) == ["Cancel"] and list(events["By"]) == ["refunder"]
    assert list(events["Reason"]) == ["Customer asked"]
    button(at, "Close").click().run()
    assert button(at, "Cancel order").disabled and button(at, "Process a refund").disabled


def test_a_completed_order_imported_fully_refunded_reads_as_on_the_orders_list(writable):
    """Completed with everything refunded (an import may bring it so): "Partially refunded", as
    the Orders list says (core.status.is_partially_refunded), nothing refundable, no refund."""
    order = pick(writable, "Completed", with_items=False)
    with open_database(os.environ["ORDERDESK_DB"]) as database, database.transaction() as cur:
        cur.execute("UPDATE orders SET refunded_amount = amount WHERE order_id = ?",
                    [order["order_id"]])
    at = open_order("refunder", order["order_id"])
    assert at.markdown[0].value.startswith("**Completed** · Partially refunded · ")
    assert metric(at, "Refundable now") == "0.00"
    assert button(at, "Process a refund").disabled
    assert "Nothing is left to refund on this order." in [c.value for c in at.caption]


def test_the_reason_list_and_other_needs_a_comment(writable):
    """The dialog's "Reason" offers the fixed list; "Other" requires a comment, another reason
    with an item refund does not; the history shows both, and the register the refund."""
    order = pick(writable, "Completed", with_items=True)
    at = open_order("refunder", order["order_id"])
    button(at, "Process a refund").click().run()
    form = dialogs(at)["Process a refund"]
    assert list(form.selectbox[0].options) == [
        "Goods returned", "Goods not delivered", "Damaged or defective", "Duplicate order",
        "Price adjustment", "Suspected fraud", "Other"]
    form.number_input[0].set_value(1).run()
    choose_reason(at, "Other")
    assert next(t for t in dialogs(at)["Process a refund"].text_input
                if t.label == "Comment").placeholder == "Required"
    button(at, "Complete a refund").click().run()
    assert [shown(e.value) for e in dialogs(at)["Process a refund"].error] == [
        "Enter a comment: it is required for the reason “Other”."]
    assert metric(at, "Refunded amount") == "0.00"
    next(t for t in dialogs(at)["Process a refund"].text_input
         if t.label == "Comment").input("Customer changed mind").run()
    button(at, "Complete a refund").click().run()
    reference = texts(dialogs(at)["Success"]).split("Refund ID: **")[1].split("**")[0]
    events = history(at)
    assert (list(events["Reason"]), list(events["Comment"])) == (
        ["Other"], ["Customer changed mind"])
    button(at, "Close").click().run()
    # The register lists it first, with its reason and comment.
    at.switch_page("screens/refunds.py").run()
    first = at.dataframe[0].value.iloc[0]
    assert (first["Refund ID"], first["Reason"], first["Comment"]) == (
        reference, "Other", "Customer changed mind")


def test_a_refund_stored_before_reasons_reads_not_recorded(writable):
    """An event of an older version: its free text becomes the comment, the reason "Not
    recorded"."""
    order = pick(writable, "Completed", with_items=False)
    with open_database(os.environ["ORDERDESK_DB"]) as database, database.transaction() as cur:
        cur.execute("UPDATE orders SET refunded_amount = 1.00 WHERE order_id = ?",
                    [order["order_id"]])
        cur.execute("INSERT INTO order_events (order_id, kind, amount, reason, username, "
                    "created_at, idempotency_key) VALUES (?, 'refund', 1.00, 'typed long ago', "
                    "'old', TIMESTAMP '2026-02-01 10:00:00', 'old-key')", [order["order_id"]])
    at = open_order("refunder", order["order_id"])
    events = history(at)
    assert (list(events["Reason"]), list(events["Comment"])) == (
        ["Not recorded"], ["typed long ago"])
