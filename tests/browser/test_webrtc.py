"""WebRTC cannot get past the egress proxy: no UDP leaves a session's browser.

A page can make its browser send UDP without any HTTP request: an RTCPeerConnection gathers
candidates (STUN binding requests to any `stun:` server it names) and runs ICE connectivity
checks towards any remote candidate it adds. The proxy never sees that traffic, so the browser
itself must not send it. Each browser a session can run in is tried: chromium-headless-shell,
full Chromium in headless mode (used when headless-shell is not installed) and full Chromium on
a virtual display (headless=false sessions). UDP listeners on loopback count what arrives.
"""

import asyncio
import shutil
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import pytest_asyncio

from browser.errors import BrowserError
from browser.launcher import LaunchConfig, find_headless_shell, find_xvfb
from browser.pool import BrowserPool
from browser.types import SessionSpec
from tests.support.chromium import chromium_executable

# Makes a peer connection that names a STUN server and adds a remote host candidate, both on
# loopback listeners, then waits: a browser that sends UDP sends dozens of datagrams by then.
PEER_CONNECTION = """async ([stunPort, candidatePort]) => {
  const pc = new RTCPeerConnection({iceServers: [{urls: 'stun:127.0.0.1:' + stunPort}]});
  const candidates = [];
  pc.onicecandidate = e => { if (e.candidate && e.candidate.candidate) candidates.push(e.candidate.candidate); };
  pc.createDataChannel('probe');
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  const fingerprint = offer.sdp.match(/a=fingerprint:(.*)/)[1];
  const answer = ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0',
    'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'c=IN IP4 0.0.0.0', 'a=ice-ufrag:abcd',
    'a=ice-pwd:abcdefghijklmnopqrstuvwx', 'a=fingerprint:' + fingerprint, 'a=setup:active',
    'a=mid:0', 'a=sctp-port:5000', ''].join('\\r\\n');
  await pc.setRemoteDescription({type: 'answer', sdp: answer});
  await pc.addIceCandidate({sdpMid: '0',
    candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 ' + candidatePort + ' typ host'});
  await new Promise(resolve => setTimeout(resolve, 2500));
  const state = pc.iceConnectionState;
  pc.close();
  return {candidates, state};
}"""

# TURN over TCP is what WebRTC may still use: it goes through the egress proxy like any TCP.
TURN_OVER_TCP = """async (port) => {
  const pc = new RTCPeerConnection({iceServers: [
    {urls: 'turn:127.0.0.2:' + port + '?transport=tcp', username: 'u', credential: 'p'}]});
  const candidates = [];
  pc.onicecandidate = e => { if (e.candidate && e.candidate.candidate) candidates.push(e.candidate.candidate); };
  pc.createDataChannel('probe');
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise(resolve => setTimeout(resolve, 1500));
  pc.close();
  return candidates;
}"""

IN_A_WORKER = """() => new Promise(resolve => {
  const code = "postMessage([typeof RTCPeerConnection, typeof webkitRTCPeerConnection].join(' '))";
  const worker = new Worker(URL.createObjectURL(new Blob([code])));
  worker.onmessage = e => resolve(e.data);
  setTimeout(() => resolve('no answer'), 5000);
})"""


class UdpCounter(asyncio.DatagramProtocol):
    def __init__(self):
        self.datagrams = 0

    def datagram_received(self, data, addr):
        self.datagrams += 1


class PageServer:
    """Serves a page with a cross-origin iframe (127.0.0.1 embeds localhost)."""

    def __init__(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path == "/frame":
                    body = b"<!doctype html><title>frame</title><p>inner"
                else:
                    body = f'<!doctype html><title>outer</title><iframe src="http://localhost:{owner.port}/frame"></iframe>'.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self):
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def short_tmp():
    """Full Chromium puts a unix socket under TMPDIR, whose path must stay under 108 bytes."""
    path = Path(tempfile.mkdtemp(prefix="webrtc-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def page_server():
    server = PageServer()
    yield server
    server.close()


BROWSERS = {
    "headless-shell": (True, True),
    "chromium-headless": (False, True),
    "chromium-on-xvfb": (False, False),
}


@pytest_asyncio.fixture(loop_scope="session", params=list(BROWSERS))
async def session(request, page_server, short_tmp):
    use_shell, headless = BROWSERS[request.param]
    # Every browser a session can run in is tried: a missing one is a failure, not a skip.
    if use_shell and not find_headless_shell():
        pytest.fail("chromium-headless-shell is not installed (Debian: chromium-headless-shell)")
    if not headless and not find_xvfb():
        pytest.fail("Xvfb is not installed (apt-get install xvfb)")
    config = LaunchConfig(
        chromium_path=chromium_executable(),
        headless_shell_path=find_headless_shell() if use_shell else None,
        runtime_dir=short_tmp,
        egress_allow=(f"127.0.0.1:{page_server.port}", f"localhost:{page_server.port}"),
    )
    pool = BrowserPool(config, warm_size=0)
    await pool.start()
    try:
        opened = await pool.open(
            SessionSpec(session_id=f"webrtc-{time.monotonic_ns()}", headless=headless)
        )
        yield opened
    finally:
        await pool.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def listeners():
    loop = asyncio.get_running_loop()
    counters, transports = [], []
    for _ in range(2):
        counter = UdpCounter()
        transport, _ = await loop.create_datagram_endpoint(
            lambda c=counter: c, local_addr=("127.0.0.1", 0)
        )
        counters.append(counter)
        transports.append(transport)
    ports = [t.get_extra_info("sockname")[1] for t in transports]
    yield counters, ports
    for transport in transports:
        transport.close()


@pytest.mark.asyncio(loop_scope="session")
async def test_no_udp_leaves_the_browser_from_a_page_or_a_cross_origin_iframe(
    session, page_server, listeners
):
    counters, ports = listeners
    page = session.page
    await page.goto(f"http://127.0.0.1:{page_server.port}/", wait_until="load", timeout=15000)
    frame = next(f for f in page.frames if f.url.endswith("/frame"))
    assert frame.url.startswith("http://localhost:")

    outer, inner = await asyncio.gather(
        page.evaluate(PEER_CONNECTION, ports), frame.evaluate(PEER_CONNECTION, ports)
    )

    assert [c.datagrams for c in counters] == [0, 0], "UDP reached the loopback listeners"
    assert outer["candidates"] == [] and inner["candidates"] == []
    assert outer["state"] != "connected" and inner["state"] != "connected"


@pytest.mark.asyncio(loop_scope="session")
async def test_workers_cannot_make_peer_connections(session, page_server):
    """If a future Chromium exposed RTCPeerConnection to workers, they would need the same test."""
    await session.page.goto(
        f"http://127.0.0.1:{page_server.port}/frame", wait_until="load", timeout=15000
    )
    assert await session.page.evaluate(IN_A_WORKER) == "undefined undefined"


@pytest.mark.asyncio(loop_scope="session")
async def test_turn_over_tcp_goes_through_the_egress_rules(session, page_server):
    hits = []
    server = await asyncio.start_server(lambda r, w: (hits.append(1), w.close()), "127.0.0.2", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        await session.page.goto(
            f"http://127.0.0.1:{page_server.port}/frame", wait_until="load", timeout=15000
        )
        assert await session.page.evaluate(TURN_OVER_TCP, port) == []
    finally:
        server.close()
    assert hits == []


async def test_a_browser_that_ignores_the_webrtc_policy_is_refused(short_tmp):
    """The launch check: a Chromium whose WebRTC policy switch is overridden does not start."""
    reset = ("--webrtc-ip-handling-policy=default", "--force-webrtc-ip-handling-policy=default")
    config = LaunchConfig(
        chromium_path=chromium_executable(),
        headless_shell_path=find_headless_shell(),
        runtime_dir=short_tmp,
        extra_flags=reset,
    )
    pool = BrowserPool(config, warm_size=0)
    try:
        with pytest.raises(BrowserError, match="WebRTC"):
            await pool.start()
    finally:
        await pool.stop()
