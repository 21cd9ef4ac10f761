"""Settings, read from environment variables (documented in the README)."""
from __future__ import annotations

import collections
import math
import os
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.db.postgres import is_postgres_url
from core.errors import OrderdeskError

MIN_COOKIE_KEY_LENGTH = 32
# A guard against placeholder keys ('x' * 40, 'changeme' * 4, a word repeated), not a proof of
# randomness. A random key passes easily: secrets.token_urlsafe(48) has ~40 distinct characters
# and ~4.7 bits per character; only about 1 in 10,000 of secrets.token_hex(16) has fewer than 10.
MIN_COOKIE_KEY_DISTINCT = 10
MIN_COOKIE_KEY_BITS_PER_CHAR = 2.5
KEY_ADVICE = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'
COOKIE_SECURE_VALUES = ("auto", "1", "0")
DEFAULT_TZ = "Europe/Warsaw"


class SettingsError(OrderdeskError):
    """A setting (an environment variable) is missing or unusable; the app does not start."""


@dataclass(frozen=True)
class Settings:
    db_path: Path | str  # a DuckDB file, or a PostgreSQL URL (``core.db.open_database``)
    users_path: Path
    cookie_key: str | None
    tz_name: str
    # "1": the sign-in cookie is always Secure; "0": never; "auto": when the reverse proxy's
    # X-Forwarded-Proto says the browser came over HTTPS.
    cookie_secure: str = "auto"
    # A reverse proxy in front sets X-Forwarded-For: only then is it read for the client address.
    trusted_proxy: bool = False

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.tz_name)

    @classmethod
    def from_env(cls, environ: dict | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        tz_name = env.get("ORDERDESK_TZ") or DEFAULT_TZ
        try:
            ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SettingsError(f"ORDERDESK_TZ={tz_name!r} is not an IANA time zone name") from exc
        cookie_secure = (env.get("ORDERDESK_COOKIE_SECURE") or "auto").strip().lower()
        if cookie_secure not in COOKIE_SECURE_VALUES:
            raise SettingsError(
                f"ORDERDESK_COOKIE_SECURE={cookie_secure!r}: use 1 (always), 0 (never) or auto "
                "(when the reverse proxy sends X-Forwarded-Proto: https)."
            )
        trusted_proxy = (env.get("ORDERDESK_TRUSTED_PROXY") or "0").strip()
        if trusted_proxy not in ("0", "1"):
            raise SettingsError(
                f"ORDERDESK_TRUSTED_PROXY={trusted_proxy!r}: use 1 (a reverse proxy in front sets "
                "X-Forwarded-For) or 0."
            )
        return cls(
            db_path=_database(env.get("ORDERDESK_DB") or "data/orders.duckdb"),
            users_path=Path(env.get("ORDERDESK_USERS") or "data/users.yaml"),
            cookie_key=env.get("ORDERDESK_COOKIE_KEY") or None,
            tz_name=tz_name,
            cookie_secure=cookie_secure,
            trusted_proxy=trusted_proxy == "1",
        )

    def require_cookie_key(self) -> str:
        """The sign-in cookie key; a missing, short or obviously made-up key is refused, never
        defaulted."""
        if not self.cookie_key:
            raise SettingsError(
                "ORDERDESK_COOKIE_KEY is not set: the app will not start without a secret "
                f"sign-in cookie key of at least {MIN_COOKIE_KEY_LENGTH} characters."
            )
        if len(self.cookie_key) < MIN_COOKIE_KEY_LENGTH:
            raise SettingsError(
                f"ORDERDESK_COOKIE_KEY is too short ({len(self.cookie_key)} characters): "
                f"use at least {MIN_COOKIE_KEY_LENGTH} random characters, e.g. from {KEY_ADVICE}."
            )
        problem = cookie_key_weakness(self.cookie_key)
        if problem:
            raise SettingsError(
                f"ORDERDESK_COOKIE_KEY is not random enough ({problem}): use a generated key, "
                f"e.g. from {KEY_ADVICE}."
            )
        return self.cookie_key


def _database(value: str) -> Path | str:
    """``ORDERDESK_DB``: a libpq URL stays text; anything else is a DuckDB file's path."""
    return value if is_postgres_url(value) else Path(value)


def cookie_key_weakness(key: str) -> str | None:
    """Why a key of sufficient length still looks made up, or None when it looks random."""
    distinct = len(set(key))
    if distinct < MIN_COOKIE_KEY_DISTINCT:
        return f"only {distinct} different characters, at least {MIN_COOKIE_KEY_DISTINCT} wanted"
    counts = collections.Counter(key).values()
    bits = -sum(n / len(key) * math.log2(n / len(key)) for n in counts)
    if bits < MIN_COOKIE_KEY_BITS_PER_CHAR:
        return (f"{bits:.1f} bits of entropy per character, at least "
                f"{MIN_COOKIE_KEY_BITS_PER_CHAR} wanted")
    for period in range(1, len(key) // 2 + 1):
        if len(key) % period == 0 and key[:period] * (len(key) // period) == key:
            return f"a {period}-character text repeated"
    return None
