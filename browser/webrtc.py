"""Keep WebRTC behind the egress proxy, and check at launch that the browser really does.

A page can make Chromium send UDP without any HTTP request: an RTCPeerConnection sends STUN
binding requests to any `stun:` server it names and ICE connectivity checks to any remote
candidate it adds, to any address and port, loopback and private ranges included. The egress
proxy never sees that traffic. Chromium's WebRTC IP handling policy `disable_non_proxied_udp`
stops it: no UDP at all, and WebRTC may only use TURN over TCP, which goes through the proxy
and its address rules like any other connection.

The policy is a command-line switch whose name depends on the build: full Chromium 156 reads
`--webrtc-ip-handling-policy` and ignores `--force-webrtc-ip-handling-policy`, which
chromium-headless-shell reads instead. Both are passed. Because a future build may rename the
switch again and silently let UDP out, every browser is checked when it is launched: a peer
connection that names a STUN server on a local UDP listener must gather no candidate and send
nothing. A browser that fails the check is closed and the worker refuses to run it.
"""

import asyncio
import contextlib

from playwright.async_api import Browser

from .errors import BrowserError

POLICY = "disable_non_proxied_udp"
FLAGS = (
    f"--webrtc-ip-handling-policy={POLICY}",
    f"--force-webrtc-ip-handling-policy={POLICY}",
)

_PROBE = """async (port) => {
  const pc = new RTCPeerConnection({iceServers: [{urls: 'stun:127.0.0.1:' + port}]});
  const candidates = [];
  pc.onicecandidate = e => { if (e.candidate && e.candidate.candidate) candidates.push(e.candidate.candidate); };
  pc.createDataChannel('probe');
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise(resolve => {
    const done = () => pc.iceGatheringState === 'complete' && resolve();
    pc.onicegatheringstatechange = done;
    done();
    setTimeout(resolve, 3000);
  });
  pc.close();
  return candidates;
}"""


class _Counter(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.datagrams = 0

    def datagram_received(self, data: bytes, addr) -> None:
        self.datagrams += 1


async def check_no_udp(browser: Browser) -> None:
    """Raise BrowserError if a page of `browser` can send UDP through WebRTC (about 150 ms)."""
    loop = asyncio.get_running_loop()
    counter = _Counter()
    transport, _ = await loop.create_datagram_endpoint(lambda: counter, local_addr=("127.0.0.1", 0))
    context = await browser.new_context()
    try:
        page = await context.new_page()
        candidates = await page.evaluate(_PROBE, transport.get_extra_info("sockname")[1])
        await asyncio.sleep(0.05)  # a datagram already sent is counted
    finally:
        transport.close()
        with contextlib.suppress(Exception):
            await context.close()
    if candidates or counter.datagrams:
        raise BrowserError(
            f"this Chromium build ignores the WebRTC policy switches ({', '.join(FLAGS)}): a page "
            f"gathered {len(candidates)} candidates and sent {counter.datagrams} UDP datagrams past "
            "the egress proxy. Use a Chromium build that honours one of them."
        )
