"""The Overview page: KPI tiles against the previous period and charts of the orders in the view.

It summarises exactly the orders the Orders page lists: the same view (filters and search, shared
through ``ui.filters``), the same scope. Clicking a bar or a slice narrows that view and opens the
Orders page on it. The figures come from ``core.overview`` (cached per scope and view by
``ui.context.fetch_figures``), the charts from ``ui.charts``; this page only lays them out.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import streamlit as st

from babel.numbers import format_decimal

from core.i18n import N_, translator
from core.overview import (
    Overview,
    is_flat,
    kpi_change,
    reasons_csv,
    regions_csv,
    series_csv,
    statuses_csv,
    stores_csv,
)
from core.query import OrderQuery, to_url_params
from ui.charts import cached_specs, narrowed_view, picked
from ui.context import (
    data_as_of,
    fetch_figures,
    fetch_scope_options,
    figures_key,
    get_settings,
    refresh_data,
    require_user,
    show_error,
)
from ui.exporting import drop_stale_export
from ui.filters import (
    PAGE,
    QUERY,
    filter_sidebar,
    load_view,
    preset_range,
    save_view,
    set_view,
    show_notices,
)
from ui.i18n import _, count as _count, current_language, money as format_amount, ngettext
from ui.text import as_text

user = require_user()
settings = get_settings()

CSV_MIME = "text/csv"


def open_orders(narrowed: OrderQuery) -> None:
    """Make ``narrowed`` the shared view and show it on the Orders page."""
    set_view(narrowed)
    save_view(narrowed, 1)
    st.switch_page("screens/orders.py", query_params=to_url_params(narrowed))


def _compare_last_30_days() -> None:
    start, end = preset_range("Last 30 days", datetime.now(settings.tz).date())
    set_view(st.session_state[QUERY].with_changes(start=start, end=end))


# -- the tiles ------------------------------------------------------------------------------------


def _locale() -> str:
    return "en_US" if current_language() == "en" else current_language()


def _percent(ratio: Decimal | None) -> str:
    if ratio is None:
        return "–"
    return format_decimal(ratio * 100, format="#,##0.00", locale=_locale()) + "%"


def _money(amount: Decimal | None) -> str:
    return "–" if amount is None else format_amount(amount)


def _local_change(change: str | None) -> str | None:
    """A tile's change ("+12.5%", "-1.25 pp") with the language's decimal sign and unit; a change
    written as an amount (from nothing) is already in the language's format."""
    if change is None or not (change.endswith("%") or change.endswith(" pp")):
        return change
    if current_language() != "en":
        change = change.replace(".", ",")
    return change.removesuffix(" pp") + _(" pp") if change.endswith(" pp") else change


# label → the value from Kpis, its text, how it changes ("relative" or "points" for ratios),
# the delta's colour (an increase in refunds or cancels is bad news: "inverse"), the help text.
TILES = {
    N_("Orders"): (lambda k: k.orders, _count, "relative", "normal", None),
    N_("Captured amount"): (lambda k: k.captured_amount, _money, "relative", "normal",
                            N_("Sum of the order amounts, as on the Orders page.")),
    N_("Refunded amount"): (lambda k: k.refunded_amount, _money, "relative", "inverse", None),
    N_("Refund rate"): (lambda k: k.refund_rate, _percent, "points", "inverse",
                        N_("Refunded amount ÷ captured amount of the same orders.")),
    N_("Average order value"): (lambda k: k.average_order_amount, _money, "relative", "normal",
                                N_("Captured amount ÷ orders.")),
    N_("Share cancelled"): (lambda k: k.cancelled_share, _percent, "points", "inverse",
                            N_("Cancelled orders ÷ orders.")),
}
# The two sums get wide tiles: a merchant's totals run to billions, every cent shown.
TILE_ROWS = (("Captured amount", "Refunded amount"),
             ("Orders", "Average order value", "Refund rate", "Share cancelled"))


def kpi_tiles(overview: Overview) -> None:
    now, before = overview.kpis, overview.previous_kpis
    for row in TILE_ROWS:
        for column, label in zip(st.columns(len(row)), row):
            value_of, text, how, color, explanation = TILES[label]
            value = value_of(now)
            delta = previous_text = None
            if before is not None:
                previous = value_of(before)
                delta = kpi_change(value, previous, text, how)
                previous_text = _("Previous period ({period}): {value}").format(
                    period=overview.previous_period.describe(), value=text(previous))
            flat = is_flat(delta)
            column.metric(
                _(label), text(value), delta=_local_change(delta), border=True,
                delta_color="off" if flat else color,
                delta_arrow="off" if flat else "auto",
                help="\n\n".join(filter(None, (explanation and _(explanation),
                                                previous_text))) or None,
            )


# -- the charts -----------------------------------------------------------------------------------


def _download(data_of, overview: Overview, name: str, key: str) -> None:
    st.download_button(
        _("Download chart data"), data=lambda: data_of(overview), mime=CSV_MIME,
        file_name=f"overview-{name}-{datetime.now(settings.tz):%Y%m%d-%H%M}.csv",
        icon=":material/download:", on_click="ignore", key=f"overview.download.{key}",
        type="tertiary",
    )


def chart(overview: Overview, query: OrderQuery, spec: dict, name: str, height: int) -> None:
    """Draw one chart; a click on a bar or slice reruns the page, which opens the Orders page on
    it."""
    event = st.vega_lite_chart(spec, key=f"overview.{name}", on_select="rerun", height=height,
                               width="stretch")
    narrowed = narrowed_view(overview, query, name, picked(event))
    if narrowed is not None:
        open_orders(narrowed)


# -- the page -------------------------------------------------------------------------------------

try:
    options = fetch_scope_options(user.scope)
except Exception as exc:  # noqa: BLE001 - shown to the user by its kind, logged when a bug
    show_error(exc)
    st.stop()

load_view(options)
filter_sidebar(options, settings.tz, settings.tz_name)

title_col, refresh_col = st.columns([6, 1.2], vertical_alignment="bottom")
title_col.title(_("Overview"))
# A callback runs before the page does: the whole run, sidebar choices included, reads afresh.
refresh_col.button(_("Refresh"), icon=":material/refresh:", width="stretch",
                   help=_("Re-read the database"), key="overview.refresh", on_click=refresh_data)
st.caption(_("Data as of {time} ({zone})").format(time=f"{data_as_of():%H:%M:%S}",
                                                   zone=settings.tz_name))
words = translator(current_language())
show_notices()
query, page = st.session_state[QUERY], st.session_state[PAGE]
save_view(query, page)
drop_stale_export(user, query)

st.caption(as_text(query.describe_filters(words)))
if query.search.strip():
    st.caption(_("Search (from the Orders page): {search}").format(
        search=as_text(query.describe_search(words))))

today = datetime.now(settings.tz).date()  # one "today" for the figures and their charts' key
try:
    with st.spinner(_("Adding up the orders…")):
        overview = fetch_figures(user.scope, query, today)
except Exception as exc:  # noqa: BLE001
    show_error(exc)
    st.stop()

kpi_tiles(overview)
if overview.previous_kpis is not None:
    st.caption(ngettext(
        "Changes compare {period} with {previous}, the {days} day before, with the same "
        "filters and search.",
        "Changes compare {period} with {previous}, the {days} days before, with the same "
        "filters and search.", overview.period.days).format(
            period=overview.period.describe(), previous=overview.previous_period.describe(),
            days=_count(overview.period.days)))
else:
    # The button's words are longer in the other languages ("Сравнить последние 30 дней").
    note_col, button_col = st.columns([5, 1.6] if current_language() == "en" else [4.4, 2.2],
                                      vertical_alignment="center")
    note_col.caption(_(
        "No comparison: the view has no period, so there is no previous period of equal length."
        " Choose a period to see the changes."
    ))
    button_col.button(_("Compare last 30 days"), on_click=_compare_last_30_days,
                      key="overview.last30", width="stretch")

if overview.undated_orders:
    undated = overview.undated_orders
    st.caption(ngettext(
        "{count} order has a stored time that is no date: counted above and by status, store "
        "and region, but on no day of the chart.",
        "{count} orders have a stored time that is no date: counted above and by status, store "
        "and region, but on no day of the chart.", undated).format(count=_count(undated)))

if overview.kpis.orders == 0:
    st.info(_("No orders match these filters and search.") if query.is_filtered
            else _("There are no orders in your scope yet."))
    st.stop()

specs = cached_specs(figures_key(user.scope, query, today), overview, current_language())
unit = overview.bucket
st.subheader(_("Captured and refunded amount per week") if unit == "week"
             else _("Captured and refunded amount per day"))
st.caption(_("By channel; refunds below the line. Click a bar to list its orders."))
chart(overview, query, specs["series"], "series", 300)
_download(series_csv, overview, f"amounts-per-{unit}", "series")

left, right = st.columns(2, gap="large")
with left:
    st.subheader(_("Orders by status"))
    st.caption(_("Click a slice to list its orders."))
    chart(overview, query, specs["statuses"], "statuses", 260)
    _download(statuses_csv, overview, "statuses", "statuses")
with right:
    st.subheader(_("Regions by captured amount"))
    st.caption(_("Click a bar to list its orders."))
    # as tall as the status chart beside it, or taller
    height = max(260, 30 * len(overview.regions) + 40)
    chart(overview, query, specs["regions"], "regions", height)
    _download(regions_csv, overview, "regions", "regions")

st.subheader(_("Top 10 stores by captured amount"))
st.caption(_("Click a bar to list its orders."))
chart(overview, query, specs["stores"], "stores", 30 * len(overview.top_stores) + 40)
_download(stores_csv, overview, "top-stores", "stores")

st.subheader(_("Refunded amount by reason"))
st.caption(_("The refunds of these orders, by the reason given; an order's refunded amount that "
             "came with an import is \"Imported\". They add up to the refunded amount above."))
if overview.reasons:
    st.vega_lite_chart(specs["reasons"], key="overview.reasons",
                       height=30 * len(overview.reasons) + 40, width="stretch")
    _download(reasons_csv, overview, "refunds-by-reason", "reasons")
else:
    st.caption(_("No refunds."))
