"""The Order page (``?id=<order id>``): everything about one order in the user's scope."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.errors import OrderNotFound
from core.money import format_amount
from ui.context import get_settings, get_store, require_user, show_error

user = require_user()
settings = get_settings()
store = get_store()


def _open_order() -> None:
    typed = st.session_state.get("order.lookup", "").strip()
    if typed:
        st.query_params["id"] = typed


order_id = st.query_params.get("id", "")
back_col, lookup_col = st.columns([1, 3], vertical_alignment="bottom")
if back_col.button("Back to orders", icon=":material/arrow_back:"):
    st.switch_page("pages/orders.py")
lookup_col.text_input("Order ID", key="order.lookup", on_change=_open_order,
                      placeholder="Type an order ID and press Enter", max_chars=30)

if not order_id:
    st.title("Order")
    st.info("Enter an order ID above, or pick an order on the Orders page.")
    st.stop()

try:
    order = store.fetch_order(user.scope, order_id, settings.tz)
    items = store.fetch_items(user.scope, order.order_id, settings.tz)
    history = store.fetch_history(user.scope, order.order_id, settings.tz)
except OrderNotFound:
    st.title("Order")
    st.error("Order not found")
    st.stop()
except Exception as exc:  # noqa: BLE001 - shown by its kind, logged when a bug
    show_error(exc)
    st.stop()

st.title(f"Order {order.order_id}")
status_note = ""
if order.status == "Completed" and 0 < order.refunded_amount < order.captured_amount:
    status_note = " · Partially refunded"
st.markdown(f"**{order.status}**{status_note} · {order.channel} · "
            f"{order.created_at:%d.%m.%Y %H:%M} ({settings.tz_name})")

captured, refunded, refundable = st.columns(3)
captured.metric("Captured amount", format_amount(order.captured_amount))
refunded.metric("Refunded amount", format_amount(order.refunded_amount))
refundable.metric(
    "Refundable now",
    format_amount(order.refundable_amount if order.status == "Completed" else 0),
)

customer, shop, sale = st.columns(3)
with customer.container(border=True):
    st.markdown("**Customer**")
    st.text(f"E-mail: {order.email or '—'}")
    st.text(f"Phone: {order.phone or '—'}")
    st.text(f"Merchant order ID: {order.merchant_order_id or '—'}")
with shop.container(border=True):
    st.markdown("**Store**")
    st.text(f"{order.store_name} ({order.store_id})")
    st.text(order.store_address or "—")
    st.text(f"Region: {order.region} · Zone: {order.zone}")
    st.text(f"Legal entity: {order.legal_entity}")
    st.text(f"Brand: {order.brand or '—'} · Store ID (merchant): {order.merchant_store_id or '—'}")
with sale.container(border=True):
    st.markdown("**Sale**")
    st.text(f"Channel: {order.channel}")
    st.text(f"Sales person: {order.salesperson_name or '—'}")
    st.text(f"Sales person ID: {order.salesperson_id or '—'}")

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

st.subheader("History")
if history:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "When": event.created_at.strftime("%d.%m.%Y %H:%M:%S"),
                    "Action": "Refund" if event.kind == "refund" else "Cancel",
                    "Reference": f"{'R' if event.kind == 'refund' else 'C'}-{event.event_id}",
                    "Amount": format_amount(event.amount) if event.kind == "refund" else "",
                    "Items": ", ".join(f"{i['name']} × {i['quantity']}" for i in event.items),
                    "Reason": event.reason or "",
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
