"""Many simulated analysts at once, through Streamlit's own WebSocket protocol, without a browser.

One asyncio process opens N sessions on ws://127.0.0.1:PORT/_stcore/stream, signs each in through
the real form and drives a mix of page turns, filters, searches, sorts, order openings and exports,
speaking the ``BackMsg`` / ``ForwardMsg`` protobufs that ship with the ``streamlit`` package. Like
the browser, a session keeps every widget's value, sends all of them on each rerun, takes the
values the server sets, answers the cookie component, and follows the query string the app writes.

Every answer is checked against counts computed beforehand from the database file with the
generator's own SQL (not orderdesk's query code): the Orders caption's count and page, that no row
shown belongs to a store outside the user's scope, and that each widget kept the value set.
It reports per kind of interaction the median and p95 time from message to script finish, errors,
and the server process's CPU and memory.

    python scripts/loadgen.py --serve --sessions 50 --active 20 --interval 2 --duration 120
    python scripts/loadgen.py --serve --db postgresql://… --oracle-db orders.duckdb   # server mode

On PostgreSQL the counts come from the DuckDB file the database's data was copied from, and the
users from the database (load the demo users with ``python -m core users import FILE``).
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import tempfile
import time
from pathlib import Path

from core.db.postgres import is_postgres_url
from scripts.loadtest.analyst import MIX, MIX_KINDS, Session
from scripts.loadtest.oracle import DEMO_PASSWORDS, Oracle, build_oracle, read_scopes
from scripts.loadtest.refunds import Ledger, verify
from scripts.loadtest.report import Stats, report
from scripts.loadtest.server import ServerProcess, pid_listening_on, prepare_copy, start_server


async def _sample(server: ServerProcess) -> None:
    """The server's peak memory, sampled every second until cancelled."""
    while True:
        server.sample()
        await asyncio.sleep(1)


async def _sign_in(session: Session, delay: float) -> None:
    await asyncio.sleep(delay)
    await session.sign_in()


async def _work(session: Session, active: bool, stop_at: float, interval: float) -> None:
    """An active session's mix until ``stop_at``; an idle one only keeps its connection alive."""
    next_beat = time.monotonic() + 15
    next_step = time.monotonic() + session.rng.uniform(0, interval)
    while time.monotonic() < stop_at and not session.closed:
        if active:
            # Open loop, like people: the next action is due on a clock, not after an answer.
            await asyncio.sleep(max(0.0, next_step - time.monotonic()))
            next_step += interval * session.rng.uniform(0.5, 1.5)
            if time.monotonic() >= stop_at:
                break
            await session.step()
        else:
            await asyncio.sleep(min(1.0, max(0.0, stop_at - time.monotonic())))
            if time.monotonic() >= next_beat:
                next_beat += 15
                with contextlib.suppress(Exception):
                    await session.heartbeat()


def _cpu_phases(start: float | None, signed_in: float | None, end: float | None) -> dict:
    """The server's CPU seconds in all, while signing in and during the mix (None if unread)."""
    if None in (start, signed_in, end):
        return {"server_cpu_s": None}
    return {"server_cpu_s": end - start, "server_cpu_sign_in_phase_s": signed_in - start,
            "server_cpu_mix_s": end - signed_in}


async def run_sessions(base: str, usernames: list[str], oracle: Oracle, args,
                       server: ServerProcess, ledger: Ledger | None = None,
                       acting: frozenset[str] = frozenset()) -> tuple[Stats, dict]:
    stats = Stats()
    rng = random.Random(args.seed)
    sessions = [
        Session(n, usernames[n % len(usernames)], base, oracle, stats, server,
                random.Random(rng.random()), args.timeout, exclusive_cpu=args.active == 1)
        for n in range(args.sessions)
    ]
    for session in sessions:
        if ledger is not None and session.username in acting:
            session.ledger = ledger
    started = time.monotonic()
    info: dict = {}
    sample_task = asyncio.create_task(_sample(server))
    cpu_start = server.cpu_seconds()
    # First everyone signs in, spread over a few seconds (0.2 s apart, at most a third of the
    # run); the mix starts once all are in, so its times are those of a signed-in team.
    spread = min(args.duration / 3, max(2.0, args.sessions * 0.2))
    await asyncio.gather(*(_sign_in(s, spread * n / len(sessions)) for n, s in enumerate(sessions)),
                         return_exceptions=True)
    info["sign_in_phase_s"] = time.monotonic() - started
    cpu_signed_in = server.cpu_seconds()
    info["rss_signed_in"] = server.rss()
    working = [s for s in sessions if s.signed_in and not s.closed]
    stop_at = time.monotonic() + args.duration
    await asyncio.gather(*(_work(s, s.number < args.active, stop_at, args.interval)
                           for s in working), return_exceptions=True)
    info["elapsed_s"] = time.monotonic() - started
    info.update(_cpu_phases(cpu_start, cpu_signed_in, server.cpu_seconds()))
    info["signed_in"] = sum(s.signed_in for s in sessions)
    info["interactions"] = sum(s.interactions for s in sessions)
    info["mix_interactions"] = sum(s.interactions for s in sessions) - sum(
        2 for s in sessions if s.signed_in)
    info["rss_before_disconnect"] = server.rss()
    await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)
    sample_task.cancel()
    with contextlib.suppress(BaseException):
        await sample_task
    return stats, info


def parse_args(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--url", help="a running server, e.g. http://127.0.0.1:8501")
    target.add_argument("--port", type=int, help="a running server on 127.0.0.1:PORT")
    target.add_argument("--serve", action="store_true",
                        help="start `streamlit run app.py` on a copy of --db with a new cookie key "
                             "(a postgresql:// --db is served itself, not copied)")
    parser.add_argument("--db", default=os.environ.get("ORDERDESK_DB", "data/orders.duckdb"),
                        help="the database the counts are computed from (with --serve: copied), "
                             "or a postgresql:// URL the server runs on")
    parser.add_argument("--oracle-db", type=Path,
                        help="with a postgresql:// --db: the DuckDB file holding the same data, "
                             "which the counts are computed from (the one it was copied from)")
    parser.add_argument("--users-file", type=Path,
                        default=Path(os.environ.get("ORDERDESK_USERS", "data/users.yaml")))
    parser.add_argument("--pid", type=int, help="the server's process ID (found from the port if omitted)")
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--active", type=int, default=None, help="how many act (default: all)")
    parser.add_argument("--interval", type=float, default=2.0,
                        help="seconds between interactions of an active session (±50 %%)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--users", default="admin,refunder,viewer,viewer.store",
                        help="comma-separated demo users, assigned in turn")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for one run")
    parser.add_argument("--mix", help="weights, e.g. next=1 (kinds: " + ", ".join(MIX) + ")")
    parser.add_argument("--refunds", action="store_true",
                        help="refunders and admins also refund 0.01 of half the orders they open "
                             "(with --serve only: on the copy); checked in the database after")
    parser.add_argument("--json", type=Path, help="write the results as JSON here")
    parser.add_argument("server_args", nargs="*",
                        help="after --: passed to `streamlit run` with --serve "
                             "(e.g. -- --runner.postScriptGC false)")
    args = parser.parse_args(argv)
    if args.active is None:
        args.active = args.sessions
    if is_postgres_url(args.db):
        if args.oracle_db is None:
            parser.error("a postgresql:// --db needs --oracle-db: the DuckDB file of its data")
        if args.refunds:
            parser.error("--refunds needs a DuckDB --db: refunds are made on a copy only")
    else:
        args.db = Path(args.db)
        args.oracle_db = args.db
    if args.refunds and not args.serve:
        parser.error("--refunds needs --serve: refunds are made on a copy of the database only")
    if args.sessions < 1 or args.sessions > 500 or args.duration > 3600 or args.active > args.sessions:
        parser.error("sessions must be 1..500, active ≤ sessions, duration ≤ 3600 s")
    if args.url and not re.match(r"^https?://127\.0\.0\.1(:\d+)?/?$", args.url):
        parser.error("--url must be http://127.0.0.1:PORT (the load is for this machine only)")
    if args.mix:
        MIX.clear()
        for part in args.mix.split(","):
            kind, _, weight = part.partition("=")
            MIX[kind.strip()] = float(weight or 1)
        unknown = set(MIX) - MIX_KINDS
        if unknown:
            parser.error(f"unknown kinds in --mix: {', '.join(sorted(unknown))}")
    return args


def run(args) -> dict:
    usernames = [u.strip() for u in args.users.split(",") if u.strip()]
    scopes = read_scopes(args.users_file)
    unknown = [u for u in usernames if u not in scopes or u not in DEMO_PASSWORDS]
    if unknown:
        raise SystemExit(f"not demo users of {args.users_file}: {', '.join(unknown)}")
    served = None
    workdir = None
    db, oracle_db = args.db, args.oracle_db
    if args.serve:
        workdir = Path(tempfile.mkdtemp(prefix="orderdesk-load-"))
        if is_postgres_url(db):  # served itself: a database server has no file to copy
            users_copy = workdir / "users.yaml"
            shutil.copy2(args.users_file, users_copy)
        else:
            db, users_copy = prepare_copy(args.db, args.users_file, workdir)
            oracle_db = db
    oracle_started = time.monotonic()
    oracle = build_oracle(oracle_db, {u: scopes[u] for u in usernames}, args.seed)
    oracle_s = time.monotonic() - oracle_started
    try:
        if args.serve:
            served = start_server(workdir, db, users_copy, args.server_args)
            port, pid = served.port, served.process.pid
        else:
            port = args.port or int(re.search(r":(\d+)", args.url).group(1))
            pid = args.pid or pid_listening_on(port)
        base = f"http://127.0.0.1:{port}"
        server = ServerProcess(pid)
        load_before = os.getloadavg()
        ledger = Ledger() if args.refunds else None
        acting = frozenset(u for u in usernames if scopes[u].acts)
        stats, info = asyncio.run(run_sessions(base, usernames, oracle, args, server, ledger,
                                               acting))
        load_after = os.getloadavg()
        result = {
            "sessions": args.sessions, "active": args.active, "interval_s": args.interval,
            "duration_s": args.duration, "users": usernames, "seed": args.seed,
            "server_args": args.server_args, "oracle_s": round(oracle_s, 2),
            "load_before": load_before, "load_after": load_after,
            "rss_start": server.rss_start, "rss_peak": server.rss_peak,
            "rss_end": info.pop("rss_before_disconnect"), **info,
            "errors": stats.error_count(), "wrong_counts": stats.error_count("wrong count"),
            "lost_widget_values": stats.error_count("lost widget value"),
            "kinds": stats.rows(), "error_examples": stats.examples,
        }
        if result.get("server_cpu_mix_s") is not None and result["mix_interactions"] > 0:
            result["server_cpu_ms_per_interaction"] = (
                1000 * result["server_cpu_mix_s"] / result["mix_interactions"])
        time.sleep(2)
        result["rss_after_disconnect_2s"] = server.rss()
        if ledger is not None:
            served.stop()  # the database's account is read once the server has let go of it
            served = None
            problems = verify(db, ledger)
            result["refunds"] = {"confirmed": ledger.count, "problems": problems}
            result["errors"] += len(problems)
        return result
    finally:
        if served is not None:
            served.stop()
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = run(args)
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    return 1 if result["errors"] or result["signed_in"] < result["sessions"] else 0

