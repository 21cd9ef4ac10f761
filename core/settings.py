"""Settings, read from environment variables (documented in the README)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.errors import OrderdeskError

MIN_COOKIE_KEY_LENGTH = 32
DEFAULT_TZ = "Europe/Warsaw"


class SettingsError(OrderdeskError):
    pass


@dataclass(frozen=True)
class Settings:
    db_path: Path
    users_path: Path
    cookie_key: str | None
    tz_name: str

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
        return cls(
            db_path=Path(env.get("ORDERDESK_DB") or "data/orders.duckdb"),
            users_path=Path(env.get("ORDERDESK_USERS") or "data/users.yaml"),
            cookie_key=env.get("ORDERDESK_COOKIE_KEY") or None,
            tz_name=tz_name,
        )

    def require_cookie_key(self) -> str:
        """The sign-in cookie key; a missing or short key is refused, never defaulted."""
        if not self.cookie_key:
            raise SettingsError(
                "ORDERDESK_COOKIE_KEY is not set: the app will not start without a secret "
                f"sign-in cookie key of at least {MIN_COOKIE_KEY_LENGTH} characters."
            )
        if len(self.cookie_key) < MIN_COOKIE_KEY_LENGTH:
            raise SettingsError(
                f"ORDERDESK_COOKIE_KEY is too short ({len(self.cookie_key)} characters): "
                f"use at least {MIN_COOKIE_KEY_LENGTH} random characters."
            )
        return self.cookie_key
