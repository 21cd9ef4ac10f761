"""The view the user is looking at — filters, search, sort, page — kept once per session.

The canonical view lives in ``st.session_state["view.query"]`` / ``["view.page"]``; widgets are
initialised from it when they appear and write back to it in their ``on_change`` callbacks, so the
Orders and Overview pages share one view; a page that changes the view itself (a click on an
Overview chart) calls ``set_view``, so the widgets' keys are known to this module alone. The view
is mirrored into the URL's query parameters. The URL is read when a view comes from outside the
session's own widgets: a new session (a link, a bookmark, a reload), a page switch that carries a
view, the browser's Back and Forward.

Why every widget is drawn with its current value as its default: Streamlit sends a value set
through session state to the browser once, with that run's element, and a browser that mounts
the widget later, from a later run's element, shows the element's default instead. That happens
right after sign-in: the sign-in cookie component reruns the page before the browser has loaded
the code of the widgets it has not shown yet, so the toggle came up off (Streamlit's default)
while the view was "newest first", and the next change anywhere sent that "off" back as the
user's choice. A value the app sets itself (through session state) is kept as pending until a
run has drawn its widget, so that it still reaches the browser when the run that set it was
interrupted before drawing it.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core.errors import InvalidQuery
from core.query import (
    DEFAULT_SORT,
    SORT_LABELS,
    URL_KEYS,
    OrderQuery,
    from_url_params,
    to_url_params,
)
from core.db import ScopeOptions
from core.status import CHANNELS, STATUSES
from core.i18n import N_
from ui.i18n import _, current_language, words
from ui.text import as_text

QUERY, PAGE, URL_WRITTEN, NOTICES = "view.query", "view.page", "view.url", "view.notices"
PENDING = "view.pending"  # widget key -> a value the app set that no run has drawn yet

# The values kept in session state are the English names; the box shows them translated.
PRESETS = (
    N_("Any time"),
    N_("Today"),
    N_("Last 7 days"),
    N_("Last 30 days"),
    N_("Last 90 days"),
    N_("This month"),
    N_("Last month"),
    N_("This year"),
    N_("Last 12 months"),
    N_("Custom"),
)
# Data values (statuses, channels) are stored and filtered by their English keys, shown translated.
VALUE_NAMES = {"Pending": N_("Pending"), "Completed": N_("Completed"), "Cancel": N_("Cancel"),
               "Return": N_("Return"), "online": N_("online"), "offline": N_("offline")}


def shown_value(value: object, t=None) -> str:
    """A status or a channel in the session's language, or that of ``t`` (any other value as
    it is)."""
    t = t or _
    return t(VALUE_NAMES[value]) if value in VALUE_NAMES else str(value)


def value_names():
    """``shown_value`` bound to the session's language now (a widget's ``format_func``)."""
    t = words()
    return lambda value: shown_value(value, t)

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
_WIDGETS = (*_FIELDS, "filters.period", "filters.preset")
_SIDEBAR_WIDGETS = tuple(key for key in _WIDGETS if key.startswith("filters."))


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


def _is_history_step() -> bool:
    """Whether the browser's Back or Forward button started this run."""
    ctx = get_script_run_ctx()
    return bool(ctx and getattr(ctx, "is_history_navigation", False))


def _pending() -> dict:
    return st.session_state.setdefault(PENDING, {})


def _push(key: str, value) -> None:
    """Set a widget's value from the app; it stays pending until a run has drawn the widget."""
    st.session_state[key] = value
    _pending()[key] = value


# The widgets whose options are shown in the session's language (``format_func``).
RELABELLED = ("filters.preset", "filters.status", "filters.channel", "orders.sort",
              "refunds.sort", "refunds.reason")


def relabel_widgets() -> None:
    """After a change of language: send these widgets' values to the browser again. A widget
    with a key keeps its identity when its options' labels change, and the browser went on
    showing the old label ("Order date" in a Polish sort box) until the value was sent anew."""
    for key in RELABELLED:
        if key in st.session_state:
            _push(key, st.session_state[key])


def _forget_widgets(keys: tuple[str, ...] = _WIDGETS) -> None:
    """Drop these widgets' values (by default the filter, search and sort widgets'): they are
    drawn anew from the view."""
    for key in keys:
        st.session_state.pop(key, None)
        _pending().pop(key, None)


def load_view(options: ScopeOptions) -> tuple[OrderQuery, int]:
    """The session's view; read from the URL when a view comes from outside the session."""
    # A widget belongs to the page that drew it: arriving on another page, the filter widgets are
    # drawn anew from the view, or they would show the previous page's state as empty.
    arrived = st.session_state.get("view.drawn_on") != _current_page()
    if arrived:
        _forget_widgets()
        st.session_state["view.drawn_on"] = _current_page()
    url = {key: st.query_params.get_all(key) for key in URL_KEYS if key in st.query_params}
    # On one page the URL only mirrors the view: a rerun carries the URL the browser had when it
    # sent it, which can be older than the app's last write, and reading it as a typed one
    # undid the user's latest change.
    new_url = url != st.session_state.get(URL_WRITTEN)
    if QUERY not in st.session_state or (new_url and (_is_history_step() or (arrived and url))):
        query, page, problems = from_url_params(
            url,
            legal_entities=options.legal_entities,
            regions=options.regions,
            stores=tuple(store_id for store_id, _ in options.stores),
        )
        st.session_state[QUERY], st.session_state[PAGE] = query, page
        st.session_state[NOTICES] = problems
        _forget_widgets()
    return st.session_state[QUERY], st.session_state[PAGE]


def save_view(query: OrderQuery, page: int, *, own: dict | None = None,
              own_keys: tuple[str, ...] = ()) -> None:
    """Keep the view and mirror it into the URL (only page-independent keys are touched).

    A page with a list of its own (the Refunds register) passes its own URL parameters as
    ``own`` (under ``own_keys``): the URL then holds the shared filters only, without the Orders
    page's search, sort and page, and the page's own parameters beside them."""
    st.session_state[QUERY], st.session_state[PAGE] = query, page
    if own is not None:
        query, page = query.with_changes(search="", sort=DEFAULT_SORT, descending=True), 1
    written = {k: v if isinstance(v, list) else [v] for k, v in to_url_params(query, page).items()}
    current = {key: st.query_params.get_all(key) for key in st.query_params}
    kept = {key: values for key, values in current.items()
            if key not in URL_KEYS and key not in own_keys}
    mine = {k: v if isinstance(v, list) else [v] for k, v in (own or {}).items()}
    wanted = kept | written | mine
    if wanted != current:
        # One write, so one message: key by key, a run interrupted between two writes left the
        # browser with a URL that was half this view and half the previous one.
        st.query_params.from_dict(wanted)
    st.session_state[URL_WRITTEN] = written


def show_notices() -> None:
    # The messages quote what the URL or a widget held: shown as text, never as markup.
    for message in st.session_state.pop(NOTICES, []) or []:
        st.warning(as_text(_shown_notice(message)))
    if error := st.session_state.pop("view.error", None):
        st.error(as_text(_shown_notice(error)))


def _shown_notice(message) -> str:
    """A notice (an ``OrderdeskError`` or its text) in the session's language."""
    from ui.i18n import error_text

    return error_text(message) if hasattr(message, "translated") else _(str(message))


def _init_widget(key: str, value) -> None:
    if key not in st.session_state:
        _push(key, value)


def _draw(widget, label: str, key: str, default: str, to_default=lambda value: value,
          **options) -> None:
    """Draw a widget whose value is in session state, with that value as its default too."""
    pending = _pending()
    if key in pending and pending[key] == st.session_state[key]:
        # Sent with this element (Streamlit warns when a widget also gets a default). Set again:
        # the run that set it may have been interrupted before it drew the widget.
        st.session_state[key] = pending[key]
        widget(label, key=key, **options)
    else:
        widget(label, key=key, **{default: to_default(st.session_state[key])}, **options)
    pending.pop(key, None)


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
        st.session_state["view.error"] = exc
        return
    st.session_state[PAGE] = 1


def _on_period_change() -> None:
    _push("filters.preset", "Custom" if st.session_state["filters.period"] else "Any time")
    _apply_widgets()


def _on_preset_change(tz) -> None:
    preset = st.session_state["filters.preset"]
    if preset != "Custom":
        _push("filters.period", preset_range(preset, _today(tz)))
    _apply_widgets()


def _clear_filters(on_clear=None) -> None:
    if on_clear is not None:
        on_clear()
    query = st.session_state[QUERY]
    st.session_state[QUERY] = OrderQuery(sort=query.sort, descending=query.descending)
    st.session_state[PAGE] = 1
    _forget_widgets((*_SIDEBAR_WIDGETS, "orders.search"))


def set_view(query: OrderQuery) -> None:
    """Make ``query`` the shared view, on its first page, from outside the sidebar (a click on a
    chart, a button): the sidebar's widgets are drawn anew from it on the next run."""
    st.session_state[QUERY], st.session_state[PAGE] = query, 1
    _forget_widgets(_SIDEBAR_WIDGETS)


def filter_sidebar(options: ScopeOptions, tz, tz_name: str, *, extra=None,
                   extra_filtered: bool = False, on_clear=None,
                   period_help: str = N_("Inclusive dates in the display time zone.")) -> None:
    """The sidebar filters: Period, Status, Channel, Legal entity, Region, Store; a page's own
    filters (``extra()``, drawn after Store), which "Clear filters" clears too (``on_clear``)."""
    query: OrderQuery = st.session_state[QUERY]
    period = tuple(d for d in (query.start, query.end) if d)
    _init_widget("filters.period", period)
    _init_widget("filters.preset", _matching_preset(period, tz))
    for key, (field, _parse, to_widget) in _FIELDS.items():
        if key.startswith("filters."):
            _init_widget(key, to_widget(getattr(query, field)))
    store_names = dict(options.stores)

    def choose(label: str, choices, key: str, placeholder: str, **more) -> None:
        _draw(st.multiselect, _(label), key, "default",
              lambda chosen: [value for value in chosen if value in choices],
              options=choices, on_change=_apply_widgets, placeholder=_(placeholder), **more)

    with st.sidebar:
        st.subheader(_("Filters"))
        _draw(st.selectbox, _("Quick period"), "filters.preset", "index", PRESETS.index,
              options=PRESETS, format_func=words(), on_change=_on_preset_change, args=(tz,))
        _draw(st.date_input, _("Period"), "filters.period", "value", tuple, format="DD.MM.YYYY",
              on_change=_on_period_change, help=_(period_help))
        st.caption(_("Time zone: {zone}").format(zone=as_text(tz_name)))
        choose(N_("Status"), STATUSES, "filters.status", N_("Any status"),
               format_func=value_names())
        choose(N_("Channel"), CHANNELS, "filters.channel", N_("Any channel"),
               format_func=value_names())
        choose(N_("Legal entity"), options.legal_entities, "filters.le", N_("Any legal entity"))
        choose(N_("Region"), options.regions, "filters.region", N_("Any region"))
        choose(N_("Store"), list(store_names), "filters.store", N_("Any store"),
               format_func=lambda sid: f"{store_names.get(sid, sid)} ({sid})")
        if extra is not None:
            extra()
        st.button(_("Clear filters"), on_click=_clear_filters, args=(on_clear,),
                  disabled=not (query.is_filtered or extra_filtered), width="stretch")


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
    for key, (field, _parse, to_widget) in _FIELDS.items():
        if key.startswith("orders."):
            _init_widget(key, to_widget(getattr(query, field)))
    # "По убыванию" needs more room than "Descending".
    search_col, sort_col, desc_col = st.columns(
        [5, 3, 1.4] if current_language() == "en" else [4.4, 3, 2], vertical_alignment="bottom")
    with search_col:
        _draw(st.text_input, _("Search"), "orders.search", "value", str,
              on_change=_apply_widgets, placeholder=_("Order ID, email or phone"), max_chars=200)
    with sort_col:
        _draw(st.selectbox, _("Sort by"), "orders.sort", "index", list(SORT_LABELS).index,
              options=list(SORT_LABELS), format_func=words(), on_change=_apply_widgets)
    with desc_col:
        _draw(st.toggle, _("Descending"), "orders.desc", "value", bool, on_change=_apply_widgets)
