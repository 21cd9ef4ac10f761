"""Real-Chromium flows: one Streamlit server per test module, on its own small demo database.

Each module gets a fresh temp dir with a demo database and users file built by the operators'
command (`python -m core demo`). DuckDB lets only one process open the file, so a module computes
its oracles (what the screen must show) from the file in its `oracle` fixture, which the server
fixture waits for, before the server takes the file.
"""
from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest
from playwright.sync_api import Locator, Page, expect

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
DEMO_ORDERS, DEMO_SEED = 3000, 7
HEALTH_TIMEOUT_S = 30
CHROMIUM = "/usr/bin/chromium"
CAPTION = re.compile(r"([\d,]+)–([\d,]+) of ([\d,]+) orders · page ([\d,]+) of ([\d,]+)")


@dataclass
class Server:
    url: str
    root: Path
    log_path: Path
    users: dict[str, tuple] = field(default_factory=dict)  # username -> DEMO_USERS row

    def password(self, username: str) -> str:
        return self.users[username][1]

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"


# --- pytest-playwright: Debian's Chromium, a laptop-sized window, downloads allowed ---------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {
        **browser_context_args,
        "viewport": {"width": 1280, "height": 800},
        "accept_downloads": True,
        "timezone_id": "Europe/Warsaw",
        "locale": "en-US",  # the sign-in form speaks the browser's language: pinned to English
    }


# --- the demo database and the server -------------------------------------------------------------


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    """The demo database and users file, built once by the operators' command."""
    root = tmp_path_factory.mktemp("demo")
    env = {**os.environ, "ORDERDESK_DB": str(root / "orders.duckdb"),
           "ORDERDESK_USERS": str(root / "users.yaml")}
    done = subprocess.run(
        [sys.executable, "-m", "core", "demo", "--orders", str(DEMO_ORDERS), "--seed", str(DEMO_SEED)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, f"demo build failed:\n{done.stdout}\n{done.stderr}"
    return root


@pytest.fixture(scope="module")
def demo_dir(demo_template, tmp_path_factory) -> Path:
    """A fresh copy of the demo for one module: its flows may change orders."""
    root = tmp_path_factory.mktemp("browser")
    for name in ("orders.duckdb", "users.yaml"):
        shutil.copy2(demo_template / name, root / name)
    return root


def query_db(root: Path, sql: str, params: list | None = None) -> list[tuple]:
    """Rows from the module's database; only before the server starts (DuckDB: one process)."""
    with duckdb.connect(str(root / "orders.duckdb"), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def scope_sql(user_row: tuple) -> tuple[str, list]:
    """docs/design.md §1 as SQL over ``orders o JOIN stores s``: an order is in scope when its
    store's legal entity or the store itself is granted; an admin sees everything."""
    _, _, role, legal_entities, stores, _ = user_row
    if role == "admin":
        return "TRUE", []
    return ("(s.legal_entity IN (SELECT unnest(?::VARCHAR[])) "
            "OR o.store_id IN (SELECT unnest(?::VARCHAR[])))", [list(legal_entities), list(stores)])


@pytest.fixture(scope="module")
def oracle(demo_dir) -> dict:
    """What a module's tests expect, read from the database; modules override it."""
    return {}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="module")
def server(demo_dir, oracle) -> Server:
    """`streamlit run app.py` on a free port, serving the module's database; stopped at teardown."""
    from core.demo import DEMO_USERS

    port = free_port()
    alphabet = string.ascii_letters + string.digits
    env = {
        **os.environ,
        "ORDERDESK_DB": str(demo_dir / "orders.duckdb"),
        "ORDERDESK_USERS": str(demo_dir / "users.yaml"),
        "ORDERDESK_COOKIE_KEY": "".join(secrets.choice(alphabet) for _ in range(48)),
        "ORDERDESK_TZ": "Europe/Warsaw",
    }
    log_path = demo_dir / "server.log"
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    running = Server(url=url, root=demo_dir, log_path=log_path,
                     users={row[0]: row for row in DEMO_USERS})
    try:
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        while not healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Streamlit server did not become healthy at {url}:\n"
                            f"{running.log_tail()}")
            time.sleep(0.2)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# --- helpers for the flows ------------------------------------------------------------------------


def sign_in(page: Page, base_url: str, username: str, password: str, *, path: str = "",
            expect_heading: str | re.Pattern | None = "Orders") -> None:
    """Open the app (or a deep link), sign in through the real form, wait for the page."""
    page.goto(f"{base_url}/{path.lstrip('/')}")
    username_box = page.get_by_role("textbox", name="Username")
    expect(username_box).to_be_visible(timeout=20_000)
    username_box.fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.wait_for_timeout(500)  # let the form register both values before the click
    page.get_by_role("button", name="Login").click()
    if expect_heading is not None:
        expect(heading(page, expect_heading)).to_be_visible(timeout=20_000)
        _wait_for_sign_in_cookie(page)


def _wait_for_sign_in_cookie(page: Page, timeout_ms: int = 10_000) -> None:
    """A sign-in is complete once its cookie is written: by a component, after the first page,
    which reruns the page once more. Acting during that rerun raced with it (a navigation or a
    widget change now and then lost)."""
    for _ in range(timeout_ms // 100):
        if any(c["name"] == "orderdesk_session" for c in page.context.cookies()):
            page.wait_for_timeout(300)  # the rerun the cookie causes
            return
        page.wait_for_timeout(100)
    raise AssertionError("signed in, but no sign-in cookie was written")


def heading(page: Page, name: str | re.Pattern) -> Locator:
    """A page title (h1) by its exact text or a pattern."""
    if isinstance(name, str):
        return page.get_by_role("heading", name=name, exact=True, level=1)
    return page.get_by_role("heading", name=name, level=1)


def caption_counts(page: Page) -> tuple[int, int, int, int, int]:
    """(first, last, total, page, pages) from the Orders page's pager caption."""
    locator = page.get_by_text(CAPTION)
    expect(locator).to_be_visible()
    match = CAPTION.search(locator.inner_text())
    assert match, locator.inner_text()
    return tuple(int(part.replace(",", "")) for part in match.groups())


def screenshot(page: Page, name: str) -> Path:
    """A 1280×800 screenshot for people to look at (test-artifacts/, git-ignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    try:  # a rerun still running shows stale, greyed-out elements
        expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=10_000)
    except AssertionError:
        pass  # a screenshot is for people to look at: take it anyway
    page.wait_for_timeout(200)  # the fade-in of the last rerun's elements
    page.screenshot(path=str(path))
    return path


def choose_reason(page: Page, form, reason: str = "Goods returned") -> None:
    """Pick the refund dialog's "Reason" from its list."""
    box = form.get_by_role("combobox", name="Reason")
    box.click()
    page.get_by_role("option", name=reason, exact=True).click()
    expect(box).to_have_value(reason)
