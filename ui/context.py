"""The signed-in user, the settings and the database, as the pages see them.

Roles and scope are re-read on every run from where the users live (``get_users``: the users file,
re-parsed only when it changed, or in the server mode the database, read again only when its
``users_version`` moved), so a revoked right takes effect on the user's next action on every
replica; so does a revoked session (the user's ``sessions_valid_from`` later than this session's
sign-in).
Cached reads take the scope as an argument and key on it: a cache never reads session state.
"""
from __future__ import annotations

import logging
from datetime import date, datetime

import streamlit as st

from core.db import SERVER_MEMORY_LIMIT, OrderPage, ScopeOptions, open_for_serving
from core.errors import OrderdeskError, UsersFileError
from core.overview import Overview, fetch_overview, figures_query
from core.query import OrderQuery
from core.settings import Settings
from core.signin import session_still_valid
from core.user_store import UserStore, open_users
from core.users import Scope, User
from ui.signin import SIGNED_IN_AT
from ui.i18n import _, error_text
from ui.text import as_text

log = logging.getLogger("orderdesk")

AUTH_KEYS = ("authentication_status", "username", "name", "roles")
# The list the Order page was opened from ("refunds": the Refunds register; else the Orders list).
OPENED_FROM = "order.opened_from"


@st.cache_resource
def get_settings() -> Settings:
    return Settings.from_env()


@st.cache_resource
def get_database():
    """The database for the whole server process: a DuckDB file's one read-write connection
    (DuckDB allows one process), or a pool of PostgreSQL connections (``ORDERDESK_DB`` a URL).

    DuckDB's memory is bounded (``SERVER_MEMORY_LIMIT``): a large export's sort spills to a
    temporary file beside the database instead of growing the server by hundreds of MB. The
    search index is clustered first when it has grown (``Database.open_clustered``): searches are
    served from it.
    """
    return open_for_serving(get_settings().db_path, memory_limit=SERVER_MEMORY_LIMIT)


@st.cache_resource
def get_users() -> UserStore:
    """Where the users live for this server process: the users file beside a DuckDB database,
    or the PostgreSQL database's tables (through the same pool as the reads)."""
    settings = get_settings()
    return open_users(settings.users_path, settings.db_path, get_database)


def current_user() -> User | None:
    """The signed-in user as the users file or the database describes them now, or None.
    (A database that cannot be reached raises ``DataUnavailable``: the session is kept.)"""
    if not st.session_state.get("authentication_status"):
        return None
    username = st.session_state.get("username")
    try:
        users = get_users().load()
    except UsersFileError:
        log.exception("users file unreadable")
        return None
    user = users.get(username)
    if user is None or not session_still_valid(user, st.session_state.get(SIGNED_IN_AT)):
        return None
    return user


def require_user(*, admin: bool = False) -> User:
    """The signed-in user, or stop the page: nothing of the app is shown before sign-in."""
    user = current_user()
    if user is None:  # app.py runs a page only after sign-in; a page file run on its own
        st.info(_("Please sign in to see orders."))
        st.stop()
    if admin and not user.is_admin:
        st.error(_("This page is for administrators."))
        st.stop()
    return user


def show_error(exc: Exception) -> None:
    """A user-facing error as its message; anything else is a bug: logged, and a generic line."""
    if isinstance(exc, OrderdeskError):
        st.error(as_text(error_text(exc)))  # a message may quote a value from a URL, a file or the database
    else:
        log.exception("unexpected error", exc_info=exc)
        st.error(_("Something went wrong on our side. It has been logged; "
                   "please try again."))


@st.cache_resource
def _data_clock() -> dict:
    return {"as_of": datetime.now(get_settings().tz)}


def data_as_of() -> datetime:
    """When the cached reads were last cleared (or first filled) in this server process."""
    return _data_clock()["as_of"]


def refresh_data() -> None:
    """Forget every cached read so the next one re-reads the database (other processes may
    have written to it: an import, another replica)."""
    get_database().forget_cached()
    _cached_page.clear()
    _cached_options.clear()
    st.cache_data.clear()  # every other cached read too, the Overview's figures included
    _data_clock()["as_of"] = datetime.now(get_settings().tz)


@st.cache_data(ttl=600, max_entries=2000, show_spinner=False)
def _cached_page(key: str, _scope: Scope, _query: OrderQuery, page: int) -> OrderPage:
    return get_database().fetch_page(_scope, _query, get_settings().tz, page)


def fetch_page(scope: Scope, query: OrderQuery, page: int) -> OrderPage:
    return _cached_page(repr((scope.key(), query, page)), scope, query, page)



@st.cache_data(ttl=600, max_entries=500, show_spinner=False)
def _cached_options(key: tuple, _scope: Scope) -> ScopeOptions:
    return get_database().fetch_scope_options(_scope)


def fetch_scope_options(scope: Scope) -> ScopeOptions:
    return _cached_options(scope.key(), scope)


# -- the Overview's figures, cached as the reads above -------------------------------------------


@st.cache_data(ttl=600, max_entries=500, show_spinner=False)
def _cached_figures(key: str, _scope: Scope, _query: OrderQuery, today: date) -> Overview:
    return fetch_overview(get_database(), _scope, _query, get_settings().tz, today=today)


def figures_key(scope: Scope, query: OrderQuery, today: date) -> str:
    """The cache key of a view's figures: the scope, the view without its sort (the figures do
    not depend on it), the time zone, and today (a period's start alone runs to today)."""
    return repr((scope.key(), figures_query(query), get_settings().tz_name, today))


def fetch_figures(scope: Scope, query: OrderQuery, today: date) -> Overview:
    """The Overview's figures of the view within the scope, as of ``today``."""
    return _cached_figures(figures_key(scope, query, today), scope, figures_query(query), today)
