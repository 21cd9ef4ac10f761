"""The Overview page: KPI tiles against the previous period and charts of the orders in the view.

It summarises exactly the orders the Orders page lists: the same view (filters and search, shared
through ``ui.filters``), the same scope. Clicking a bar or a slice narrows that view and opens the
Orders page on it. The figures come from ``core.overview``, cached per scope and view.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import altair as alt
import pandas as pd
import streamlit as st

from core.money import format_amount
from core.overview import (
    Kpis,
    Overview,
    bucket_period,
    fetch_overview,
    figures_query,
    narrowed_query,
    regions_csv,
    series_csv,
    statuses_csv,
    stores_csv,
)
from core.query import OrderQuery, to_url_params
from ui.context import (
    data_as_of,
    fetch_scope_options,
    get_settings,
    get_store,
    refresh_data,
    require_user,
    show_error,
)
from ui.filters import PAGE, QUERY, filter_sidebar, load_view, preset_range, save_view, show_notices

user = require_user()
settings = get_settings()

# Widget keys of the shared filter sidebar: dropped when the view changes here, so the sidebar
# (on this page or the Orders page) redraws from the view.
FILTER_WIDGETS = ("filters.status", "filters.channel", "filters.le", "filters.region",
                  "filters.store", "filters.period", "filters.preset")
STATUS_COLORS = {"Pending": "#f2a93b", "Completed": "#2e9e62", "Cancel": "#8c96a3",
                 "Return": "#d64545"}
SERIES_COLORS = {"Captured · online": "#1c64d1", "Captured · offline": "#84b4f5",
                 "Refunded · online": "#c43a3a", "Refunded · offline": "#f09a9a"}
CSV_MIME = "text/csv"


@st.cache_data(ttl=600, max_entries=500, show_spinner=False)
def _cached_overview(key: str, _scope, _query: OrderQuery, tz_name: str, today: date) -> Overview:
    return fetch_overview(get_store(), _scope, _query, ZoneInfo(tz_name), today=today)


def fetch_figures(query: OrderQuery) -> Overview:
    """The figures for this user's scope and view; the sort is left out of the key."""
    figures = figures_query(query)
    today = datetime.now(settings.tz).date()
    key = repr((user.scope.key(), figures, settings.tz_name, today))
    return _cached_overview(key, user.scope, figures, settings.tz_name, today)


def open_orders(narrowed: OrderQuery) -> None:
    """Make ``narrowed`` the shared view and show it on the Orders page."""
    st.session_state[QUERY], st.session_state[PAGE] = narrowed, 1
    for key in FILTER_WIDGETS:
        st.session_state.pop(key, None)
    save_view(narrowed, 1)
    st.switch_page("pages/orders.py", query_params=to_url_params(narrowed))


def _compare_last_30_days() -> None:
    start, end = preset_range("Last 30 days", datetime.now(settings.tz).date())
    st.session_state[QUERY] = st.session_state[QUERY].with_changes(start=start, end=end)
    st.session_state[PAGE] = 1
    for key in FILTER_WIDGETS:
        st.session_state.pop(key, None)


# -- the tiles ------------------------------------------------------------------------------------


def _percent(ratio: Decimal | None) -> str:
    return "–" if ratio is None else f"{ratio * 100:.2f}%"


def _change(current: Decimal | int | None, previous: Decimal | int | None, money: bool) -> str | None:
    """Relative change; the absolute one when the previous period had nothing."""
    if current is None or previous is None:
        return None
    difference = Decimal(current) - Decimal(previous)
    if not difference:
        return "0%" if previous else ("0.00" if money else "0")
    if previous:
        percent = difference / Decimal(previous) * 100
        return f"{percent:+.1f}%"
    text = format_amount(abs(difference)) if money else f"{abs(difference):,}"
    return ("-" if difference < 0 else "+") + text


def _points(current: Decimal | None, previous: Decimal | None) -> str | None:
    """The change of a ratio in percentage points."""
    if current is None or previous is None:
        return None
    return f"{(current - previous) * 100:+.2f} pp"


def kpi_tiles(overview: Overview) -> None:
    now, before = overview.kpis, overview.previous_kpis
    when = overview.previous_period.describe() if overview.previous_period else ""

    def was(value: str) -> str | None:
        return f"Previous period ({when}): {value}" if before else None

    def prev(attr: str):
        return getattr(before, attr) if before else None

    tiles = (
        ("Orders", f"{now.orders:,}", _change(now.orders, prev("orders"), False), "normal",
         was(f"{before.orders:,}") if before else None),
        ("Captured amount", format_amount(now.captured_amount),
         _change(now.captured_amount, prev("captured_amount"), True), "normal",
         was(format_amount(before.captured_amount)) if before else None),
        ("Refunded amount", format_amount(now.refunded_amount),
         _change(now.refunded_amount, prev("refunded_amount"), True), "inverse",
         was(format_amount(before.refunded_amount)) if before else None),
        ("Refund rate", _percent(now.refund_rate), _points(now.refund_rate, prev("refund_rate")),
         "inverse", was(_percent(before.refund_rate)) if before else None),
        ("Average order value",
         "–" if now.average_order_amount is None else format_amount(now.average_order_amount),
         _change(now.average_order_amount, prev("average_order_amount"), True), "normal",
         was(format_amount(before.average_order_amount) or "–") if before else None),
        ("Share cancelled", _percent(now.cancelled_share),
         _points(now.cancelled_share, prev("cancelled_share")), "inverse",
         was(_percent(before.cancelled_share)) if before else None),
    )
    helps = {
        "Refund rate": "Refunded amount ÷ captured amount of the same orders.",
        "Average order value": "Captured amount ÷ orders.",
        "Share cancelled": "Cancelled orders ÷ orders.",
        "Captured amount": "Sum of the order amounts, as on the Orders page.",
    }
    for row in (tiles[:3], tiles[3:]):
        for column, (label, value, delta, color, previous) in zip(st.columns(3), row):
            flat = delta is not None and not any(digit in delta for digit in "123456789")
            column.metric(
                label, value, delta=delta, border=True,
                delta_color="off" if flat else color,
                delta_arrow="off" if flat else "auto",
                help="\n\n".join(filter(None, (helps.get(label), previous))) or None,
            )


# -- the charts -----------------------------------------------------------------------------------


def _download(data_of, overview: Overview, name: str, key: str) -> None:
    st.download_button(
        "Download chart data", data=lambda: data_of(overview), mime=CSV_MIME,
        file_name=f"overview-{name}-{datetime.now(settings.tz):%Y%m%d-%H%M}.csv",
        icon=":material/download:", on_click="ignore", key=f"overview.download.{key}",
        type="tertiary",
    )


def _picked(event, name: str) -> dict | None:
    """The clicked bar or slice of a chart's point selection, or None."""
    if not event:
        return None
    chosen = (event.get("selection") or {}).get(name) or []
    return chosen[0] if chosen else None


def _money_axis(title: str | None) -> alt.Axis:
    return alt.Axis(title=title, labelFlush=False, tickCount=6,
                    labelExpr="datum.value == 0 ? '0' : format(datum.value, '~s')")


def series_chart(overview: Overview, query: OrderQuery) -> None:
    unit = "week" if overview.bucket == "week" else "day"
    span = timedelta(days=7 if unit == "week" else 1)
    rows = []
    for p in overview.series:
        for measure, amount, sign in (("Captured", p.captured_amount, 1),
                                      ("Refunded", p.refunded_amount, -1)):
            if not amount:
                continue
            rows.append({
                "start": pd.Timestamp(p.bucket_start),
                # a little short of the next bar, so bars stay apart
                "end": pd.Timestamp(p.bucket_start + span) - pd.Timedelta(hours=3 if unit == "day" else 18),
                "period": p.bucket_start.isoformat(),
                "label": (f"Week of {p.bucket_start:%d.%m.%Y}" if unit == "week"
                          else f"{p.bucket_start:%a %d.%m.%Y}"),
                "channel": p.channel,
                "series": f"{measure} · {p.channel}",
                "amount": float(sign * amount),  # for drawing only; the text is exact
                "amount_text": format_amount(amount),
                "orders": p.orders,
            })
    frame = pd.DataFrame(rows)
    pick = alt.selection_point(name="pick", fields=["period", "channel"], on="click")
    bars = (
        alt.Chart(frame)
        .mark_rect(cornerRadius=1)
        .encode(
            x=alt.X("start:T", title=None, axis=alt.Axis(format="%d.%m", labelOverlap=True)),
            x2="end:T",
            y=alt.Y("sum(amount):Q", stack="zero", axis=_money_axis("Amount")),
            color=alt.Color("series:N", title=None,
                            scale=alt.Scale(domain=list(SERIES_COLORS),
                                            range=list(SERIES_COLORS.values())),
                            legend=alt.Legend(orient="top")),
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.35)),
            tooltip=[alt.Tooltip("label:N", title=unit.capitalize()),
                     alt.Tooltip("series:N", title="Series"),
                     alt.Tooltip("amount_text:N", title="Amount"),
                     alt.Tooltip("orders:Q", title="Orders", format=",")],
        )
        .add_params(pick)
    )
    zero = alt.Chart(pd.DataFrame({"y": [0]})).mark_rule(color="#6b7280").encode(y="y:Q")
    event = st.altair_chart(bars + zero, key="overview.series", on_select="rerun",
                            height=300, width="stretch")
    if chosen := _picked(event, "pick"):
        period = bucket_period(date.fromisoformat(chosen["period"]), overview.bucket, query)
        open_orders(narrowed_query(query, channel=chosen["channel"], period=period))


def status_chart(overview: Overview, query: OrderQuery) -> None:
    total = sum(s.orders for s in overview.statuses) or 1
    frame = pd.DataFrame([
        {"status": s.status, "rank": rank, "orders": s.orders,
         "share": f"{Decimal(s.orders) / total * 100:.1f}%",
         "legend": f"{s.status} · {s.orders:,} ({Decimal(s.orders) / total * 100:.1f}%)",
         "captured_text": format_amount(s.captured_amount)}
        for rank, s in enumerate(overview.statuses)
    ])
    legend = dict(zip(frame["status"], frame["legend"]))
    pick = alt.selection_point(name="pick", fields=["status"], on="click")
    chart = (
        alt.Chart(frame)
        .mark_arc(innerRadius=55, stroke="white", strokeWidth=2)
        .encode(
            theta=alt.Theta("orders:Q", stack=True),
            order=alt.Order("rank:Q"),  # the statuses' order, as in the legend
            color=alt.Color("legend:N", title=None,
                            scale=alt.Scale(domain=list(legend.values()),
                                            range=[STATUS_COLORS[s] for s in legend]),
                            legend=alt.Legend(orient="right", labelLimit=260)),
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.35)),
            tooltip=[alt.Tooltip("status:N", title="Status"),
                     alt.Tooltip("orders:Q", title="Orders", format=","),
                     alt.Tooltip("share:N", title="Share of orders"),
                     alt.Tooltip("captured_text:N", title="Captured amount")],
        )
        .add_params(pick)
    )
    event = st.altair_chart(chart, key="overview.statuses", on_select="rerun", height=260,
                            width="stretch")
    if chosen := _picked(event, "pick"):
        open_orders(narrowed_query(query, status=chosen["status"]))


def bar_chart(frame: pd.DataFrame, field: str, label: str, key: str, color: str,
              min_height: int = 120):
    """Horizontal bars of captured amount, largest first; returns the chart's event."""
    pick = alt.selection_point(name="pick", fields=[field], on="click")
    base = alt.Chart(frame).encode(
        y=alt.Y(f"{label}:N", sort=alt.EncodingSortField("captured", order="descending"),
                title=None, axis=alt.Axis(labelLimit=220)),
        x=alt.X("captured:Q", axis=_money_axis("Captured amount")),
    )
    bars = base.mark_bar(color=color, cornerRadiusEnd=2).encode(
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.35)),
        tooltip=[alt.Tooltip(f"{label}:N", title=label.replace("_", " ").capitalize()),
                 alt.Tooltip("captured_text:N", title="Captured amount"),
                 alt.Tooltip("orders:Q", title="Orders", format=",")],
    ).add_params(pick)
    text = base.mark_text(align="left", dx=4, fontSize=11, color="#4b5563").encode(
        text="captured_text:N"
    )
    height = max(min_height, 30 * len(frame) + 40)
    return st.altair_chart(bars + text, key=key, on_select="rerun", height=height,
                           width="stretch")


def stores_chart(overview: Overview, query: OrderQuery) -> None:
    frame = pd.DataFrame([
        {"store_id": s.store_id, "store": f"{s.store_name} ({s.store_id})",
         "captured": float(s.captured_amount), "captured_text": format_amount(s.captured_amount),
         "orders": s.orders}
        for s in overview.top_stores
    ])
    event = bar_chart(frame, "store_id", "store", "overview.stores", "#1c64d1")
    if chosen := _picked(event, "pick"):
        open_orders(narrowed_query(query, store_id=chosen["store_id"]))


def regions_chart(overview: Overview, query: OrderQuery) -> None:
    frame = pd.DataFrame([
        {"region": r.region, "captured": float(r.captured_amount),
         "captured_text": format_amount(r.captured_amount), "orders": r.orders}
        for r in overview.regions
    ])
    # as tall as the status chart beside it
    event = bar_chart(frame, "region", "region", "overview.regions", "#7a5af5", min_height=260)
    if chosen := _picked(event, "pick"):
        open_orders(narrowed_query(query, region=chosen["region"]))


# -- the page -------------------------------------------------------------------------------------

try:
    options = fetch_scope_options(user.scope)
except Exception as exc:  # noqa: BLE001 - shown to the user by its kind, logged when a bug
    show_error(exc)
    st.stop()

load_view(options)
# The sidebar's widgets belong to the page that drew them last: on arrival from another page
# (this page's own widgets are gone then), they are redrawn from the shared view.
if "overview.refresh" not in st.session_state:
    for key in FILTER_WIDGETS:
        st.session_state.pop(key, None)
filter_sidebar(options, settings.tz, settings.tz_name)

title_col, refresh_col = st.columns([6, 1.2], vertical_alignment="bottom")
title_col.title("Overview")
if refresh_col.button("Refresh", icon=":material/refresh:", width="stretch",
                      help="Re-read the database", key="overview.refresh"):
    refresh_data()
st.caption(f"Data as of {data_as_of():%H:%M:%S} ({settings.tz_name})")
show_notices()
query, page = st.session_state[QUERY], st.session_state[PAGE]
save_view(query, page)

st.caption(f"{query.describe_filters()}")
if query.search.strip():
    st.caption(f"Search (from the Orders page): {query.describe_search()}")

try:
    with st.spinner("Adding up the orders…"):
        overview = fetch_figures(query)
except Exception as exc:  # noqa: BLE001
    show_error(exc)
    st.stop()

kpi_tiles(overview)
if overview.previous_kpis is not None:
    st.caption(
        f"Changes compare {overview.period.describe()} with {overview.previous_period.describe()},"
        f" the {overview.period.days:,} day{'s' * (overview.period.days != 1)} before,"
        " with the same filters and search."
    )
else:
    note_col, button_col = st.columns([5, 1.6], vertical_alignment="center")
    note_col.caption(
        "No comparison: the view has no period, so there is no previous period of equal length."
        " Choose a period to see the changes."
    )
    button_col.button("Compare last 30 days", on_click=_compare_last_30_days,
                      key="overview.last30", width="stretch")

if overview.kpis.orders == 0:
    st.info("No orders match these filters and search." if query.is_filtered
            else "There are no orders in your scope yet.")
    st.stop()

unit = "week" if overview.bucket == "week" else "day"
st.subheader(f"Captured and refunded amount per {unit}")
st.caption("By channel; refunds below the line. Click a bar to list its orders.")
series_chart(overview, query)
_download(series_csv, overview, f"amounts-per-{unit}", "series")

left, right = st.columns(2, gap="large")
with left:
    st.subheader("Orders by status")
    st.caption("Click a slice to list its orders.")
    status_chart(overview, query)
    _download(statuses_csv, overview, "statuses", "statuses")
with right:
    st.subheader("Regions by captured amount")
    st.caption("Click a bar to list its orders.")
    regions_chart(overview, query)
    _download(regions_csv, overview, "regions", "regions")

st.subheader("Top 10 stores by captured amount")
st.caption("Click a bar to list its orders.")
stores_chart(overview, query)
_download(stores_csv, overview, "top-stores", "stores")
