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
    get_database,
    refresh_data,
    require_user,
    show_error,
)
from ui.exporting import drop_stale_export
from ui.filters import PAGE, QUERY, filter_sidebar, load_view, preset_range, save_view, show_notices
from ui.text import as_text

user = require_user()
settings = get_settings()

# Widget keys of the shared filter sidebar: dropped when a click here changes the view, so the
# sidebar redraws from the view.
FILTER_WIDGETS = ("filters.status", "filters.channel", "filters.le", "filters.region",
                  "filters.store", "filters.period", "filters.preset")
STATUS_COLORS = {"Pending": "#f2a93b", "Completed": "#2e9e62", "Cancel": "#8c96a3",
                 "Return": "#d64545"}
SERIES_COLORS = {"Captured · online": "#1c64d1", "Captured · offline": "#84b4f5",
                 "Refunded · online": "#c43a3a", "Refunded · offline": "#f09a9a"}
CSV_MIME = "text/csv"


@st.cache_data(ttl=600, max_entries=500, show_spinner=False)
def _cached_overview(key: str, _scope, _query: OrderQuery, tz_name: str, today: date) -> Overview:
    return fetch_overview(get_database(), _scope, _query, ZoneInfo(tz_name), today=today)


def figures_key(query: OrderQuery) -> str:
    """The cache key of the view's figures: scope, view without its sort, time zone, today."""
    today = datetime.now(settings.tz).date()
    return repr((user.scope.key(), figures_query(query), settings.tz_name, today))


def fetch_figures(query: OrderQuery) -> Overview:
    """The figures for this user's scope and view (the sort does not change them)."""
    today = datetime.now(settings.tz).date()
    return _cached_overview(figures_key(query), user.scope, figures_query(query),
                            settings.tz_name, today)


def open_orders(narrowed: OrderQuery) -> None:
    """Make ``narrowed`` the shared view and show it on the Orders page."""
    st.session_state[QUERY], st.session_state[PAGE] = narrowed, 1
    for key in FILTER_WIDGETS:
        st.session_state.pop(key, None)
    save_view(narrowed, 1)
    st.switch_page("screens/orders.py", query_params=to_url_params(narrowed))


def _compare_last_30_days() -> None:
    start, end = preset_range("Last 30 days", datetime.now(settings.tz).date())
    st.session_state[QUERY] = st.session_state[QUERY].with_changes(start=start, end=end)
    st.session_state[PAGE] = 1
    for key in FILTER_WIDGETS:
        st.session_state.pop(key, None)


# -- the tiles ------------------------------------------------------------------------------------


def _percent(ratio: Decimal | None) -> str:
    return "–" if ratio is None else f"{ratio * 100:.2f}%"


def _money(amount: Decimal | None) -> str:
    return "–" if amount is None else format_amount(amount)


def _count(number: int) -> str:
    return f"{number:,}"


# label → the value from Kpis, its text, how it changes ("relative" or "points" for ratios),
# the delta's colour (an increase in refunds or cancels is bad news: "inverse"), the help text.
TILES = {
    "Orders": (lambda k: k.orders, _count, "relative", "normal", None),
    "Captured amount": (lambda k: k.captured_amount, _money, "relative", "normal",
                        "Sum of the order amounts, as on the Orders page."),
    "Refunded amount": (lambda k: k.refunded_amount, _money, "relative", "inverse", None),
    "Refund rate": (lambda k: k.refund_rate, _percent, "points", "inverse",
                    "Refunded amount ÷ captured amount of the same orders."),
    "Average order value": (lambda k: k.average_order_amount, _money, "relative", "normal",
                            "Captured amount ÷ orders."),
    "Share cancelled": (lambda k: k.cancelled_share, _percent, "points", "inverse",
                        "Cancelled orders ÷ orders."),
}
# The two sums get wide tiles: a merchant's totals run to billions, every cent shown.
TILE_ROWS = (("Captured amount", "Refunded amount"),
             ("Orders", "Average order value", "Refund rate", "Share cancelled"))


def _change(current, previous, text, how: str) -> str | None:
    """The change against the previous period: relative, in percentage points for ratios, or
    absolute when the previous period had nothing to compare with."""
    if current is None or previous is None:
        return None
    difference = Decimal(current) - Decimal(previous)
    if not difference:
        return "0.00 pp" if how == "points" else "0.0%" if previous else text(previous)
    if how == "points":
        return f"{difference * 100:+.2f} pp"
    if previous:
        return f"{difference / Decimal(previous) * 100:+.1f}%"
    return "+" + text(current)  # from nothing: the whole value is the change


def kpi_tiles(overview: Overview) -> None:
    now, before = overview.kpis, overview.previous_kpis
    for row in TILE_ROWS:
        for column, label in zip(st.columns(len(row)), row):
            value_of, text, how, color, explanation = TILES[label]
            value = value_of(now)
            delta = previous_text = None
            if before is not None:
                previous = value_of(before)
                delta = _change(value, previous, text, how)
                previous_text = (f"Previous period ({overview.previous_period.describe()}): "
                                 f"{text(previous)}")
            flat = delta is not None and not any(digit in delta for digit in "123456789")
            column.metric(
                label, text(value), delta=delta, border=True,
                delta_color="off" if flat else color,
                delta_arrow="off" if flat else "auto",
                help="\n\n".join(filter(None, (explanation, previous_text))) or None,
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


def _pick(*fields: str) -> alt.Parameter:
    """A click on a bar or slice selects it; the page reads the selection and narrows the view."""
    return alt.selection_point(name="pick", fields=list(fields), on="click")


def _spec(chart: alt.TopLevelMixin) -> dict:
    """The chart as a Vega-Lite spec with its data, without Altair's default view size."""
    spec = chart.to_dict()
    spec.pop("config", None)
    return spec


def series_spec(overview: Overview) -> dict:
    unit = overview.bucket
    span = timedelta(days=7 if unit == "week" else 1)
    gap = pd.Timedelta(hours=18 if unit == "week" else 3)  # bars end short of the next one
    rows = []
    for p in overview.series:
        for measure, amount, sign in (("Captured", p.captured_amount, 1),
                                      ("Refunded", p.refunded_amount, -1)):
            if not amount:
                continue
            rows.append({
                "start": pd.Timestamp(p.bucket_start),
                "end": pd.Timestamp(p.bucket_start + span) - gap,
                "period": p.bucket_start.isoformat(),
                "label": (f"Week of {p.bucket_start:%d.%m.%Y}" if unit == "week"
                          else f"{p.bucket_start:%a %d.%m.%Y}"),
                "channel": p.channel,
                "series": f"{measure} · {p.channel}",
                "amount": float(sign * amount),  # for drawing only; the text is exact
                "amount_text": format_amount(amount),
                "orders": p.orders,
            })
    pick = _pick("period", "channel")
    bars = (
        alt.Chart(pd.DataFrame(rows))
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
    return _spec(bars + zero)


def status_spec(overview: Overview) -> dict:
    total = sum(s.orders for s in overview.statuses) or 1
    frame = pd.DataFrame([
        {"status": s.status, "rank": rank, "orders": s.orders,
         "share": f"{Decimal(s.orders) / total * 100:.1f}%",
         "legend": f"{s.status} · {s.orders:,} ({Decimal(s.orders) / total * 100:.1f}%)",
         "captured_text": format_amount(s.captured_amount)}
        for rank, s in enumerate(overview.statuses)
    ])
    legend = dict(zip(frame["status"], frame["legend"]))
    pick = _pick("status")
    return _spec(
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


def bars_spec(frame: pd.DataFrame, field: str, label: str, title: str, color: str) -> dict:
    """Horizontal bars of captured amount, largest first, each labelled with its amount."""
    pick = _pick(field)
    base = alt.Chart(frame).encode(
        y=alt.Y(f"{label}:N", sort=alt.EncodingSortField("captured", order="descending"),
                title=None, axis=alt.Axis(labelLimit=220)),
        x=alt.X("captured:Q", axis=_money_axis("Captured amount")),
    )
    bars = base.mark_bar(color=color, cornerRadiusEnd=2).encode(
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.35)),
        tooltip=[alt.Tooltip(f"{label}:N", title=title),
                 alt.Tooltip("captured_text:N", title="Captured amount"),
                 alt.Tooltip("orders:Q", title="Orders", format=",")],
    ).add_params(pick)
    text = base.mark_text(align="left", dx=4, fontSize=11, color="#4b5563").encode(
        text="captured_text:N"
    )
    return _spec(bars + text)


def stores_spec(overview: Overview) -> dict:
    frame = pd.DataFrame([
        {"store_id": s.store_id, "store": f"{s.store_name} ({s.store_id})",
         "captured": float(s.captured_amount), "captured_text": format_amount(s.captured_amount),
         "orders": s.orders}
        for s in overview.top_stores
    ])
    return bars_spec(frame, "store_id", "store", "Store", "#1c64d1")


def regions_spec(overview: Overview) -> dict:
    frame = pd.DataFrame([
        {"region": r.region, "captured": float(r.captured_amount),
         "captured_text": format_amount(r.captured_amount), "orders": r.orders}
        for r in overview.regions
    ])
    return bars_spec(frame, "region", "region", "Region", "#7a5af5")


@st.cache_data(ttl=600, max_entries=500, show_spinner=False)
def _cached_specs(key: str, _overview: Overview) -> dict[str, dict]:
    """The charts of one view, built once: Altair's schema validation took longer than the
    rest of the page on every run."""
    return {"series": series_spec(_overview), "statuses": status_spec(_overview),
            "stores": stores_spec(_overview), "regions": regions_spec(_overview)}


def chart(spec: dict, key: str, height: int):
    """Draw a chart; returns its selection event (a click reruns the page)."""
    return st.vega_lite_chart(spec, key=key, on_select="rerun", height=height, width="stretch")


def drill_down(overview: Overview, query: OrderQuery, kind: str, chosen: dict | None) -> None:
    """Open the Orders page on the clicked bar or slice."""
    if not chosen:
        return
    if kind == "series":
        period = bucket_period(date.fromisoformat(chosen["period"]), overview.bucket, query)
        open_orders(narrowed_query(query, channel=chosen["channel"], period=period))
    elif kind == "statuses":
        open_orders(narrowed_query(query, status=chosen["status"]))
    elif kind == "stores":
        open_orders(narrowed_query(query, store_id=chosen["store_id"]))
    elif kind == "regions":
        open_orders(narrowed_query(query, region=chosen["region"]))


# -- the page -------------------------------------------------------------------------------------

try:
    options = fetch_scope_options(user.scope)
except Exception as exc:  # noqa: BLE001 - shown to the user by its kind, logged when a bug
    show_error(exc)
    st.stop()

load_view(options)
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
drop_stale_export(user, query)

st.caption(as_text(query.describe_filters()))
if query.search.strip():
    st.caption(f"Search (from the Orders page): {as_text(query.describe_search())}")

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

if overview.undated_orders:
    undated = overview.undated_orders
    st.caption(f"{undated:,} order{'s have' if undated != 1 else ' has'} a stored time that is "
               "no date: counted above and by status, store and region, but on no day of the "
               "chart.")

if overview.kpis.orders == 0:
    st.info("No orders match these filters and search." if query.is_filtered
            else "There are no orders in your scope yet.")
    st.stop()

specs = _cached_specs(figures_key(query), overview)
unit = overview.bucket
st.subheader(f"Captured and refunded amount per {unit}")
st.caption("By channel; refunds below the line. Click a bar to list its orders.")
picked = _picked(chart(specs["series"], "overview.series", 300), "pick")
drill_down(overview, query, "series", picked)
_download(series_csv, overview, f"amounts-per-{unit}", "series")

left, right = st.columns(2, gap="large")
with left:
    st.subheader("Orders by status")
    st.caption("Click a slice to list its orders.")
    picked = _picked(chart(specs["statuses"], "overview.statuses", 260), "pick")
    drill_down(overview, query, "statuses", picked)
    _download(statuses_csv, overview, "statuses", "statuses")
with right:
    st.subheader("Regions by captured amount")
    st.caption("Click a bar to list its orders.")
    # as tall as the status chart beside it, or taller
    height = max(260, 30 * len(overview.regions) + 40)
    picked = _picked(chart(specs["regions"], "overview.regions", height), "pick")
    drill_down(overview, query, "regions", picked)
    _download(regions_csv, overview, "regions", "regions")

st.subheader("Top 10 stores by captured amount")
st.caption("Click a bar to list its orders.")
picked = _picked(chart(specs["stores"], "overview.stores", 30 * len(overview.top_stores) + 40),
                 "pick")
drill_down(overview, query, "stores", picked)
_download(stores_csv, overview, "top-stores", "stores")
