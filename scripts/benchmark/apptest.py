"""The app as a user meets it: the signed-in Orders page rerun in AppTest (in a child process,
through app.py and the real sign-in form), and the first Orders page of a freshly started
``streamlit run`` in Chromium."""
from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

from scripts.benchmark.pages import Workload
from scripts.benchmark.timing import ROOT, TZ_NAME, process_peak_rss_mb, timed
from scripts.loadtest.page import CAPTION
from scripts.loadtest.server import app_env as server_env
from scripts.loadtest.server import start_server


def bench_users(root: Path, w: Workload) -> dict[str, str]:
    """A users file with a 50-store viewer and an admin; returns their passwords."""
    from core.users import User, hash_password, save_users

    passwords = {"bench.viewer": secrets.token_urlsafe(12), "bench.admin": secrets.token_urlsafe(12)}
    save_users(root / "users.yaml", {
        "bench.viewer": User("bench.viewer", "Bench Viewer", "viewer@example.com",
                             hash_password(passwords["bench.viewer"]), "viewer",
                             stores=w.user_stores),
        "bench.admin": User("bench.admin", "Bench Admin", "admin@example.com",
                            hash_password(passwords["bench.admin"]), "admin"),
    })
    return passwords


def app_env(db: Path, root: Path) -> dict[str, str]:
    """The app's settings for the benchmark's database and users file (written by bench_users)."""
    return server_env(db, root / "users.yaml", TZ_NAME)


def child_apptest(payload: dict) -> dict:
    """The signed-in Orders page rerun, through app.py and the real sign-in form."""
    os.environ.update(payload["env"])
    from streamlit.testing.v1 import AppTest

    results = {}
    for username, password in payload["users"].items():
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.run()
        boxes = {t.label: t for t in at.text_input}
        boxes["Username"].input(username)
        boxes["Password"].input(password)
        next(b for b in at.button if b.label == "Login").click()
        start = time.perf_counter()
        at.run()
        if at.session_state["authentication_status"]:
            # In the browser the sign-in cookie component's answer reruns the script; AppTest
            # has no browser, so rerun by hand (as tests/pages/conftest.py does).
            at.run()
        first = time.perf_counter() - start
        captions = " ".join(c.value for c in at.caption)
        if not CAPTION.search(captions):
            raise RuntimeError(f"no Orders caption after sign-in for {username}: {captions[:300]}"
                               f" {[e.value for e in at.exception]}")
        timing = timed(at.run, payload["repeat"], warm_up=0)
        if at.exception:
            raise RuntimeError(str(at.exception[0].value))
        results[username] = {"first": first, "wall": timing.wall, "cpu": timing.cpu}
    return results


def measure_server(db: Path, root: Path, passwords: dict[str, str]) -> dict:
    """``streamlit run app.py`` on the database; Chromium signs in and waits for the first page."""
    started = time.perf_counter()
    served = start_server(root, db, root / "users.yaml", [], timeout_s=120, tz=TZ_NAME,
                          poll_s=0.05)
    result = {"healthy": time.perf_counter() - started}
    try:
        result.update(first_page(f"http://127.0.0.1:{served.port}", passwords["bench.viewer"]))
        peak = process_peak_rss_mb(served.process.pid)
        if peak is not None:
            result["server_peak_rss_mb"] = peak
    finally:
        served.stop()
    return result


def first_page(url: str, password: str) -> dict:
    """Seconds from opening the URL to the sign-in form, and from the click on Login to the
    Orders caption, for the 50-store viewer in Chromium."""
    from playwright.sync_api import expect, sync_playwright

    result = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                     args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        opened = time.perf_counter()
        page.goto(url)
        box = page.get_by_role("textbox", name="Username")
        expect(box).to_be_visible(timeout=60_000)
        result["sign_in_form"] = time.perf_counter() - opened
        box.fill("bench.viewer")
        page.get_by_role("textbox", name="Password").fill(password)
        page.wait_for_timeout(500)  # as the browser tests: the form registers both values
        clicked = time.perf_counter()
        page.get_by_role("button", name="Login").click()
        expect(page.get_by_text(CAPTION)).to_be_visible(timeout=120_000)
        result["first_page"] = time.perf_counter() - clicked
        browser.close()
    return result
