"""The Overview's charts as specs (no session needed), and what a click on one narrows the view to."""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from core.db.figures import Breakdown, DayTotals, StatusTotals, StoreTotals
from core.overview import overview_of
from core.query import OrderQuery
from core.status import Channel, Status
from ui.charts import (
    PICK,
    SERIES_COLORS,
    STATUS_COLORS,
    narrowed_view,
    picked,
    regions_spec,
    series_spec,
    status_spec,
    stores_spec,
)

BREAKDOWN = Breakdown(
    days=(
        DayTotals(date(2026, 3, 2), Channel.ONLINE, 2, Decimal("1234567.89"), Decimal("10.01")),
        DayTotals(date(2026, 3, 3), Channel.OFFLINE, 1, Decimal("2.20"), Decimal("0.00")),
    ),
    statuses=(
        StatusTotals(Status.COMPLETED, 2, Decimal("1234567.89"), Decimal("10.01")),
        StatusTotals(Status.PENDING, 1, Decimal("2.20"), Decimal("0.00")),
    ),
    stores=(
        StoreTotals("S1", "One", "North", 2, Decimal("1234567.89")),
        StoreTotals("S2", "Two", "South", 1, Decimal("2.20")),
    ),
    undated_orders=0,
)
OVERVIEW = overview_of(BREAKDOWN, None, None, None)


def rows(spec: dict, layer: int = 0) -> list[dict]:
    """The data a spec (or one of its layers) draws."""
    data = spec["layer"][layer].get("data", spec.get("data")) if "layer" in spec else spec["data"]
    return spec["datasets"][data["name"]]


def pick_fields(spec: dict) -> list[str]:
    (param,) = spec["params"]
    assert param["name"] == PICK and param["select"]["on"] == "click"
    return param["select"]["fields"]


def test_the_series_draws_captured_up_and_refunded_down_with_exact_amount_texts():
    spec = series_spec(OVERVIEW)
    assert [(r["period"], r["series"], r["amount"], r["amount_text"], r["orders"])
            for r in rows(spec)] == [
        ("2026-03-02", "Captured · online", 1234567.89, "1,234,567.89", 2),
        ("2026-03-02", "Refunded · online", -10.01, "10.01", 2),
        ("2026-03-03", "Captured · offline", 2.2, "2.20", 1),  # nothing refunded: no bar
    ]
    assert rows(spec)[0]["label"] == "Mon 02.03.2026"
    color = spec["layer"][0]["encoding"]["color"]["scale"]
    assert dict(zip(color["domain"], color["range"])) == SERIES_COLORS
    assert pick_fields(spec) == ["period", "channel"]


def test_a_weekly_series_is_labelled_by_its_week():
    spec = series_spec(replace(OVERVIEW, bucket="week"))
    assert rows(spec)[0]["label"] == "Week of 02.03.2026"
    assert spec["layer"][0]["encoding"]["tooltip"][0]["title"] == "Week"


def test_the_status_donut_keeps_the_machines_order_and_colours():
    spec = status_spec(OVERVIEW)
    assert [(r["status"], r["share"], r["legend"], r["captured_text"]) for r in rows(spec)] == [
        ("Pending", "33.3%", "Pending · 1 (33.3%)", "2.20"),
        ("Completed", "66.7%", "Completed · 2 (66.7%)", "1,234,567.89"),
    ]
    scale = spec["encoding"]["color"]["scale"]
    assert scale["range"] == [STATUS_COLORS[Status.PENDING], STATUS_COLORS[Status.COMPLETED]]
    assert pick_fields(spec) == ["status"]


@pytest.mark.parametrize("spec_of, label, field", [
    (stores_spec, "One (S1)", "store_id"),
    (regions_spec, "North", "region"),
])
def test_bars_carry_what_a_click_narrows_by_and_their_exact_amount(spec_of, label, field):
    spec = spec_of(OVERVIEW)
    first = rows(spec)[0]
    assert label in first.values() and first["captured_text"] == "1,234,567.89"
    assert first["captured"] == 1234567.89
    assert pick_fields(spec) == [field]


@pytest.mark.parametrize("event", [None, {}, {"selection": {}}, {"selection": {PICK: []}}])
def test_no_click_picks_nothing(event):
    assert picked(event) is None


def test_a_click_picks_the_first_chosen_point():
    assert picked({"selection": {PICK: [{"status": "Return"}]}}) == {"status": "Return"}


VIEW = OrderQuery(start=date(2026, 3, 1), end=date(2026, 3, 4), search="@wp.pl",
                  statuses=("Completed",))


@pytest.mark.parametrize("chart, chosen, changes", [
    ("statuses", {"status": "Return"}, {"statuses": ("Return",)}),
    ("stores", {"store_id": "S2"}, {"stores": ("S2",)}),
    ("regions", {"region": "North"}, {"regions": ("North",)}),
    ("series", {"period": "2026-03-03", "channel": "offline"},
     {"channels": ("offline",), "start": date(2026, 3, 3), "end": date(2026, 3, 3)}),
])
def test_a_click_narrows_the_view_to_the_bar_or_slice(chart, chosen, changes):
    assert narrowed_view(OVERVIEW, VIEW, chart, chosen) == VIEW.with_changes(**changes)


def test_a_clicked_week_is_kept_within_the_view_period():
    weekly = replace(OVERVIEW, bucket="week")
    narrowed = narrowed_view(weekly, VIEW, "series", {"period": "2026-03-02", "channel": "online"})
    assert (narrowed.start, narrowed.end) == (date(2026, 3, 2), date(2026, 3, 4))


def test_without_a_click_the_view_stays():
    assert narrowed_view(OVERVIEW, VIEW, "stores", None) is None
