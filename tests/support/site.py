"""The test site: real HTTP servers on loopback addresses for perception and URL-policy tests.

``TestSite`` serves the static pages in ``tests/site/`` plus a few dynamic routes::

    with TestSite() as site:
        site.url        # "http://127.0.0.1:PORT"
        site.alt_url    # "http://localhost:PORT", same server, another origin (cross-origin iframes)
        site.hits       # every request path (with its query string), in arrival order
        site.uploads    # files received by POST /upload: {"field", "filename", "size"}

Dynamic routes:

    GET  /redirect?to=URL        302 to URL (an open redirect, on purpose)
    GET  /redirect-chain?n=N     302 to /redirect-chain?n=N-1 ... ; n=1 (or less) 302s to /article.html
    GET  /download/report.csv    a small CSV, Content-Disposition: attachment; filename="report.csv"
    GET  /download/evil          the same with filename="../../../etc/cron.d/evil.sh"
    POST /upload                 multipart: records the files, answers an HTML list of them
    POST /login                  form email+password: sets cookie session=ok, 302 to /account.html
    POST /signup                 form email: mails a 6-digit code to it (through site.smtp), asks for it
    POST /verify                 form email+code: "Account confirmed" when the code is the one mailed
    GET  /logout                 clears the cookie, 302 to /login.html
    GET|POST /echo               the request headers as a JSON object (names as the client sent them)
    GET  /slow?ms=N              waits N ms (at most 30 s), then answers a small HTML page
    GET  /download/big?bytes=N&name=F
                                 N bytes as attachment F, in 64 KiB chunks about 1 ms apart (a fast
                                 network, not loopback speed); bytes actually sent go to `sent`
    GET  /refresh?to=URL&after=S a page whose <meta http-equiv="refresh"> moves to URL after S seconds
    GET  /download/auto?count=K&bytes=N
                                 a page that starts K such downloads by itself when it loads

Every response carries ``Cache-Control: no-store`` so a repeated visit is always a new hit.

``Target`` is a tiny server for URL-policy tests: bind it on any loopback address
(``Target("127.0.0.2")``, ``Target("::1")``), it answers "secret" on every path, counts hits and
records WebSocket upgrade attempts (answering the handshake with 101, then closing).
"""

from __future__ import annotations

import base64
import email.message
import email.parser
import email.policy
import hashlib
import html
import json
import secrets
import smtplib
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SITE_DIR = Path(__file__).resolve().parent.parent / "site"

REPORT_CSV = (
    b"region,quarter,orders,revenue_eur\r\n"
    b"North,Q1,1204,48210.50\r\n"
    b"South,Q1,987,39112.00\r\n"
    b"East,Q1,1533,61870.25\r\n"
    b"West,Q1,702,27450.75\r\n"
)
EVIL_FILENAME = "../../../etc/cron.d/evil.sh"
EVIL_BODY = (
    b"#!/bin/sh\n# test payload: a download must never be written outside its folder\necho pwned\n"
)

_WS_MAGIC = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Server6(_Server):
    address_family = socket.AF_INET6


def _server_for(host: str, handler) -> ThreadingHTTPServer:
    cls = _Server6 if ":" in host else _Server
    return cls((host, 0), handler)


def _origin(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class _BackgroundServer:
    """Start/stop plumbing shared by TestSite and Target."""

    _server: ThreadingHTTPServer

    def _start_thread(self, name: str) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, name=name, daemon=True)
        self._thread.start()

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class TestSite(_BackgroundServer):
    """Serves tests/site/ on 127.0.0.1 at a free port; also reachable as localhost (alt_url)."""

    __test__ = False  # not a pytest test class

    def __init__(self, directory: Path | str = SITE_DIR):
        self.directory = Path(directory)
        self.hits: list[str] = []
        self.requests: list[dict] = []  # {"method", "path", "host", "headers"}
        self.uploads: list[dict] = []  # {"field", "filename", "size"}
        self.logins: list[dict] = []  # {"email", "password"} posted to /login
        self.signups: dict[str, dict] = {}  # address -> {"code", "confirmed"}, from /signup
        self.smtp: tuple[str, int] = ("127.0.0.1", 25)  # where /signup sends its mail
        self.sent: dict[str, int] = {}  # /download/big: bytes sent per file name
        self._server = _server_for("127.0.0.1", self._handler_class())
        self.port: int = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.alt_url = f"http://localhost:{self.port}"
        self._start_thread(f"test-site-{self.port}")

    def page(self, path: str, *, alt: bool = False) -> str:
        """Absolute URL of a path on this site, e.g. site.page("/forms.html")."""
        return (self.alt_url if alt else self.url) + "/" + path.lstrip("/")

    def count(self, path: str) -> int:
        """How many requests had exactly this path (query string included)."""
        return self.hits.count(path)

    def reset(self) -> None:
        self.hits.clear()
        self.requests.clear()
        self.uploads.clear()
        self.logins.clear()

    def _handler_class(self):
        site = self
        directory = str(self.directory)

        class Handler(SimpleHTTPRequestHandler):
            server_version = "PeriscopeTestSite/1.0"
            extensions_map = {
                **SimpleHTTPRequestHandler.extensions_map,
                ".html": "text/html; charset=utf-8",
                ".css": "text/css; charset=utf-8",
                ".js": "text/javascript; charset=utf-8",
                ".svg": "image/svg+xml",
                ".png": "image/png",
                ".ico": "image/x-icon",
                ".csv": "text/csv; charset=utf-8",
                ".txt": "text/plain; charset=utf-8",
            }

            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=directory, **kwargs)

            def parse_request(self):
                ok = super().parse_request()
                if ok:
                    site.hits.append(self.path)
                    site.requests.append(
                        {
                            "method": self.command,
                            "path": self.path,
                            "host": self.headers.get("Host", ""),
                            "headers": dict(self.headers.items()),
                        }
                    )
                return ok

            def end_headers(self):
                self.send_header("Cache-Control", "no-store")
                super().end_headers()

            def log_message(self, *args):
                pass

            # -- routing ---------------------------------------------------------------

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                query = urllib.parse.parse_qs(url.query)
                route = {
                    "/redirect": self._redirect,
                    "/redirect-chain": self._redirect_chain,
                    "/download/report.csv": self._download_report,
                    "/download/evil": self._download_evil,
                    "/echo": self._echo,
                    "/logout": self._logout,
                    "/slow": self._slow,
                    "/download/big": self._download_big,
                    "/download/auto": self._download_auto,
                    "/refresh": self._refresh,
                    "/login": lambda q: self._send_redirect("/login.html"),
                    "/upload": lambda q: self._send_redirect("/forms.html"),
                }.get(url.path)
                if route:
                    route(query)
                else:
                    super().do_GET()

            def do_HEAD(self):
                super().do_HEAD()

            def do_POST(self):
                path = urllib.parse.urlsplit(self.path).path
                body = self._read_body()
                if path == "/upload":
                    self._upload(body)
                elif path == "/login":
                    self._login(body)
                elif path == "/signup":
                    self._signup(body)
                elif path == "/verify":
                    self._verify(body)
                elif path == "/echo":
                    self._echo({})
                else:
                    self._send(405, b"Method not allowed", "text/plain; charset=utf-8")

            # -- helpers ---------------------------------------------------------------

            def _read_body(self) -> bytes:
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length > 0 else b""

            def _send(self, status: int, body: bytes, content_type: str, headers=()):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers:
                    self.send_header(name, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _send_redirect(self, location: str, headers=()):
                self._send(
                    302, b"", "text/plain; charset=utf-8", [("Location", location), *headers]
                )

            def _html(self, title: str, inner: str, status: int = 200):
                page = (
                    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
                    f"<title>{title}</title>"
                    '<link rel="stylesheet" href="/css/site.css"></head>'
                    f'<body><main class="page">{inner}</main></body></html>'
                )
                self._send(status, page.encode(), "text/html; charset=utf-8")

            # -- dynamic routes --------------------------------------------------------

            def _redirect(self, query):
                target = query.get("to", ["/"])[0]
                self._send_redirect(target)

            def _redirect_chain(self, query):
                try:
                    n = int(query.get("n", ["1"])[0])
                except ValueError:
                    n = 1
                self._send_redirect(f"/redirect-chain?n={n - 1}" if n > 1 else "/article.html")

            def _download_report(self, query):
                self._send(
                    200,
                    REPORT_CSV,
                    "text/csv; charset=utf-8",
                    [("Content-Disposition", 'attachment; filename="report.csv"')],
                )

            def _download_evil(self, query):
                self._send(
                    200,
                    EVIL_BODY,
                    "application/octet-stream",
                    [("Content-Disposition", f'attachment; filename="{EVIL_FILENAME}"')],
                )

            def _echo(self, query):
                body = json.dumps(dict(self.headers.items()), indent=2).encode()
                self._send(200, body, "application/json")

            def _download_big(self, query):
                size = min(int(query.get("bytes", ["1048576"])[0]), 1 << 30)
                name = query.get("name", ["big.bin"])[0]
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(size))
                self.send_header("Content-Disposition", f'attachment; filename="{name}"')
                self.end_headers()
                chunk = b"\0" * 65536
                site.sent[name] = 0
                try:
                    while site.sent[name] < size:
                        part = chunk[: size - site.sent[name]]
                        self.wfile.write(part)
                        site.sent[name] += len(part)
                        time.sleep(0.001)
                except OSError:
                    pass  # the client stopped the download

            def _refresh(self, query):
                target = html.escape(query.get("to", ["/article.html"])[0])
                after = html.escape(query.get("after", ["0"])[0])
                self._send(
                    200,
                    f'<!doctype html><html><head><meta http-equiv="refresh" content="{after}; url={target}">'
                    "<title>Moving</title></head><body><p>This page has moved.</p></body></html>".encode(),
                    "text/html; charset=utf-8",
                )

            def _download_auto(self, query):
                count = min(int(query.get("count", ["1"])[0]), 50)
                size = int(query.get("bytes", ["1048576"])[0])
                links = "".join(
                    f'<a class="auto" href="/download/big?bytes={size}&amp;name=auto-{i}.bin" '
                    f'download="auto-{i}.bin">file {i}</a> '
                    for i in range(count)
                )
                script = (
                    "<script>document.querySelectorAll('a.auto')"
                    ".forEach((a, i) => setTimeout(() => a.click(), 50 * i));</script>"
                )
                self._html("Downloads", f"<h1>Downloads</h1><p>{links}</p>{script}")

            def _slow(self, query):
                try:
                    ms = min(max(int(query.get("ms", ["1000"])[0]), 0), 30_000)
                except ValueError:
                    ms = 1000
                time.sleep(ms / 1000)
                self._html("Slow page", f'<h1>Slow page</h1><p id="status">Waited {ms} ms</p>')

            def _login(self, body: bytes):
                form = urllib.parse.parse_qs(
                    body.decode("utf-8", "replace"), keep_blank_values=True
                )
                site.logins.append(
                    {
                        "email": form.get("email", [""])[0],
                        "password": form.get("password", [""])[0],
                    }
                )
                self._send_redirect(
                    "/account.html", [("Set-Cookie", "session=ok; Path=/; SameSite=Lax")]
                )

            def _signup(self, body: bytes):
                """Sends a verification code by mail (through `site.smtp`), then asks for it."""
                form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
                address = form.get("email", [""])[0]
                code = f"{secrets.randbelow(10**6):06d}"
                site.signups[address] = {"code": code, "confirmed": False}
                message = email.message.EmailMessage()
                message["From"] = "Harbour Light <no-reply@harbour-light.test>"
                message["To"] = address
                message["Subject"] = "Confirm your Harbour Light account"
                message.set_content(f"Welcome aboard!\n\nYour verification code is {code}.\n")
                host, port = site.smtp
                with smtplib.SMTP(host, port, timeout=10) as smtp:
                    smtp.send_message(message)
                self._html(
                    "Check your mail",
                    (
                        "<h1>Check your mail</h1><p>We sent a code to " + _esc(address) + ".</p>"
                        '<form id="verify-form" action="/verify" method="post">'
                        '<input type="hidden" name="email" value="' + _esc(address) + '">'
                        '<label for="code">Verification code</label>'
                        '<input id="code" name="code" type="text" autocomplete="one-time-code">'
                        '<button id="confirm" type="submit">Confirm</button></form>'
                    ),
                )

            def _verify(self, body: bytes):
                form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
                address, code = form.get("email", [""])[0], form.get("code", [""])[0].strip()
                signup = site.signups.get(address)
                if signup and signup["code"] == code:
                    signup["confirmed"] = True
                    self._html(
                        "Welcome",
                        '<h1 id="welcome">Account confirmed</h1><p>Welcome, '
                        + _esc(address)
                        + "</p>",
                    )
                else:
                    self._html(
                        "Wrong code",
                        '<h1>That code is not right</h1><a href="/signup.html">Start again</a>',
                        400,
                    )

            def _logout(self, query):
                self._send_redirect(
                    "/login.html",
                    [("Set-Cookie", "session=; Path=/; Max-Age=0; SameSite=Lax")],
                )

            def _upload(self, body: bytes):
                content_type = self.headers.get("Content-Type", "")
                if not content_type.startswith("multipart/form-data"):
                    self._html(
                        "Upload failed", "<h1>Upload failed</h1><p>Expected multipart.</p>", 400
                    )
                    return
                message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                    b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
                )
                received = []
                for part in message.iter_parts():
                    field = part.get_param("name", header="content-disposition")
                    filename = part.get_filename()
                    if filename is None:  # a plain text field
                        continue
                    data = part.get_payload(decode=True) or b""
                    if filename == "" and not data:  # a file input left empty
                        continue
                    entry = {"field": field, "filename": filename, "size": len(data)}
                    site.uploads.append(entry)
                    received.append(entry)
                rows = "".join(
                    f'<li class="upload"><span class="filename">{_esc(u["filename"])}</span> '
                    f'(<span class="size">{u["size"]}</span> bytes, field '
                    f"<code>{_esc(u['field'] or '')}</code>)</li>"
                    for u in received
                )
                self._html(
                    "Upload received",
                    f"<h1>Upload received</h1>"
                    f'<p id="status">Received {len(received)} file(s)</p>'
                    f'<ul id="uploads">{rows}</ul>'
                    f'<p><a href="/forms.html">Back to forms</a></p>',
                )

        return Handler


def _esc(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


class Target(_BackgroundServer):
    """A server that must NOT be reached: answers "secret" everywhere and counts every hit.

    ``Target("127.0.0.2")`` binds that address at a free port. ``hits`` lists the request paths
    (WebSocket attempts included); ``ws_hits`` lists the paths of requests that carried
    ``Upgrade: websocket`` (answered with a 101 handshake, then the connection is closed).
    """

    __test__ = False

    def __init__(self, host: str = "127.0.0.1"):
        self.host = host
        self.hits: list[str] = []
        self.ws_hits: list[str] = []
        self._server = _server_for(host, self._handler_class())
        self.port: int = self._server.server_address[1]
        self.url = _origin(host, self.port)
        self.ws_url = "ws" + self.url[len("http") :]
        self._start_thread(f"target-{host}-{self.port}")

    def reset(self) -> None:
        self.hits.clear()
        self.ws_hits.clear()

    def _handler_class(self):
        target = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "PeriscopeTarget/1.0"

            def parse_request(self):
                ok = super().parse_request()
                if ok:
                    target.hits.append(self.path)
                return ok

            def log_message(self, *args):
                pass

            def _answer(self):
                if self.headers.get("Upgrade", "").lower() == "websocket":
                    target.ws_hits.append(self.path)
                    key = self.headers.get("Sec-WebSocket-Key", "")
                    accept = base64.b64encode(
                        hashlib.sha1((key + _WS_MAGIC).encode()).digest()
                    ).decode()
                    self.send_response(101, "Switching Protocols")
                    self.send_header("Upgrade", "websocket")
                    self.send_header("Connection", "Upgrade")
                    self.send_header("Sec-WebSocket-Accept", accept)
                    self.end_headers()
                    self.close_connection = True
                    return
                length = int(self.headers.get("Content-Length") or 0)
                if length > 0:
                    self.rfile.read(length)
                body = b"secret"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("Connection", "close")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)
                self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_PATCH = _answer

        return Handler
