"""Egress proxy: proxy-level tests with a raw client, then a real BrowserPool.

Live traffic goes only to loopback. Other ranges are tested with a stubbed resolver, and a guard
on the event loop's create_connection records every connection attempt and refuses all but
the ones a test expects: "no socket was opened to the target" is asserted, not assumed.
"""

import asyncio
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psutil
import pytest
import pytest_asyncio

from browser.egress import EgressProxy
from browser.launcher import LaunchConfig, find_headless_shell
from browser.pool import BrowserPool
from browser.types import SessionSpec
from browser.url_policy import EgressPolicy
from tests.support.chromium import chromium_executable

PUBLIC_IP = "93.184.215.14"  # only ever "connected" to through the guard, which refuses


# -- helpers ---------------------------------------------------------------------------------


class CountingServer:
    """A real HTTP server; counts TCP connections (not just requests) and records paths."""

    def __init__(
        self, host: str, routes: dict[str, tuple[int, dict[str, str], bytes]] | None = None
    ):
        self.connections = 0
        self.paths: list[str] = []
        self.routes = routes or {}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                owner.paths.append(self.path)
                status, headers, body = owner.routes.get(
                    self.path.split("?")[0], (200, {"Content-Type": "text/plain"}, b"ok")
                )
                self.send_response(status)
                for name, value in {**headers, "Content-Length": str(len(body))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def process_request(self, request, client_address):
                owner.connections += 1
                super().process_request(request, client_address)

        self._server = Server((host, 0), Handler)
        self.host = host
        self.port = self._server.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self):
        self._server.shutdown()
        self._server.server_close()


class RawUpstream:
    """An asyncio server that records the raw request it gets, answers once and closes."""

    def __init__(self):
        self.requests: list[bytes] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self):
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _serve(self, reader, writer):
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            (
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ),
            0,
        )
        body = await reader.readexactly(length) if length else b""
        self.requests.append(head + body)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nupstream")
        await writer.drain()
        writer.close()

    async def stop(self):
        self._server.close()
        await self._server.wait_closed()


class ConnectGuard:
    """Records every outgoing connection attempt; only `allowed` (host, port) pairs proceed."""

    def __init__(self, monkeypatch, allowed: set[tuple[str, int]]):
        self.allowed = set(allowed)
        self.attempts: list[tuple[str, int]] = []
        loop = asyncio.get_running_loop()
        original = loop.create_connection

        async def guarded(protocol_factory, host=None, port=None, *args, **kwargs):
            self.attempts.append((host, port))
            if (host, port) not in self.allowed:
                raise ConnectionRefusedError(f"test guard: no connection to {host}:{port}")
            return await original(protocol_factory, host, port, *args, **kwargs)

        def no_sync_connect(*args, **kwargs):
            pytest.fail(f"socket.create_connection{args} attempted")

        monkeypatch.setattr(loop, "create_connection", guarded)
        monkeypatch.setattr(socket, "create_connection", no_sync_connect)

    def outbound(self, proxy: EgressProxy) -> list[tuple[str, int]]:
        return [a for a in self.attempts if a != ("127.0.0.1", proxy.port)]


class StubResolver:
    def __init__(self, answers: dict[str, list[list[str]]] | None = None):
        self.answers = {k: list(v) for k, v in (answers or {}).items()}
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        queue = self.answers.get(host)
        if not queue:
            raise socket.gaierror(socket.EAI_NONAME, "stub: unknown name")
        return queue.pop(0) if len(queue) > 1 else queue[0]


async def ask(proxy: EgressProxy, raw: bytes) -> tuple[int, bytes]:
    """Send raw bytes to the proxy and read until it closes: (status, whole answer)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    try:
        writer.write(raw)
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()
    return (int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0), data


def get(url: str, host_header: str | None = None) -> bytes:
    return f"GET {url} HTTP/1.1\r\nHost: {host_header or 'x'}\r\n\r\n".encode()


@pytest_asyncio.fixture
async def make_proxy():
    proxies: list[EgressProxy] = []

    async def make(allow=(), resolver=None, **options) -> EgressProxy:
        proxy = EgressProxy(
            EgressPolicy(list(allow)), resolver=resolver or StubResolver(), **options
        )
        await proxy.start()
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        await proxy.stop()


@pytest.fixture
def private_server():
    server = CountingServer("127.0.0.2")
    yield server
    server.close()


# -- SSRF vectors at the proxy: refused before any connect ------------------------------------

VECTOR_HOSTS = [
    "127.0.0.1", "127.1", "2130706433", "0x7f000001", "0177.0.0.1", "localhost", "LOCALHOST:3000",
    "app.localhost", "[::1]", "[::ffff:127.0.0.1]", "0.0.0.0", "[::]", "169.254.169.254",
    "[::ffff:a9fe:a9fe]", "2852039166", "0xA9FEA9FE", "0251.0376.0251.0376", "172.16.0.1",
    "[fe80::1]", "[fc00::1]", "10.0.0.1", "192.168.0.1", "100.64.0.1", "[64:ff9b::a9fe:a9fe]",
]  # fmt: skip


@pytest.mark.parametrize("host", VECTOR_HOSTS)
async def test_vectors_are_refused_for_plain_http_and_connect(make_proxy, monkeypatch, host):
    resolver = StubResolver()
    proxy = await make_proxy(resolver=resolver)
    guard = ConnectGuard(monkeypatch, {("127.0.0.1", proxy.port)})
    authority = host if ":" in host.replace("[", "").split("]")[-1] else f"{host}:80"

    status, body = await ask(proxy, get(f"http://{host}/latest/meta-data/"))
    assert status == 403, body
    assert b"refused" in body
    status, body = await ask(
        proxy, f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n".encode()
    )
    assert status == 403, body

    assert guard.outbound(proxy) == []
    assert resolver.calls == []  # literals and *.localhost never reach DNS
    assert proxy.refused == 2 and proxy.allowed == 0
    assert len(proxy.recent_refusals) == 2


async def test_names_resolving_to_internal_ranges_are_refused_without_connecting(
    make_proxy, monkeypatch
):
    resolver = StubResolver(
        {
            "metadata.test": [["169.254.169.254"]],
            "intranet.test": [["10.20.30.40"]],
            "v6.test": [["fd00::5"]],
            "mixed.test": [[PUBLIC_IP, "192.168.1.10"]],
        }
    )
    proxy = await make_proxy(resolver=resolver)
    guard = ConnectGuard(monkeypatch, {("127.0.0.1", proxy.port)})
    for name in ("metadata.test", "intranet.test", "v6.test", "mixed.test"):
        assert (await ask(proxy, get(f"http://{name}/")))[0] == 403
        assert (await ask(proxy, f"CONNECT {name}:443 HTTP/1.1\r\n\r\n".encode()))[0] == 403
    assert guard.outbound(proxy) == []
    assert proxy.refused == 8
    assert "mixed.test (192.168.1.10)" in proxy.recent_refusals[-1]


async def test_userinfo_trick_targets_the_real_host(make_proxy, monkeypatch, private_server):
    resolver = StubResolver({"example.com": [[PUBLIC_IP]]})
    proxy = await make_proxy(resolver=resolver)
    guard = ConnectGuard(monkeypatch, {("127.0.0.1", proxy.port)})

    status, body = await ask(proxy, get(f"http://example.com@127.0.0.2:{private_server.port}/"))
    assert status == 403, body
    assert resolver.calls == []
    # the other way round, the host is example.com: the connect goes to its checked address only
    status, _ = await ask(proxy, get(f"http://127.0.0.2:{private_server.port}@example.com/"))
    assert status == 502
    assert guard.outbound(proxy) == [(PUBLIC_IP, 80)]
    assert private_server.connections == 0


@pytest.mark.parametrize(
    "raw",
    [
        b"GET http://[::1/ HTTP/1.1\r\n\r\n",
        b"GET http://exa mple.test/ HTTP/1.1\r\n\r\n",
        b"GET http://1.2.3.4.5/ HTTP/1.1\r\n\r\n",
        b"GET http://host:99999/ HTTP/1.1\r\n\r\n",
        b"GET /relative HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        b"GET https://example.com/ HTTP/1.1\r\n\r\n",
        b"GET ftp://example.com/ HTTP/1.1\r\n\r\n",
        b"CONNECT example.com HTTP/1.1\r\n\r\n",
        b"CONNECT [::1:443 HTTP/1.1\r\n\r\n",
        b"CONNECT 1.2.3.4.5:443 HTTP/1.1\r\n\r\n",
        b"CONNECT exa%6dple.com:443 HTTP/1.1\r\n\r\n",
        b"garbage\r\n\r\n",
        b"GET http://example.com/ HTTP/2\r\n\r\n",
        b"GET http://example.com/ HTTP/1.1\r\nbad header\r\n\r\n",
        b"GET http://example.com/ HTTP/1.1\r\nX-A: 1\nHost: 127.0.0.1\r\n\r\n",
    ],
)
async def test_unparseable_requests_fail_closed(make_proxy, monkeypatch, raw):
    resolver = StubResolver({"example.com": [[PUBLIC_IP]]})
    proxy = await make_proxy(resolver=resolver)
    guard = ConnectGuard(monkeypatch, {("127.0.0.1", proxy.port)})
    status, _ = await ask(proxy, raw)
    assert status == 400
    assert guard.outbound(proxy) == []
    assert proxy.allowed == 0


# -- (d) DNS rebinding -------------------------------------------------------------------------


async def test_rebinding_resolves_once_and_connects_only_to_the_checked_address(
    make_proxy, monkeypatch
):
    loopback = CountingServer("127.0.0.1")
    try:
        # first answer public, every later answer 127.0.0.1
        resolver = StubResolver({"rebind.test": [[PUBLIC_IP], ["127.0.0.1"]]})
        proxy = await make_proxy(resolver=resolver)
        guard = ConnectGuard(monkeypatch, {("127.0.0.1", proxy.port)})

        status, _ = await ask(proxy, get(f"http://rebind.test:{loopback.port}/"))
        assert status == 502  # the guard refused the (public) connect: nothing left the host
        assert resolver.calls == ["rebind.test"]  # one lookup per request, no second one
        assert guard.outbound(proxy) == [(PUBLIC_IP, loopback.port)]

        for request in (
            get(f"http://rebind.test:{loopback.port}/"),
            f"CONNECT rebind.test:{loopback.port} HTTP/1.1\r\n\r\n".encode(),
        ):
            status, body = await ask(proxy, request)
            assert status == 403, body
        assert guard.outbound(proxy) == [(PUBLIC_IP, loopback.port)]
        assert loopback.connections == 0
    finally:
        loopback.close()


# -- allowed traffic and request rewriting ------------------------------------------------------


async def test_plain_http_is_rewritten_to_origin_form_for_the_upstream(make_proxy):
    upstream = await RawUpstream().start()
    proxy = await make_proxy(allow=[f"127.0.0.1:{upstream.port}"])
    request = (
        f"POST http://user:pw@127.0.0.1:{upstream.port}/path?q=1 HTTP/1.1\r\n"
        "Host: evil.test\r\nProxy-Connection: keep-alive\r\nProxy-Authorization: Basic eA==\r\n"
        "Connection: keep-alive, X-Hop\r\nX-Hop: 1\r\nX-Kept: yes\r\nContent-Length: 5\r\n\r\nhello"
    ).encode()
    status, answer = await ask(proxy, request)
    await upstream.stop()

    assert status == 200 and answer.endswith(b"upstream")
    [seen] = upstream.requests
    lines = seen.split(b"\r\n")
    assert lines[0] == b"POST /path?q=1 HTTP/1.1"
    assert f"Host: 127.0.0.1:{upstream.port}".encode() in lines
    assert b"Connection: close" in lines
    assert b"X-Kept: yes" in lines
    assert not [
        line
        for line in lines
        if line.lower().startswith((b"proxy-", b"x-hop", b"connection: keep"))
    ]
    assert b"user:pw" not in seen
    assert seen.endswith(b"\r\n\r\nhello")
    assert proxy.allowed == 1 and proxy.refused == 0


async def test_a_kept_alive_connection_cannot_carry_a_second_request_elsewhere(
    make_proxy, private_server
):
    upstream = await RawUpstream().start()
    proxy = await make_proxy(allow=[f"127.0.0.1:{upstream.port}"])
    both = get(f"http://127.0.0.1:{upstream.port}/one") + get(
        f"http://127.0.0.2:{private_server.port}/two"
    )
    status, answer = await ask(proxy, both)  # returns only because the proxy closes
    await upstream.stop()

    assert status == 200
    assert answer.count(b"HTTP/1.1") == 1
    assert private_server.connections == 0
    assert proxy.allowed == 1


async def test_allowed_names_and_tunnels_work(make_proxy):
    site = CountingServer("127.0.0.1")
    try:
        resolver = StubResolver({"allowed.test": [["127.0.0.1"]]})
        proxy = await make_proxy(allow=["allowed.test"], resolver=resolver)
        status, answer = await ask(proxy, get(f"http://allowed.test:{site.port}/hello"))
        assert status == 200 and answer.endswith(b"ok")

        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(f"CONNECT allowed.test:{site.port} HTTP/1.1\r\n\r\n".encode())
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200")
        writer.write(b"GET /tunnel HTTP/1.0\r\n\r\n")
        answer = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        assert answer.startswith(b"HTTP/1.0 200") and answer.endswith(b"ok")
        assert site.paths == ["/hello", "/tunnel"]
        assert proxy.allowed == 2
    finally:
        site.close()


# -- robustness -----------------------------------------------------------------------------------


async def eventually(predicate, seconds=5.0):
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_client_disconnects_and_stalls_leave_no_tasks(make_proxy):
    site = CountingServer("127.0.0.1")
    try:
        proxy = await make_proxy(allow=[f"127.0.0.1:{site.port}"], head_timeout=0.3)
        # half a request head, then gone
        _, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(f"GET http://127.0.0.1:{site.port}/ HTTP/1.1\r\n".encode())
        await writer.drain()
        writer.close()
        # a client that never sends anything is dropped after head_timeout
        idle_reader, idle_writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        assert await asyncio.wait_for(idle_reader.read(), 3) == b""
        idle_writer.close()
        # an open tunnel whose client vanishes
        tunnel_reader, tunnel_writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        tunnel_writer.write(f"CONNECT 127.0.0.1:{site.port} HTTP/1.1\r\n\r\n".encode())
        await tunnel_reader.readuntil(b"\r\n\r\n")
        tunnel_writer.transport.abort()
        await eventually(lambda: not proxy._tasks)
    finally:
        site.close()


async def test_stop_ends_open_tunnels(make_proxy):
    site = CountingServer("127.0.0.1")
    try:
        proxy = EgressProxy(EgressPolicy([f"127.0.0.1:{site.port}"]))
        await proxy.start()
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(f"CONNECT 127.0.0.1:{site.port} HTTP/1.1\r\n\r\n".encode())
        await reader.readuntil(b"\r\n\r\n")
        assert len(proxy._tasks) == 1
        await asyncio.wait_for(proxy.stop(), 5)
        assert not proxy._tasks
        assert await asyncio.wait_for(reader.read(), 3) == b""
        writer.close()
    finally:
        site.close()


# -- a real BrowserPool behind the proxy: (a), (b), (c), (e), (f) ---------------------------------

PAGE = b"""<!doctype html><title>allowed</title><img id=pixel src="/pixel.gif">
<script>window.fetched = fetch('/data').then(r => r.text())</script>"""
GIF = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)


@pytest.fixture(scope="module")
def servers():
    private = CountingServer("127.0.0.2")
    allowed = CountingServer(
        "127.0.0.1",
        {
            "/": (200, {"Content-Type": "text/html"}, PAGE),
            "/pixel.gif": (200, {"Content-Type": "image/gif"}, GIF),
            "/data": (200, {"Content-Type": "text/plain"}, b"data-ok"),
            "/redirect": (302, {"Location": f"{private.url}/secret"}, b""),
        },
    )
    yield allowed, private
    allowed.close()
    private.close()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def pool(servers, tmp_path_factory):
    allowed, _ = servers
    config = LaunchConfig(
        chromium_path=chromium_executable(),
        headless_shell_path=find_headless_shell(),
        runtime_dir=tmp_path_factory.mktemp("egress-pool"),
        egress_allow=(f"127.0.0.1:{allowed.port}",),
    )
    browser_pool = BrowserPool(config, warm_size=0)
    await browser_pool.start()
    yield browser_pool
    await browser_pool.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def tab(pool):
    session = await pool.open(SessionSpec(session_id=f"egress-{time.monotonic_ns()}"))
    yield session.page
    await pool.close(session.session_id)


def test_chromium_is_launched_behind_the_proxy_with_loopback_proxied(pool):
    browser = next(
        p
        for p in map(psutil.Process, pool.stats().browser_pids)
        if not any(arg.startswith("--type=") for arg in p.cmdline())
    )
    args = browser.cmdline()
    assert f"--proxy-server=http://127.0.0.1:{pool.egress.port}" in args
    assert "--proxy-bypass-list=<-loopback>" in args
    assert "--disable-background-networking" in args


async def test_a_goto_to_a_private_address_is_blocked(pool, tab, servers):
    _, private = servers
    response = await tab.goto(f"{private.url}/", timeout=10000)
    assert response is not None and response.status == 403
    assert "127.0.0.2" in await tab.inner_text("body")
    assert private.connections == 0
    assert any("127.0.0.2" in reason for reason in pool.egress.recent_refusals)


async def test_a_redirect_hop_to_a_private_address_is_blocked(pool, tab, servers):
    allowed, private = servers
    response = await tab.goto(f"{allowed.url}/redirect", timeout=10000)
    assert response is not None and response.status == 403
    assert response.url == f"{private.url}/secret"
    assert "/redirect" in allowed.paths
    assert private.connections == 0


async def test_a_websocket_to_a_private_address_fails(pool, tab, servers):
    allowed, private = servers
    await tab.goto(f"{allowed.url}/", timeout=10000)
    outcome = await tab.evaluate(
        """url => new Promise(resolve => {
            const ws = new WebSocket(url);
            ws.onopen = () => resolve('open');
            ws.onerror = () => resolve('error');
            setTimeout(() => resolve('timeout'), 8000);
        })""",
        f"ws://127.0.0.2:{private.port}/",
    )
    assert outcome == "error"
    assert private.connections == 0
    assert any("127.0.0.2" in r for r in pool.egress.recent_refusals)


async def test_https_to_a_private_address_is_refused_at_connect(pool, tab, servers):
    _, private = servers
    refused_before = pool.egress.refused
    with pytest.raises(Exception, match="ERR_TUNNEL_CONNECTION_FAILED"):
        await tab.goto(f"https://127.0.0.2:{private.port}/", timeout=10000)
    assert pool.egress.refused > refused_before
    assert private.connections == 0


async def test_allowed_pages_and_their_subresources_load(pool, tab, servers):
    allowed, _ = servers
    response = await tab.goto(f"{allowed.url}/", timeout=10000)
    assert response is not None and response.status == 200
    assert await tab.evaluate("window.fetched") == "data-ok"
    await tab.wait_for_function("document.getElementById('pixel').naturalWidth === 1", timeout=5000)
    assert {"/", "/pixel.gif", "/data"} <= set(allowed.paths)
    assert pool.egress.allowed >= 3


# -- only this worker's browsers, and bytes per session ------------------------------------------


async def _ask_from_here(port: int, target: str) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(get(target))
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()


async def test_a_local_process_that_is_not_our_browser_is_refused(pool, tab, servers):
    allowed, _ = servers
    session = next(s for s in map(pool.get, pool.session_ids()) if s.page is tab)
    ports = [pool.egress.port, session.egress.port]
    connections_before = allowed.connections
    foreign_before = pool.egress.foreign

    for port in ports:  # the worker itself is not a browser either
        answer = await _ask_from_here(port, f"{allowed.url}/")
        assert answer.startswith(b"HTTP/1.1 403"), answer
        assert b"only the browsers of this worker" in answer
    script = (
        "import sys, urllib.request\n"
        "proxy = urllib.request.ProxyHandler({'http': sys.argv[1]})\n"
        "try:\n"
        "    urllib.request.build_opener(proxy).open(sys.argv[2], timeout=5)\n"
        "    print('fetched')\n"
        "except urllib.error.HTTPError as exc:\n"
        "    print(exc.code)\n"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, f"http://127.0.0.1:{session.egress.port}", f"{allowed.url}/",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), 20)
    assert output.strip() == b"403"

    assert allowed.connections == connections_before
    assert pool.egress.foreign == foreign_before + len(ports) + 1
    # ...while the session's own browser still gets through
    assert (await tab.goto(f"{allowed.url}/", timeout=10000)).status == 200


async def test_each_session_has_its_own_endpoint_and_its_bytes_are_counted(pool, servers):
    allowed, _ = servers
    first = await pool.open(SessionSpec(session_id=f"bytes-a-{time.monotonic_ns()}"))
    second = await pool.open(SessionSpec(session_id=f"bytes-b-{time.monotonic_ns()}"))
    try:
        assert len({pool.egress.port, first.egress.port, second.egress.port}) == 3
        response = await first.page.goto(f"{allowed.url}/", timeout=10000)
        assert await first.page.evaluate("window.fetched") == "data-ok"
        await first.page.wait_for_function(
            "document.getElementById('pixel').naturalWidth === 1", timeout=5000
        )
        body = len(PAGE) + len(GIF) + len(b"data-ok")
        assert first.traffic.received > body
        assert response.status == 200
        assert first.traffic.sent > 3 * 100  # three requests, each with its headers
        assert (second.traffic.sent, second.traffic.received) == (0, 0)
    finally:
        await pool.close(first.session_id)
        await pool.close(second.session_id)
    with pytest.raises(ConnectionRefusedError):  # a closed session's endpoint is gone
        await asyncio.open_connection("127.0.0.1", first.egress.port)
