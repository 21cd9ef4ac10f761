"""What each user must see, computed from the database file before the server opens it.

The counts come from the generator's own SQL, written here from the specification (not
orderdesk's query code), so that the load test never trusts the code it checks. Only the words
of the statuses and channels are taken from ``core.status``: they are the data contract.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from core.status import Channel, Status

STATUSES = tuple(status.value for status in Status)
CHANNELS = tuple(channel.value for channel in Channel)
DEMO_PASSWORDS = {
    "admin": "admin-demo-2026",
    "refunder": "refunder-demo-2026",
    "viewer": "viewer-demo-2026",
    "viewer.store": "store-demo-2026",
}
# The views a session may reach: a few filter choices, each combined with any search of its user.
# Plain strings (``.value``), so that a view prints as the page's words in an error's detail.
STATUS_CHOICES = ((), (Status.COMPLETED.value,), (Status.RETURN.value,),
                  (Status.PENDING.value, Status.CANCEL.value))
CHANNEL_CHOICES = ((), (Channel.ONLINE.value,), (Channel.OFFLINE.value,))


@dataclass(frozen=True)
class View:
    """The part of an Orders view that decides which orders match (sort and page do not)."""

    statuses: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    search: str = ""


def search_kind(text: str) -> tuple[str, str]:
    """How the app's search reads a text, as its specification says: e-mail, digits or text."""
    text = text.strip()
    if not text:
        return "", ""
    if "@" in text:
        return "email", text.lower()
    digits = re.sub(r"[\s+\-()]", "", text)
    if digits.isdigit() and digits.isascii():
        return "digits", digits
    return "text", text


def in_list(column: str, values: tuple[str, ...]) -> tuple[str, list]:
    """``column IN (?, ...)`` for ``values``, with its parameters."""
    return f"{column} IN ({', '.join('?' * len(values))})", list(values)


def view_sql(view: View) -> tuple[str, list]:
    """The view's conditions over ``orders o JOIN stores s``, written here from the specification
    so that the generator never trusts the code it checks."""
    clauses, params = [], []
    for column, values in (("o.status", view.statuses), ("o.channel", view.channels)):
        if values:
            sql, values_params = in_list(column, values)
            clauses.append(sql)
            params += values_params
    kind, value = search_kind(view.search)
    phone_digits = "regexp_replace(coalesce(o.phone, ''), '[^0-9]', '', 'g')"
    if kind == "email":
        clauses.append("strpos(lower(coalesce(o.email, '')), ?) > 0")
        params.append(value)
    elif kind == "digits":
        clauses.append(f"(CAST(o.order_id AS VARCHAR) = ? OR o.merchant_order_id = ? "
                       f"OR strpos({phone_digits}, ?) > 0)")
        params += [value.lstrip("0") or "0", value, value]
    elif kind == "text":
        clauses.append("(o.merchant_order_id = ? OR strpos(lower(coalesce(o.email, '')), ?) > 0)")
        params += [value, value.lower()]
    return " AND ".join(clauses) or "TRUE", params


ACTING_ROLES = frozenset({"refunder", "admin"})


@dataclass(frozen=True)
class UserScope:
    username: str
    admin: bool
    legal_entities: tuple[str, ...] = ()
    stores: tuple[str, ...] = ()
    acts: bool = False  # a refunder or an admin: may cancel and refund

    def sql(self) -> tuple[str, list]:
        if self.admin:
            return "TRUE", []
        parts, params = [], []
        for column, values in (("s.legal_entity", self.legal_entities),
                               ("s.store_id", self.stores)):
            if values:
                sql, values_params = in_list(column, values)
                parts.append(sql)
                params += values_params
        return ("(" + " OR ".join(parts) + ")" if parts else "FALSE"), params


@dataclass
class Oracle:
    """What each user must see, computed from the database before the server opens it."""

    counts: dict[tuple[str, View], int] = field(default_factory=dict)
    searches: dict[str, list[str]] = field(default_factory=dict)
    allowed_stores: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    order_ids: dict[str, list[int]] = field(default_factory=dict)

    def count(self, username: str, view: View) -> int | None:
        return self.counts.get((username, view))


def views_for(searches: list[str]) -> list[View]:
    return [View(st_, ch, se) for st_ in STATUS_CHOICES for ch in CHANNEL_CHOICES
            for se in ["", *searches]]


def read_scopes(users_path: Path) -> dict[str, UserScope]:
    import yaml

    data = yaml.safe_load(users_path.read_text())
    scopes = {}
    for username, entry in (data.get("credentials", {}).get("usernames") or {}).items():
        roles = entry.get("roles") or []
        scopes[username] = UserScope(username, "admin" in roles,
                                     tuple(entry.get("legal_entities") or ()),
                                     tuple(entry.get("stores") or ()),
                                     acts=bool(ACTING_ROLES & set(roles)))
    return scopes


def pick_searches(sample: list[tuple], rng: random.Random, per_kind: int) -> list[str]:
    """Searches a user of these orders would type: order IDs, parts of e-mails, phone digits
    (taken from ``sample``'s own orders, so each finds something), and one domain."""
    searches: list[str] = []
    if sample:
        picks = rng.sample(sample, min(len(sample), 3 * per_kind))
        for order_id, email, phone in picks[:per_kind]:
            searches.append(str(order_id))
        for _, email, _ in picks[per_kind:2 * per_kind]:
            if email and "@" in email:
                local = email.split("@")[0]
                searches.append(local[: max(3, len(local) // 2)].lower())
        for _, _, phone in picks[2 * per_kind:]:
            digits = re.sub(r"\D", "", phone or "")
            if len(digits) >= 6:
                searches.append(digits[-6:-1])
    searches.append("@example.org")
    return list(dict.fromkeys(searches))


def build_oracle(db_path: Path, scopes: dict[str, UserScope], seed: int,
                 searches_per_kind: int = 2) -> Oracle:
    """Counts for every user × view the mix can reach, from the file opened read-only (and closed
    again: DuckDB lets one process hold the file)."""
    import duckdb

    rng = random.Random(seed)
    oracle = Oracle()
    with duckdb.connect(str(db_path), read_only=True) as con:
        for username, scope in scopes.items():
            where, params = scope.sql()
            base = f"FROM orders o JOIN stores s ON s.store_id = o.store_id WHERE {where}"
            oracle.allowed_stores[username] = {
                (merchant or "", name) for merchant, name in con.execute(
                    f"SELECT s.merchant_store_id, s.store_name FROM stores s WHERE {where}",
                    params).fetchall()
            }
            sample = con.execute(
                f"SELECT o.order_id, o.email, o.phone {base} ORDER BY hash(o.order_id + ?) LIMIT 50",
                [*params, seed]).fetchall()
            oracle.order_ids[username] = [row[0] for row in sample]
            oracle.searches[username] = pick_searches(sample, rng, searches_per_kind)
            for view in views_for(oracle.searches[username]):
                sql, view_params = view_sql(view)
                oracle.counts[(username, view)] = con.execute(
                    f"SELECT count(*) {base} AND {sql}", [*params, *view_params]).fetchone()[0]
    return oracle
