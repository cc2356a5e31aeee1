"""A test client for the live sockets: a real websocket through the running server, with the
console's login cookie and Origin, reading JSON events and headed binary frames."""

import contextlib
import io
import json
import struct
import threading
import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.test import Client
from PIL import Image
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

HEADER = struct.Struct(">Id16s")


@dataclass
class Frame:
    seq: int
    captured_at_ms: float
    session_id: str
    jpeg: bytes

    @property
    def size(self) -> tuple[int, int]:
        return Image.open(io.BytesIO(self.jpeg)).size


class LiveSocket:
    """Reads everything the server sends, as a browser tab does, in a thread of its own (a test
    that stopped reading would otherwise hold the server's sends back)."""

    def __init__(self, ws: ClientConnection, *, read: bool = True):
        self.ws = ws
        self.events: list[dict] = []
        self.frames: list[Frame] = []
        self._reader = threading.Thread(target=self._read, daemon=True) if read else None
        if self._reader:
            self._reader.start()

    def _read(self) -> None:
        try:
            for message in self.ws:
                self._keep(message)
        except (ConnectionClosed, OSError):
            return

    def pump(self, seconds: float) -> None:
        """Let `seconds` of traffic arrive."""
        time.sleep(seconds)

    def until(self, predicate, timeout: float = 15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = predicate(self)
            if found:
                return found
            time.sleep(0.05)
        return predicate(self)

    def event(self, kind: str, **match) -> dict | None:
        """The latest event of this kind (matching the given fields)."""
        for event in reversed(list(self.events)):
            if event.get("type") == kind and all(event.get(k) == v for k, v in match.items()):
                return event
        return None

    def _keep(self, message) -> None:
        if isinstance(message, bytes):
            seq, captured, raw_id = HEADER.unpack_from(message)
            self.frames.append(
                Frame(seq, captured, str(uuid.UUID(bytes=raw_id)), message[HEADER.size :])
            )
        else:
            self.events.append(json.loads(message))

    def send(self, message: dict) -> None:
        self.ws.send(json.dumps(message))

    def close(self) -> None:
        with contextlib.suppress(ConnectionClosed, OSError, TimeoutError):
            self.ws.close()
        if self._reader:
            self._reader.join(5)


def login_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def console_socket(
    live, path: str, user=None, *, origin: str | None = "", read: bool = True
) -> LiveSocket:
    headers = {"Cookie": login_cookie(user)} if user is not None else {}
    ws = connect(
        f"ws://127.0.0.1:{live.port}{path}",
        origin=live.url if origin == "" else origin,
        additional_headers=headers,
        open_timeout=15,
        max_size=None,
    )
    return LiveSocket(ws, read=read)


def console_http(live, user):
    """The console as the logged-in user's browser uses it: through the running server (not
    Django's test client, whose views would run on another event loop than the server's)."""
    import requests

    http = requests.Session()
    name, _, value = login_cookie(user).partition("=")
    http.cookies.set(name, value, domain="127.0.0.1")
    http.get(f"{live.url}/sessions/", timeout=30)  # sets the CSRF cookie
    http.headers["X-CSRFToken"] = http.cookies.get(settings.CSRF_COOKIE_NAME, "")
    http.headers["Referer"] = live.url + "/"
    return http
