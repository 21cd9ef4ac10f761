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
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import math
import os
import random
import re
import secrets
import shutil
import socket
import string
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
PAGE_SIZE = 15
STATUSES = ("Pending", "Completed", "Cancel", "Return")
CHANNELS = ("online", "offline")
DEMO_PASSWORDS = {
    "admin": "admin-demo-2026",
    "refunder": "refunder-demo-2026",
    "viewer": "viewer-demo-2026",
    "viewer.store": "store-demo-2026",
}
# The views a session may reach: a few filter choices, each combined with any search of its user.
STATUS_CHOICES = ((), ("Completed",), ("Return",), ("Pending", "Cancel"))
CHANNEL_CHOICES = ((), ("online",), ("offline",))
SORTS = ("Order date", "Captured amount", "Customer email", "Store name", "Order ID")
# kind → weight in the mix of an active, signed-in session on the Orders page.
MIX = {"next": 35, "previous": 8, "filter": 12, "search": 12, "sort": 10, "open": 10,
       "open_link": 5, "export": 2}
CAPTION = re.compile(
    r"([\d,]+)–([\d,]+) of ([\d,]+) orders · page ([\d,]+) of ([\d,]+)(?: · captured (\S+))?"
)
EXPORT_READY = re.compile(r": ([\d,]+) orders, ready to download")
SIGN_IN_COOKIE = "orderdesk_session"
TIMEZONE, TIMEZONE_OFFSET = "Europe/Warsaw", -60


# --- pure parts: the caption, statistics, the views and the page model ----------------------------


@dataclass(frozen=True)
class Caption:
    first: int
    last: int
    total: int
    page: int
    pages: int


def parse_caption(text: str) -> Caption | None:
    """The Orders pager caption ("1–15 of 12,345 orders · page 1 of 823 · captured …")."""
    match = CAPTION.search(text or "")
    if not match:
        return None
    return Caption(*(int(part.replace(",", "")) for part in match.groups()[:5]))


def page_count(total: int) -> int:
    return max(1, math.ceil(total / PAGE_SIZE))


def expected_caption(total: int, page: int) -> Caption:
    """What the caption must say for ``total`` orders on page ``page``."""
    first = (page - 1) * PAGE_SIZE + 1 if total else 0
    return Caption(first, min(page * PAGE_SIZE, total), total, page, page_count(total))


def percentile(values: list[float], q: float) -> float | None:
    """The q-quantile (0..1) by linear interpolation between closest ranks; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class View:
    """The part of an Orders view that decides which orders match (sort and page do not)."""

    statuses: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    search: str = ""


def search_kind(text: str) -> tuple[str, str]:
    """How the app's search reads a text, as its specification says: e-mail, digits or text."""
    text = text.strip()
    if not text:
        return "", ""
    if "@" in text:
        return "email", text.lower()
    digits = re.sub(r"[\s+\-()]", "", text)
    if digits.isdigit() and digits.isascii():
        return "digits", digits
    return "text", text


def in_list(column: str, values: tuple[str, ...]) -> tuple[str, list]:
    """``column IN (?, ...)`` for ``values``, with its parameters."""
    return f"{column} IN ({', '.join('?' * len(values))})", list(values)


def view_sql(view: View) -> tuple[str, list]:
    """The view's conditions over ``orders o JOIN stores s``, written here from the specification
    so that the generator never trusts the code it checks."""
    clauses, params = [], []
    for column, values in (("o.status", view.statuses), ("o.channel", view.channels)):
        if values:
            sql, values_params = in_list(column, values)
            clauses.append(sql)
            params += values_params
    kind, value = search_kind(view.search)
    phone_digits = "regexp_replace(coalesce(o.phone, ''), '[^0-9]', '', 'g')"
    if kind == "email":
        clauses.append("strpos(lower(coalesce(o.email, '')), ?) > 0")
        params.append(value)
    elif kind == "digits":
        clauses.append(f"(CAST(o.order_id AS VARCHAR) = ? OR o.merchant_order_id = ? "
                       f"OR strpos({phone_digits}, ?) > 0)")
        params += [value.lstrip("0") or "0", value, value]
    elif kind == "text":
        clauses.append("(o.merchant_order_id = ? OR strpos(lower(coalesce(o.email, '')), ?) > 0)")
        params += [value, value.lower()]
    return " AND ".join(clauses) or "TRUE", params


@dataclass(frozen=True)
class UserScope:
    username: str
    admin: bool
    legal_entities: tuple[str, ...] = ()
    stores: tuple[str, ...] = ()

    def sql(self) -> tuple[str, list]:
        if self.admin:
            return "TRUE", []
        parts, params = [], []
        for column, values in (("s.legal_entity", self.legal_entities),
                               ("s.store_id", self.stores)):
            if values:
                sql, values_params = in_list(column, values)
                parts.append(sql)
                params += values_params
        return ("(" + " OR ".join(parts) + ")" if parts else "FALSE"), params


@dataclass
class Oracle:
    """What each user must see, computed from the database before the server opens it."""

    counts: dict[tuple[str, View], int] = field(default_factory=dict)
    searches: dict[str, list[str]] = field(default_factory=dict)
    allowed_stores: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    order_ids: dict[str, list[int]] = field(default_factory=dict)

    def count(self, username: str, view: View) -> int | None:
        return self.counts.get((username, view))


def views_for(searches: list[str]) -> list[View]:
    return [View(st_, ch, se) for st_ in STATUS_CHOICES for ch in CHANNEL_CHOICES
            for se in ["", *searches]]


def read_scopes(users_path: Path) -> dict[str, UserScope]:
    import yaml

    data = yaml.safe_load(users_path.read_text())
    scopes = {}
    for username, entry in (data.get("credentials", {}).get("usernames") or {}).items():
        roles = entry.get("roles") or []
        scopes[username] = UserScope(username, "admin" in roles,
                                     tuple(entry.get("legal_entities") or ()),
                                     tuple(entry.get("stores") or ()))
    return scopes


def build_oracle(db_path: Path, scopes: dict[str, UserScope], seed: int,
                 searches_per_kind: int = 2) -> Oracle:
    """Counts for every user × view the mix can reach, from the file opened read-only (and closed
    again: DuckDB lets one process hold the file)."""
    import duckdb

    rng = random.Random(seed)
    oracle = Oracle()
    with duckdb.connect(str(db_path), read_only=True) as con:
        for username, scope in scopes.items():
            where, params = scope.sql()
            base = f"FROM orders o JOIN stores s ON s.store_id = o.store_id WHERE {where}"
            oracle.allowed_stores[username] = {
                (merchant or "", name) for merchant, name in con.execute(
                    f"SELECT s.merchant_store_id, s.store_name FROM stores s WHERE {where}",
                    params).fetchall()
            }
            sample = con.execute(
                f"SELECT o.order_id, o.email, o.phone {base} ORDER BY hash(o.order_id + ?) LIMIT 50",
                [*params, seed]).fetchall()
            oracle.order_ids[username] = [row[0] for row in sample]
            searches: list[str] = []
            if sample:
                picks = rng.sample(sample, min(len(sample), 3 * searches_per_kind))
                for order_id, email, phone in picks[:searches_per_kind]:
                    searches.append(str(order_id))
                for _, email, _ in picks[searches_per_kind:2 * searches_per_kind]:
                    if email and "@" in email:
                        local = email.split("@")[0]
                        searches.append(local[: max(3, len(local) // 2)].lower())
                for _, _, phone in picks[2 * searches_per_kind:]:
                    digits = re.sub(r"\D", "", phone or "")
                    if len(digits) >= 6:
                        searches.append(digits[-6:-1])
            searches.append("@example.org")
            oracle.searches[username] = list(dict.fromkeys(searches))
            for view in views_for(oracle.searches[username]):
                sql, view_params = view_sql(view)
                oracle.counts[(username, view)] = con.execute(
                    f"SELECT count(*) {base} AND {sql}", [*params, *view_params]).fetchone()[0]
    return oracle


def _proto():
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    return BackMsg, ForwardMsg


# Element types that are widgets, and how the browser sends each one's value.
VALUE_FIELDS = {
    "text_input": "string_value",
    "text_area": "string_value",
    "selectbox": "string_value",
    "multiselect": "string_array_value",
    "checkbox": "bool_value",
    "number_input": "double_value",
    "date_input": "string_array_value",
    "component_instance": "json_value",
}
TRIGGERS = {"button", "download_button"}


def element_value(kind: str, widget, known: bool):
    """The value a browser holds for a widget element it has just been sent: the server's value
    when it sets one, else the default on first sight, else None (keep what the client has)."""
    if kind == "component_instance" or (known and not getattr(widget, "set_value", False)):
        return None
    set_value = getattr(widget, "set_value", False)
    if kind in ("text_input", "text_area"):
        return widget.value if set_value else widget.default
    if kind == "selectbox":
        if set_value:
            return widget.raw_value
        return widget.options[widget.default] if 0 <= widget.default < len(widget.options) else None
    if kind == "multiselect":
        if set_value:
            return list(widget.raw_values)
        return [widget.options[i] for i in widget.default if 0 <= i < len(widget.options)]
    if kind == "checkbox":
        return widget.value if set_value else widget.default
    if kind == "number_input":
        return widget.value if set_value else widget.default
    if kind == "date_input":
        return list(widget.value) if set_value else list(widget.default)
    return None


@dataclass
class Widget:
    id: str
    kind: str
    label: str
    form_id: str
    element: object


class PageModel:
    """What a browser would show, rebuilt from the ForwardMsgs of one session.

    Elements are kept by their delta path; a finished run drops those it did not draw, as the
    browser does. Widget values live in ``values`` (id → value), sent in full on every rerun.
    """

    def __init__(self) -> None:
        self.elements: dict[tuple, tuple[str, object]] = {}
        self.drawn: set[tuple] = set()
        self.widgets_drawn: set[str] = set()
        self.values: dict[str, tuple[str, object]] = {}
        self.pending: dict[str, tuple[str, object]] = {}  # form widgets edited, not submitted
        self.query_string = ""
        self.page_script_hash = ""
        self.pages: dict[str, str] = {}  # url path → page script hash
        self.running = False
        self.finished: list[int] = []
        self.runs = 0
        self.answered_components: set[tuple[str, str]] = set()
        self.cookies: dict[str, str] = {}
        self.set_values: list[tuple[str, object]] = []  # (widget label, value) the server set
        self._cache: dict[str, object] = {}

    # -- reading ForwardMsgs ---------------------------------------------------------------------

    def apply(self, msg) -> None:
        kind = msg.WhichOneof("type")
        if msg.hash and msg.metadata.cacheable:
            self._cache[msg.hash] = msg
        if kind == "ref_hash":
            cached = self._cache.get(msg.ref_hash)
            if cached is None:
                raise ProtocolError(f"unknown cached message {msg.ref_hash}")
            cached_copy = type(cached)()
            cached_copy.CopyFrom(cached)
            cached_copy.metadata.CopyFrom(msg.metadata)
            return self.apply(cached_copy)
        if kind == "new_session":
            self.running = True
            self.runs += 1
            self.drawn, self.widgets_drawn = set(), set()
            self.page_script_hash = msg.new_session.page_script_hash
            self._read_pages(msg.new_session.app_pages)
        elif kind == "navigation":
            self._read_pages(msg.navigation.app_pages)
            if msg.navigation.page_script_hash:
                self.page_script_hash = msg.navigation.page_script_hash
        elif kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string
        elif kind == "delta":
            self._apply_delta(tuple(msg.metadata.delta_path), msg.delta)
        elif kind == "script_finished":
            status = msg.script_finished
            self.finished.append(status)
            if status in (0, 1):  # finished (or a compile error): the browser clears what is stale
                self.running = False
                self.elements = {p: e for p, e in self.elements.items() if self._kept(p)}
                self.values = {k: v for k, v in self.values.items() if k in self.widgets_drawn}
            elif status == 3:
                self.running = False
        elif kind == "session_status_changed":
            if not msg.session_status_changed.script_is_running:
                self.running = False

    def _kept(self, path: tuple) -> bool:
        return path in self.drawn

    def _read_pages(self, app_pages) -> None:
        for app_page in app_pages:
            self.pages[app_page.url_pathname] = app_page.page_script_hash

    def _apply_delta(self, path: tuple, delta) -> None:
        which = delta.WhichOneof("type")
        if which == "add_block":
            # A new block replaces whatever was below its path.
            self.elements = {p: e for p, e in self.elements.items()
                             if not (len(p) > len(path) and p[: len(path)] == path)}
            self.elements[path] = ("block", delta.add_block)
            self._mark(path)
        elif which == "new_element":
            element = delta.new_element
            kind = element.WhichOneof("type")
            self.elements[path] = (kind, element)
            self._mark(path)
            if kind in VALUE_FIELDS or kind in TRIGGERS or kind == "dataframe":
                self._see_widget(kind, getattr(element, kind))

    def _mark(self, path: tuple) -> None:
        for depth in range(1, len(path) + 1):
            self.drawn.add(path[:depth])

    def _see_widget(self, kind: str, widget) -> None:
        widget_id = getattr(widget, "id", "")
        if not widget_id:
            return
        self.widgets_drawn.add(widget_id)
        if kind in TRIGGERS:
            return
        if kind == "dataframe":
            if widget_id in self.values:
                return
            return
        value = element_value(kind, widget, widget_id in self.values)
        if value is not None:
            if widget_id in self.values and getattr(widget, "set_value", False):
                self.set_values.append((getattr(widget, "label", widget_id), value))
            self.values[widget_id] = (VALUE_FIELDS[kind], value)

    # -- what the page shows ---------------------------------------------------------------------

    def ordered(self):
        return [self.elements[path] for path in sorted(self.elements)]

    def of_kind(self, kind: str) -> list:
        return [element for k, element in self.ordered() if k == kind]

    def widget(self, kind: str, label: str) -> Widget | None:
        for element in self.of_kind(kind):
            widget = getattr(element, kind)
            if widget.label == label:
                return Widget(widget.id, kind, widget.label, widget.form_id, widget)
        return None

    def texts(self) -> list[str]:
        out = []
        for kind, element in self.ordered():
            if kind == "markdown":
                out.append(element.markdown.body)
            elif kind == "heading":
                out.append(element.heading.body)
            elif kind == "alert":
                out.append(element.alert.body)
        return out

    def title(self) -> str | None:
        for element in self.of_kind("heading"):
            if element.heading.tag == "h1":
                return element.heading.body
        return None

    def caption(self) -> Caption | None:
        for text in self.texts():
            if parsed := parse_caption(text):
                return parsed
        return None

    def errors(self) -> list[str]:
        """What a user would read as an error: exceptions shown and ``st.error`` boxes."""
        found = []
        for kind, element in self.ordered():
            if kind == "exception":
                found.append(f"exception {element.exception.type}: {element.exception.message}"[:200])
            elif kind == "alert" and element.alert.format == 1:
                found.append(f"error: {element.alert.body}"[:200])
        return found

    def table(self):
        """The Orders table as a pyarrow Table, or None."""
        import pyarrow as pa

        for element in self.of_kind("dataframe"):
            data = element.dataframe.arrow_data.data
            if data:
                return element.dataframe.id, pa.ipc.open_stream(io.BytesIO(data)).read_all()
        return None

    def components(self) -> list:
        return [element.component_instance for element in self.of_kind("component_instance")]

    def value_of(self, widget: Widget):
        stored = self.values.get(widget.id)
        return stored[1] if stored else None

    # -- what the browser sends ------------------------------------------------------------------

    def client_state(self, *, triggers: dict[str, tuple[str, object]] | None = None,
                     page_script_hash: str | None = None, query_string: str | None = None,
                     page_name: str = "", url: str = ""):
        from streamlit.proto.ClientState_pb2 import ClientState

        state = ClientState()
        state.query_string = self.query_string if query_string is None else query_string
        state.page_script_hash = self.page_script_hash if page_script_hash is None else page_script_hash
        state.page_name = page_name
        state.context_info.timezone = TIMEZONE
        state.context_info.timezone_offset = TIMEZONE_OFFSET
        state.context_info.locale = "en-US"
        state.context_info.url = url
        state.context_info.is_embedded = False
        state.context_info.color_scheme = "light"
        for widget_id, (value_field, value) in {**self.values, **(triggers or {})}.items():
            fill_widget_state(state.widget_states.widgets.add(), widget_id, value_field, value)
        return state


def fill_widget_state(proto, widget_id: str, value_field: str, value) -> None:
    proto.id = widget_id
    if value_field == "string_array_value":
        proto.string_array_value.data[:] = list(value)
    elif value_field == "double_value":
        proto.double_value = float(value)
    else:
        setattr(proto, value_field, value)


class ProtocolError(Exception):
    """The server said something a browser would not understand."""


# --- statistics -----------------------------------------------------------------------------------


@dataclass
class Stats:
    """Per interaction kind: times, errors by category, the server's CPU spent during each."""

    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    cpu: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    examples: list[str] = field(default_factory=list)

    def record(self, kind: str, seconds: float | None, cpu_seconds: float | None = None) -> None:
        if seconds is not None:
            self.times[kind].append(seconds)
        if cpu_seconds is not None:
            self.cpu[kind].append(cpu_seconds)

    def error(self, kind: str, category: str, detail: str = "") -> None:
        self.errors[kind][category] += 1
        if len(self.examples) < 40:
            self.examples.append(f"{kind}: {category}: {detail}"[:300])

    def error_count(self, category: str | None = None) -> int:
        return sum(n for by_cat in self.errors.values() for cat, n in by_cat.items()
                   if category is None or cat == category)

    def rows(self) -> list[dict]:
        kinds = sorted(set(self.times) | set(self.errors))
        rows = []
        for kind in kinds:
            times = self.times.get(kind, [])
            cpu = self.cpu.get(kind, [])
            rows.append({
                "kind": kind,
                "count": len(times) + sum(self.errors.get(kind, {}).get(c, 0)
                                          for c in ("timeout", "disconnect")),
                "median_s": percentile(times, 0.5),
                "p95_s": percentile(times, 0.95),
                "max_s": max(times) if times else None,
                "cpu_median_ms": (percentile(cpu, 0.5) or 0) * 1000 if cpu else None,
                "errors": dict(self.errors.get(kind, {})),
            })
        return rows


def markdown_table(rows: list[dict]) -> str:
    def sec(value):
        return "—" if value is None else f"{value:.3f}"

    lines = ["| interaction | count | median s | p95 s | max s | server CPU ms (median) | errors |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        errors = ", ".join(f"{k} {v}" for k, v in sorted(row["errors"].items())) or "0"
        cpu = "—" if row["cpu_median_ms"] is None else f"{row['cpu_median_ms']:.0f}"
        lines.append(f"| {row['kind']} | {row['count']} | {sec(row['median_s'])} | "
                     f"{sec(row['p95_s'])} | {sec(row['max_s'])} | {cpu} | {errors} |")
    return "\n".join(lines)


# --- the server process ---------------------------------------------------------------------------


class ServerProcess:
    """CPU seconds and RSS of the server process, read from /proc (Linux)."""

    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        self.ticks = os.sysconf("SC_CLK_TCK")
        self.rss_start = self.rss_peak = self.rss()

    def cpu_seconds(self) -> float | None:
        if not self.pid:
            return None
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / self.ticks

    def rss(self) -> int | None:
        if not self.pid:
            return None
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            return None
        return None

    def sample(self) -> None:
        rss = self.rss()
        if rss and (self.rss_peak is None or rss > self.rss_peak):
            self.rss_peak = rss


def pid_listening_on(port: int) -> int | None:
    """The process listening on 127.0.0.1:port, found through /proc (only our own are readable)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                parts = line.split()
                if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(parts[9])
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (proc / "fd").iterdir():
                link = os.readlink(fd)
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return int(proc.name)
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@dataclass
class Served:
    process: subprocess.Popen
    port: int
    workdir: Path
    log_path: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def prepare_copy(db: Path, users: Path, workdir: Path) -> tuple[Path, Path]:
    """A copy of the database and users file: the load (and its refunds) never touch the original."""
    workdir.mkdir(parents=True, exist_ok=True)
    db_copy, users_copy = workdir / "orders.duckdb", workdir / "users.yaml"
    shutil.copy2(db, db_copy)
    wal = db.with_name(db.name + ".wal")
    if wal.exists():
        shutil.copy2(wal, db_copy.with_name(db_copy.name + ".wal"))
    shutil.copy2(users, users_copy)
    return db_copy, users_copy


def start_server(workdir: Path, db_copy: Path, users_copy: Path, extra_args: list[str],
                 timeout_s: float = 60) -> Served:
    """`streamlit run app.py` on a free port of 127.0.0.1, on the copy, with a fresh cookie key."""
    port = free_port()
    alphabet = string.ascii_letters + string.digits
    env = {
        **os.environ,
        "ORDERDESK_DB": str(db_copy),
        "ORDERDESK_USERS": str(users_copy),
        "ORDERDESK_COOKIE_KEY": "".join(secrets.choice(alphabet) for _ in range(48)),
        "ORDERDESK_TZ": TIMEZONE,
    }
    log_path = workdir / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
             *extra_args],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    served = Served(process, port, workdir, log_path)
    deadline = time.monotonic() + timeout_s
    while not healthy(f"http://127.0.0.1:{port}"):
        if process.poll() is not None or time.monotonic() > deadline:
            served.stop()
            raise RuntimeError(f"the server did not become healthy:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.2)
    return served


# --- one simulated analyst ------------------------------------------------------------------------


class RunTimeout(Exception):
    """A script run of the server did not finish within ``--timeout`` seconds."""


@dataclass
class Expect:
    """What the session set and must see again: its view, sort and page."""

    view: View = View()
    sort: str = "Order date"
    descending: bool = True
    page: int = 1


class Session:
    def __init__(self, number: int, username: str, base: str, oracle: Oracle, stats: Stats,
                 server: ServerProcess, rng: random.Random, timeout: float, exclusive_cpu: bool):
        self.number, self.username = number, username
        self.base = base
        self.oracle, self.stats, self.server = oracle, stats, server
        self.rng, self.timeout = rng, timeout
        self.exclusive_cpu = exclusive_cpu
        self.model = PageModel()
        self.expect = Expect()
        self.ws = None
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.reader: asyncio.Task | None = None
        self.closed = False
        self.signed_in = False
        self.on_order = False
        self.interactions = 0

    # -- transport -------------------------------------------------------------------------------

    async def connect(self) -> None:
        from websockets.asyncio.client import connect

        host = self.base.split("//", 1)[1]
        self.ws = await connect(f"ws://{host}/_stcore/stream", subprotocols=["streamlit"],
                                max_size=64 * 2**20, open_timeout=self.timeout,
                                ping_interval=20, ping_timeout=60)
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        _, ForwardMsg = _proto()
        try:
            async for data in self.ws:
                msg = ForwardMsg()
                msg.ParseFromString(data)
                try:
                    self.model.apply(msg)
                except ProtocolError as exc:
                    self.stats.error("protocol", "protocol", str(exc))
                kind = msg.WhichOneof("type")
                if kind == "script_finished":
                    await self.inbox.put(msg.script_finished)
        except Exception as exc:  # noqa: BLE001 - any end of the stream is a disconnect
            if not self.closed:
                self.stats.error("connection", "disconnect", repr(exc)[:200])
        finally:
            if not self.closed:
                self.closed = True
                await self.inbox.put(None)

    async def close(self) -> None:
        self.closed = True
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(BaseException):
                await self.reader

    async def send_rerun(self, **client_state) -> None:
        BackMsg, _ = _proto()
        msg = BackMsg()
        msg.rerun_script.CopyFrom(self.model.client_state(url=self._url(), **client_state))
        await self.ws.send(msg.SerializeToString())

    async def heartbeat(self) -> None:
        BackMsg, _ = _proto()
        msg = BackMsg()
        msg.app_heartbeat = True
        await self.ws.send(msg.SerializeToString())

    def _url(self) -> str:
        return f"{self.base}/{'?' + self.model.query_string if self.model.query_string else ''}"

    async def wait_finished(self) -> None:
        """Until a run finishes completely (a run that ends early for another keeps us waiting)."""
        deadline = time.monotonic() + self.timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RunTimeout()
            try:
                status = await asyncio.wait_for(self.inbox.get(), remaining)
            except asyncio.TimeoutError as exc:
                raise RunTimeout() from exc
            if status is None:
                raise ConnectionError("disconnected")
            if status in (0, 1, 3) and self.inbox.empty():
                return

    async def interact(self, kind: str, send) -> bool:
        """Send one BackMsg, wait for the script's finish, answer components; time it."""
        while not self.inbox.empty():
            self.inbox.get_nowait()
        cpu_before = self.server.cpu_seconds() if self.exclusive_cpu else None
        started = time.perf_counter()
        try:
            await send()
            await self.wait_finished()
            await self.answer_components()
        except RunTimeout:
            self.stats.error(kind, "timeout", f"session {self.number} ({self.username})")
            return False
        except (ConnectionError, OSError) as exc:
            self.stats.error(kind, "disconnect", f"session {self.number}: {exc!r}"[:200])
            self.closed = True
            return False
        except Exception as exc:  # noqa: BLE001 - a closed socket raises the library's own kinds
            self.stats.error(kind, "disconnect", f"session {self.number}: {exc!r}"[:200])
            self.closed = True
            return False
        elapsed = time.perf_counter() - started
        cpu_after = self.server.cpu_seconds() if self.exclusive_cpu else None
        cpu = cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else None
        self.stats.record(kind, elapsed, cpu)
        self.interactions += 1
        for problem in self.model.errors():
            self.stats.error(kind, "error shown", f"session {self.number} ({self.username}): {problem}")
        return True

    async def answer_components(self) -> None:
        """Answer each custom component once, as its iframe would: the cookie manager sends the
        browser's cookies, and confirms a cookie it was asked to set or delete. Each answer is a
        widget value, so it reruns the script."""
        for _ in range(5):
            unanswered = []
            for component in self.model.components():
                token = (component.id, component.json_args)
                if token not in self.model.answered_components:
                    unanswered.append((component, token))
            if not unanswered:
                return
            for component, token in unanswered:
                self.model.answered_components.add(token)
                args = json.loads(component.json_args or "{}")
                method = args.get("method")
                if method == "getAll":
                    value = dict(self.model.cookies)
                elif method == "set":
                    self.model.cookies[args.get("cookie", "")] = str(args.get("value", ""))
                    value = True
                elif method == "delete":
                    self.model.cookies.pop(args.get("cookie", ""), None)
                    value = True
                else:
                    value = None
                self.model.values[component.id] = ("json_value", json.dumps(value))
            await self.send_rerun()
            await self.wait_finished()

    # -- the analyst's steps ---------------------------------------------------------------------

    async def sign_in(self) -> bool:
        await self.connect()
        ok = await self.interact("connect", lambda: self.send_rerun(page_name="", query_string=""))
        if not ok:
            return False
        username_box = self.model.widget("text_input", "Username")
        password_box = self.model.widget("text_input", "Password")
        login = self.model.widget("button", "Login")
        if not (username_box and password_box and login):
            self.stats.error("connect", "no sign-in form", f"session {self.number}: {self.model.texts()[:5]}")
            return False
        # Form fields are sent with the submit button's trigger, as the browser's form does.
        self.model.values[username_box.id] = ("string_value", self.username)
        self.model.values[password_box.id] = ("string_value", DEMO_PASSWORDS[self.username])

        async def submit():
            await self.send_rerun(triggers={login.id: ("trigger_value", True)})

        ok = await self.interact("sign_in", submit)
        if not ok:
            return False
        if self.model.title() != "Orders":
            self.stats.error("sign_in", "not signed in",
                             f"session {self.number} ({self.username}): title {self.model.title()!r}")
            return False
        self.signed_in = True
        self.check_orders("sign_in")
        return True

    def _total(self) -> int | None:
        return self.oracle.count(self.username, self.expect.view)

    def check_orders(self, kind: str) -> None:
        """The Orders page shows the count, page, rows and widget values this session expects."""
        model = self.model
        if model.title() != "Orders":
            self.stats.error(kind, "wrong page", f"session {self.number}: title {model.title()!r}")
            return
        caption = model.caption()
        total = self._total()
        if caption is None:
            if total != 0:
                self.stats.error(kind, "no caption", f"session {self.number}")
            return
        if total is not None:
            self.expect.page = min(self.expect.page, page_count(total))
            want = expected_caption(total, self.expect.page)
            if caption.total != total:
                self.stats.error(kind, "wrong count",
                                 f"session {self.number} ({self.username}) {self.expect.view}: "
                                 f"shown {caption.total}, expected {total}")
            elif caption != want:
                self.stats.error(kind, "wrong page number",
                                 f"session {self.number}: shown {caption}, expected {want}")
        self.check_rows(kind)
        self.check_widgets(kind)

    def check_rows(self, kind: str) -> None:
        table = self.model.table()
        if table is None:
            return
        _, data = table
        names = data.column_names
        if "Store ID" not in names or "Store name" not in names:
            self.stats.error(kind, "table without store columns", str(names))
            return
        allowed = self.oracle.allowed_stores.get(self.username, set())
        for merchant, name in zip(data.column("Store ID").to_pylist(),
                                  data.column("Store name").to_pylist()):
            if ((merchant or ""), name) not in allowed:
                self.stats.error(kind, "row out of scope",
                                 f"session {self.number} ({self.username}): store {merchant} {name}")

    def check_widgets(self, kind: str) -> None:
        expect = self.expect
        wanted = [
            ("multiselect", "Status", list(expect.view.statuses)),
            ("multiselect", "Channel", list(expect.view.channels)),
            ("text_input", "Search", expect.view.search),
            ("selectbox", "Sort by", expect.sort),
            ("checkbox", "Descending", expect.descending),
        ]
        for widget_kind, label, value in wanted:
            widget = self.model.widget(widget_kind, label)
            if widget is None:
                self.stats.error(kind, "widget missing", f"session {self.number}: {label}")
                continue
            shown = self.model.value_of(widget)
            if widget_kind == "multiselect":
                shown = sorted(shown or [])
                value = sorted(value)
            if shown != value:
                self.stats.error(kind, "lost widget value",
                                 f"session {self.number} ({self.username}): {label} is {shown!r}, "
                                 f"set {value!r}")
        if self.model.caption() is not None:
            page_box = self.model.widget("number_input", "Page")
            if page_box and int(self.model.value_of(page_box) or 0) != self.expect.page:
                self.stats.error(kind, "lost widget value",
                                 f"session {self.number}: Page is {self.model.value_of(page_box)}, "
                                 f"expected {self.expect.page}")

    async def click(self, kind: str, label: str) -> bool:
        button = self.model.widget("button", label)
        if button is None:
            self.stats.error(kind, "button missing", f"session {self.number}: {label}")
            return False
        return await self.interact(
            kind, lambda: self.send_rerun(triggers={button.id: ("trigger_value", True)}))

    async def set_widget(self, kind: str, widget_kind: str, label: str, value) -> bool:
        widget = self.model.widget(widget_kind, label)
        if widget is None:
            self.stats.error(kind, "widget missing", f"session {self.number}: {label}")
            return False
        self.model.values[widget.id] = (VALUE_FIELDS[widget_kind], value)
        return await self.interact(kind, self.send_rerun)

    async def step(self) -> None:
        """One interaction of the mix (after opening an order: back to the list)."""
        if self.on_order:
            await self.back_to_list()
            return
        total = self._total() or 0
        weights = dict(MIX)
        if self.expect.page >= page_count(total):
            weights["next"] = 0
        if self.expect.page <= 1:
            weights["previous"] = 0
        if total == 0:
            weights["open"] = weights["export"] = 0
        if not any(weights.values()):
            weights = {"previous": 1} if self.expect.page > 1 else {"search": 1}
        kind = self.rng.choices(list(weights), weights=list(weights.values()))[0]
        await getattr(self, f"do_{kind}")()

    async def do_next(self) -> None:
        self.expect.page += 1
        if await self.click("page turn", "Next"):
            self.check_orders("page turn")

    async def do_previous(self) -> None:
        self.expect.page -= 1
        if await self.click("page turn", "Previous"):
            self.check_orders("page turn")

    async def do_filter(self) -> None:
        view = self.expect.view
        if self.rng.random() < 0.5:
            label, value = "Status", self.rng.choice([c for c in STATUS_CHOICES if c != view.statuses])
            self.expect.view = View(value, view.channels, view.search)
        else:
            label, value = "Channel", self.rng.choice([c for c in CHANNEL_CHOICES if c != view.channels])
            self.expect.view = View(view.statuses, value, view.search)
        self.expect.page = 1
        if await self.set_widget("filter", "multiselect", label, list(value)):
            self.check_orders("filter")

    async def do_search(self) -> None:
        view = self.expect.view
        choices = [s for s in ["", *self.oracle.searches.get(self.username, [])] if s != view.search]
        text = self.rng.choice(choices)
        self.expect.view = View(view.statuses, view.channels, text)
        self.expect.page = 1
        if await self.set_widget("search", "text_input", "Search", text):
            self.check_orders("search")

    async def do_sort(self) -> None:
        self.expect.page = 1
        if self.rng.random() < 0.6:
            self.expect.sort = self.rng.choice([s for s in SORTS if s != self.expect.sort])
            ok = await self.set_widget("sort", "selectbox", "Sort by", self.expect.sort)
        else:
            self.expect.descending = not self.expect.descending
            ok = await self.set_widget("sort", "checkbox", "Descending", self.expect.descending)
        if ok:
            self.check_orders("sort")

    async def do_open(self) -> None:
        table = self.model.table()
        if table is None:
            return await self.do_next() if self.expect.page < page_count(self._total() or 0) else None
        table_id, data = table
        row = self.rng.randrange(data.num_rows)
        order_id = str(data.column("Order ID")[row].as_py())
        selection = json.dumps({"selection": {"rows": [row], "columns": [], "cells": []}})
        self.model.values[table_id] = ("string_value", selection)
        if await self.interact("open order", self.send_rerun):
            self.check_order("open order", order_id)

    async def do_open_link(self) -> None:
        """An order opened by its address (/order?id=…), as a pasted link or bookmark does."""
        order_ids = self.oracle.order_ids.get(self.username) or []
        order_page = self.model.pages.get("order")
        if not order_ids or not order_page:
            return await self.do_next()
        order_id = str(self.rng.choice(order_ids))
        ok = await self.interact("open order (link)", lambda: self.send_rerun(
            page_script_hash=order_page, query_string=f"id={quote(order_id)}"))
        if ok:
            self.check_order("open order (link)", order_id)

    def check_order(self, kind: str, order_id: str) -> None:
        self.on_order = True
        title = self.model.title()
        if title != f"Order {order_id}":
            self.stats.error(kind, "wrong order shown",
                             f"session {self.number}: title {title!r}, expected Order {order_id}")

    async def back_to_list(self) -> None:
        """The "Orders" entry of the navigation: the Orders page, its address without a query."""
        self.on_order = False
        orders_page = self.model.pages.get("orders") or self.model.pages.get("")
        if await self.interact("back to list", lambda: self.send_rerun(
                page_script_hash=orders_page or "", query_string="")):
            self.check_orders("back to list")

    async def do_export(self) -> None:
        if not await self.click("export", "Export to xlsx"):
            return
        total = self._total()
        ready = [m for t in self.model.texts() if (m := EXPORT_READY.search(t))]
        if not ready:
            self.stats.error("export", "export not ready", f"session {self.number}")
        elif total is not None and int(ready[0].group(1).replace(",", "")) != total:
            self.stats.error("export", "wrong count",
                             f"session {self.number}: exported {ready[0].group(1)}, expected {total}")
        self.check_orders("export")


# --- the run --------------------------------------------------------------------------------------


async def run_sessions(base: str, usernames: list[str], oracle: Oracle, args,
                       server: ServerProcess) -> tuple[Stats, dict]:
    stats = Stats()
    rng = random.Random(args.seed)
    sessions = [
        Session(n, usernames[n % len(usernames)], base, oracle, stats, server,
                random.Random(rng.random()), args.timeout, exclusive_cpu=args.active == 1)
        for n in range(args.sessions)
    ]
    started = time.monotonic()
    info: dict = {}
    sampling = True

    async def sampler():
        while sampling:
            server.sample()
            await asyncio.sleep(1)

    async def sign_in(session: Session, delay: float) -> None:
        await asyncio.sleep(delay)
        await session.sign_in()

    async def work(session: Session, active: bool, stop_at: float) -> None:
        next_beat = time.monotonic() + 15
        next_step = time.monotonic() + session.rng.uniform(0, args.interval)
        while time.monotonic() < stop_at and not session.closed:
            if active:
                # Open loop, like people: the next action is due on a clock, not after an answer.
                await asyncio.sleep(max(0.0, next_step - time.monotonic()))
                next_step += args.interval * session.rng.uniform(0.5, 1.5)
                if time.monotonic() >= stop_at:
                    break
                await session.step()
            else:
                await asyncio.sleep(min(1.0, max(0.0, stop_at - time.monotonic())))
                if time.monotonic() >= next_beat:
                    next_beat += 15
                    with contextlib.suppress(Exception):
                        await session.heartbeat()

    sample_task = asyncio.create_task(sampler())
    cpu_start = server.cpu_seconds()
    # First everyone signs in, spread over a few seconds (0.2 s apart, at most a third of the
    # run); the mix starts once all are in, so its times are those of a signed-in team.
    spread = min(args.duration / 3, max(2.0, args.sessions * 0.2))
    await asyncio.gather(*(sign_in(s, spread * n / len(sessions)) for n, s in enumerate(sessions)),
                         return_exceptions=True)
    info["sign_in_phase_s"] = time.monotonic() - started
    cpu_signed_in = server.cpu_seconds()
    info["rss_signed_in"] = server.rss()
    working = [s for s in sessions if s.signed_in and not s.closed]
    stop_at = time.monotonic() + args.duration
    await asyncio.gather(*(work(s, s.number < args.active, stop_at) for s in working),
                         return_exceptions=True)
    info["elapsed_s"] = time.monotonic() - started
    cpu_end = server.cpu_seconds()
    if None not in (cpu_start, cpu_signed_in, cpu_end):
        info["server_cpu_s"] = cpu_end - cpu_start
        info["server_cpu_sign_in_phase_s"] = cpu_signed_in - cpu_start
        info["server_cpu_mix_s"] = cpu_end - cpu_signed_in
    else:
        info["server_cpu_s"] = None
    info["signed_in"] = sum(s.signed_in for s in sessions)
    info["interactions"] = sum(s.interactions for s in sessions)
    info["mix_interactions"] = sum(s.interactions for s in sessions) - sum(
        2 for s in sessions if s.signed_in)
    info["rss_before_disconnect"] = server.rss()
    await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)
    sampling = False
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
                        help="start `streamlit run app.py` on a copy of --db with a new cookie key")
    parser.add_argument("--db", type=Path, default=Path(os.environ.get("ORDERDESK_DB", "data/orders.duckdb")),
                        help="the database the counts are computed from (with --serve: copied)")
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
                        help="not available yet: refunds are not part of the mix")
    parser.add_argument("--json", type=Path, help="write the results as JSON here")
    parser.add_argument("server_args", nargs="*",
                        help="after --: passed to `streamlit run` with --serve "
                             "(e.g. -- --runner.postScriptGC false)")
    args = parser.parse_args(argv)
    if args.active is None:
        args.active = args.sessions
    if args.refunds:
        parser.error("--refunds is not implemented yet")
    if args.sessions < 1 or args.sessions > 500 or args.duration > 3600 or args.active > args.sessions:
        parser.error("sessions must be 1..500, active ≤ sessions, duration ≤ 3600 s")
    if args.url and not re.match(r"^https?://127\.0\.0\.1(:\d+)?/?$", args.url):
        parser.error("--url must be http://127.0.0.1:PORT (the load is for this machine only)")
    if args.mix:
        MIX.clear()
        for part in args.mix.split(","):
            kind, _, weight = part.partition("=")
            MIX[kind.strip()] = float(weight or 1)
        unknown = set(MIX) - {"next", "previous", "filter", "search", "sort", "open", "open_link",
                              "export"}
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
    db = args.db
    if args.serve:
        workdir = Path(tempfile.mkdtemp(prefix="orderdesk-load-"))
        db, users_copy = prepare_copy(args.db, args.users_file, workdir)
    oracle_started = time.monotonic()
    oracle = build_oracle(db, {u: scopes[u] for u in usernames}, args.seed)
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
        stats, info = asyncio.run(run_sessions(base, usernames, oracle, args, server))
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
        return result
    finally:
        if served is not None:
            served.stop()
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)


def report(result: dict) -> str:
    def mb(value):
        return "—" if value is None else f"{value / 2**20:,.0f} MB"

    lines = [
        f"{result['sessions']} sessions ({result['active']} active, one interaction every "
        f"{result['interval_s']} s ±50 %), {result['duration_s']:.0f} s, users {', '.join(result['users'])}"
        + (f", server args {' '.join(result['server_args'])}" if result["server_args"] else ""),
        "",
        markdown_table(result["kinds"]),
        "",
        f"- signed in: {result['signed_in']} of {result['sessions']}; interactions: "
        f"{result['interactions']}; errors: {result['errors']} (wrong counts "
        f"{result['wrong_counts']}, lost widget values {result['lost_widget_values']})",
    ]
    if result.get("server_cpu_s") is not None:
        per = result.get("server_cpu_ms_per_interaction")
        lines.append(f"- server CPU: {result['server_cpu_s']:.1f} s; signing in "
                     f"{result.get('server_cpu_sign_in_phase_s', 0):.1f} s "
                     f"({result['sign_in_phase_s']:.0f} s); the mix "
                     f"{result.get('server_cpu_mix_s', 0):.1f} s"
                     + (f", {per:.0f} ms per interaction of the mix" if per else ""))
    lines.append(f"- server RSS: start {mb(result['rss_start'])}, all signed in "
                 f"{mb(result.get('rss_signed_in'))}, peak {mb(result['rss_peak'])}, "
                 f"end {mb(result['rss_end'])}, 2 s after all disconnect "
                 f"{mb(result.get('rss_after_disconnect_2s'))}")
    lines.append("- load average before {:.2f} {:.2f} {:.2f}, after {:.2f} {:.2f} {:.2f}".format(
        *result["load_before"], *result["load_after"]))
    if result["error_examples"]:
        lines += ["", "First errors:"] + [f"- {e}" for e in result["error_examples"][:15]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = run(args)
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    return 1 if result["errors"] or result["signed_in"] < result["sessions"] else 0


if __name__ == "__main__":
    sys.exit(main())
