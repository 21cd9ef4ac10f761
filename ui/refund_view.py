"""The Refunds page's own view: reasons, who refunded, its search, sort and page, its widgets and
its part of the URL, and its cached reads.

The shared view (the sidebar's filters, ``ui.filters``) is the Orders and Overview pages' one:
choosing a store here chooses it there. What only the register has is kept beside it, the same
way (``ui.filters``' module docstring says why every widget is drawn from the kept value): the
canonical ``RefundQuery`` parts in ``st.session_state[VIEW]`` / ``[PAGE]``, the widgets written
back in their ``on_change``, the URL read when the view comes from outside the session.
"""
from __future__ import annotations

import streamlit as st

from core.db import refunds as register
from core.query import OrderQuery
from core.refunds import (
    REGISTER_REASONS,
    SORT_LABELS,
    URL_KEYS,
    RefundQuery,
    from_url_params,
    to_url_params,
)
from core.i18n import N_
from core.users import Scope
from ui.context import get_database, get_settings
from ui.filters import (
    NOTICES,
    _current_page,
    _draw,
    _init_widget,
    _is_history_step,
    _pending,
    save_view,
)
from ui.i18n import _, current_language, words

VIEW, PAGE, URL_WRITTEN = "refunds.view", "refunds.page", "refunds.url"
DRAWN_ON = "refunds.drawn_on"
# widget key → (RefundQuery field, widget value → field value, field value → widget value)
_FIELDS = {
    "refunds.reason": ("reasons", tuple, list),
    "refunds.by": ("refunded_by", tuple, list),
    "refunds.search": ("search", lambda v: (v or "").strip(), str),
    "refunds.sort": ("sort", str, str),
    "refunds.desc": ("descending", bool, bool),
}


def _forget_widgets() -> None:
    for key in _FIELDS:
        st.session_state.pop(key, None)
        _pending().pop(key, None)


def load_refund_view(view: OrderQuery, refunders: tuple[str, ...],
                     arrived: bool) -> tuple[RefundQuery, int]:
    """The register's query: the shared ``view`` with this page's own part, read from the URL
    when it comes from outside the session. ``arrived``: this run is the first on this page."""
    if arrived:
        _forget_widgets()
    url = {key: st.query_params.get_all(key) for key in URL_KEYS if key in st.query_params}
    new_url = url != st.session_state.get(URL_WRITTEN)
    if VIEW not in st.session_state or (new_url and (_is_history_step() or (arrived and url))):
        query, page, problems = from_url_params(url, view, refunders)
        st.session_state[VIEW], st.session_state[PAGE] = query, page
        st.session_state[NOTICES] = [*st.session_state.get(NOTICES, []), *problems]
        _forget_widgets()
    query = st.session_state[VIEW].with_changes(view=view)
    st.session_state[VIEW] = query
    return query, st.session_state[PAGE]


def arrived_here() -> bool:
    """Whether this run is the first on this page (call before ``ui.filters.load_view``, which
    records the page)."""
    return st.session_state.get("view.drawn_on") != _current_page()


def save_refund_view(query: RefundQuery, page: int) -> None:
    """Keep the register's view and mirror it, with the shared filters, into the URL."""
    st.session_state[VIEW], st.session_state[PAGE] = query, page
    own = to_url_params(query, page)
    save_view(query.view, st.session_state.get("view.page", 1), own=own, own_keys=URL_KEYS)
    st.session_state[URL_WRITTEN] = {k: v if isinstance(v, list) else [v] for k, v in own.items()}


def _apply_widgets() -> None:
    query = st.session_state[VIEW]
    changes = {field: to_field(st.session_state[key])
               for key, (field, to_field, _back) in _FIELDS.items() if key in st.session_state}
    st.session_state[VIEW] = query.with_changes(**changes)
    st.session_state[PAGE] = 1


def clear_own_filters() -> None:
    """"Clear filters": the reasons, who refunded and the search too."""
    st.session_state[VIEW] = st.session_state[VIEW].with_changes(reasons=(), refunded_by=(),
                                                                 search="")
    st.session_state[PAGE] = 1
    _forget_widgets()


def _init(query: RefundQuery, prefix: str) -> None:
    for key, (field, _parse, to_widget) in _FIELDS.items():
        if key.startswith(prefix):
            _init_widget(key, to_widget(getattr(query, field)))


def own_filters(refunders: tuple[str, ...]):
    """The sidebar's "Reason" and "Refunded by", for ``ui.filters.filter_sidebar``'s ``extra``."""

    def draw() -> None:
        query: RefundQuery = st.session_state[VIEW]
        _init(query, "refunds.reason")
        _init(query, "refunds.by")
        for label, key, choices, placeholder in (
            (N_("Reason"), "refunds.reason", REGISTER_REASONS, N_("Any reason")),
            (N_("Refunded by"), "refunds.by", refunders, N_("Anyone")),
        ):
            # Reasons are kept in English, shown in the user's language; user names as they are.
            shown = words() if key == "refunds.reason" else str
            _draw(st.multiselect, _(label), key, "default",
                  lambda chosen, choices=choices: [v for v in chosen if v in choices],
                  options=list(choices), on_change=_apply_widgets, placeholder=_(placeholder),
                  format_func=shown)

    return draw


def search_sort_bar() -> None:
    """Search, Sort by and Descending of the register, in one row."""
    query: RefundQuery = st.session_state[VIEW]
    for key in ("refunds.search", "refunds.sort", "refunds.desc"):
        _init(query, key)
    # "По убыванию" needs more room than "Descending".
    search_col, sort_col, desc_col = st.columns(
        [5, 3, 1.4] if current_language() == "en" else [4.4, 3, 2], vertical_alignment="bottom")
    with search_col:
        _draw(st.text_input, _("Search"), "refunds.search", "value", str,
              on_change=_apply_widgets, placeholder=_("Order ID, refund ID, email or phone"),
              max_chars=200)
    with sort_col:
        _draw(st.selectbox, _("Sort by"), "refunds.sort", "index", list(SORT_LABELS).index,
              options=list(SORT_LABELS), format_func=words(), on_change=_apply_widgets)
    with desc_col:
        _draw(st.toggle, _("Descending"), "refunds.desc", "value", bool, on_change=_apply_widgets)


# -- cached reads, keyed by scope like ui.context's -------------------------------------------------


@st.cache_data(ttl=600, max_entries=2000, show_spinner=False)
def _cached_page(key: str, _scope: Scope, _query: RefundQuery, page: int):
    return register.fetch_refund_page(get_database(), _scope, _query, get_settings().tz, page)


def fetch_refund_page(scope: Scope, query: RefundQuery, page: int):
    return _cached_page(repr((scope.key(), query, page)), scope, query, page)


@st.cache_data(ttl=600, max_entries=500, show_spinner=False)
def _cached_refunders(key: tuple, _scope: Scope) -> tuple[str, ...]:
    return register.fetch_refunders(get_database(), _scope, get_settings().tz)


def fetch_refunders(scope: Scope) -> tuple[str, ...]:
    return _cached_refunders(scope.key(), scope)
