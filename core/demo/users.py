"""The demo users: one per role and kind of scope, scoped to the default demo's stores.

Their passwords are published in the README; the users file (or, in the server mode, the
database's users table) stores only their bcrypt hashes.
"""
from __future__ import annotations

from pathlib import Path

from core.demo.plan import plan_legal_entities, plan_stores
from core.user_store import UserStore, UsersFile
from core.users import User, hash_password


def _demo_users() -> list[tuple[str, str, str, tuple[str, ...], tuple[str, ...], str]]:
    """The demo users, scoped to the default demo's legal entities and stores."""
    planned = plan_stores(40, 4)
    ro, polska, online, _ru = (e.name for e in plan_legal_entities(4))
    polska_stores = [s for s in planned if s.legal_entity == polska and not s.web]
    one_store = polska_stores[0]
    two_stores = polska_stores[1:3]
    return [
        ("admin", "admin-demo-2026", "admin", (), (),
         "Everything: all orders, cancels, refunds and data loading."),
        ("refunder", "refunder-demo-2026", "refunder", (polska, online), (),
         f"Cancels and refunds orders of the Polish legal entities {polska} and {online}"),
        ("viewer", "viewer-demo-2026", "viewer", (ro,), tuple(s.store_id for s in two_stores),
         f"Views {ro} plus two stores of {polska}: "
         + " and ".join(f"{s.store_id} {s.store_name}" for s in two_stores) + "."),
        ("viewer.store", "store-demo-2026", "viewer", (), (one_store.store_id,),
         f"Views one store: {one_store.store_id} {one_store.store_name}."),
    ]


DEMO_USERS = _demo_users()


def write_demo_users(where: UserStore | Path | str) -> None:
    """Replace every user with the demo users only (bcrypt hashes, never the passwords): in a
    users file (a path), or in the store the settings chose (``core.user_store.open_users``)."""
    store = UsersFile(where) if isinstance(where, (str, Path)) else where
    store.replace_all([  # hashed before the write begins
        User(
            username=username,
            name=f"Demo {username}",
            email=f"{username}@example.com",
            password_hash=hash_password(password),
            role=role,
            legal_entities=legal_entities,
            stores=store_ids,
        )
        for username, password, role, legal_entities, store_ids, _description in DEMO_USERS
    ])
