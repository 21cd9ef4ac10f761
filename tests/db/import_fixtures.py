"""Files and databases for the import tests: rows of each kind written as CSV, and a base database
(two stores, orders in every status, one partial refund made by import and one item refund
made "in the app") built once per module and backend, and copied for each test (a DuckDB file
copied; a PostgreSQL database created from it as a template)."""
from __future__ import annotations

import csv
import os
import re
import shutil
import string
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.errors import ImportRejected
from core.importer import ITEM_COLUMNS, ORDER_COLUMNS, STORE_COLUMNS, import_files
from core.db import Database, open_database
from scripts import pgcluster
from tests.backends import BACKENDS, new_target

ALL_TABLES = ("meta", "stores", "orders", "order_items", "order_events")
COLUMNS = {"stores": STORE_COLUMNS, "orders": ORDER_COLUMNS, "items": ITEM_COLUMNS}


# --- building files ------------------------------------------------------------------------------

def store_row(store_id="S3", **kw) -> dict:
    row = dict(store_id=store_id, store_name=f"Store {store_id}", store_address="Main St 1",
               merchant_store_id=f"M-{store_id}", brand="Reserved", legal_entity="LE1",
               region="Mazowieckie", zone="PL")
    return {**row, **kw}


def order_row(order_id=201, **kw) -> dict:
    row = dict(order_id=str(order_id), created_at="2024-03-01T10:00:00", merchant_order_id="MO-1",
               amount="100.00", status="Completed", channel="online", email="anna@wp.pl",
               phone="+48 606 606 606", store_id="S1", salesperson_id="SP1",
               salesperson_name="Jan", refunded_amount="")
    return {**row, **kw}


def item_row(order_id=201, line_no=1, **kw) -> dict:
    row = dict(order_id=str(order_id), line_no=str(line_no), name="Socks", quantity="1",
               unit_price="10.00")
    return {**row, **kw}


def write_csv(path: Path, rows: list[dict], columns=None) -> Path:
    columns = list(columns or (rows[0].keys() if rows else ()))
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([row.get(c, "") for c in columns])
    return path


def write_files(tmp_path: Path, **kinds: list[dict]) -> dict[str, Path]:
    """CSV files named ``<kind>.csv`` with the exact columns of each kind."""
    return {kind: write_csv(tmp_path / f"{kind}.csv", rows, COLUMNS[kind])
            for kind, rows in kinds.items()}


def sorted_rows(database: Database, sql: str) -> list[tuple]:
    """Every row of ``sql`` in one order on both backends (PostgreSQL has no ORDER BY ALL)."""
    with database.cursor() as cur:
        return sorted(cur.execute(sql).fetchall(), key=repr)


def snapshot(database: Database) -> dict[str, list[tuple]]:
    return {t: sorted_rows(database, f"SELECT * FROM {t}") for t in ALL_TABLES}


# --- the base database ---------------------------------------------------------------------------

BASE_STORES = [
    store_row("S1", legal_entity="LE1", zone="PL"),
    store_row("S2", legal_entity="LE2", region="Ilfov", zone="RO"),
]
BASE_ORDERS = [
    order_row(101, status="Pending", amount="100.00"),
    order_row(102, status="Completed", channel="offline", amount="50.00"),
    order_row(103, status="Cancel", amount="20.00", store_id="S2"),
    order_row(104, status="Completed", amount="80.00", refunded_amount="10.00", store_id="S2"),
    order_row(105, status="Completed", amount="30.00"),
    order_row(106, status="Return", channel="offline", amount="40.00", refunded_amount="40.00",
              store_id="S2"),
    order_row(107, status="Completed", amount="60.00"),
]
BASE_ITEMS = [
    item_row(105, 1, name="Socks", quantity="2", unit_price="10.00"),
    item_row(105, 2, name="Cap", quantity="1", unit_price="10.00"),
    item_row(107, 1, name="Shirt", quantity="3", unit_price="20.00"),
]


@dataclass(frozen=True)
class Base:
    """The base database of one backend, and how to copy it."""

    backend: str
    target: Path | str
    cluster: object = None

    def copy(self, folder: Path) -> Path | str:
        if self.backend == "duckdb":
            path = folder / "orders.duckdb"
            shutil.copy(self.target, path)
            return path
        name = f"copy_{uuid.uuid4().hex[:16]}"
        template = str(self.target).rsplit("/", 1)[1]
        c = self.cluster
        subprocess.run([str(pgcluster.binaries() / "createdb"), "-h", "127.0.0.1", "-p",
                        str(c.port), "-U", c.user, "-T", template, name], check=True,
                       capture_output=True, env={**os.environ, "PGPASSWORD": c.password})
        return c.url(name)


@pytest.fixture(scope="module", params=BACKENDS)
def base_db(request, tmp_path_factory) -> Base:
    folder = tmp_path_factory.mktemp("base")
    cluster = (request.getfixturevalue("postgres_cluster") if request.param == "postgresql"
               else None)
    files = write_files(folder, stores=BASE_STORES, orders=BASE_ORDERS, items=BASE_ITEMS)
    path = new_target(request.param, folder, cluster)
    with open_database(path) as database:
        import_files(database, **files)
        # A refund made in the app: one pair of socks of order 105.
        with database.transaction() as cur:
            cur.execute("UPDATE orders SET refunded_amount = 10 WHERE order_id = 105")
            cur.execute("UPDATE order_items SET refunded_quantity = 1 "
                        "WHERE order_id = 105 AND line_no = 1")
            cur.execute("INSERT INTO order_events (order_id, kind, amount, items, reason, username, "
                        "created_at, idempotency_key) VALUES (105, 'refund', 10, NULL, 'Torn', "
                        "'anna', TIMESTAMP '2024-03-02 09:00:00', 'form-1')")
    return Base(request.param, path, cluster)


@pytest.fixture
def database(base_db, tmp_path):
    with open_database(base_db.copy(tmp_path)) as opened:
        yield opened


@pytest.fixture(scope="module")
def unchanged_store(base_db, tmp_path_factory):
    """One copy of the base database shared by the tests of refused imports, which assert that
    they left it exactly as it was."""
    with open_database(base_db.copy(tmp_path_factory.mktemp("refused"))) as opened:
        yield opened


def refusal(database: Database, files: dict, *, progress=None) -> list:
    """Import ``files`` expecting a refusal; the database must be unchanged. The problems."""
    before = snapshot(database)
    with pytest.raises(ImportRejected) as info:
        import_files(database, **files, progress=progress)
    assert snapshot(database) == before
    assert str(info.value).endswith("nothing was written.")
    return info.value.problems


def rejected(database: Database, files: dict, *, progress=None) -> list[str]:
    """Import ``files`` expecting a refusal; the database must be unchanged. The problems' text."""
    return [str(p) for p in refusal(database, files, progress=progress)]


# Words the translations share with English (Polish and Romanian "status", Romanian "import"
# and "final").
_SHARED_WORDS = {"final", "import", "status"}


def _parts(message) -> tuple[list[str], list]:
    """The literal words of a reason's template(s) and its values (a reason's values may be
    reasons themselves: their words and values too)."""
    from core.i18n import Message

    words, values = [], []
    templates = [message.template] + ([message.plural] if message.plural else [])
    for template in templates:
        for literal, *_ in string.Formatter().parse(template):
            words += re.findall(r"(?<![\w.])[a-z]{4,}", literal)  # not ".parquet"
    for value in message.values.values():
        if isinstance(value, Message):
            more_words, more_values = _parts(value)
            words, values = words + more_words, values + more_values
        else:
            values.append(value)
    return words, values


def assert_translated(problems, langs=("pl", "ro", "ru")) -> None:
    """Each problem's reason, in each of ``langs``, has none of its English template's words
    left and keeps every value it quotes (a count in the language's grouping)."""
    from core.i18n import Count, format_count

    for problem in problems:
        message = problem.message()  # from the template and values the problem keeps
        assert problem.reason_in("en") == problem.reason == message
        words, values = _parts(message)
        for lang in langs:
            text = problem.reason_in(lang)
            left = {w for w in words if re.search(rf"(?<!\w){w}(?!\w)", text)} - _SHARED_WORDS
            assert not left, (lang, str(problem), text, left)
            for value in values:
                shown = format_count(value, lang) if isinstance(value, Count) else str(value)
                assert shown in text, (lang, str(problem), text, value)


def refunds_match_events(database: Database) -> bool:
    with database.cursor() as cur:
        return cur.execute("""
            SELECT count(*) FROM orders o
            WHERE o.refunded_amount <> (SELECT coalesce(sum(amount), 0) FROM order_events e
                                        WHERE e.order_id = o.order_id AND kind = 'refund')
        """).fetchone()[0] == 0


def order(database: Database, order_id: int) -> dict:
    with database.cursor() as cur:
        cur.execute("SELECT * FROM orders WHERE order_id = ?", [order_id])
        names = [d[0] for d in cur.description]
        return dict(zip(names, cur.fetchone()))


def events(database: Database, order_id: int) -> list[tuple]:
    with database.cursor() as cur:
        return cur.execute(
            "SELECT kind, amount, username, reason, idempotency_key FROM order_events "
            "WHERE order_id = ? ORDER BY event_id", [order_id]).fetchall()


# --- large files ---------------------------------------------------------------------------------

def write_large_orders(path: Path, n: int) -> Path:
    """``n`` valid orders in store S1 (CSV written by DuckDB itself, quickly)."""
    with Database(path.with_suffix(".gen.duckdb")) as gen, gen.cursor() as cur:
        cur.execute(f"""
            COPY (
                SELECT 1000000 + i AS order_id,
                       strftime(TIMESTAMP '2024-01-01' + INTERVAL (i % 31536000) SECOND,
                                '%Y-%m-%dT%H:%M:%S') AS created_at,
                       'M' || i AS merchant_order_id,
                       ((i % 99999) + 1) || '.' || lpad((i % 97)::VARCHAR, 2, '0') AS amount,
                       CASE WHEN i % 10 = 0 THEN 'Pending' WHEN i % 10 = 1 THEN 'Cancel'
                            ELSE 'Completed' END AS status,
                       CASE WHEN i % 10 < 2 OR i % 3 = 0 THEN 'online' ELSE 'offline' END
                           AS channel,
                       'c' || i || '@mail.test' AS email, '+48 600 ' || (i % 1000000) AS phone,
                       'S1' AS store_id, 'SP' || (i % 50) AS salesperson_id,
                       'Seller ' || (i % 50) AS salesperson_name,
                       '' AS refunded_amount
                FROM range({n}) t(i)
            ) TO '{path}' (HEADER, DELIMITER ',')""")
    return path
