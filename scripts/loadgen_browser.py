"""The same desk in real Chromium, a few sessions at once, to set beside the protocol-level load.

K browser contexts (one Chromium process) each sign in through the form; once all are in, each
clicks "Next" N times, each click timed until the caption shows "page k of". Chromium shares the machine's cores with
the server, so these times include the browser's own work: compare with scripts/loadgen.py.

    python scripts/loadgen_browser.py --serve --sessions 5 --clicks 10
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.loadtest.oracle import DEMO_PASSWORDS  # noqa: E402 - the script runs from any folder
from scripts.loadtest.page import SIGN_IN_COOKIE, TIMEZONE  # noqa: E402
from scripts.loadtest.report import percentile  # noqa: E402
from scripts.loadtest.server import (  # noqa: E402
    ServerProcess,
    pid_listening_on,
    prepare_copy,
    start_server,
)

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]


def chromium_cpu_seconds() -> float:
    """The CPU time of every Chromium process on the machine (user + system), from /proc."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        name, fields = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        if "chrom" in name:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


async def one_session(browser, base: str, username: str, clicks: int, timeout_ms: int,
                      times: list[float], failures: list[str], sign_ins: list[float],
                      all_in: asyncio.Barrier, all_done: asyncio.Barrier, phase: dict,
                      server: ServerProcess) -> None:
    from playwright.async_api import expect

    context = await browser.new_context(viewport={"width": 1280, "height": 800},
                                        timezone_id=TIMEZONE)
    page = await context.new_page()
    try:
        started = time.perf_counter()
        await page.goto(base)
        await page.get_by_role("textbox", name="Username").fill(username, timeout=timeout_ms)
        await page.get_by_role("textbox", name="Password").fill(DEMO_PASSWORDS[username])
        await page.wait_for_timeout(500)  # let the form register both values before the click
        await page.get_by_role("button", name="Login").click()
        await expect(page.get_by_text(re.compile(r"page 1 of"))).to_be_visible(timeout=timeout_ms)
        for _ in range(timeout_ms // 100):  # signed in once the cookie is written (one more run)
            if any(c["name"] == SIGN_IN_COOKIE for c in await context.cookies()):
                break
            await page.wait_for_timeout(100)
        await page.wait_for_timeout(300)
        sign_ins.append(time.perf_counter() - started)
        # The clicks start once every session is in, as the protocol load's mix does: a page
        # turn is not timed against another browser context loading the whole app.
        if await all_in.wait() == 0:  # one of them notes where the clicks start
            phase["clicks_from"] = (chromium_cpu_seconds(), server.cpu_seconds())
        for k in range(2, clicks + 2):
            clicked = time.perf_counter()
            await page.get_by_role("button", name="Next").click(timeout=timeout_ms)
            await expect(page.get_by_text(re.compile(rf"page {k:,} of"))).to_be_visible(
                timeout=timeout_ms)
            times.append(time.perf_counter() - clicked)
        if await all_done.wait() == 0:  # before any context closes (its processes end with it)
            phase["clicks_to"] = (chromium_cpu_seconds(), server.cpu_seconds())
    except Exception as exc:  # noqa: BLE001 - a failed session is counted, the others go on
        await all_in.abort()
        await all_done.abort()
        failures.append(f"{username}: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}")
    finally:
        await context.close()


async def drive(base: str, args, server: ServerProcess) -> dict:
    from playwright.async_api import async_playwright

    usernames = [u.strip() for u in args.users.split(",") if u.strip()]
    times: list[float] = []
    failures: list[str] = []
    sign_ins: list[float] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        cpu_before, load_before = server.cpu_seconds(), os.getloadavg()
        started = time.perf_counter()
        all_in, all_done = asyncio.Barrier(args.sessions), asyncio.Barrier(args.sessions)
        phase: dict = {}
        await asyncio.gather(*(
            one_session(browser, base, usernames[n % len(usernames)], args.clicks,
                        int(args.timeout * 1000), times, failures, sign_ins, all_in, all_done,
                        phase, server)
            for n in range(args.sessions)
        ))
        elapsed = time.perf_counter() - started
        cpu_after, load_after = server.cpu_seconds(), os.getloadavg()
        await browser.close()
    return {
        "sessions": args.sessions, "clicks": args.clicks, "users": usernames,
        "server_args": args.server_args, "elapsed_s": elapsed,
        "click_median_s": percentile(times, 0.5), "click_p95_s": percentile(times, 0.95),
        "clicks_done": len(times), "sign_in_median_s": percentile(sign_ins, 0.5),
        "failures": failures,
        "server_cpu_s": None if cpu_before is None or cpu_after is None else cpu_after - cpu_before,
        **_per_click(phase, len(times)),
        "load_before": load_before, "load_after": load_after,
    }


def _per_click(phase: dict, clicks: int) -> dict:
    """CPU per click of the browser and of the server, over the clicks' phase."""
    if "clicks_from" not in phase or "clicks_to" not in phase or not clicks:
        return {}
    (browser_from, server_from), (browser_to, server_to) = phase["clicks_from"], phase["clicks_to"]
    return {"browser_cpu_ms_per_click": 1000 * (browser_to - browser_from) / clicks,
            "server_cpu_ms_per_click": None if server_to is None or server_from is None
            else 1000 * (server_to - server_from) / clicks}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--port", type=int, help="a running server on 127.0.0.1:PORT")
    target.add_argument("--serve", action="store_true", help="start the app on a copy of --db")
    parser.add_argument("--db", type=Path, default=Path(os.environ.get("ORDERDESK_DB", "data/orders.duckdb")))
    parser.add_argument("--users-file", type=Path,
                        default=Path(os.environ.get("ORDERDESK_USERS", "data/users.yaml")))
    parser.add_argument("--sessions", type=int, default=5)
    parser.add_argument("--clicks", type=int, default=10)
    parser.add_argument("--users", default="admin,refunder,viewer,viewer.store")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds for one step")
    parser.add_argument("--json", type=Path)
    parser.add_argument("server_args", nargs="*", help="after --: passed to `streamlit run`")
    args = parser.parse_args(argv)
    if not 1 <= args.sessions <= 20 or not 1 <= args.clicks <= 100:
        parser.error("sessions must be 1..20 and clicks 1..100")
    served = workdir = None
    try:
        if args.serve:
            workdir = Path(tempfile.mkdtemp(prefix="orderdesk-browser-"))
            db, users = prepare_copy(args.db, args.users_file, workdir)
            served = start_server(workdir, db, users, args.server_args)
            port, pid = served.port, served.process.pid
        else:
            port, pid = args.port, pid_listening_on(args.port)
        result = asyncio.run(drive(f"http://127.0.0.1:{port}", args, ServerProcess(pid)))
    finally:
        if served is not None:
            served.stop()
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)

    def sec(value):
        return "—" if value is None else f"{value:.2f} s"

    print(f"{result['sessions']} Chromium sessions × {result['clicks']} clicks on \"Next\""
          + (f", server args {' '.join(args.server_args)}" if args.server_args else ""))
    print(f"- click → \"page k of\" shown: median {sec(result['click_median_s'])}, "
          f"p95 {sec(result['click_p95_s'])} ({result['clicks_done']} clicks)")
    print(f"- sign-in median {sec(result['sign_in_median_s'])}; failures: {len(result['failures'])}")
    for failure in result["failures"]:
        print(f"  - {failure}")
    if result.get("browser_cpu_ms_per_click") is not None:
        server_part = result.get("server_cpu_ms_per_click")
        print(f"- CPU per click: Chromium {result['browser_cpu_ms_per_click']:.0f} ms, server "
              + ("—" if server_part is None else f"{server_part:.0f} ms"))
    if result["server_cpu_s"] is not None:
        print(f"- server CPU {result['server_cpu_s']:.1f} s over {result['elapsed_s']:.1f} s")
    print("- load average before {:.2f} {:.2f} {:.2f}, after {:.2f} {:.2f} {:.2f}".format(
        *result["load_before"], *result["load_after"]))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
