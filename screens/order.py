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
from core.db import ItemLine, OrderDetails
from core.errors import OrderdeskError, OrderNotFound
from core.i18n import N_
from core.status import Status, is_partially_refunded
from ui.context import (OPENED_FROM, get_settings, get_database, refresh_data, require_user,
                        show_error)
from ui.filters import shown_value
from ui.i18n import _, money as format_amount, pgettext, when, words
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
# Back to the list the order was opened from: the Refunds register, or the Orders list.
if st.session_state.get(OPENED_FROM) == "refunds":
    if back_col.button(_("Back to refunds"), icon=":material/arrow_back:"):
        st.switch_page("screens/refunds.py")
elif back_col.button(_("Back to orders"), icon=":material/arrow_back:"):
    st.switch_page("screens/orders.py")
lookup_col.text_input(_("Order ID"), key="order.lookup", on_change=_open_order,
                      placeholder=_("Type an order ID and press Enter"), max_chars=30)

if not order_id:
    st.title(_("Order"))
    st.info(_("Enter an order ID above, or pick an order on the Orders page."))
    st.stop()

try:
    order = database.fetch_order(user.scope, order_id, settings.tz)
    items = database.fetch_items(order)
    history = database.fetch_history(order, settings.tz)
except OrderNotFound:
    st.title(_("Order"))
    st.error(_("Order not found"))
    st.stop()
except Exception as exc:  # noqa: BLE001 - shown by its kind, logged when a bug
    show_error(exc)
    st.stop()

st.title(_("Order {order_id}").format(order_id=order.order_id))
status_note = _(" · Partially refunded") if is_partially_refunded(order.status,
                                                                   order.refunded_amount) else ""
st.markdown(f"**{shown_value(order.status)}**{status_note} · {shown_value(order.channel)} · "
            f"{when(order.created_at)} ({settings.tz_name})")

captured, refunded, refundable = st.columns(3)
captured.metric(_("Captured amount"), format_amount(order.captured_amount))
refunded.metric(_("Refunded amount"), format_amount(order.refunded_amount))
refundable.metric(_("Refundable now"), format_amount(rules.refundable_amount(order)))


def _facts(title: str, facts: list[tuple[str, str | None]]) -> None:
    """A card of labelled facts; values are escaped, so customer data never becomes markup."""
    lines = [f"**{_(title)}**"] + [
        f"{_(label)}: {as_text(value) if value else '—'}" for label, value in facts
    ]
    st.markdown("  \n".join(lines))


customer, shop, sale = st.columns(3)
with customer.container(border=True):
    _facts(N_("Customer"), [(N_("E-mail"), order.email), (N_("Phone"), order.phone),
                            (N_("Merchant order ID"), order.merchant_order_id)])
with shop.container(border=True):
    _facts(N_("Store"), [(N_("Name"), f"{order.store_name} ({order.store_id})"),
                         (N_("Address"), order.store_address),
                         (N_("Region"), _("{region} · zone {zone}").format(region=order.region,
                                                                          zone=order.zone)),
                         (N_("Legal entity"), order.legal_entity), (N_("Brand"), order.brand),
                         (N_("Store ID (merchant)"), order.merchant_store_id)])
with sale.container(border=True):
    _facts(N_("Sale"), [(N_("Channel"), shown_value(order.channel)),
                        (N_("Sales person"), order.salesperson_name),
                        (N_("Sales person ID"), order.salesperson_id)])

st.subheader(_("Contents of the order"))
if items:
    unit_price, line_total = _("Unit price"), _("Line total")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    _("Line"): line.line_no,
                    _("Item"): line.name,
                    _("Quantity"): line.quantity,
                    unit_price: format_amount(line.unit_price),
                    line_total: format_amount(line.unit_price * line.quantity),
                    _("Refunded quantity"): line.refunded_quantity,
                }
                for line in items
            ]
        ),
        hide_index=True,
        width="stretch",
        column_config={
            unit_price: st.column_config.TextColumn(alignment="right"),
            line_total: st.column_config.TextColumn(alignment="right"),
        },
    )
else:
    st.caption(_("The store does not provide item lines for its orders."))

# -- actions ---------------------------------------------------------------------------------------

# The open dialog: {"order_id", "kind": rules.CANCEL | rules.REFUND | "success", "key" or
# "result"}.
DIALOG = "order.dialog"
SUCCESS = "success"
# How the history names an action (the word for a cancel is the action's, not the status's: the
# languages say them apart, hence the context).
def _action_label(kind: str) -> str:
    return (pgettext("history action", "Refund") if kind == rules.REFUND
            else pgettext("history action", "Cancel"))


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


def _refund_dialog(order: OrderDetails, lines: list[ItemLine], key: str) -> None:
    # The dialog's title is given when it opens, in the session's language.
    st.dialog(_("Process a refund"), width="medium", on_dismiss=_close_dialog)(
        _refund_form)(order, lines, key)


def _refund_form(order: OrderDetails, lines: list[ItemLine], key: str) -> None:
    refundable = rules.refundable_amount(order)
    st.caption(_("Order {order_id} · captured {captured} · refunded so far {refunded}").format(
        order_id=order.order_id, captured=format_amount(order.captured_amount),
        refunded=format_amount(order.refunded_amount)))
    quantities: dict[int, int] = {}
    manual = not lines
    if lines:
        st.markdown("**" + _("Choose the items and the quantity of each to refund") + "**")
        for line in lines:
            left = line.refundable_quantity
            quantities[line.line_no] = st.number_input(
                _("{item} · {price} each · {left} of {quantity} left").format(
                    item=as_text(line.name), price=format_amount(line.unit_price), left=left,
                    quantity=line.quantity), min_value=0, max_value=left, value=0, step=1,
                key=_form_key(key, f"qty.{line.line_no}"), disabled=left == 0,
                help=_("Line {line}: how many to refund (at most {left}).").format(
                    line=line.line_no, left=left),
            )
        try:
            computed = rules.plan_item_refund(lines, quantities, refundable)
        except OrderdeskError:
            computed = Decimal("0.00")
        manual = st.checkbox(_("Enter manually"), key=_form_key(key, "manual"),
                             help=_("Refund another amount than the items' total; a comment is "
                                    "then required."))
        computed_col, refundable_col = st.columns(2)
        if not manual:
            computed_col.metric(_("Amount of the chosen items"), format_amount(computed))
        refundable_col.metric(_("Refundable now"), format_amount(refundable))
    else:
        st.metric(_("Refundable now"), format_amount(refundable))
    amount_text = None
    if manual:  # text, never st.number_input: its floats cannot carry money exactly
        amount_text = st.text_input(_("Refund amount"), key=_form_key(key, "amount"),
                                    placeholder=_("e.g. 339,99"), max_chars=25)
    reason_code = st.selectbox(_("Reason"), refunds.REASONS, index=None, format_func=words(),
                               key=_form_key(key, "reason_code"),
                               placeholder=_("Choose a reason"))
    required = refunds.comment_required(reason_code or "", manual=manual and bool(lines))
    comment = st.text_input(_("Comment"), key=_form_key(key, "reason"),
                            max_chars=refunds.MAX_COMMENT_LENGTH,
                            placeholder=_("Required") if required else _("Optional"))
    if st.button(_("Complete a refund"), type="primary", key=_form_key(key, "complete")):
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


def _cancel_dialog(order: OrderDetails, key: str) -> None:
    st.dialog(_("Cancel order"), on_dismiss=_close_dialog)(_cancel_form)(order, key)


def _cancel_form(order: OrderDetails, key: str) -> None:
    st.markdown(_("Cancel order **{order_id}** of {amount}? Its status becomes **{status}**, "
                  "which cannot be undone.").format(order_id=order.order_id,
                                                     amount=format_amount(order.captured_amount),
                                                     status=shown_value(Status.CANCEL)))
    reason = st.text_input(_("Reason"), key=_form_key(key, "reason"), placeholder=_("Optional"),
                           max_chars=rules.MAX_REASON_LENGTH)
    confirm_col, keep_col = st.columns(2)
    if keep_col.button(_("Keep the order"), key=_form_key(key, "keep")):
        _close_dialog()
        st.rerun()
    if confirm_col.button(_("Yes, cancel the order"), type="primary", key=_form_key(key, "confirm")):
        try:
            result = actions.cancel_order(database, _acting_user(), order.order_id,
                                          idempotency_key=key, reason=reason, tz=settings.tz)
        except Exception as exc:  # noqa: BLE001
            show_error(exc)
        else:
            _succeeded(order.order_id, result)


def _success_dialog(result: actions.ActionResult) -> None:
    st.dialog(_("Success"), on_dismiss=_close_dialog)(_success_form)(result)


def _success_form(result: actions.ActionResult) -> None:
    if result.kind == rules.REFUND:
        st.markdown(_("Refund of **{amount}** completed.").format(
            amount=format_amount(result.amount)))
        st.markdown(_("Refund ID: **{reference}**").format(reference=result.reference))
    else:
        st.markdown(_("The order is cancelled."))
        st.markdown(_("Cancel ID: **{reference}**").format(reference=result.reference))
    st.markdown(_("New status: **{status}** · refunded in total {amount}").format(
        status=shown_value(result.new_status), amount=format_amount(result.refunded_amount)))
    if result.already_processed:
        st.info(_("This form was already processed; nothing was done twice."))
    if st.button(_("Close"), key="order.success.close"):
        _close_dialog()
        st.rerun()


if user.can_act:
    cancel_refusal = rules.can_cancel(order, user)
    refund_refusal = rules.can_refund(order, user)
    cancel_col, refund_col = st.columns(2)
    cancel_refusal = cancel_refusal and _(cancel_refusal)
    refund_refusal = refund_refusal and _(refund_refusal)
    cancel_col.button(_("Cancel order"), key="order.cancel", icon=":material/block:",
                      disabled=cancel_refusal is not None, on_click=_open_dialog,
                      args=(rules.CANCEL, order.order_id),
                      help=cancel_refusal or _("Cancel this Pending order (asks to confirm)."))
    if cancel_refusal:
        cancel_col.caption(cancel_refusal)
    refund_col.button(_("Process a refund"), key="order.refund", type="primary",
                      icon=":material/currency_exchange:", disabled=refund_refusal is not None,
                      on_click=_open_dialog, args=(rules.REFUND, order.order_id),
                      help=refund_refusal or _("Refund items or an amount of this order."))
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

st.subheader(_("History"))
if history:
    amount_label = _("Amount")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    _("When"): when(event.created_at, seconds=True),
                    _("Action"): _action_label(event.kind),
                    _("Reference"): actions.reference(event.kind, event.event_id),
                    amount_label: format_amount(event.amount)
                    if event.kind == rules.REFUND else "",
                    _("Items"): ", ".join(f"{i['name']} × {i['quantity']}" for i in event.items),
                    # A refund's reason code and its comment; a cancel's reason is its text.
                    _("Reason"): (_(refunds.shown_reason(event.reason_code))
                                  if event.kind == rules.REFUND else event.reason or ""),
                    _("Comment"): (event.reason or "") if event.kind == rules.REFUND else "",
                    _("By"): event.username,
                }
                for event in history
            ]
        ),
        hide_index=True,
        width="stretch",
        column_config={amount_label: st.column_config.TextColumn(alignment="right")},
    )
else:
    st.caption(_("No cancels or refunds."))
