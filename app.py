"""orderdesk: sign-in, the user's role and scope, navigation by role, and the shared sidebar.

Nothing of the app — no page, no row, no file — is reachable before sign-in: signed out, the only
page is the sign-in form, whatever URL was asked for. Each page also checks the user itself.
"""
from __future__ import annotations

import logging
from datetime import timedelta

import streamlit as st
import streamlit_authenticator as stauth

from core import signin
from core.errors import DataUnavailable, OrderdeskError, UsersFileError
from core.i18n import N_, Message, normal_language
from core.users import ROLES, authenticator_credentials
from ui.context import current_user, get_settings, get_users
from ui.filters import relabel_widgets
from ui.i18n import (LANGUAGE, _, adopt_language, browser_language, choice_key, forget_language,
                     language_names, words)
from ui.text import as_text
from ui.signin import (NOTICE, RESTORED, SIGNED_IN_AT, WRONG_CREDENTIALS, build_authenticator,
                       request_client)

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
log = logging.getLogger("orderdesk")

COOKIE_NAME = "orderdesk_session"
# A short-lived sign-in; signing out, or a password, role or scope change, ends it sooner.
COOKIE_LIFETIME = timedelta(hours=12)
USERS_FILE_UNREADABLE = (
    "Sign-in is unavailable: the users file cannot be read. The administrator has been told."
)
DATABASE_BUSY = "The database cannot be reached at the moment; please try again shortly."
DATABASE_UNREACHABLE = (
    "Sign-in is unavailable: the database cannot be reached. The administrator has been told."
)

st.set_page_config(page_title="orderdesk", page_icon=":material/receipt_long:", layout="wide")
# Less empty space above the page title, so the pager stays on a laptop's first screen.
st.html("<style>.stMainBlockContainer { padding-top: 2.5rem; }</style>")


def _authenticator() -> stauth.Authenticate:
    settings = get_settings()
    users = get_users().load()
    return build_authenticator(
        users, settings, cookie_name=COOKIE_NAME, lifetime=COOKIE_LIFETIME,
        credentials=authenticator_credentials(users),
    )


def _on_logout(details: dict) -> None:
    """The Logout button: end this user's cookies and sessions everywhere, not only here."""
    username = details.get("username") or ""
    settings = get_settings()
    try:
        get_users().end_sessions(username)
    except (UsersFileError, OSError, DataUnavailable):
        # This browser is signed out all the same; only its other sessions and copies go on.
        log.exception("users not writable: the sign-out of %r was not recorded", username)
    signin.audit("signed out", username, request_client(settings))


def _sign_in_form() -> None:
    """The only thing a signed-out visitor gets, whatever page the URL names."""
    st.session_state[LANGUAGE] = browser_language()  # nobody is known yet: the browser's
    _left, middle, _right = st.columns([1, 1.3, 1])
    with middle:
        st.title("orderdesk")
        st.caption(_("Orders desk of the merchant cabinet. Sign in to continue."))
        authenticator.login(location="main", fields={
            "Form name": _("Login"), "Username": _("Username"), "Password": _("Password"),
            "Login": _("Login")})
        if st.session_state.get("authentication_status") is False:
            notice = st.session_state.get(NOTICE) or WRONG_CREDENTIALS
            st.error(notice.translated(words()) if isinstance(notice, Message) else _(notice))


# Session-state key prefixes of what a user looks at (widget keys are "<page>.<name>").
VIEW_KEY_PREFIXES = {"view", "filters", "orders", "order", "overview", "data", "refunds"}

PAGES = (
    # (file, title, icon, url path, roles that may open it)
    ("screens/orders.py", N_("Orders"), ":material/list_alt:", "orders", ROLES),
    ("screens/refunds.py", N_("Refunds"), ":material/currency_exchange:", "refunds", ROLES),
    ("screens/overview.py", N_("Overview"), ":material/monitoring:", "overview", ROLES),
    ("screens/order.py", N_("Order"), ":material/receipt:", "order", ROLES),
    ("screens/data.py", N_("Data"), ":material/upload_file:", "data", ("admin",)),
)


# The default page is served at "/", and Streamlit does not find it under its own name: a link
# to "/orders" (typed, or kept from before) raised a "Page not found" pop-up over the page, and
# over the sign-in form, which then took no input. A hidden page keeps that name and forwards to
# "/" with the link's query parameters.
DEFAULT_PATH, DEFAULT_URL_PATH = PAGES[0][0], PAGES[0][3]


def _forward_to_default() -> None:
    params = [(key, value) for key in st.query_params for value in st.query_params.get_all(key)]
    st.switch_page(DEFAULT_PATH, query_params=params)


def _pages(role: str) -> list[st.Page]:
    """The pages a role may open."""
    pages = [
        st.Page(path, title=_(title), icon=icon, url_path="" if index == 0 else url_path,
                default=index == 0)
        for index, (path, title, icon, url_path, roles) in enumerate(PAGES)
        if role in roles
    ]
    return pages + [st.Page(_forward_to_default, title=_(PAGES[0][1]), url_path=DEFAULT_URL_PATH,
                            visibility="hidden")]


def _signed_out_pages() -> list[st.Page]:
    """Every page's address, each showing only the sign-in form: a deep link keeps its address
    until the sign-in cookie is read, and no page's own code runs before sign-in."""

    def stand_in(url_path: str):
        def sign_in() -> None:
            _sign_in_form()

        sign_in.__name__ = sign_in.__qualname__ = f"sign_in_{url_path or 'default'}"
        return sign_in

    addresses = [("" if index == 0 else url_path, title)
                 for index, (_path, title, _icon, url_path, _roles) in enumerate(PAGES)]
    addresses.append((DEFAULT_URL_PATH, PAGES[0][1]))  # the default page under its own name
    return [
        st.Page(stand_in(url_path), title=title, url_path=url_path, default=index == 0)
        for index, (url_path, title) in enumerate(addresses)
    ]


def _signed_out() -> None:
    """End this run for a user who just signed out (or was removed). What they looked at is
    dropped; no st.rerun(): the browser must first run the component that deletes the cookie."""
    for key in [k for k in st.session_state if str(k).split(".")[0] in VIEW_KEY_PREFIXES]:
        del st.session_state[key]
    st.session_state.pop(SIGNED_IN_AT, None)
    st.info(_("You have been signed out."))
    forget_language()
    st.stop()


try:
    authenticator = _authenticator()
except UsersFileError:
    # Its message names the file and quotes its lines (user names, hashes): for the log only.
    log.exception("sign-in unavailable")
    st.error(USERS_FILE_UNREADABLE)
    st.stop()
except DataUnavailable:
    # The server mode's users are in the database; its URL (host, user) is for the log only. A
    # signed-in session is kept: it goes on once the database answers again.
    log.exception("sign-in unavailable")
    st.error(DATABASE_BUSY if st.session_state.get("authentication_status")
             else DATABASE_UNREACHABLE)
    st.stop()
except OrderdeskError as exc:
    st.error(str(exc))
    st.stop()

if not st.session_state.get("authentication_status"):
    st.navigation(_signed_out_pages(), position="hidden").run()
    if st.session_state.pop(RESTORED, False) and st.session_state.get("authentication_status"):
        # Signed in from the cookie the browser has: nothing to store, so draw the app now. A
        # tab that reconnected to another replica never answers the cookie component again
        # (docs/stack-facts.md, PostgreSQL).
        st.rerun()
    # Signed in just now: no st.rerun() here. The browser must first run the component that
    # stores the sign-in cookie; its answer reruns the script, which then draws the app.
    st.stop()

try:
    user = current_user()
except DataUnavailable:
    # The server mode's users are in the database: keep the session, say so, and try again on
    # the next action (signing out here would end every session at a database hiccup).
    log.exception("the signed-in user could not be read")
    st.error(DATABASE_BUSY)
    st.stop()
if user is None:
    # Removed from the users file, signed out elsewhere, password, role or scope changed (or the
    # file is unreadable) since signing in: sign out now.
    signin.audit("session ended", st.session_state.get("username") or "",
                 request_client(get_settings()))
    authenticator.logout(location="unrendered")
    _signed_out()
adopt_language(user)
navigation = st.navigation(_pages(user.role))
ROLE_NAMES = {"viewer": N_("Viewer"), "refunder": N_("Refunder"), "admin": N_("Admin")}


def _on_language_change() -> None:
    """The sidebar's Language: applies to this run at once and is saved to the user's record
    (a language is no right: the sessions stay)."""
    chosen = normal_language(st.session_state.get("app.language_choice"))
    st.session_state[LANGUAGE] = chosen
    relabel_widgets()
    try:
        get_users().update(user.username, language=chosen)
    except (OrderdeskError, OSError):
        # This session keeps the choice; only the next sign-in will not.
        log.exception("the language of %r was not saved", user.username)


with st.sidebar:
    st.markdown(f"**{as_text(user.name)}**  \n{_(ROLE_NAMES.get(user.role, user.role))} · "
                f"{as_text(user.username)}")
    names = language_names()
    st.selectbox(_("Language"), list(names), format_func=names.get, key=choice_key(),
                 on_change=_on_language_change)
    authenticator.logout(_("Logout"), location="sidebar", key="app.logout", callback=_on_logout)
if not st.session_state.get("authentication_status"):
    _signed_out()

navigation.run()
