"""What the several-replica tests share: a PostgreSQL database with the sample orders, its users
added by the operators' command, and the settings every replica of one test runs with.

The replicas themselves are started by ``scripts/serve_replicas.py`` (real ``streamlit run``
processes); ``tests/db/test_cross_process.py`` drives them through Streamlit's protocol and
``tests/browser/test_replicas.py`` through nginx in Chromium.
"""
from __future__ import annotations

import os
import secrets
import string
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from core.db.opening import open_database
from tests.sample_data import Sample, build_sample

ROOT = Path(__file__).resolve().parents[1]
TZ = "Europe/Warsaw"
# username → (role, legal entities, password). The refunder and the viewer see one legal entity
# each of the sample's three; the admin sees every order.
USERS = {
    "admin": ("admin", (), "admin-replicas-2026"),
    "refunder": ("refunder", ("Alpha SRL",), "refunder-replicas-2026"),
    "viewer": ("viewer", ("Beta Sp. z o.o.",), "viewer-replicas-2026"),
}


def password(username: str) -> str:
    return USERS[username][2]


def seed_sample(url: str, sample: Sample | None = None) -> Sample:
    """The sample's stores, orders and item lines written to the (new) database ``url``."""
    sample = sample or build_sample()
    database = open_database(url)  # creates the schema
    try:
        with database.transaction() as cur:
            cur.executemany("INSERT INTO stores VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            [list(s.values()) for s in sample.stores])
            cur.executemany(
                "INSERT INTO orders (order_id, created_at, merchant_order_id, amount,"
                " refunded_amount, status, channel, email, phone, phone_digits, store_id,"
                " salesperson_id, salesperson_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [[o["order_id"], o["created_at"], o["merchant_order_id"], o["amount"],
                  o["refunded_amount"], o["status"], o["channel"], o["email"], o["phone"],
                  "".join(c for c in (o["phone"] or "") if c.isdigit()) or None, o["store_id"],
                  o["salesperson_id"], o["salesperson_name"]] for o in sample.orders])
            cur.executemany(
                "INSERT INTO order_items (order_id, line_no, name, quantity, unit_price)"
                " VALUES (?, ?, ?, ?, ?)",
                [[i["order_id"], i["line_no"], i["name"], i["quantity"], i["unit_price"]]
                 for i in sample.items])
    finally:
        database.close()
    return sample


def app_env(url: str, users_path: Path) -> dict[str, str]:
    """The settings of every replica of one test: one database, one users file, one cookie key
    (fresh for the test, so no cookie of another run is valid), behind a trusted proxy."""
    alphabet = string.ascii_letters + string.digits
    return {
        "ORDERDESK_DB": url,
        "ORDERDESK_USERS": str(users_path),
        "ORDERDESK_COOKIE_KEY": "".join(secrets.choice(alphabet) for _ in range(48)),
        "ORDERDESK_TZ": TZ,
        "ORDERDESK_TRUSTED_PROXY": "1",
    }


def add_users(env: dict[str, str]) -> None:
    """``USERS`` added with ``python -m core users add`` as an operator does (on PostgreSQL they
    are kept in the database, where every replica reads them), in parallel."""
    running = []
    for username, (role, legal_entities, secret) in USERS.items():
        scope = [arg for le in legal_entities for arg in ("--legal-entity", le)]
        process = subprocess.Popen(
            [sys.executable, "-m", "core", "users", "add", username, "--role", role, *scope],
            cwd=ROOT, env={**os.environ, **env}, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)
        running.append((username, process, secret))
    for username, process, secret in running:
        output, _ = process.communicate(secret + "\n", timeout=60)
        assert process.returncode == 0, f"users add {username}: {output}"


def stored_order(url: str, order_id: int) -> tuple[Decimal, Decimal, str, int]:
    """(captured, refunded, status, refund events) of one order, read by this test process."""
    database = open_database(url, read_only=True)
    try:
        with database.snapshot() as cur:
            amount, refunded, status = cur.execute(
                "SELECT amount, refunded_amount, status FROM orders WHERE order_id = ?",
                [order_id]).fetchone()
            events = cur.execute(
                "SELECT count(*) FROM order_events WHERE order_id = ? AND kind = 'refund'",
                [order_id]).fetchone()[0]
    finally:
        database.close()
    return amount, refunded, status, events


def refundable_orders(sample: Sample, legal_entity: str | None = None) -> list[dict]:
    """Completed orders without item lines and without refunds (a manual amount refunds them),
    of one legal entity or any, by order ID."""
    with_items = {i["order_id"] for i in sample.items}
    return sorted((o for o in sample.orders
                   if o["status"] == "Completed" and o["refunded_amount"] == 0
                   and o["order_id"] not in with_items
                   and (legal_entity is None
                        or sample.store_of(o)["legal_entity"] == legal_entity)),
                  key=lambda o: o["order_id"])
