"""The reverse-proxy example (deploy/nginx/orderdesk.conf) in front of the real app: nginx from
Debian's packages, on free loopback ports with a throwaway self-signed certificate, proxying to
the module's Streamlit server.

The configuration is used as shipped; only what an operator edits is replaced (the listening
addresses, the certificate paths, the app's address), and each replacement must find its line, so
the test notices when the file changes shape (``scripts/serve_replicas.py`` makes them). It checks
what a browser or an attacker meets: the headers on the page and the health check over HTTPS, the
redirect from HTTP, a real sign-in in Chromium through the proxy (the WebSocket), the upload
limit, the headers the app receives, and the sticky sessions over two replicas (stand-ins that
answer with their name; tests/browser/test_replicas.py runs two real ones). When nginx is
missing the tests fail: `bash scripts/test.sh` installs it.
"""
from __future__ import annotations

import contextlib
import http.client
import http.server
import socket
import ssl
import threading
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Response, WebSocket, expect

from scripts import serve_replicas
from scripts.serve_replicas import Proxy
from tests.browser.conftest import ROOT, Server, caption_counts, heading, sign_in

pytestmark = pytest.mark.browser

STREAMLIT_CONFIG = ROOT / ".streamlit" / "config.toml"
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


def _started(root: Path, upstreams: list[str], cert: Path, key: Path, **options) -> Proxy:
    """nginx with the shipped example in front of ``upstreams``; fails the test when nginx is
    missing or refuses the file."""
    if serve_replicas.nginx_binary() is None:
        pytest.fail("nginx is not installed: run the suite with `bash scripts/test.sh`, which "
                    "installs Debian's nginx for the proxy example's tests")
    try:
        return serve_replicas.start_proxy(root, upstreams, cert, key, **options)
    except (RuntimeError, ValueError) as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, valid for two days."""
    return serve_replicas.self_signed_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def proxy(server: Server, certificate, tmp_path_factory) -> Proxy:
    """The example configuration in front of the module's Streamlit server."""
    running = _started(tmp_path_factory.mktemp("nginx"), [server.url.removeprefix("http://")],
                       *certificate)
    yield running
    running.stop()


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
    running = _started(tmp_path_factory.mktemp("nginx-recording"),
                       [f"127.0.0.1:{upstream.server_address[1]}"], *certificate)
    yield running, _Recorder.seen
    running.stop()
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


# --- sticky sessions over two replicas --------------------------------------------------------

ROUTE_COOKIE = "orderdesk_route"


def _named_upstream(name: str) -> http.server.ThreadingHTTPServer:
    """A stand-in replica that answers every GET with its name."""

    class Named(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the stdlib's name
            body = name.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            """Quiet."""

    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Named)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    return upstream


@pytest.fixture
def two_replicas(certificate, tmp_path):
    """The example in front of two stand-in replicas "a" and "b" (a fresh nginx per test: one
    test stops a replica, and nginx remembers a failed one for fail_timeout)."""
    upstreams = {name: _named_upstream(name) for name in ("a", "b")}
    running = _started(tmp_path / "nginx", [f"127.0.0.1:{u.server_address[1]}"
                                            for u in upstreams.values()], *certificate)
    yield running, upstreams
    running.stop()
    for upstream in upstreams.values():
        upstream.shutdown()
        upstream.server_close()


def _served_by(proxy: Proxy, route: str | None, path: str = "/_stcore/health") -> tuple[str, list]:
    """Which stand-in replica answered, and the Set-Cookie headers of the answer."""
    headers = {"Cookie": f"{ROUTE_COOKIE}={route}"} if route else {}
    response, body = request(proxy, "GET", path, headers=headers)
    assert response.status == 200, (response.status, body[:200])
    return body.decode(), response.headers.get_all("Set-Cookie") or []


def _route_of(set_cookies: list[str]) -> str:
    routes = [c for c in set_cookies if c.startswith(f"{ROUTE_COOKIE}=")]
    assert len(routes) == 1, set_cookies
    value, *flags = routes[0].split("; ")
    assert {"Path=/", "Secure", "HttpOnly", "SameSite=Lax"} <= set(flags), routes[0]
    return value.removeprefix(f"{ROUTE_COOKIE}=")


def test_a_new_browser_gets_a_route_and_every_request_with_it_reaches_one_replica(two_replicas):
    proxy, _ = two_replicas
    first, cookies = _served_by(proxy, None, "/")
    route = _route_of(cookies)
    assert len(route) == 32 and set(route) <= set("0123456789abcdef")
    for path in ["/_stcore/health", "/_stcore/stream", "/media/abc.xlsx", "/component/x/index.html",
                 "/orders?q=1"] * 3:
        served, cookies = _served_by(proxy, route, path)
        assert served == first, path
        assert not [c for c in cookies if c.startswith(ROUTE_COOKIE)]  # set once, then kept


def test_routes_spread_browsers_over_both_replicas(two_replicas):
    proxy, _ = two_replicas
    served = [_served_by(proxy, None)[0] for _ in range(24)]
    assert set(served) == {"a", "b"}, served


def test_a_malformed_route_is_replaced(two_replicas):
    proxy, _ = two_replicas
    _, cookies = _served_by(proxy, "../../etc; x=1")
    assert _route_of(cookies)


def test_the_browsers_of_a_dead_replica_go_to_the_other_and_stay_there(two_replicas):
    proxy, upstreams = two_replicas
    routes = {}
    while len(routes) < 2:  # a route that reaches each replica
        name, cookies = _served_by(proxy, None)
        routes.setdefault(name, _route_of(cookies))
    upstreams["a"].shutdown()
    upstreams["a"].server_close()  # connections to it are refused from now on
    for _ in range(5):
        assert _served_by(proxy, routes["a"])[0] == "b"
        assert _served_by(proxy, routes["b"])[0] == "b"
    assert "connect() failed (111: Connection refused)" in proxy.error_log()


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

