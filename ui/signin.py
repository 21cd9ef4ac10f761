"""streamlit-authenticator with orderdesk's sign-in rules put in: its form, labels and cookie stay,
the decisions come from ``core.signin``.

Two of the authenticator's collaborators are replaced after it is built (it creates the browser's
cookie component in its constructor, so they cannot be swapped before):

* ``GuardedLogin`` stands in front of its login controller: the throttle, the equal-cost password
  check, the audit log, and the sign-in time of the session;
* ``SignInCookie`` stands in for its cookie controller: the cookie is accepted only through
  ``core.signin.cookie_username`` and is written Secure (behind HTTPS) and SameSite=Strict.

Revocation: a user's ``sessions_valid_from`` (core.users) is compared with the session's sign-in
time on every run (``ui.context.current_user``) and with a cookie's issue time at sign-in. The
throttle is the process's beside a DuckDB file and the database's in the server mode
(``core.user_store.open_throttle``).
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any

import streamlit as st
import streamlit_authenticator as stauth

from core import signin
from core.i18n import N_
from core.settings import Settings
from core.user_store import open_throttle
from core.users import User

SIGNED_IN_AT = "signin.at"  # Unix time of this session's sign-in
NOTICE = "signin.notice"  # the message under the form after a refused attempt
RESTORED = "signin.restored"  # set by a run that signed in from the browser's cookie
WRONG_CREDENTIALS = N_("Username or password is incorrect.")


@st.cache_resource
def get_throttle():
    """One throttle for the server process: every session of every visitor counts in it; in the
    server mode it is the database's, so every replica counts the same failures."""
    from ui.context import get_database, get_settings  # ui.context imports this module

    settings = get_settings()
    return open_throttle(settings.db_path, get_database)


def request_client(settings: Settings) -> str | None:
    return signin.client_address(
        st.context.ip_address, dict(st.context.headers), trusted_proxy=settings.trusted_proxy
    )


class GuardedLogin:
    """The authenticator's login controller behind the throttle and the audit log.

    Everything but ``login`` goes to the wrapped controller unchanged.
    """

    def __init__(self, inner: Any, users: dict[str, User], settings: Settings) -> None:
        self._inner = inner
        self._users = users
        self._settings = settings

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def login(self, username: str | None = None, password: str | None = None, *args: Any,
              token: dict | None = None, **kwargs: Any) -> bool | None:
        if token:
            # Already vetted by SignInCookie.get_cookie.
            self._inner.login(token=token)
            st.session_state[SIGNED_IN_AT] = time.time()
            st.session_state[RESTORED] = True
            signin.audit("restored from cookie", token["username"], request_client(self._settings))
            return None
        if not username:
            return self._inner.login(username, password, *args, **kwargs)
        # As the authenticator itself does: the name is matched lowercase, both are stripped.
        username = username.lower().strip()
        password = (password or "").strip()
        client = request_client(self._settings)
        throttle = get_throttle()
        wait = throttle.retry_after(username, client)
        if wait is not None:
            signin.audit("refused, too many attempts", username, client)
            return self._refuse(signin.throttle_message(wait))
        if not signin.verify_password(self._users, username, password):
            throttle.record_failure(username, client)
            signin.audit("failed", username, client)
            return self._refuse(WRONG_CREDENTIALS)
        throttle.record_success(username)
        # The password is checked: the authenticator's token path signs the user in without
        # spending a second bcrypt check on it.
        self._inner.login(token={"username": username})
        st.session_state[SIGNED_IN_AT] = time.time()
        st.session_state.pop(NOTICE, None)
        signin.audit("succeeded", username, client)
        return True

    @staticmethod
    def _refuse(message: str) -> bool:
        st.session_state["authentication_status"] = False
        st.session_state[NOTICE] = message
        return False


class SignInCookie:
    """The authenticator's cookie controller, over its own cookie model (and browser component)."""

    def __init__(self, model: Any, users: dict[str, User], settings: Settings,
                 lifetime: timedelta) -> None:
        self._model = model
        self._users = users
        self._settings = settings
        self._lifetime = lifetime

    def get_cookie(self) -> dict | None:
        if st.session_state.get("logout"):
            return None  # signed out in this session: the browser's copy is being deleted
        token = st.context.cookies.get(self._model.cookie_name)
        username = signin.cookie_username(
            token, self._model.cookie_key, self._users, datetime.now(timezone.utc), self._lifetime
        )
        return {"username": username} if username else None

    def set_cookie(self) -> None:
        self._model.exp_date = self._model._set_exp_date()
        secure = signin.cookie_should_be_secure(
            self._settings.cookie_secure, dict(st.context.headers)
        )
        self._model.cookie_manager.set(
            self._model.cookie_name,
            self._model._token_encode(),
            expires_at=datetime.now() + self._lifetime,
            secure=secure,
            same_site="strict",
        )

    def delete_cookie(self) -> None:
        self._model.delete_cookie()


def build_authenticator(
    users: dict[str, User], settings: Settings, *, cookie_name: str, lifetime: timedelta,
    credentials: dict,
) -> stauth.Authenticate:
    authenticator = stauth.Authenticate(
        credentials,
        cookie_name,
        settings.require_cookie_key(),
        lifetime.total_seconds() / 86400,
        login_sleep_time=0,
    )
    authenticator.authentication_controller = GuardedLogin(
        authenticator.authentication_controller, users, settings
    )
    authenticator.cookie_controller = SignInCookie(
        authenticator.cookie_controller.cookie_model, users, settings, lifetime
    )
    return authenticator
