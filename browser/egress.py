"""EgressProxy: the forward proxy every browser request goes through (see docs/security.md, egress).

Chromium is launched with Playwright's proxy= option, which also adds the `<-loopback>` bypass
rule, so even loopback traffic comes here. For each request the proxy resolves the host
itself, checks every address against the EgressPolicy and connects to the exact address it
checked: there is no second lookup a rebinding DNS server could answer differently. Refused
requests get a 403 and no socket is ever opened towards the target.

Two request kinds are served:
- CONNECT host:port (https, wss, and ws:// which Chromium also tunnels): a byte tunnel.
- absolute-form plain HTTP (GET http://host/path HTTP/1.1): rewritten to origin-form, sent
  upstream with `Connection: close`, and the client connection is closed after the response,
  so one proxy connection never carries a second request to another host.

Each session's BrowserContext gets an endpoint of its own (a listening port, see
`open_endpoint`), so the bytes it sends and receives are counted per session. The proxy listens
on loopback, where every local process could reach it: with a `peer_check`, a connection from
any process but this worker's browsers is refused before a byte of it is read.
"""

import asyncio
import contextlib
import functools
import logging
import socket
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from .url_policy import EgressPolicy, check_host, split_target, static_addresses

log = logging.getLogger(__name__)

Resolver = Callable[[str, int], Awaitable[list[str]]]
PeerCheck = Callable[[socket.socket], bool]

MAX_HEAD = 64 * 1024
FOREIGN = "only the browsers of this worker may use its egress proxy"
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "proxy-authenticate",
    "te",
    "trailer",
    "upgrade",
}


class Refused(Exception):
    """A request the proxy answers itself: (status, reason)."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(slots=True)
class Traffic:
    """Bytes relayed for one endpoint: sent towards sites, received from them."""

    sent: int = 0
    received: int = 0


class Endpoint:
    """One listening port of the proxy, for one BrowserContext; `label` names its session."""

    def __init__(self, server: asyncio.Server, traffic: Traffic, registry: set["Endpoint"]):
        self._server = server
        self._registry = registry
        self.port: int = server.sockets[0].getsockname()[1]
        self.traffic = traffic
        self.label = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        """Stop accepting; connections already open finish (and are still counted)."""
        self._server.close()
        self._registry.discard(self)


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class EgressProxy:
    def __init__(
        self,
        policy: EgressPolicy,
        *,
        resolver: Resolver = system_resolver,
        host: str = "127.0.0.1",
        connect_timeout: float = 10.0,
        head_timeout: float = 30.0,
        idle_timeout: float = 300.0,
        peer_check: PeerCheck | None = None,
    ):
        self.policy = policy
        self.peer_check = peer_check
        self.resolver = resolver
        self.host = host
        self.port = 0
        self.connect_timeout = connect_timeout
        self.head_timeout = head_timeout
        self.idle_timeout = idle_timeout
        self.allowed = 0
        self.refused = 0
        self.foreign = 0  # connections refused because another process made them
        self.recent_refusals: deque[str] = deque(maxlen=20)
        self.traffic = Traffic()  # what came through the main port (no endpoint of its own)
        self._server: asyncio.Server | None = None
        self._endpoints: set[Endpoint] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self._server = await self._listen(self.traffic)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def open_endpoint(self) -> Endpoint:
        """A port of its own for one BrowserContext, whose traffic is counted apart."""
        traffic = Traffic()
        endpoint = Endpoint(await self._listen(traffic), traffic, self._endpoints)
        self._endpoints.add(endpoint)
        return endpoint

    async def _listen(self, traffic: Traffic) -> asyncio.Server:
        serve = functools.partial(self._serve, traffic=traffic)
        return await asyncio.start_server(serve, self.host, 0, limit=MAX_HEAD)

    async def stop(self) -> None:
        for endpoint in list(self._endpoints):
            endpoint.close()
        if self._server:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)
            self._server = None

    # -- one client connection -------------------------------------------------------------

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, traffic: Traffic
    ) -> None:
        task = asyncio.current_task()
        assert task
        self._tasks.add(task)  # type: ignore[arg-type]
        upstream: asyncio.StreamWriter | None = None
        try:
            if self.peer_check and not self.peer_check(writer.get_extra_info("socket")):
                self.foreign += 1
                log.warning("egress proxy: refused a connection from a process that is not ours")
                # Read its request head first: closing with unread data would reset the
                # connection, and the client would not see why it was refused.
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 1.0)
                await self._answer(writer, Refused(403, FOREIGN), count=False)
                return
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.head_timeout)
            method, target, version, headers = _parse_head(head)
            if method == "CONNECT":
                host, port = _split_authority(target)
                up_reader, upstream = await self._connect(host, port)
                writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                await writer.drain()
                await self._relay(reader, writer, up_reader, upstream, traffic)
            else:
                host, port, request = _origin_form(method, target, version, headers)
                up_reader, upstream = await self._connect(host, port)
                upstream.write(request)
                traffic.sent += len(request)
                await upstream.drain()
                await self._relay(reader, writer, up_reader, upstream, traffic)
        except Refused as refusal:
            await self._answer(writer, refusal)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            await self._answer(writer, Refused(400, "malformed proxy request"), count=False)
        except (TimeoutError, ConnectionError, OSError):
            pass  # the client went away or stalled; nothing to answer
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("egress proxy: unexpected error")
        finally:
            for stream in (upstream, writer):
                if stream:
                    stream.close()
            self._tasks.discard(task)  # type: ignore[arg-type]

    async def _connect(self, host: str, port: int):
        """Resolve once, check every address, then connect to a checked address only."""
        addresses = static_addresses(host)
        if addresses is None:
            try:
                addresses = await asyncio.wait_for(self.resolver(host, port), self.connect_timeout)
            except (OSError, TimeoutError) as exc:
                raise Refused(
                    502, f"{host} could not be resolved ({exc.__class__.__name__})"
                ) from None
        reason = self.policy.refusal(host, port, addresses)
        if reason:
            raise Refused(403, reason)
        self.allowed += 1
        last_error: Exception | None = None
        for address in addresses:
            try:
                return await asyncio.wait_for(
                    asyncio.open_connection(address, port, limit=MAX_HEAD), self.connect_timeout
                )
            except (OSError, TimeoutError) as exc:
                last_error = exc
        raise Refused(502, f"could not connect to {host}:{port} ({last_error.__class__.__name__})")

    async def _answer(self, writer: asyncio.StreamWriter, refusal: Refused, *, count=True) -> None:
        if count and refusal.status == 403:
            self.refused += 1
            self.recent_refusals.append(refusal.reason)
            log.info("egress refused: %s", refusal.reason)
        body = f"Periscope egress proxy: {refusal.reason}\n".encode()
        phrase = {400: "Bad Request", 403: "Forbidden", 502: "Bad Gateway"}[refusal.status]
        # The header lets the action layer tell "blocked by policy" from a site's own 403.
        marker = f"X-Periscope-Egress: refused\r\nX-Periscope-Egress-Reason: {_header_safe(refusal.reason)}\r\n"
        writer.write(
            f"HTTP/1.1 {refusal.status} {phrase}\r\n{marker if refusal.status == 403 else ''}"
            "Content-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer.drain(), 5)

    async def _relay(self, client_r, client_w, up_r, up_w, traffic: Traffic) -> None:
        """Copy bytes both ways until either side closes (or stays idle too long). For plain
        HTTP the upstream closes after its response, as it was sent Connection: close; a client
        that closes early (a cancelled request) frees the upstream connection at once."""
        to_upstream = asyncio.ensure_future(self._pipe(client_r, up_w, traffic, "sent"))
        to_client = asyncio.ensure_future(self._pipe(up_r, client_w, traffic, "received"))
        try:
            await asyncio.wait({to_upstream, to_client}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (to_upstream, to_client):
                task.cancel()
            await asyncio.gather(to_upstream, to_client, return_exceptions=True)

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, traffic: Traffic, way: str
    ) -> None:
        with contextlib.suppress(ConnectionError, OSError, TimeoutError):
            while data := await asyncio.wait_for(reader.read(65536), self.idle_timeout):
                setattr(traffic, way, getattr(traffic, way) + len(data))
                writer.write(data)
                await asyncio.wait_for(writer.drain(), self.idle_timeout)


# -- parsing -------------------------------------------------------------------------------


def _parse_head(head: bytes) -> tuple[str, str, str, list[tuple[str, str]]]:
    lines = head.decode("latin-1").split("\r\n")
    if any("\r" in line or "\n" in line for line in lines):
        raise ValueError("bare CR or LF in the request head")
    method, target, version = lines[0].split(" ")
    if not version.startswith("HTTP/1."):
        raise ValueError("not HTTP/1.x")
    headers = []
    for line in lines[1:]:
        if line:
            name, sep, value = line.partition(":")
            if not sep or not name or name != name.strip():
                raise ValueError("bad header line")
            headers.append((name, value.strip()))
    return method.upper(), target, version, headers


def _split_authority(authority: str) -> tuple[str, int]:
    """host:port of a CONNECT request; IPv6 in brackets."""
    host, sep, port = authority.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise Refused(400, f"CONNECT needs host:port, got {authority[:80]!r}")
    host = host.lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        check_host(host)
    except ValueError as exc:
        raise Refused(400, str(exc)) from None
    return host, int(port)


def _origin_form(method: str, target: str, version: str, headers: list[tuple[str, str]]):
    """(host, port, request bytes) for an absolute-form request, rewritten for the origin."""
    if not target.lower().startswith("http://"):
        raise Refused(400, "only CONNECT and absolute http:// requests go through this proxy")
    try:
        host, port = split_target(target)
    except ValueError as exc:
        raise Refused(400, str(exc)) from None
    parts = urlsplit(target)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    authority = parts.netloc.rpartition("@")[2]  # never forward userinfo
    named_in_connection = {
        token.strip().lower()
        for name, value in headers
        if name.lower() == "connection"
        for token in value.split(",")
    }
    lines = [f"{method} {path} {version}", f"Host: {authority}"]
    for name, value in headers:
        lowered = name.lower()
        if lowered in HOP_BY_HOP or lowered in named_in_connection or lowered == "host":
            continue
        if lowered.startswith("proxy-"):
            continue
        lines.append(f"{name}: {value}")
    lines.append("Connection: close")
    return host, port, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _header_safe(text: str) -> str:
    return "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text)[:300]
