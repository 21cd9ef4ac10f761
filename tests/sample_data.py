"""A small, seeded data set built in Python, so tests can compare the store with a Python oracle."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from core.db import Database, index_orders, open_database

LEGAL_ENTITIES = {"Alpha SRL": "RO", "Beta Sp. z o.o.": "PL", "Gamma LLC": "RU"}
REGIONS = {"RO": ["Bucharest", "Cluj"], "PL": ["Mazowieckie", "Pomorskie"], "RU": ["Moscow"]}


@dataclass
class Sample:
    stores: list[dict]
    orders: list[dict]
    items: list[dict]

    def store_of(self, order: dict) -> dict:
        return next(s for s in self.stores if s["store_id"] == order["store_id"])


def build_sample(seed: int = 1, n_orders: int = 300) -> Sample:
    rnd = random.Random(seed)
    stores = []
    for i in range(12):
        le = list(LEGAL_ENTITIES)[i % 3]
        zone = LEGAL_ENTITIES[le]
        stores.append(
            {
                "store_id": f"S{i + 1:02d}",
                "store_name": f"Store {chr(65 + (i * 7) % 26)}{i}",
                "store_address": f"Street {i}",
                "merchant_store_id": f"M-{i}" if i % 4 else None,
                "brand": ["Reserved", "Cropp", "Sinsay"][i % 3],
                "legal_entity": le,
                "region": REGIONS[zone][i % len(REGIONS[zone])],
                "zone": zone,
            }
        )
    base = datetime(2026, 1, 1)
    orders, items = [], []
    emails = ["anna@wp.pl", "Bob@Gmail.com", "=cmd@evil.test", "ion_pop@yahoo.ro", None,
              "ivan%ov@mail.ru"]
    for n in range(n_orders):
        order_id = 1000 + n
        channel = rnd.choice(["online", "offline"])
        status = rnd.choice(["Pending", "Completed", "Completed", "Cancel", "Return"])
        if channel == "offline" and status in ("Pending", "Cancel"):
            status = "Completed"
        database = rnd.choice(stores)
        with_items = n % 3 != 0
        if with_items:
            lines = [
                {"order_id": order_id, "line_no": k + 1, "name": f"Item {k}",
                 "quantity": rnd.randint(1, 3),
                 "unit_price": Decimal(rnd.randint(100, 9999)) / 100}
                for k in range(rnd.randint(1, 3))
            ]
            items.extend(lines)
            amount = sum(line["quantity"] * line["unit_price"] for line in lines)
        else:
            amount = Decimal(rnd.randint(1, 300000)) / 100
        refunded = amount if status == "Return" else Decimal("0.00")
        phone = rnd.choice(["+48 606 606 606", "+40 721 000 1{:02d}".format(n % 100), "0048 600 12{}"
                            .format(n % 10), None])
        orders.append(
            {
                "order_id": order_id,
                # some equal timestamps, to exercise the tie-break by order ID
                "created_at": base + timedelta(hours=rnd.randint(0, 24 * 200), minutes=(n % 2) * 30),
                "merchant_order_id": rnd.choice([f"WEB-{n}", f"{5900000000000 + n}", None]),
                "amount": amount,
                "refunded_amount": refunded,
                "status": status,
                "channel": channel,
                "email": rnd.choice(emails),
                "phone": phone,
                "store_id": database["store_id"],
                "salesperson_id": f"SP{n % 7}" if channel == "offline" else None,
                "salesperson_name": f"Seller {n % 7}" if channel == "offline" else None,
            }
        )
    return Sample(stores, orders, items)


def load_sample(database: Database, sample: Sample) -> None:
    with database.transaction() as cur:
        cur.executemany(
            "INSERT INTO stores VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [list(s.values()) for s in sample.stores],
        )
        cur.executemany(
            "INSERT INTO orders (order_id, created_at, merchant_order_id, amount, refunded_amount,"
            " status, channel, email, phone, phone_digits, store_id, salesperson_id,"
            " salesperson_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [o["order_id"], o["created_at"], o["merchant_order_id"], o["amount"],
                 o["refunded_amount"], o["status"], o["channel"], o["email"], o["phone"],
                 "".join(c for c in (o["phone"] or "") if c.isdigit()) or None, o["store_id"],
                 o["salesperson_id"], o["salesperson_name"]]
                for o in sample.orders
            ],
        )
        index_orders(cur, "o.order_id IN (SELECT unnest(?::BIGINT[]))",
                     [[o["order_id"] for o in sample.orders]])
        if not sample.items:
            return
        cur.executemany(
            "INSERT INTO order_items (order_id, line_no, name, quantity, unit_price)"
            " VALUES (?, ?, ?, ?, ?)",
            [[i["order_id"], i["line_no"], i["name"], i["quantity"], i["unit_price"]]
             for i in sample.items],
        )


def sample_database(path: Path | str, seed: int = 1,
                    n_orders: int = 300) -> tuple[Database, Sample]:
    """The sample written into a new database: a DuckDB file's path or a PostgreSQL URL."""
    sample = build_sample(seed, n_orders)
    database = open_database(path)
    load_sample(database, sample)
    return database, sample
