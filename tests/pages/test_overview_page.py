"""The Overview page through the real sign-in form (AppTest): tiles, scope, the shared view."""
from __future__ import annotations

from datetime import date, timezone
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from core.money import format_amount
from tests.markdown_text import shown
from tests.pages.conftest import new_app, sign_in

TZ = ZoneInfo("Europe/Warsaw")  # app_env's ORDERDESK_TZ


def tiles(at) -> dict[str, tuple[str, str]]:
    return {m.label: (m.value, m.delta) for m in at.metric}


def captions(at) -> str:
    return " | ".join(shown(c.value) for c in at.caption)


def local_day(order: dict) -> date:
    return order["created_at"].replace(tzinfo=timezone.utc).astimezone(TZ).date()


def expected_tiles(orders: list[dict]) -> dict[str, str]:
    captured = sum((o["amount"] for o in orders), Decimal("0.00"))
    refunded = sum((o["refunded_amount"] for o in orders), Decimal("0.00"))
    cancelled = sum(o["status"] == "Cancel" for o in orders)

    def percent(part: Decimal, whole: Decimal) -> str:
        ratio = (part / whole).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
        return f"{ratio * 100:.2f}%"

    return {
        "Orders": f"{len(orders):,}",
        "Captured amount": format_amount(captured),
        "Refunded amount": format_amount(refunded),
        "Refund rate": percent(refunded, captured),
        "Average order value": format_amount(captured / len(orders)),
        "Share cancelled": percent(Decimal(cancelled), Decimal(len(orders))),
    }


def open_overview(username: str):
    at = sign_in(new_app(), username)
    at.switch_page("screens/overview.py").run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Overview"]
    return at


def test_admin_tiles_show_every_order_without_a_comparison(app_env):
    _, sample = app_env
    at = open_overview("admin")
    assert {label: value for label, (value, _) in tiles(at).items()} == expected_tiles(
        sample.orders)
    assert all(not delta for _, delta in tiles(at).values())
    assert "No comparison" in captions(at)
    assert any(b.label == "Compare last 30 days" for b in at.button)
    assert [s.value for s in at.main.subheader] == [
        "Captured and refunded amount per week", "Orders by status",
        "Regions by captured amount", "Top 10 stores by captured amount",
        "Refunded amount by reason"]
    downloads = at.get("download_button")
    assert [d.proto.label for d in downloads] == ["Download chart data"] * 5

    # "Compare last 30 days" gives the shared view a period, and the tiles a comparison.
    next(b for b in at.button if b.label == "Compare last 30 days").click().run()
    assert not at.exception
    assert at.selectbox(key="filters.preset").value == "Last 30 days"
    assert "Changes compare" in captions(at)
    assert tiles(at)["Orders"] == ("0", "0")  # the sample ends in July 2026


def test_a_viewer_sees_only_the_figures_of_their_scope(app_env):
    _, sample = app_env
    at = open_overview("viewer")
    mine = [o for o in sample.orders
            if sample.store_of(o)["legal_entity"] == "Alpha SRL" or o["store_id"] == "S02"]
    assert len(mine) < len(sample.orders)
    assert {label: value for label, (value, _) in tiles(at).items()} == expected_tiles(mine)


def test_filters_set_on_orders_carry_over_to_overview_and_back(app_env):
    _, sample = app_env
    at = sign_in(new_app(), "refunder")
    assert at.title[0].value == "Orders"
    at.multiselect(key="filters.status").select("Completed").select("Return").run()
    at.multiselect(key="filters.channel").select("offline").run()
    at.switch_page("screens/overview.py").run()
    assert not at.exception
    assert at.multiselect(key="filters.status").value == ["Completed", "Return"]
    mine = [o for o in sample.orders
            if sample.store_of(o)["legal_entity"] == "Beta Sp. z o.o."
            and o["status"] in ("Completed", "Return") and o["channel"] == "offline"]
    assert tiles(at)["Orders"][0] == f"{len(mine):,}"
    assert tiles(at)["Captured amount"][0] == format_amount(sum(o["amount"] for o in mine))
    assert "Status: Completed, Return; Channel: offline" in captions(at)

    # A filter changed on Overview is the Orders page's filter too.
    at.multiselect(key="filters.status").unselect("Return").run()
    completed = [o for o in mine if o["status"] == "Completed"]
    assert tiles(at)["Orders"][0] == f"{len(completed):,}"
    at.switch_page("screens/orders.py").run()
    assert f"of {len(completed):,} orders" in captions(at)


def test_filters_changed_on_overview_show_in_the_orders_sidebar(app_env):
    at = sign_in(new_app(), "admin")
    at.switch_page("screens/overview.py").run()
    at.multiselect(key="filters.status").select("Return").run()
    at.switch_page("screens/orders.py").run()
    assert at.multiselect(key="filters.status").value == ["Return"]


def test_the_orders_search_is_summarised_and_shown(app_env):
    _, sample = app_env
    at = sign_in(new_app(), "admin")
    at.text_input(key="orders.search").input("anna@wp").run()
    at.switch_page("screens/overview.py").run()
    matching = [o for o in sample.orders if "anna@wp" in (o["email"] or "").lower()]
    assert tiles(at)["Orders"][0] == f"{len(matching):,}"
    assert "Search (from the Orders page): e-mail contains “anna@wp”" in captions(at)

    # A search that finds nothing: zeros, a message, no charts.
    at.switch_page("screens/orders.py").run()
    at.text_input(key="orders.search").input("nobody@nowhere.test").run()
    at.switch_page("screens/overview.py").run()
    assert tiles(at)["Orders"][0] == "0"
    assert tiles(at)["Refund rate"][0] == "–"
    assert [i.value for i in at.info] == ["No orders match these filters and search."]
    assert not at.main.subheader


def test_a_period_is_compared_with_the_period_before(app_env):
    _, sample = app_env
    at = sign_in(new_app(), "admin")
    at.date_input(key="filters.period").set_value((date(2026, 3, 1), date(2026, 3, 31))).run()
    at.switch_page("screens/overview.py").run()
    now = [o for o in sample.orders if date(2026, 3, 1) <= local_day(o) <= date(2026, 3, 31)]
    before = [o for o in sample.orders if date(2026, 1, 29) <= local_day(o) <= date(2026, 2, 28)]
    shown = tiles(at)
    assert {label: value for label, (value, _) in shown.items()} == expected_tiles(now)
    captured_now = sum(o["amount"] for o in now)
    captured_before = sum(o["amount"] for o in before)
    change = (captured_now - captured_before) / captured_before * 100
    assert shown["Captured amount"][1] == f"{change:+.1f}%"
    order_change = Decimal(len(now) - len(before)) / len(before) * 100
    assert shown["Orders"][1] == f"{order_change:+.1f}%"
    assert shown["Refund rate"][1].endswith(" pp")
    assert "Changes compare 01.03.2026 – 31.03.2026 with 29.01.2026 – 28.02.2026" in captions(at)
    assert at.query_params["from"] in ("2026-03-01", ["2026-03-01"])


def click(at, chart: str, **fields):
    """A click on a bar or slice, as the browser reports it: the chart's point selection."""
    at.session_state[f"overview.{chart}"] = {"selection": {"pick": [fields]}}
    return at.run()


def test_a_click_on_a_slice_lists_its_orders_on_the_orders_page(app_env):
    _, sample = app_env
    at = open_overview("viewer")
    click(at, "statuses", status="Return")
    assert not at.exception
    assert at.title[0].value == "Orders"
    assert at.multiselect(key="filters.status").value == ["Return"]
    mine = [o for o in sample.orders
            if (sample.store_of(o)["legal_entity"] == "Alpha SRL" or o["store_id"] == "S02")
            and o["status"] == "Return"]
    assert f"of {len(mine):,} orders" in captions(at)
    assert at.query_params["status"] in ("Return", ["Return"])


def test_a_click_on_a_day_keeps_the_view_and_narrows_it_to_that_day_and_channel(app_env):
    _, sample = app_env
    at = sign_in(new_app(), "admin")
    at.date_input(key="filters.period").set_value((date(2026, 3, 1), date(2026, 3, 31))).run()
    at.multiselect(key="filters.status").select("Completed").run()
    at.switch_page("screens/overview.py").run()
    click(at, "series", period="2026-03-09", channel="online")
    assert not at.exception
    assert at.title[0].value == "Orders"
    assert at.date_input(key="filters.period").value == (date(2026, 3, 9), date(2026, 3, 9))
    assert at.multiselect(key="filters.channel").value == ["online"]
    assert at.multiselect(key="filters.status").value == ["Completed"]
    that_day = [o for o in sample.orders if local_day(o) == date(2026, 3, 9)
                and o["channel"] == "online" and o["status"] == "Completed"]
    assert f"of {len(that_day):,} orders" in captions(at)


def test_a_click_on_a_store_or_a_region_lists_its_orders(app_env):
    _, sample = app_env
    at = open_overview("admin")
    click(at, "stores", store_id="S03")
    assert at.title[0].value == "Orders"
    assert at.multiselect(key="filters.store").value == ["S03"]
    assert f"of {sum(o['store_id'] == 'S03' for o in sample.orders):,} orders" in captions(at)

    at.switch_page("screens/overview.py").run()
    region = sample.store_of({"store_id": "S03"})["region"]
    click(at, "regions", region=region)
    assert at.title[0].value == "Orders"
    assert at.multiselect(key="filters.region").value == [region]
    assert at.multiselect(key="filters.store").value == ["S03"]  # the rest of the view is kept
    assert f"of {sum(o['store_id'] == 'S03' for o in sample.orders):,} orders" in captions(at)
