"""The integer sort keys of phones and e-mails (core.db.schema.sort_key) keep the texts' order.

A page by phone or e-mail is narrowed by the key found at the page's last rank, which is only
right if a lower key always means a lower text. Checked here on texts that share long prefixes,
differ after 8 bytes, hold multi-byte characters or are empty; and on a database of schema 1,
whose orders get their keys when it is opened.
"""
from __future__ import annotations

import random

import duckdb
import pytest

from core.query import OrderQuery
from core.db.schema import DDL, SCHEMA_VERSION, sort_key
from core.db import Database
from tests.sample_data import sample_database
from tests.db.test_orders_store import SCOPES, TZ, all_pages, oracle_sorted

TEXTS = [
    "", " ", "0", "00", "+", "+40 721 000 100", "+40 721 000 101", "+40 721 0", "+40 721 ",
    "+48 606 606 606", "0048 600 120", "anna@wp.pl", "Anna@wp.pl", "anna@wp.pl ", "annabel@x.pl",
    "zzielinska@onet.pl", "ł@x.pl", "łukasz@x.pl", "żaneta@o2.pl", "ä", "a\u00e4", "日本@x.jp",
    "abcdefgh", "abcdefgh1", "abcdefgi", "abcdefg", "\x7f", "~~~~~~~~~~",
]


def _keys(texts: list[str]) -> list[int | None]:
    with duckdb.connect() as con:
        return [row[0] for row in con.execute(
            f"SELECT {sort_key('t')} FROM (SELECT unnest(?::VARCHAR[]) AS t, "
            "generate_subscripts(?::VARCHAR[], 1) AS i) ORDER BY i", [texts, texts]
        ).fetchall()]


def test_keys_order_like_the_texts_bytes():
    rnd = random.Random(5)
    alphabet = "0123456789 +-()@.abcłż日"
    texts = TEXTS + ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 20)))
                     for _ in range(400)]
    keys = _keys(texts)
    pairs = list(zip(texts, keys))
    for a, key_a in pairs:
        for b, key_b in pairs:
            if key_a < key_b:
                assert a.encode() < b.encode(), (a, b)
            if a.encode() <= b.encode():
                assert key_a <= key_b, (a, b)


def test_a_null_text_has_no_key():
    assert _keys([None]) == [None]


def _schema_1_ddl() -> str:
    """This schema as it was before the search index and the sort keys."""
    ddl = DDL[:DDL.index("CREATE TABLE IF NOT EXISTS search_stores")]
    return "\n".join(line for line in ddl.splitlines()
                     if "phone_sort" not in line and "email_sort" not in line)


@pytest.mark.parametrize("sort", ["Customer phone", "Customer email"])
@pytest.mark.parametrize("descending", [True, False])
def test_a_schema_1_database_gets_its_keys_when_the_server_opens_it(tmp_path, sort, descending):
    database, sample = sample_database(tmp_path / "sample.duckdb")
    database.close()
    path = tmp_path / "orders.duckdb"
    with duckdb.connect(str(path)) as con:  # a database of schema 1, with the sample's rows
        con.execute(_schema_1_ddl())
        con.execute(f"ATTACH '{tmp_path / 'sample.duckdb'}' AS sample (READ_ONLY)")
        columns = [r[0] for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = 'orders' "
            "AND table_name = 'orders'").fetchall()]
        assert "phone_sort" not in columns
        for table, select in (("meta", "*"), ("stores", "*"), ("orders", ", ".join(columns))):
            con.execute(f"INSERT INTO {table} SELECT {select} FROM sample.{table}")
        con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    with Database.open_clustered(path) as database:  # as ui.context opens it
        with database.cursor() as cur:
            wrong = cur.execute(
                f"SELECT count(*) FROM orders WHERE phone_sort IS DISTINCT FROM {sort_key('phone')} "
                f"OR email_sort IS DISTINCT FROM {sort_key('email')}").fetchone()[0]
            version = cur.execute(
                "SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
        assert (wrong, version) == (0, str(SCHEMA_VERSION))
        query = OrderQuery(sort=sort, descending=descending)
        assert all_pages(database, SCOPES["admin"], query) == oracle_sorted(
            sample, sample.orders, sort, descending)
        found = database.fetch_page(SCOPES["admin"], OrderQuery(search="606 606"), TZ, 1).total
        assert found == sum("606606" in "".join(c for c in o["phone"] or "" if c.isdigit())
                            for o in sample.orders) > 0
