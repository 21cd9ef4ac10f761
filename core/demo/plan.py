"""The demo's plan, made in Python before any SQL: its stores, its period and its fixed orders.

The few thousand stores at most are dealt to the legal entities of ``core.demo.places`` and do not
depend on the seed, so the demo users' scopes (``core.demo.users``) hold for every seed. The
orders themselves are generated in SQL (``core.db.demo_data``) from this plan.
"""
from __future__ import annotations

import calendar
import datetime as dt
import zlib
from dataclasses import dataclass

from core.demo.places import (
    BRANDS, DEFAULT_LEGAL_ENTITIES, WEB_LABELS, ZONE_ORDER, ZONES, LegalEntity,
)
from core.errors import InvalidInput

FIRST_ORDER_ID = 1597001
PENDING_DAYS = 10  # a Pending order is at most this many days old at the end of the period


@dataclass(frozen=True)
class DemoSummary:
    orders: int
    stores: int
    legal_entities: int
    items: int
    refunds: int


@dataclass(frozen=True)
class PlannedStore:
    store_id: str
    store_name: str
    store_address: str
    merchant_store_id: str | None
    brand: str
    legal_entity: str
    region: str
    zone: str
    web: bool
    provides_items: bool
    online_weight: int  # relative share of the zone's online orders
    offline_weight: int


# Fixed edge cases, by order ID, so that tests and people can find them in every build.
EDGE_ORDERS = (
    # An e-mail that a spreadsheet would run as a formula: exports must neutralise it.
    (FIRST_ORDER_ID, {"email": "=cmd@evil.test"}),
    # Mixed case: search by e-mail is case-insensitive.
    (FIRST_ORDER_ID + 1, {"email": "Kasia.Nowak@WP.PL"}),
    # Leading zeros that a spreadsheet would drop from a number.
    (FIRST_ORDER_ID + 2, {"phone": "0048 606 606 606"}),
    # Cyrillic text.
    (FIRST_ORDER_ID + 3, {"email": "olga.kuznetsova@mail.ru", "salesperson_id": "SP000007",
                          "salesperson_name": "Ольга Кузнецова"}),
    # The examples of the help text.
    (FIRST_ORDER_ID + 4, {"email": "janek23@wp.pl", "phone": "606606606"}),
)
EDGE_COLUMNS = ("email", "phone", "salesperson_id", "salesperson_name")


def check_demo_arguments(orders: int, seed: int, stores: int, legal_entities: int,
                         months: int) -> None:
    """``InvalidInput`` for arguments no demo can be built from."""
    for name, value in (("orders", orders), ("seed", seed), ("stores", stores),
                        ("legal_entities", legal_entities), ("months", months)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidInput(f"The demo's {name} must be a whole number, not {value!r}.")
    if orders < 1:
        raise InvalidInput("The demo needs at least one order.")
    if seed < 0:
        raise InvalidInput("The demo's seed must not be negative.")
    if legal_entities < 1 or stores < legal_entities:
        raise InvalidInput("The demo needs at least one legal entity and one store for each.")
    if months < 1:
        raise InvalidInput("The demo needs at least one month of orders.")


def _spread(key: str, n: int) -> int:
    """A stable pseudo-random number in [0, n) for planning stores (Python's hash() is salted)."""
    return zlib.crc32(key.encode()) % n


def plan_legal_entities(count: int) -> list[LegalEntity]:
    """The default four legal entities, then generated ones cycling through the zones."""
    entities = list(DEFAULT_LEGAL_ENTITIES[:count])
    width = max(3, len(str(count)))
    for k in range(len(entities), count):
        zone = ZONE_ORDER[k % len(ZONE_ORDER)]
        number = f"{k + 1:0{width}d}"
        name = {
            "PL": f"LPP Franchise {number} Sp. z o.o.",
            "RO": f"LPP Romania Franchise {number} SRL",
            "RU": f"RE Trading {number} LLC",
        }[zone]
        entities.append(LegalEntity(name, zone, False))
    return entities


def plan_stores(stores: int, legal_entities: int) -> list[PlannedStore]:
    """Stores dealt round-robin to the legal entities; every eighth store of one is a web shop.

    Physical stores take the zone's malls in turn, each mall hosting every brand before a second
    round of the same names gets a number.
    """
    entities = plan_legal_entities(legal_entities)
    id_width = max(3, len(str(stores)))
    web_width = max(2, len(str(stores)))
    web_count = {zone: 0 for zone in ZONES}
    physical_count = {zone: 0 for zone in ZONES}
    planned = []
    for k in range(stores):
        entity = entities[k % len(entities)]
        store_id = f"S{k + 1:0{id_width}d}"
        if entity.online_only or (k // len(entities)) % 8 == 0:
            planned.append(_web_store(k, store_id, entity, web_count[entity.zone], web_width))
            web_count[entity.zone] += 1
        else:
            planned.append(_physical_store(k, store_id, entity, physical_count[entity.zone]))
            physical_count[entity.zone] += 1
    return planned


def _web_store(k: int, store_id: str, entity: LegalEntity, n: int, width: int) -> PlannedStore:
    """The ``n``-th web shop of the entity's zone, the ``k``-th store, registered at the office."""
    brand = BRANDS[n % len(BRANDS)]
    rounds = n // len(BRANDS)
    suffix = f" {rounds // len(WEB_LABELS) + 1}" if rounds >= len(WEB_LABELS) else ""
    region, address = ZONES[entity.zone]["office"]
    label = WEB_LABELS[rounds % len(WEB_LABELS)]
    return PlannedStore(
        store_id=store_id,
        store_name=f"{brand} {label} {entity.zone}{suffix}",
        store_address=address,
        merchant_store_id=f"WEB-{entity.zone}-{n + 1:0{width}d}",
        brand=brand, legal_entity=entity.name, region=region, zone=entity.zone,
        web=True, provides_items=True,
        online_weight=40 + _spread(f"store-{k}", 41), offline_weight=1,
    )


def _physical_store(k: int, store_id: str, entity: LegalEntity, n: int) -> PlannedStore:
    """The ``n``-th shop in a mall of the entity's zone, the ``k``-th store."""
    key = f"store-{k}"
    malls = ZONES[entity.zone]["malls"]
    region, city, mall, address = malls[n % len(malls)]
    rounds = n // len(malls)
    brand = BRANDS[(n + rounds) % len(BRANDS)]
    suffix = f" {rounds // len(BRANDS) + 1}" if rounds >= len(BRANDS) else ""
    offline_weight = 10 + _spread(key, 31)
    return PlannedStore(
        store_id=store_id,
        store_name=f"{brand} {city} {mall}{suffix}",
        store_address=address,
        # Only some stores report their own ID through the offline app.
        merchant_store_id=(f"{entity.zone}{1000 + n}" if _spread(key + "-id", 100) < 55
                           else None),
        brand=brand, legal_entity=entity.name, region=region, zone=entity.zone,
        # Every fourth shop of a zone sends no item lines: each zone has both kinds.
        web=False, provides_items=n % 4 != 3,
        online_weight=1 + offline_weight // 10, offline_weight=offline_weight,
    )


def _months_before(day: dt.date, months: int) -> dt.date:
    """The same day of the month ``months`` earlier (clamped to the month's last day)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def demo_period(today: dt.date, months: int) -> tuple[dt.datetime, dt.datetime]:
    """The UTC period ``[start, end)`` of the orders: ``months`` months to the end of ``today``."""
    end = today + dt.timedelta(days=1)
    start = _months_before(end, months)
    return (dt.datetime.combine(start, dt.time()), dt.datetime.combine(end, dt.time()))
