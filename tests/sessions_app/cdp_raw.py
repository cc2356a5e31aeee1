"""A raw CDP client for the tests: one websocket to the server's /cdp/<id>, messages by hand."""

import itertools
import json
import time
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect


class CdpError(Exception):
    def __init__(self, error: dict[str, Any]):
        super().__init__(error.get("message", ""))
        self.code = error.get("code")


class RawCdp:
    def __init__(self, url: str, headers: dict[str, str] | None = None):
        self.ws: ClientConnection = connect(
            url, additional_headers=headers, max_size=None, open_timeout=20
        )
        self.ids = itertools.count(1)
        self.received: list[dict[str, Any]] = []  # everything, in order
        self.texts: list[str] = []  # the same, as sent by the server

    def send(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session: str | None = None,
        timeout: float = 15,
    ) -> dict[str, Any]:
        """The command's result; a CDP error raises CdpError."""
        msg_id = next(self.ids)
        message: dict[str, Any] = {"id": msg_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        reply = self.until(
            lambda m: m.get("id") == msg_id and m.get("sessionId") == session, timeout
        )
        if reply is None:
            raise TimeoutError(f"no answer to {method}")
        if "error" in reply:
            raise CdpError(reply["error"])
        return reply["result"]

    def until(self, predicate, timeout: float = 10) -> dict[str, Any] | None:
        for message in self.received:
            if predicate(message):
                return message
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                text = self.ws.recv(timeout=left)
            except TimeoutError:
                return None
            self.texts.append(text)
            message = json.loads(text)
            self.received.append(message)
            if predicate(message):
                return message
        return None

    def pump(self, seconds: float) -> None:
        self.until(lambda _m: False, seconds)

    def events(self, method: str) -> list[dict[str, Any]]:
        return [m for m in self.received if m.get("method") == method]

    def closed(self, timeout: float = 10) -> bool:
        """Whether the server closes the connection within `timeout`."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                self.texts.append(self.ws.recv(timeout=left))
            except TimeoutError:
                return False
            except ConnectionClosed:
                return True
        return False

    def close(self) -> None:
        self.ws.close()
