"""A test client for the live sockets: a real websocket through the running server, with the
console's login cookie and Origin, reading JSON events and headed binary frames."""

import io
import json
import struct
import time
import uuid
from dataclasses import dataclass, field

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


@dataclass
class LiveSocket:
    ws: ClientConnection
    events: list[dict] = field(default_factory=list)
    frames: list[Frame] = field(default_factory=list)

    def pump(self, seconds: float) -> None:
        """Read whatever arrives for `seconds`."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                message = self.ws.recv(timeout=left)
            except TimeoutError:
                return
            self._keep(message)

    def until(self, predicate, timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = predicate(self)
            if found:
                return found
            try:
                self._keep(self.ws.recv(timeout=max(0.05, min(0.5, deadline - time.monotonic()))))
            except TimeoutError:
                continue
        return predicate(self)

    def event(self, kind: str, **match) -> dict | None:
        """The latest event of this kind (matching the given fields)."""
        for event in reversed(self.events):
            if event.get("type") == kind and all(event.get(k) == v for k, v in match.items()):
                return event
        return None

    def _keep(self, message) -> None:
        if isinstance(message, bytes):
            seq, captured, raw_id = HEADER.unpack_from(message)
            self.frames.append(Frame(seq, captured, str(uuid.UUID(bytes=raw_id)), message[HEADER.size:]))
        else:
            self.events.append(json.loads(message))

    def send(self, message: dict) -> None:
        self.ws.send(json.dumps(message))

    def close(self) -> None:
        try:
            self.ws.close()
        except ConnectionClosed:
            pass


def login_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def console_socket(live, path: str, user=None, *, origin: str | None = "") -> LiveSocket:
    headers = {"Cookie": login_cookie(user)} if user is not None else {}
    ws = connect(f"ws://127.0.0.1:{live.port}{path}", origin=live.url if origin == "" else origin,
                 additional_headers=headers, open_timeout=15, max_size=None)
    return LiveSocket(ws)
