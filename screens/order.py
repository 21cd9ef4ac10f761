"""The Order page (``?id=<order id>``): everything about one order in the user's scope, and its
cancel and refund (docs/design.md §4, §5).

The page only reads widgets and shows answers: ``core.rules`` says whether an action is allowed
(a disabled button says why), ``core.actions`` re-checks role, scope and state and writes. Each
opened action form gets its own idempotency key, kept in session state until the action succeeds
or the form is closed, so a double click or a rerun of the same form never acts twice.
"""
from __future__ import annotations

import uuid
from decimal import Decimal

import pandas as pd
import streamlit as st

from core import actions, refunds, rules
from core.db import ItemLine, OrderDetails, format_moment
from core.db.refunds import fetch_event_reasons
from core.errors import OrderdeskError, OrderNotFound
from core.money import format_amount
from core.status import Status, is_partially_refunded
from ui.context import get_settings, get_database, refresh_data, require_user, show_error
from ui.text import as_text

user = require_user()
settings = get_settings()
database = get_database()


def _open_order() -> None:
    typed = st.session_state.get("order.lookup", "").strip()
    if typed:
        st.query_params["id"] = typed


order_id = st.query_params.get("id", "")
back_col, lookup_col = st.columns([1, 3], vertical_alignment="bottom")
if back_col.button("Back to orders", icon=":material/arrow_back:"):
    st.switch_page("screens/orders.py")
lookup_col.text_input("Order ID", key="order.lookup", on_change=_open_order,
                      placeholder="Type an order ID and press Enter", max_chars=30)

if not order_id:
    st.title("Order")
    st.info("Enter an order ID above, or pick an order on the Orders page.")
    st.stop()

try:
    order = database.fetch_order(user.scope, order_id, settings.tz)
    items = database.fetch_items(order)
    history = database.fetch_history(order, settings.tz)
    reason_codes = fetch_event_reasons(database, order.order_id) if history else {}
except OrderNotFound:
    st.title("Order")
    st.error("Order not found")
    st.stop()
except Exception as exc:  # noqa: BLE001 - shown by its kind, logged when a bug
    show_error(exc)
    st.stop()

st.title(f"Order {order.order_id}")
status_note = " · Partially refunded" if is_partially_refunded(order.status,
                                                                order.refunded_amount) else ""
st.markdown(f"**{order.status}**{status_note} · {order.channel} · "
            f"{format_moment(order.created_at, '%d.%m.%Y %H:%M')} ({settings.tz_name})")

captured, refunded, refundable = st.columns(3)
captured.metric("Captured amount", format_amount(order.captured_amount))
refunded.metric("Refunded amount", format_amount(order.refunded_amount))
refundable.metric("Refundable now", format_amount(rules.refundable_amount(order)))


def _facts(title: str, facts: list[tuple[str, str | None]]) -> None:
    """A card of labelled facts; values are escaped, so customer data never becomes markup."""
    lines = [f"**{title}**"] + [
        f"{label}: {as_text(value) if value else '—'}" for label, value in facts
    ]
    st.markdown("  \n".join(lines))


customer, shop, sale = st.columns(3)
with customer.container(border=True):
    _facts("Customer", [("E-mail", order.email), ("Phone", order.phone),
                        ("Merchant order ID", order.merchant_order_id)])
with shop.container(border=True):
    _facts("Store", [("Name", f"{order.store_name} ({order.store_id})"),
                     ("Address", order.store_address),
                     ("Region", f"{order.region} · zone {order.zone}"),
                     ("Legal entity", order.legal_entity), ("Brand", order.brand),
                     ("Store ID (merchant)", order.merchant_store_id)])
with sale.container(border=True):
    _facts("Sale", [("Channel", order.channel), ("Sales person", order.salesperson_name),
                    ("Sales person ID", order.salesperson_id)])

st.subheader("Contents of the order")
if items:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Line": line.line_no,
                    "Item": line.name,
                    "Quantity": line.quantity,
                    "Unit price": format_amount(line.unit_price),
                    "Line total": format_amount(line.unit_price * line.quantity),
                    "Refunded quantity": line.refunded_quantity,
                }
                for line in items
            ]
        ),
        hide_index=True,
        width="stretch",
        column_config={
            "Unit price": st.column_config.TextColumn(alignment="right"),
            "Line total": st.column_config.TextColumn(alignment="right"),
        },
    )
else:
    st.caption("The store does not provide item lines for its orders.")

# -- actions ---------------------------------------------------------------------------------------

# The open dialog: {"order_id", "kind": rules.CANCEL | rules.REFUND | "success", "key" or
# "result"}.
DIALOG = "order.dialog"
SUCCESS = "success"
# How the history names an action (the word for a cancel is the action's, not the status's).
ACTION_LABELS = {rules.REFUND: "Refund", rules.CANCEL: "Cancel"}


def _open_dialog(kind: str, order_id: int) -> None:
    # A fresh key per opened form: resubmitting this form is one action, a new form is another.
    st.session_state[DIALOG] = {"order_id": order_id, "kind": kind, "key": str(uuid.uuid4())}


def _close_dialog() -> None:
    st.session_state.pop(DIALOG, None)


def _succeeded(order_id: int, result: actions.ActionResult) -> None:
    st.session_state[DIALOG] = {"order_id": order_id, "kind": SUCCESS, "result": result}
    refresh_data()  # the Orders list, the Overview and the export read the new figures
    st.rerun()  # closes the form and re-reads this order


def _acting_user():
    # A click inside a dialog reruns only the dialog, not this page's first lines: read the
    # user's role and scope again now, so a right revoked meanwhile is refused by the core.
    return require_user()


def _form_key(key: str, name: str) -> str:
    return f"order.form.{key}.{name}"


@st.dialog("Process a refund", width="medium", on_dismiss=_close_dialog)
def _refund_dialog(order: OrderDetails, lines: list[ItemLine], key: str) -> None:
    refundable = rules.refundable_amount(order)
    st.caption(f"Order {order.order_id} · captured {format_amount(order.captured_amount)} · "
               f"refunded so far {format_amount(order.refunded_amount)}")
    quantities: dict[int, int] = {}
    manual = not lines
    if lines:
        st.markdown("**Choose the items and the quantity of each to refund**")
        for line in lines:
            left = line.refundable_quantity
            quantities[line.line_no] = st.number_input(
                f"{as_text(line.name)} · {format_amount(line.unit_price)} each · {left} of "
                f"{line.quantity} left", min_value=0, max_value=left, value=0, step=1,
                key=_form_key(key, f"qty.{line.line_no}"), disabled=left == 0,
                help=f"Line {line.line_no}: how many to refund (at most {left}).",
            )
        try:
            computed = rules.plan_item_refund(lines, quantities, refundable)
        except OrderdeskError:
            computed = Decimal("0.00")
        manual = st.checkbox("Enter manually", key=_form_key(key, "manual"),
                             help="Refund another amount than the items' total; a comment is "
                                  "then required.")
        computed_col, refundable_col = st.columns(2)
        if not manual:
            computed_col.metric("Amount of the chosen items", format_amount(computed))
        refundable_col.metric("Refundable now", format_amount(refundable))
    else:
        st.metric("Refundable now", format_amount(refundable))
    amount_text = None
    if manual:  # text, never st.number_input: its floats cannot carry money exactly
        amount_text = st.text_input("Refund amount", key=_form_key(key, "amount"),
                                    placeholder="e.g. 339,99", max_chars=25)
    reason_code = st.selectbox("Reason", refunds.REASONS, index=None,
                               key=_form_key(key, "reason_code"), placeholder="Choose a reason")
    required = refunds.comment_required(reason_code or "", manual=manual and bool(lines))
    comment = st.text_input("Comment", key=_form_key(key, "reason"),
                            max_chars=refunds.MAX_COMMENT_LENGTH,
                            placeholder="Required" if required else "Optional")
    if st.button("Complete a refund", type="primary", key=_form_key(key, "complete")):
        try:
            result = actions.refund_order(
                database, _acting_user(), order.order_id, idempotency_key=key,
                amount=amount_text if manual else None,
                items=quantities if lines else None, reason=comment,
                reason_code=reason_code or "", tz=settings.tz,
            )
        except Exception as exc:  # noqa: BLE001 - every refusal is shown inside the form
            show_error(exc)
        else:
            _succeeded(order.order_id, result)


@st.dialog("Cancel order", on_dismiss=_close_dialog)
def _cancel_dialog(order: OrderDetails, key: str) -> None:
    st.markdown(f"Cancel order **{order.order_id}** of {format_amount(order.captured_amount)}? "
                f"Its status becomes **{Status.CANCEL}**, which cannot be undone.")
    reason = st.text_input("Reason", key=_form_key(key, "reason"), placeholder="Optional",
                           max_chars=rules.MAX_REASON_LENGTH)
    confirm_col, keep_col = st.columns(2)
    if keep_col.button("Keep the order", key=_form_key(key, "keep")):
        _close_dialog()
        st.rerun()
    if confirm_col.button("Yes, cancel the order", type="primary", key=_form_key(key, "confirm")):
        try:
            result = actions.cancel_order(database, _acting_user(), order.order_id,
                                          idempotency_key=key, reason=reason, tz=settings.tz)
        except Exception as exc:  # noqa: BLE001
            show_error(exc)
        else:
            _succeeded(order.order_id, result)


@st.dialog("Success", on_dismiss=_close_dialog)
def _success_dialog(result: actions.ActionResult) -> None:
    if result.kind == rules.REFUND:
        st.markdown(f"Refund of **{format_amount(result.amount)}** completed.")
        st.markdown(f"Refund ID: **{result.reference}**")
    else:
        st.markdown("The order is cancelled.")
        st.markdown(f"Cancel ID: **{result.reference}**")
    st.markdown(f"New status: **{result.new_status}** · refunded in total "
                f"{format_amount(result.refunded_amount)}")
    if result.already_processed:
        st.info("This form was already processed; nothing was done twice.")
    if st.button("Close", key="order.success.close"):
        _close_dialog()
        st.rerun()


if user.can_act:
    cancel_refusal = rules.can_cancel(order, user)
    refund_refusal = rules.can_refund(order, user)
    cancel_col, refund_col = st.columns(2)
    cancel_col.button("Cancel order", key="order.cancel", icon=":material/block:",
                      disabled=cancel_refusal is not None, on_click=_open_dialog,
                      args=(rules.CANCEL, order.order_id),
                      help=cancel_refusal or "Cancel this Pending order (asks to confirm).")
    if cancel_refusal:
        cancel_col.caption(cancel_refusal)
    refund_col.button("Process a refund", key="order.refund", type="primary",
                      icon=":material/currency_exchange:", disabled=refund_refusal is not None,
                      on_click=_open_dialog, args=(rules.REFUND, order.order_id),
                      help=refund_refusal or "Refund items or an amount of this order.")
    if refund_refusal:
        refund_col.caption(refund_refusal)

dialog = st.session_state.get(DIALOG)
if dialog and dialog["order_id"] != order.order_id:
    _close_dialog()  # a form of another order, left open before navigating here
elif dialog and dialog["kind"] == SUCCESS:
    _success_dialog(dialog["result"])
elif dialog and user.can_act:
    if dialog["kind"] == rules.REFUND:
        _refund_dialog(order, items, dialog["key"])
    elif dialog["kind"] == rules.CANCEL:
        _cancel_dialog(order, dialog["key"])

st.subheader("History")
if history:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "When": format_moment(event.created_at, "%d.%m.%Y %H:%M:%S"),
                    "Action": ACTION_LABELS[event.kind],
                    "Reference": actions.reference(event.kind, event.event_id),
                    "Amount": format_amount(event.amount) if event.kind == rules.REFUND else "",
                    "Items": ", ".join(f"{i['name']} × {i['quantity']}" for i in event.items),
                    # A refund's reason code and its comment; a cancel's reason is its text.
                    "Reason": (refunds.shown_reason(reason_codes.get(event.event_id))
                               if event.kind == rules.REFUND else event.reason or ""),
                    "Comment": (event.reason or "") if event.kind == rules.REFUND else "",
                    "By": event.username,
                }
                for event in history
            ]
        ),
        hide_index=True,
        width="stretch",
        column_config={"Amount": st.column_config.TextColumn(alignment="right")},
    )
else:
    st.caption("No cancels or refunds.")
