"""The Overview's charts as Vega-Lite specs, and what a click on one of them narrows the view to.

Each ``*_spec`` function turns the figures (``core.overview.Overview``) into a spec with its data,
built with Altair and drawn by ``st.vega_lite_chart``; they need no session, so they are
unit-tested. Amounts are drawn from floats but every amount shown in a label or tooltip is the
exact text of the Decimal. A click selects a bar or a slice (the point selection ``pick``); the
fields it carries are the ones ``narrowed_view`` reads to narrow the shared view.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import altair as alt
import pandas as pd
import streamlit as st

from babel.dates import format_date
from babel.numbers import format_decimal

from core.i18n import N_, format_count, format_money, translator
from core.overview import Overview, bucket_period, narrowed_query
from core.query import OrderQuery
from core.status import Channel, Status

PICK = "pick"  # the name of every chart's click selection
STATUS_COLORS = {Status.PENDING: "#f2a93b", Status.COMPLETED: "#2e9e62",
                 Status.CANCEL: "#8c96a3", Status.RETURN: "#d64545"}
# The series' names (English; shown in the chart's language): "<measure> · <channel>".
SERIES_COLORS = {N_("Captured · online"): "#1c64d1",
                 N_("Captured · offline"): "#84b4f5",
                 N_("Refunded · online"): "#c43a3a",
                 N_("Refunded · offline"): "#f09a9a"}
BUCKETS = {"day": N_("Day"), "week": N_("Week")}
STORE_COLOR, REGION_COLOR, REASON_COLOR = "#1c64d1", "#7a5af5", "#c43a3a"
MUTED = 0.35  # the opacity of the bars and slices a click did not pick


def _money_axis(title: str | None) -> alt.Axis:
    return alt.Axis(title=title, labelFlush=False, tickCount=6,
                    labelExpr="datum.value == 0 ? '0' : format(datum.value, '~s')")


def _pick(*fields: str) -> alt.Parameter:
    """A click on a bar or slice selects it; the page reads the selection and narrows the view."""
    return alt.selection_point(name=PICK, fields=list(fields), on="click")


def _spec(chart: alt.TopLevelMixin) -> dict:
    """The chart as a Vega-Lite spec with its data, without Altair's default view size."""
    spec = chart.to_dict()
    spec.pop("config", None)
    return spec


def _share(part: int, total: int, lang: str) -> str:
    return format_decimal(Decimal(part) / total * 100, format="#,##0.0", locale=_locale(lang)) + "%"


def _locale(lang: str) -> str:
    return "en_US" if lang == "en" else lang


def _series_rows(overview: Overview, lang: str = "en") -> list[dict]:
    """One row per bar: captured upwards, refunded downwards, per bucket and channel."""
    unit = overview.bucket
    span = timedelta(days=7 if unit == "week" else 1)
    gap = pd.Timedelta(hours=18 if unit == "week" else 3)  # bars end short of the next one
    rows, t = [], translator(lang)
    for p in overview.series:
        for measure, amount, sign in (("Captured", p.captured_amount, 1),
                                      ("Refunded", p.refunded_amount, -1)):
            if not amount:
                continue
            series = f"{measure} · {p.channel}"  # a key of SERIES_COLORS
            rows.append({
                "start": pd.Timestamp(p.bucket_start),
                "end": pd.Timestamp(p.bucket_start + span) - gap,
                "period": p.bucket_start.isoformat(),
                "label": (t("Week of {date}").format(date=f"{p.bucket_start:%d.%m.%Y}")
                          if unit == "week" else
                          format_date(p.bucket_start, "EEE dd.MM.yyyy", locale=_locale(lang))),
                "channel": p.channel,
                "series": t(series),
                "amount": float(sign * amount),  # for drawing only; the text is exact
                "amount_text": format_money(amount, lang),
                "orders": p.orders,
            })
    return rows


def series_spec(overview: Overview, lang: str = "en") -> dict:
    """Captured and refunded amount per day or week, stacked by channel, refunds below zero."""
    pick, t = _pick("period", "channel"), translator(lang)
    bars = (
        alt.Chart(pd.DataFrame(_series_rows(overview, lang)))
        .mark_rect(cornerRadius=1)
        .encode(
            x=alt.X("start:T", title=None, axis=alt.Axis(format="%d.%m", labelOverlap=True)),
            x2="end:T",
            y=alt.Y("sum(amount):Q", stack="zero", axis=_money_axis(t("Amount"))),
            color=alt.Color("series:N", title=None,
                            scale=alt.Scale(domain=[t(name) for name in SERIES_COLORS],
                                            range=list(SERIES_COLORS.values())),
                            legend=alt.Legend(orient="top")),
            opacity=alt.condition(pick, alt.value(1.0), alt.value(MUTED)),
            tooltip=[alt.Tooltip("label:N", title=t(BUCKETS.get(overview.bucket,
                                                                overview.bucket.capitalize()))),
                     alt.Tooltip("series:N", title=t("Series")),
                     alt.Tooltip("amount_text:N", title=t("Amount")),
                     alt.Tooltip("orders:Q", title=t("Orders"), format=",")],
        )
        .add_params(pick)
    )
    zero = alt.Chart(pd.DataFrame({"y": [0]})).mark_rule(color="#6b7280").encode(y="y:Q")
    return _spec(bars + zero)


def status_spec(overview: Overview, lang: str = "en") -> dict:
    """A donut of orders by status, in the statuses' order; the legend gives counts and shares.
    The ``status`` field stays the stored (English) status: a click narrows the view by it."""
    total, t = sum(s.orders for s in overview.statuses) or 1, translator(lang)
    frame = pd.DataFrame([
        {"status": s.status, "status_text": t(s.status), "rank": rank, "orders": s.orders,
         "share": _share(s.orders, total, lang),
         "legend": f"{t(s.status)} · {format_count(s.orders, lang)} "
                   f"({_share(s.orders, total, lang)})",
         "captured_text": format_money(s.captured_amount, lang)}
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
            opacity=alt.condition(pick, alt.value(1.0), alt.value(MUTED)),
            tooltip=[alt.Tooltip("status_text:N", title=t("Status")),
                     alt.Tooltip("orders:Q", title=t("Orders"), format=","),
                     alt.Tooltip("share:N", title=t("Share of orders")),
                     alt.Tooltip("captured_text:N", title=t("Captured amount"))],
        )
        .add_params(pick)
    )


def bars_spec(frame: pd.DataFrame, field: str, label: str, title: str, color: str,
              lang: str = "en") -> dict:
    """Horizontal bars of captured amount, largest first, each labelled with its amount."""
    pick, t = _pick(field), translator(lang)
    base = alt.Chart(frame).encode(
        y=alt.Y(f"{label}:N", sort=alt.EncodingSortField("captured", order="descending"),
                title=None, axis=alt.Axis(labelLimit=220)),
        x=alt.X("captured:Q", axis=_money_axis(t("Captured amount"))),
    )
    bars = base.mark_bar(color=color, cornerRadiusEnd=2).encode(
        opacity=alt.condition(pick, alt.value(1.0), alt.value(MUTED)),
        tooltip=[alt.Tooltip(f"{label}:N", title=t(title)),
                 alt.Tooltip("captured_text:N", title=t("Captured amount")),
                 alt.Tooltip("orders:Q", title=t("Orders"), format=",")],
    ).add_params(pick)
    text = base.mark_text(align="left", dx=4, fontSize=11, color="#4b5563").encode(
        text="captured_text:N"
    )
    return _spec(bars + text)


def stores_spec(overview: Overview, lang: str = "en") -> dict:
    frame = pd.DataFrame([
        {"store_id": s.store_id, "store": f"{s.store_name} ({s.store_id})",
         "captured": float(s.captured_amount), "captured_text": format_money(s.captured_amount, lang),
         "orders": s.orders}
        for s in overview.top_stores
    ])
    return bars_spec(frame, "store_id", "store", N_("Store"), STORE_COLOR, lang)


def regions_spec(overview: Overview, lang: str = "en") -> dict:
    frame = pd.DataFrame([
        {"region": r.region, "captured": float(r.captured_amount),
         "captured_text": format_money(r.captured_amount, lang), "orders": r.orders}
        for r in overview.regions
    ])
    return bars_spec(frame, "region", "region", N_("Region"), REGION_COLOR, lang)


def reasons_spec(overview: Overview, lang: str = "en") -> dict:
    """Horizontal bars of the refunded amount by reason, in the reasons' order."""
    t = translator(lang)
    frame = pd.DataFrame([
        {"reason": t(r.reason), "refunded": float(r.refunded_amount),  # drawing only
         "refunded_text": format_money(r.refunded_amount, lang), "refunds": r.refunds}
        for r in overview.reasons
    ], columns=["reason", "refunded", "refunded_text", "refunds"])
    order = list(frame["reason"])
    base = alt.Chart(frame).encode(
        y=alt.Y("reason:N", sort=order, title=None, axis=alt.Axis(labelLimit=220)),
        x=alt.X("refunded:Q", axis=_money_axis(t("Refunded amount"))),
    )
    bars = base.mark_bar(color=REASON_COLOR, cornerRadiusEnd=2).encode(
        tooltip=[alt.Tooltip("reason:N", title=t("Reason")),
                 alt.Tooltip("refunded_text:N", title=t("Refunded amount")),
                 alt.Tooltip("refunds:Q", title=t("Refunds"), format=",")])
    text = base.mark_text(align="left", dx=4, fontSize=11, color="#4b5563").encode(
        text="refunded_text:N")
    return _spec(bars + text)


@st.cache_data(ttl=600, max_entries=500, show_spinner=False)
def cached_specs(key: str, _overview: Overview, lang: str = "en") -> dict[str, dict]:
    """The charts of one view (``key``: its figures' cache key) in one language, built once:
    Altair's schema validation took longer than the rest of the page on every run."""
    return {"series": series_spec(_overview, lang), "statuses": status_spec(_overview, lang),
            "stores": stores_spec(_overview, lang), "regions": regions_spec(_overview, lang),
            "reasons": reasons_spec(_overview, lang)}


def picked(event) -> dict | None:
    """The clicked bar or slice of a chart's selection event, or None."""
    if not event:
        return None
    chosen = (event.get("selection") or {}).get(PICK) or []
    return chosen[0] if chosen else None


def narrowed_view(overview: Overview, query: OrderQuery, chart: str,
                  chosen: dict | None) -> OrderQuery | None:
    """The view narrowed to the bar or slice ``chosen`` on ``chart`` (a key of ``cached_specs``);
    None when nothing is chosen."""
    if not chosen:
        return None
    if chart == "series":
        period = bucket_period(date.fromisoformat(chosen["period"]), overview.bucket, query)
        return narrowed_query(query, channel=chosen["channel"], period=period)
    if chart == "statuses":
        return narrowed_query(query, status=chosen["status"])
    if chart == "stores":
        return narrowed_query(query, store_id=chosen["store_id"])
    if chart == "regions":
        return narrowed_query(query, region=chosen["region"])
    return None
