"""The view the user is looking at — filters, search, sort, page — kept once per session.

The canonical view lives in ``st.session_state["view.query"]`` / ``["view.page"]``; widgets are
initialised from it when they appear and write back to it in their ``on_change`` callbacks, so the
Orders and Overview pages share one view. It is mirrored into the URL's query parameters, and a
URL that was typed, pasted or bookmarked (one that differs from what the app last wrote) wins.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core.errors import InvalidQuery
from core.query import (
    COLUMNS,
    URL_KEYS,
    OrderQuery,
    from_url_params,
    to_url_params,
)
from core.schema import CHANNELS, STATUSES
from core.store import ScopeOptions
from ui.text import as_text

QUERY, PAGE, URL_WRITTEN, NOTICES = "view.query", "view.page", "view.url", "view.notices"

PRESETS = (
    "Any time",
    "Today",
    "Last 7 days",
    "Last 30 days",
    "Last 90 days",
    "This month",
    "Last month",
    "This year",
    "Last 12 months",
    "Custom",
)

# widget key → (OrderQuery field, widget value → field value, field value → widget value)
_FIELDS = {
    "filters.status": ("statuses", tuple, list),
    "filters.channel": ("channels", tuple, list),
    "filters.le": ("legal_entities", tuple, list),
    "filters.region": ("regions", tuple, list),
    "filters.store": ("stores", tuple, list),
    "orders.search": ("search", lambda v: (v or "").strip(), str),
    "orders.sort": ("sort", str, str),
    "orders.desc": ("descending", bool, bool),
}


def preset_range(preset: str, today: date) -> tuple[date, date] | tuple[()]:
    """The dates a quick period preset stands for, inclusive."""
    first_of_month = today.replace(day=1)
    ranges = {
        "Today": (today, today),
        "Last 7 days": (today - timedelta(days=6), today),
        "Last 30 days": (today - timedelta(days=29), today),
        "Last 90 days": (today - timedelta(days=89), today),
        "This month": (first_of_month, today),
        "Last month": ((first_of_month - timedelta(days=1)).replace(day=1),
                       first_of_month - timedelta(days=1)),
        "This year": (today.replace(month=1, day=1), today),
        "Last 12 months": (today - timedelta(days=364), today),
    }
    return ranges.get(preset, ())


def _today(tz) -> date:
    return datetime.now(tz).date()


def _current_page() -> str:
    ctx = get_script_run_ctx()
    return ctx.page_script_hash if ctx else ""


def load_view(options: ScopeOptions) -> tuple[OrderQuery, int]:
    """The session's view; on a new session or a changed URL, read from the URL first."""
    # A widget belongs to the page that drew it: arriving on another page, the filter widgets are
    # drawn anew from the view, or they would show the previous page's state as empty.
    if st.session_state.get("view.drawn_on") != _current_page():
        for key in list(_FIELDS) + ["filters.period", "filters.preset"]:
            st.session_state.pop(key, None)
        st.session_state["view.drawn_on"] = _current_page()
    url = {key: st.query_params.get_all(key) for key in URL_KEYS if key in st.query_params}
    if QUERY not in st.session_state or (url and url != st.session_state.get(URL_WRITTEN)):
        query, page, problems = from_url_params(
            url,
            legal_entities=options.legal_entities,
            regions=options.regions,
            stores=tuple(store_id for store_id, _ in options.stores),
        )
        st.session_state[QUERY], st.session_state[PAGE] = query, page
        st.session_state[NOTICES] = problems
        for key in list(_FIELDS) + ["filters.period", "filters.preset"]:
            st.session_state.pop(key, None)
    return st.session_state[QUERY], st.session_state[PAGE]


def save_view(query: OrderQuery, page: int) -> None:
    """Keep the view and mirror it into the URL (only page-independent keys are touched)."""
    st.session_state[QUERY], st.session_state[PAGE] = query, page
    params = to_url_params(query, page)
    written = {k: v if isinstance(v, list) else [v] for k, v in params.items()}
    if written != st.session_state.get(URL_WRITTEN) or any(k not in st.query_params for k in params):
        for key in URL_KEYS:
            if key in st.query_params and key not in params:
                del st.query_params[key]
        for key, value in params.items():
            st.query_params[key] = value
    st.session_state[URL_WRITTEN] = written


def show_notices() -> None:
    # The messages quote what the URL or a widget held: shown as text, never as markup.
    for message in st.session_state.pop(NOTICES, []) or []:
        st.warning(as_text(message))
    if error := st.session_state.pop("view.error", None):
        st.error(as_text(error))


def _init_widget(key: str, value) -> None:
    if key not in st.session_state:
        st.session_state[key] = value


def _apply_widgets() -> None:
    """on_change: copy the rendered widgets' values into the view; page back to 1."""
    query = st.session_state[QUERY]
    changes = {}
    for key, (field, to_field, _) in _FIELDS.items():
        if key in st.session_state:
            changes[field] = to_field(st.session_state[key])
    if "filters.period" in st.session_state:
        period = tuple(st.session_state["filters.period"] or ())
        changes["start"] = period[0] if period else None
        changes["end"] = period[1] if len(period) > 1 else None
    try:
        st.session_state[QUERY] = query.with_changes(**changes)
    except InvalidQuery as exc:
        st.session_state["view.error"] = str(exc)
        return
    st.session_state[PAGE] = 1


def _on_period_change() -> None:
    st.session_state["filters.preset"] = "Custom" if st.session_state["filters.period"] else "Any time"
    _apply_widgets()


def _on_preset_change(tz) -> None:
    preset = st.session_state["filters.preset"]
    if preset != "Custom":
        st.session_state["filters.period"] = preset_range(preset, _today(tz))
    _apply_widgets()


def _clear_filters() -> None:
    query = st.session_state[QUERY]
    st.session_state[QUERY] = OrderQuery(sort=query.sort, descending=query.descending)
    st.session_state[PAGE] = 1
    for key in list(_FIELDS) + ["filters.period", "filters.preset"]:
        if key.startswith("filters."):
            st.session_state.pop(key, None)
    st.session_state.pop("orders.search", None)


def filter_sidebar(options: ScopeOptions, tz, tz_name: str) -> None:
    """The sidebar filters: Period, Status, Channel, Legal entity, Region, Store."""
    query: OrderQuery = st.session_state[QUERY]
    period = tuple(d for d in (query.start, query.end) if d)
    _init_widget("filters.period", period)
    _init_widget("filters.preset", _matching_preset(period, tz))
    for key, (field, _, to_widget) in _FIELDS.items():
        if key.startswith("filters."):
            _init_widget(key, to_widget(getattr(query, field)))
    store_names = dict(options.stores)

    with st.sidebar:
        st.subheader("Filters")
        st.selectbox("Quick period", PRESETS, key="filters.preset",
                     on_change=_on_preset_change, args=(tz,))
        st.date_input("Period", key="filters.period", format="DD.MM.YYYY",
                      on_change=_on_period_change,
                      help="Inclusive dates in the display time zone.")
        st.caption(f"Time zone: {as_text(tz_name)}")
        st.multiselect("Status", STATUSES, key="filters.status", on_change=_apply_widgets,
                       placeholder="Any status")
        st.multiselect("Channel", CHANNELS, key="filters.channel", on_change=_apply_widgets,
                       placeholder="Any channel")
        st.multiselect("Legal entity", options.legal_entities, key="filters.le",
                       on_change=_apply_widgets, placeholder="Any legal entity")
        st.multiselect("Region", options.regions, key="filters.region",
                       on_change=_apply_widgets, placeholder="Any region")
        st.multiselect("Store", list(store_names), key="filters.store",
                       format_func=lambda sid: f"{store_names.get(sid, sid)} ({sid})",
                       on_change=_apply_widgets, placeholder="Any store")
        st.button("Clear filters", on_click=_clear_filters, disabled=not query.is_filtered,
                  width="stretch")


def _matching_preset(period: tuple, tz) -> str:
    if not period:
        return "Any time"
    today = _today(tz)
    for preset in PRESETS:
        if preset_range(preset, today) == period:
            return preset
    return "Custom"


def search_sort_bar() -> None:
    """Search, Sort by and Descending, laid out in one row of the Orders page."""
    query: OrderQuery = st.session_state[QUERY]
    for key, (field, _, to_widget) in _FIELDS.items():
        if key.startswith("orders."):
            _init_widget(key, to_widget(getattr(query, field)))
    search_col, sort_col, desc_col = st.columns([5, 3, 1.4], vertical_alignment="bottom")
    search_col.text_input("Search", key="orders.search", on_change=_apply_widgets,
                          placeholder="Order ID, email or phone", max_chars=200)
    sort_col.selectbox("Sort by", list(COLUMNS), key="orders.sort", on_change=_apply_widgets)
    desc_col.toggle("Descending", key="orders.desc", on_change=_apply_widgets)
