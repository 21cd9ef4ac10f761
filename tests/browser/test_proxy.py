"""The reverse-proxy example (deploy/nginx/orderdesk.conf) in front of the real app: nginx from
Debian's packages, on free loopback ports with a throwaway self-signed certificate, proxying to
the module's Streamlit server.

The configuration is used as shipped; only what an operator edits is replaced (the listening
addresses, the certificate paths, the app's address), and each replacement must find its line, so
the test notices when the file changes shape. It checks what a browser or an attacker meets: the
headers on the page and the health check over HTTPS, the redirect from HTTP, a real sign-in in
Chromium through the proxy (the WebSocket), the upload limit, and the headers the app receives.
When nginx is missing the tests are skipped, except on CI, where they fail.
"""
from __future__ import annotations

import contextlib
import http.client
import http.server
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import threading
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Response, WebSocket, expect

from tests.browser.conftest import ROOT, Server, caption_counts, free_port, heading, sign_in

pytestmark = pytest.mark.browser

CONF = ROOT / "deploy" / "nginx" / "orderdesk.conf"
STREAMLIT_CONFIG = ROOT / ".streamlit" / "config.toml"
START_TIMEOUT_S = 15
SESSION_COOKIE = "orderdesk_session"
SECURITY_HEADERS = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
# Custom components (the sign-in cookie's among them) are iframes of the app's own origin.
COMPONENT_FRAME_HEADERS = {**SECURITY_HEADERS, "X-Frame-Options": "SAMEORIGIN",
                           "Content-Security-Policy": "frame-ancestors 'self'"}


@dataclass
class Proxy:
    root: Path
    http_port: int
    https_port: int
    cert: Path
    process: subprocess.Popen = field(repr=False)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def error_log(self) -> str:
        path = self.root / "error.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else "(no error log)"


# --- nginx with the shipped configuration ------------------------------------------------------


def _nginx() -> str:
    path = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK)
                                     else None)
    if path:
        return path
    pytest.fail("nginx is not installed: run the suite with `bash scripts/test.sh`, which installs "
                "Debian's nginx for the proxy example's tests")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, valid for two days."""
    root = tmp_path_factory.mktemp("tls")
    cert, key = root / "cert.pem", root / "key.pem"
    done = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        capture_output=True, text=True, timeout=30,
    )
    assert done.returncode == 0, f"openssl could not make a certificate:\n{done.stderr}"
    return cert, key


def site_config(upstream: str, http_port: int, https_port: int, cert: Path, key: Path) -> str:
    """The shipped site file with only the operator's edits made."""
    text = CONF.read_text()
    edits = [
        ("    listen 80;\n", f"    listen 127.0.0.1:{http_port};\n"),
        ("    listen [::]:80;\n", ""),
        ("    listen 443 ssl http2;\n", f"    listen 127.0.0.1:{https_port} ssl http2;\n"),
        ("    listen [::]:443 ssl http2;\n", ""),
        ("    server 127.0.0.1:8501;\n", f"    server {upstream};\n"),
        ("/etc/ssl/orderdesk/fullchain.pem;", f"{cert};"),
        ("/etc/ssl/orderdesk/privkey.pem;", f"{key};"),
    ]
    for old, new in edits:
        assert text.count(old) == 1, f"{CONF.name} no longer has exactly one {old.strip()!r}"
        text = text.replace(old, new)
    return text


def start_proxy(root: Path, upstream: str, cert: Path, key: Path) -> Proxy:
    """nginx in the foreground with a private prefix, pid, logs and temp dirs; ready to serve."""
    nginx = _nginx()
    root.mkdir(parents=True, exist_ok=True)
    http_port, https_port = free_port(), free_port()
    (root / "orderdesk.conf").write_text(site_config(upstream, http_port, https_port, cert, key))
    # Run as root, nginx's workers would drop to "nobody", who cannot enter pytest's temp dirs.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    temp_paths = "\n".join(f"    {kind}_temp_path {root / kind};"
                           for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (root / "nginx.conf").write_text(f"""{user}
worker_processes 1;
daemon off;
pid {root / 'nginx.pid'};
error_log {root / 'error.log'} info;
events {{ worker_connections 256; }}
http {{
    access_log {root / 'access.log'};
{temp_paths}
    include {root / 'orderdesk.conf'};
}}
""")
    command = [nginx, "-p", str(root), "-c", str(root / "nginx.conf"),
               "-e", str(root / "error.log")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, f"nginx -t refused the configuration:\n{checked.stderr}"
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proxy = Proxy(root, http_port, https_port, cert, process)
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            socket.create_connection(("127.0.0.1", https_port), timeout=1).close()
            socket.create_connection(("127.0.0.1", http_port), timeout=1).close()
            return proxy
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                stop_proxy(proxy)
                pytest.fail(f"nginx did not start:\n{proxy.error_log()}")
            time.sleep(0.1)


def stop_proxy(proxy: Proxy) -> None:
    proxy.process.terminate()
    try:
        proxy.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proxy.process.kill()
        proxy.process.wait(timeout=10)


@pytest.fixture(scope="module")
def proxy(server: Server, certificate, tmp_path_factory) -> Proxy:
    """The example configuration in front of the module's Streamlit server."""
    running = start_proxy(tmp_path_factory.mktemp("nginx"), server.url.removeprefix("http://"),
                          *certificate)
    yield running
    stop_proxy(running)


# --- plain requests ----------------------------------------------------------------------------


def tls_context(proxy: Proxy) -> ssl.SSLContext:
    """Trusts the throwaway certificate only, and checks it names 127.0.0.1."""
    return ssl.create_default_context(cafile=str(proxy.cert))


def request(proxy: Proxy, method: str, path: str, *, https: bool = True,
            headers: dict | None = None) -> tuple[http.client.HTTPResponse, bytes]:
    if https:
        conn = http.client.HTTPSConnection("127.0.0.1", proxy.https_port,
                                           context=tls_context(proxy), timeout=15)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", proxy.http_port, timeout=15)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response, response.read()
    finally:
        conn.close()


def assert_headers(response: http.client.HTTPResponse, expected: dict[str, str]) -> None:
    for name, value in expected.items():
        assert response.headers.get_all(name) == [value], (
            f"{name}: {response.headers.get_all(name)}, wanted exactly {value!r}")


def test_http_redirects_to_https_keeping_the_path_and_query(proxy):
    response, _ = request(proxy, "GET", "/orders?status=Return&q=%40yahoo", https=False)
    assert response.status == 301
    assert response.headers["Location"] == "https://127.0.0.1/orders?status=Return&q=%40yahoo"
    assert "Strict-Transport-Security" not in response.headers  # browsers ignore it over HTTP


@pytest.mark.parametrize("path", ["/", "/orders?status=Return"])
def test_the_page_comes_over_https_with_the_security_headers(proxy, path):
    response, body = request(proxy, "GET", path)
    assert response.status == 200
    assert b"<title>" in body and b"streamlit" in body.lower()  # the app's own page, proxied
    assert_headers(response, SECURITY_HEADERS)
    assert response.headers["Server"] == "nginx"  # no version for scanners to match


def test_the_health_check_comes_over_https_with_the_security_headers(proxy):
    response, body = request(proxy, "GET", "/_stcore/health")
    assert (response.status, body) == (200, b"ok")
    assert_headers(response, SECURITY_HEADERS)
    # The app's own cookie (its XSRF token) is marked Secure on the way out.
    cookies = response.headers.get_all("Set-Cookie") or []
    assert cookies and all("Secure" in c.split("; ") for c in cookies), cookies


def test_the_agent_api_is_refused_by_the_proxy(proxy):
    response, _ = request(proxy, "POST", "/_stcore/agent/interact",
                          headers={"Content-Type": "application/json"})
    assert response.status == 404
    assert_headers(response, SECURITY_HEADERS)


def _upload_attempt(proxy: Proxy, length: int, wait_s: float) -> bytes:
    """Announce an upload of ``length`` bytes, send a few, and return what came back within
    ``wait_s`` (nothing: the proxy is waiting for the rest of the body)."""
    raw = socket.create_connection(("127.0.0.1", proxy.https_port), timeout=wait_s)
    with tls_context(proxy).wrap_socket(raw, server_hostname="127.0.0.1") as conn:
        conn.sendall(
            f"PUT /_stcore/upload_file/session/file HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {length}\r\n"
            f"\r\n--x\r\n".encode())
        received = b""
        # A proxy that takes the body waits for the rest of it: the read ends at ``wait_s``
        # with nothing received, which the callers assert on.
        with contextlib.suppress(TimeoutError):
            while b"\r\n\r\n" not in received:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                received += chunk
        return received


def test_an_upload_over_the_data_page_limit_is_refused_by_nginx(proxy):
    limit = tomllib.loads(STREAMLIT_CONFIG.read_text())["server"]["maxUploadSize"] * 1024 * 1024
    refused = _upload_attempt(proxy, limit + 1, wait_s=10)
    status_line, _, rest = refused.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 413"), refused[:300]
    # nginx's own refusal, before the app saw a byte (the app has a 413 of its own).
    assert f"client intended to send too large body: {limit + 1} bytes" in proxy.error_log()
    assert b"X-Frame-Options: DENY" in rest
    # One byte less goes through to the app, which answers for itself: it refuses an upload
    # without the XSRF token of a signed-in page.
    allowed = _upload_attempt(proxy, limit, wait_s=10)
    assert allowed.startswith(b"HTTP/1.1 403"), allowed[:300]
    assert b"XSRF" in allowed


# --- what the app receives ---------------------------------------------------------------------


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[tuple[str, dict]] = []

    def do_GET(self):  # noqa: N802 - the stdlib's name
        self.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
        body = b"recorded"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Set-Cookie", "probe=1; Path=/")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        """Quiet: the tests read what was recorded, not the server's request log."""


@pytest.fixture(scope="module")
def recording_proxy(certificate, tmp_path_factory):
    """The same configuration in front of a stand-in app that records each request's headers."""
    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=upstream.serve_forever, daemon=True)
    thread.start()
    running = start_proxy(tmp_path_factory.mktemp("nginx-recording"),
                          f"127.0.0.1:{upstream.server_address[1]}", *certificate)
    yield running, _Recorder.seen
    stop_proxy(running)
    upstream.shutdown()
    upstream.server_close()


def test_the_app_gets_the_real_client_address_and_scheme_whatever_the_client_claims(
        recording_proxy):
    proxy, seen = recording_proxy
    seen.clear()
    response, _ = request(proxy, "GET", "/orders?q=1",
                          headers={"X-Forwarded-For": "6.6.6.6", "X-Real-IP": "6.6.6.6",
                                   "X-Forwarded-Proto": "http", "Host": "127.0.0.1"})
    assert response.status == 200
    assert "Secure" in response.headers["Set-Cookie"].split("; ")
    path, headers = seen[-1]
    assert path == "/orders?q=1"
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert headers["x-real-ip"] == "127.0.0.1"
    assert headers["x-forwarded-proto"] == "https"
    assert headers["host"] == "127.0.0.1"
    assert headers["connection"] == "close"


def test_the_websocket_upgrade_reaches_the_app_with_the_same_headers(recording_proxy):
    proxy, seen = recording_proxy
    seen.clear()
    request(proxy, "GET", "/_stcore/stream",
            headers={"Upgrade": "websocket", "Connection": "Upgrade",
                     "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13",
                     "X-Forwarded-For": "6.6.6.6"})
    path, headers = seen[-1]
    assert path == "/_stcore/stream"
    assert headers["upgrade"] == "websocket"
    assert headers["connection"] == "upgrade"
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert headers["x-forwarded-proto"] == "https"
    assert headers["sec-websocket-key"] == "dGhlIHNhbXBsZSBub25jZQ=="


# --- a real sign-in in Chromium through the proxy ----------------------------------------------


@dataclass
class SignedIn:
    page: Page
    sockets: list[WebSocket]
    documents: list[Response]  # every HTML document the page and its frames loaded


@pytest.fixture(scope="module")
def signed_in(browser: Browser, proxy: Proxy, server: Server) -> SignedIn:
    """The viewer signed in through the proxy, on the Orders page."""
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 800},
                                  timezone_id="Europe/Warsaw")
    page = context.new_page()
    sockets: list[WebSocket] = []
    documents: list[Response] = []
    page.on("websocket", lambda ws: sockets.append(ws))
    page.on("response", lambda r: documents.append(r) if r.request.resource_type == "document"
            else None)
    try:
        sign_in(page, proxy.url, "viewer", server.password("viewer"))
    except AssertionError:
        pytest.fail(f"no sign-in through the proxy; nginx said:\n{proxy.error_log()}\n"
                    f"the app said:\n{server.log_tail()}")
    yield SignedIn(page, sockets, documents)
    context.close()


def test_sign_in_through_the_proxy_reaches_the_orders_page_over_its_websocket(signed_in, proxy):
    page = signed_in.page
    expect(heading(page, "Orders")).to_be_visible()
    first, last, total, *_ = caption_counts(page)
    assert (first, last) == (1, 15) and total > 15
    streams = [ws for ws in signed_in.sockets
               if ws.url == f"wss://127.0.0.1:{proxy.https_port}/_stcore/stream"]
    assert streams, [ws.url for ws in signed_in.sockets]
    assert not streams[-1].is_closed()
    # The next page comes over the same connection: the proxy keeps it open and relays both ways.
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text("16–30 of")).to_be_visible(timeout=20_000)
    assert not streams[-1].is_closed()


def test_every_page_and_frame_of_the_sign_in_had_the_security_headers(signed_in, proxy):
    documents = [r for r in signed_in.documents if r.url.startswith(proxy.url)]
    frames = [r for r in documents if "/component/" in r.url]
    pages = [r for r in documents if "/component/" not in r.url]
    assert pages and frames, [r.url for r in signed_in.documents]
    for response, expected in [(r, SECURITY_HEADERS) for r in pages] + [
            (r, COMPONENT_FRAME_HEADERS) for r in frames]:
        headers = response.all_headers()
        got = {name: headers.get(name.lower()) for name in expected}
        assert got == expected, response.url


def test_sign_in_cookie_is_secure_through_the_proxy(signed_in):
    """Over HTTPS the sign-in cookie must never be sent in clear. It is written by JavaScript,
    so nginx cannot add the flag: the app has to."""
    cookies = {c["name"]: c for c in signed_in.page.context.cookies()}
    assert SESSION_COOKIE in cookies, sorted(cookies)
    assert cookies[SESSION_COOKIE]["secure"] is True, cookies[SESSION_COOKIE]

