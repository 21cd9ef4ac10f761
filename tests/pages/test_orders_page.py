"""The Orders and Order pages through the real sign-in form (AppTest)."""
from __future__ import annotations

from datetime import date

import pytest

from tests.markdown_text import shown
from tests.pages.conftest import new_app, sign_in


def caption_text(at) -> str:
    return " | ".join(shown(c.value) for c in at.caption)


def table_ids(at) -> list[int]:
    frame = at.dataframe[0].value
    return [int(v) for v in frame["Order ID"]]


def in_scope_ids(sample, legal_entities=(), stores=()) -> set[int]:
    return {o["order_id"] for o in sample.orders
            if sample.store_of(o)["legal_entity"] in legal_entities or o["store_id"] in stores}


def test_nothing_is_shown_before_sign_in(app_env):
    at = new_app()
    at.run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    assert not at.dataframe
    assert "Orders" not in [t.value for t in at.title]


@pytest.mark.parametrize("params", [{"id": "1000"}, {"status": "Completed"}])
def test_deep_links_show_no_data_before_sign_in(app_env, params):
    at = new_app(params)
    at.run()
    assert not at.dataframe and not at.metric
    assert not any("Order 1000" in t.value for t in at.title)


def test_wrong_password_gives_one_generic_message(app_env):
    at = sign_in(new_app(), "admin", "wrong")
    assert [e.value for e in at.error] == ["Username or password is incorrect."]
    at = sign_in(new_app(), "nobody", "wrong")
    assert [e.value for e in at.error] == ["Username or password is incorrect."]
    assert not at.dataframe


def test_admin_sees_every_order_with_the_caption(app_env):
    _, sample = app_env
    at = sign_in(new_app(), "admin")
    assert not at.exception
    assert at.title[0].value == "Orders"
    assert len(table_ids(at)) == 15
    assert f"1–15 of {len(sample.orders):,} orders · page 1 of 20" in caption_text(at)
    newest = sorted(sample.orders, key=lambda o: (o["created_at"], o["order_id"]), reverse=True)
    assert table_ids(at) == [o["order_id"] for o in newest[:15]]


def test_viewer_sees_only_their_scope(app_env):
    _, sample = app_env
    at = sign_in(new_app(), "viewer")
    expected = in_scope_ids(sample, ("Alpha SRL",), ("S02",))
    assert f"of {len(expected):,} orders" in caption_text(at)
    assert set(table_ids(at)) <= expected
    visible_stores = {s["store_id"] for s in sample.stores
                      if s["legal_entity"] == "Alpha SRL" or s["store_id"] == "S02"}
    store_options = at.multiselect(key="filters.store").options
    assert {o.rsplit("(", 1)[1].rstrip(")") for o in store_options} == visible_stores
    # S02 belongs to Beta: its legal entity is a choice, narrowing to S02's orders only.
    assert at.multiselect(key="filters.le").options == ["Alpha SRL", "Beta Sp. z o.o."]


def test_filter_search_sort_and_pager(app_env):
    _, sample = app_env
    at = sign_in(new_app(), "admin")
    at.multiselect(key="filters.status").select("Return").run()
    returns = [o for o in sample.orders if o["status"] == "Return"]
    assert f"of {len(returns):,} orders" in caption_text(at)
    assert at.query_params["status"] in ("Return", ["Return"])

    at.selectbox(key="orders.sort").select("Captured amount").run()
    at.toggle(key="orders.desc").set_value(False).run()
    cheapest = sorted(returns, key=lambda o: (o["amount"], o["order_id"]))
    assert table_ids(at) == [o["order_id"] for o in cheapest[:15]]

    next_button = next(b for b in at.button if b.label == "Next")
    next_button.click().run()
    assert table_ids(at) == [o["order_id"] for o in cheapest[15:30]]
    assert "page 2 of" in caption_text(at)
    assert at.query_params["page"] in ("2", ["2"])

    at.text_input(key="orders.search").input("gmail").run()
    gmail = [o for o in returns if "gmail" in (o["email"] or "").lower()]
    assert f"of {len(gmail):,} orders · page 1 of" in caption_text(at)


def test_period_start_after_end_in_the_url_is_refused_with_a_message(app_env):
    at = new_app({"from": "2026-05-01", "to": "2026-04-01", "sort": "evil; DROP", "page": "abc"})
    at = sign_in(at, "admin")
    warnings = " ".join(shown(w.value) for w in at.warning)
    assert "starts (01.05.2026) after it ends (01.04.2026)" in warnings
    assert "Ignored the sort" in warnings and "Ignored the page" in warnings
    assert not at.exception


def test_forged_store_in_the_url_does_not_widen_the_scope(app_env):
    _, sample = app_env
    at = sign_in(new_app({"store": "S03"}), "viewer")
    assert any("S03" in w.value for w in at.warning)
    expected = in_scope_ids(sample, ("Alpha SRL",), ("S02",))
    assert f"of {len(expected):,} orders" in caption_text(at)


def test_page_past_the_last_shows_the_last(app_env):
    at = sign_in(new_app({"page": "999"}), "admin")
    assert "page 20 of 20" in caption_text(at)


def test_order_page_shows_details_in_scope_and_not_found_otherwise(app_env):
    _, sample = app_env
    order = next(o for o in sample.orders if sample.store_of(o)["legal_entity"] == "Alpha SRL")
    at = sign_in(new_app(), "viewer")
    at.switch_page("screens/order.py").run()
    at.query_params["id"] = str(order["order_id"])
    at.run()
    assert at.title[0].value == f"Order {order['order_id']}"
    assert "Contents of the order" in [h.value for h in at.subheader]
    outside = next(o for o in sample.orders if sample.store_of(o)["legal_entity"] == "Gamma LLC"
                   and o["store_id"] != "S02")
    for forged in (str(outside["order_id"]), "424242", "abc", "1 OR 1=1"):
        at.query_params["id"] = forged
        at.run()
        assert [e.value for e in at.error] == ["Order not found"], forged
        assert not at.metric


@pytest.mark.parametrize("page", ["orders.py", "order.py"])
def test_a_page_file_run_on_its_own_shows_nothing_before_sign_in(app_env, page):
    # Each page checks the user itself: nothing shows even if its file is run as the main script.
    from streamlit.testing.v1 import AppTest

    from tests.pages.conftest import APP

    at = AppTest.from_file(APP.replace("app.py", f"screens/{page}"), default_timeout=30)
    at.query_params["id"] = "1000"
    at.run()
    assert [i.value for i in at.info] == ["Please sign in to see orders."]
    assert not at.dataframe and not at.metric and not at.title


def test_a_partial_refund_shows_in_the_list(writable):
    from decimal import Decimal

    from core import actions
    from core.users import load_users
    from ui.context import get_settings, get_database

    root, sample = writable
    order = next(o for o in sample.orders if o["status"] == "Completed"
                 and o["amount"] > Decimal("1.00"))
    admin = load_users(root / "users.yaml")["admin"]
    actions.refund_order(get_database(), admin, order["order_id"], idempotency_key="t-partial",
                         amount="1.00", reason="test", tz=get_settings().tz)
    at = sign_in(new_app({"q": str(order["order_id"])}), "admin")
    frame = at.dataframe[0].value
    row = frame[frame["Order ID"] == str(order["order_id"])].iloc[0]
    assert row["Status"] == "Completed · partially refunded"
    assert row["Refunded amount"] == "1.00"


@pytest.mark.parametrize("change", ["filter", "search", "sort"])
def test_a_prepared_export_is_dropped_once_the_view_changes(app_env, change):
    from ui.exporting import PREPARED

    at = sign_in(new_app(), "viewer")
    next(b for b in at.button if b.label == "Export to xlsx").click().run()
    assert "ready to download" in caption_text(at)
    assert isinstance(at.session_state[PREPARED][1], bytes)
    if change == "filter":
        at.multiselect(key="filters.status").select("Completed").run()
    elif change == "search":
        at.text_input(key="orders.search").input("gmail").run()
    else:
        at.selectbox(key="orders.sort").select("Captured amount").run()
    assert not at.exception
    assert PREPARED not in at.session_state
    assert "ready to download" not in caption_text(at)
    assert not [b for b in at.get("download_button")]


def test_a_prepared_export_stays_while_the_view_is_the_same(app_env):
    from ui.exporting import PREPARED

    at = sign_in(new_app(), "viewer")
    next(b for b in at.button if b.label == "Export to xlsx").click().run()
    next(b for b in at.button if b.label == "Refresh").click().run()
    assert isinstance(at.session_state[PREPARED][1], bytes)
    assert "ready to download" in caption_text(at)


@pytest.mark.parametrize(("params", "notice"), [
    ({"to": "9999-12-31"}, "end 9999-12-31 is outside"),
    ({"from": "0001-01-01"}, "start 0001-01-01 is outside"),
    ({"from": "99999-01-01"}, "start “99999-01-01”: not a date"),
    ({"to": "31/12/2026"}, "end “31/12/2026”: not a date"),
])
@pytest.mark.parametrize("page", ["screens/orders.py", "screens/overview.py"])
def test_a_url_date_outside_the_calendar_gives_a_notice_not_a_failure(app_env, params, notice,
                                                                      page):
    _, sample = app_env
    at = sign_in(new_app(params), "admin")
    assert not at.exception and not at.error
    assert any(notice in shown(w.value) for w in at.warning)
    assert f"of {len(sample.orders):,} orders" in caption_text(at)
    if page != "screens/orders.py":  # the clamped period carried over, and summed
        at.switch_page(page).run()
        assert not at.exception and not at.error
        assert {m.label: m.value for m in at.metric}["Orders"] == f"{len(sample.orders):,}"


def test_a_prepared_export_is_dropped_when_the_view_changes_on_the_overview(app_env):
    from ui.exporting import PREPARED

    at = sign_in(new_app(), "viewer")
    next(b for b in at.button if b.label == "Export to xlsx").click().run()
    at.switch_page("screens/overview.py").run()
    assert isinstance(at.session_state[PREPARED][1], bytes)  # the same view
    at.multiselect(key="filters.status").select("Completed").run()
    assert not at.exception
    assert PREPARED not in at.session_state


# --- the view's widgets as a browser draws them -----------------------------------------------

VIEW_WIDGETS = (  # (AppTest accessor, key); the Store filter shows store names, not its values
    ("selectbox", "filters.preset"), ("date_input", "filters.period"),
    ("multiselect", "filters.status"), ("multiselect", "filters.channel"),
    ("multiselect", "filters.le"), ("multiselect", "filters.region"),
    ("text_input", "orders.search"), ("selectbox", "orders.sort"), ("toggle", "orders.desc"),
)


def drawn_late(widget):
    """What a browser shows for a widget it mounts from this run's element, holding no value of
    its own for it yet: the element's value when the run sends one, else its default. (The
    browser loads a widget's code the first time that kind of widget is shown, so right after
    sign-in it can mount the widgets from a later run's element than the one that set them.)"""
    proto = widget.proto
    kind = type(proto).__name__
    if kind == "Selectbox":
        return proto.raw_value if proto.set_value else proto.options[proto.default]
    if kind == "MultiSelect":
        return list(proto.raw_values) if proto.set_value else [proto.options[i] for i in proto.default]
    if kind == "DateInput":
        shown = proto.value if proto.set_value else proto.default
        return tuple(date.fromisoformat(day.replace("/", "-")) for day in shown)
    return proto.value if proto.set_value else proto.default


def view_values(at) -> dict:
    values = {key: getattr(at, kind)(key=key).value for kind, key in VIEW_WIDGETS}
    values["filters.period"] = tuple(values["filters.period"] or ())
    return values


def shown_late(at) -> dict:
    return {key: drawn_late(getattr(at, kind)(key=key)) for kind, key in VIEW_WIDGETS}


@pytest.mark.parametrize("params", [
    {},
    {"status": "Return", "channel": "online", "q": "gmail", "sort": "Captured amount",
     "desc": "0", "from": "2026-03-01", "to": "2026-03-31"},
])
def test_widgets_drawn_late_by_the_browser_show_the_view(app_env, params):
    at = sign_in(new_app(params), "admin")
    assert view_values(at)["orders.desc"] is ("desc" not in params)
    for _ in range(2):  # the sign-in cookie component's rerun, then any other
        at.run()
        assert shown_late(at) == view_values(at)


def test_descending_stays_on_when_the_browser_drew_the_toggle_late(app_env):
    _, sample = app_env
    at = sign_in(new_app(), "admin")
    at.run()  # the sign-in cookie component's rerun
    toggle = at.toggle(key="orders.desc")
    toggle.set_value(drawn_late(toggle))  # what the browser then sends with the next change
    at.multiselect(key="filters.status").select("Return").run()

    assert at.toggle(key="orders.desc").value is True
    assert "desc" not in at.query_params
    returns = [o for o in sample.orders if o["status"] == "Return"]
    newest = sorted(returns, key=lambda o: (o["created_at"], o["order_id"]), reverse=True)
    assert table_ids(at) == [o["order_id"] for o in newest[:15]]


def test_a_rerun_carrying_an_older_url_keeps_the_latest_change(app_env):
    _, sample = app_env
    at = sign_in(new_app(), "admin")
    at.multiselect(key="filters.status").select("Return").run()
    older_url = {key: at.query_params[key] for key in at.query_params}
    at.text_input(key="orders.search").input("gmail").run()
    assert "q" in at.query_params
    # The next change leaves the browser before it has applied the URL the search wrote.
    for key in list(at.query_params):
        del at.query_params[key]
    for key, value in older_url.items():
        at.query_params[key] = value
    at.selectbox(key="orders.sort").select("Captured amount").run()

    assert at.text_input(key="orders.search").value == "gmail"
    assert at.multiselect(key="filters.status").value == ["Return"]
    assert at.selectbox(key="orders.sort").value == "Captured amount"
    gmail = [o for o in sample.orders
             if o["status"] == "Return" and "gmail" in (o["email"] or "").lower()]
    priciest = sorted(gmail, key=lambda o: (o["amount"], o["order_id"]), reverse=True)
    assert f"of {len(gmail):,} orders" in caption_text(at)
    assert table_ids(at) == [o["order_id"] for o in priciest[:15]]
    assert at.query_params["q"] in ("gmail", ["gmail"])
