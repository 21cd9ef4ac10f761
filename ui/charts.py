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

from core.money import format_amount
from core.overview import Overview, bucket_period, narrowed_query
from core.query import OrderQuery
from core.status import Channel, Status

PICK = "pick"  # the name of every chart's click selection
STATUS_COLORS = {Status.PENDING: "#f2a93b", Status.COMPLETED: "#2e9e62",
                 Status.CANCEL: "#8c96a3", Status.RETURN: "#d64545"}
SERIES_COLORS = {f"Captured · {Channel.ONLINE}": "#1c64d1",
                 f"Captured · {Channel.OFFLINE}": "#84b4f5",
                 f"Refunded · {Channel.ONLINE}": "#c43a3a",
                 f"Refunded · {Channel.OFFLINE}": "#f09a9a"}
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


def _series_rows(overview: Overview) -> list[dict]:
    """One row per bar: captured upwards, refunded downwards, per bucket and channel."""
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
    return rows


def series_spec(overview: Overview) -> dict:
    """Captured and refunded amount per day or week, stacked by channel, refunds below zero."""
    pick = _pick("period", "channel")
    bars = (
        alt.Chart(pd.DataFrame(_series_rows(overview)))
        .mark_rect(cornerRadius=1)
        .encode(
            x=alt.X("start:T", title=None, axis=alt.Axis(format="%d.%m", labelOverlap=True)),
            x2="end:T",
            y=alt.Y("sum(amount):Q", stack="zero", axis=_money_axis("Amount")),
            color=alt.Color("series:N", title=None,
                            scale=alt.Scale(domain=list(SERIES_COLORS),
                                            range=list(SERIES_COLORS.values())),
                            legend=alt.Legend(orient="top")),
            opacity=alt.condition(pick, alt.value(1.0), alt.value(MUTED)),
            tooltip=[alt.Tooltip("label:N", title=overview.bucket.capitalize()),
                     alt.Tooltip("series:N", title="Series"),
                     alt.Tooltip("amount_text:N", title="Amount"),
                     alt.Tooltip("orders:Q", title="Orders", format=",")],
        )
        .add_params(pick)
    )
    zero = alt.Chart(pd.DataFrame({"y": [0]})).mark_rule(color="#6b7280").encode(y="y:Q")
    return _spec(bars + zero)


def status_spec(overview: Overview) -> dict:
    """A donut of orders by status, in the statuses' order; the legend gives counts and shares."""
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
            opacity=alt.condition(pick, alt.value(1.0), alt.value(MUTED)),
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
        opacity=alt.condition(pick, alt.value(1.0), alt.value(MUTED)),
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
    return bars_spec(frame, "store_id", "store", "Store", STORE_COLOR)


def regions_spec(overview: Overview) -> dict:
    frame = pd.DataFrame([
        {"region": r.region, "captured": float(r.captured_amount),
         "captured_text": format_amount(r.captured_amount), "orders": r.orders}
        for r in overview.regions
    ])
    return bars_spec(frame, "region", "region", "Region", REGION_COLOR)


def reasons_spec(overview: Overview) -> dict:
    """Horizontal bars of the refunded amount by reason, in the reasons' order."""
    frame = pd.DataFrame([
        {"reason": r.reason, "refunded": float(r.refunded_amount),  # drawing only
         "refunded_text": format_amount(r.refunded_amount), "refunds": r.refunds}
        for r in overview.reasons
    ], columns=["reason", "refunded", "refunded_text", "refunds"])
    order = list(frame["reason"])
    base = alt.Chart(frame).encode(
        y=alt.Y("reason:N", sort=order, title=None, axis=alt.Axis(labelLimit=220)),
        x=alt.X("refunded:Q", axis=_money_axis("Refunded amount")),
    )
    bars = base.mark_bar(color=REASON_COLOR, cornerRadiusEnd=2).encode(
        tooltip=[alt.Tooltip("reason:N", title="Reason"),
                 alt.Tooltip("refunded_text:N", title="Refunded amount"),
                 alt.Tooltip("refunds:Q", title="Refunds", format=",")])
    text = base.mark_text(align="left", dx=4, fontSize=11, color="#4b5563").encode(
        text="refunded_text:N")
    return _spec(bars + text)


@st.cache_data(ttl=600, max_entries=500, show_spinner=False)
def cached_specs(key: str, _overview: Overview) -> dict[str, dict]:
    """The charts of one view (``key``: its figures' cache key), built once: Altair's schema
    validation took longer than the rest of the page on every run."""
    return {"series": series_spec(_overview), "statuses": status_spec(_overview),
            "stores": stores_spec(_overview), "regions": regions_spec(_overview),
            "reasons": reasons_spec(_overview)}


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
