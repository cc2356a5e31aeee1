"""The worker's side of CDP attach: one bridge (browser/cdp_proxy.py) per connected client.

The web process's consumer authorizes the websocket, asks the session's worker to open a bridge
(`session.cdp.open`, answered with the bridge's id), then relays the client's text frames as they
come (`session.cdp.in`) without parsing them. The bridge's messages to the client go back to the
consumer's channel in batches (`cdp.out`), in order, never dropped: a consumer whose channel stays
full for CHANNEL_PATIENCE_SECONDS, or a backlog over MAX_BACKLOG_BYTES, ends the connection.
`cdp.closed` tells the consumer to close the socket (the client sent Browser.close, the session
ended). A bridge whose consumer stopped pinging for KEEPALIVE_LAPSE_SECONDS is closed (the web
process died). Closing a bridge leaves the session running.
"""

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from channels.exceptions import ChannelFull

from browser.cdp_proxy import CdpBridge
from browser.session import SessionContext

log = logging.getLogger(__name__)

BATCH_BYTES = 1 << 20
MAX_BACKLOG_BYTES = 64 << 20
CHANNEL_PATIENCE_SECONDS = 30.0
KEEPALIVE_LAPSE_SECONDS = 90.0  # the consumer pings every 30 s


class Outbox:
    """Messages to one consumer, in order, batched while a send is on its way."""

    def __init__(self, layer, channel: str, *, on_stuck: Callable[[str], None]):
        self.layer = layer
        self.channel = channel
        self._on_stuck = on_stuck
        self._texts: list[str] = []
        self._bytes = 0
        self._task: asyncio.Task[None] | None = None
        self.stuck = False

    def put(self, text: str) -> None:
        if self.stuck:
            return
        self._texts.append(text)
        self._bytes += len(text)
        if self._bytes > MAX_BACKLOG_BYTES:
            self._give_up("the client reads too slowly")
        elif self._task is None:
            self._task = asyncio.ensure_future(self._drain())

    async def _drain(self) -> None:
        try:
            while self._texts and not self.stuck:
                count = _fits(self._texts, BATCH_BYTES) or 1
                batch = self._texts[:count]
                del self._texts[:count]
                self._bytes -= sum(len(t) for t in batch)
                await self.send({"type": "cdp.out", "texts": batch})
        finally:
            self._task = None

    async def send(self, message: dict[str, Any]) -> None:
        deadline = time.monotonic() + CHANNEL_PATIENCE_SECONDS
        while True:
            try:
                await self.layer.send(self.channel, message)
                return
            except ChannelFull:
                if time.monotonic() > deadline:
                    self._give_up("the client's connection stopped reading")
                    return
                await asyncio.sleep(0.005)

    def _give_up(self, reason: str) -> None:
        if not self.stuck:
            self.stuck = True
            self._texts.clear()
            self._on_stuck(reason)

    async def flush(self) -> None:
        while self._task is not None:
            await asyncio.shield(self._task)


def _fits(texts: list[str], room: int) -> int:
    count = 0
    for text in texts:
        room -= len(text)
        if room < 0:
            break
        count += 1
    return count


@dataclass(eq=False, slots=True)
class Attached:
    bridge_id: str
    session_id: str
    team_id: str
    bridge: CdpBridge
    outbox: Outbox
    heard_at: float = field(default_factory=time.monotonic)


class CdpHub:
    def __init__(self, layer, *, on_activity: Callable[[str], None]):
        self.layer = layer
        self._on_activity = on_activity
        self._attached: dict[str, Attached] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def count(self, session_id: str | None = None) -> int:
        return sum(
            1 for a in self._attached.values() if session_id is None or a.session_id == session_id
        )

    async def open(self, session: SessionContext, *, team_id: str, channel: str) -> str:
        bridge_id = secrets.token_urlsafe(18)
        outbox = Outbox(
            self.layer, channel, on_stuck=lambda reason: self._spawn(self.end(bridge_id, reason))
        )
        bridge = CdpBridge(
            session,
            output=outbox.put,
            ended=lambda reason: self._spawn(self.end(bridge_id, reason)),
        )
        await bridge.start()
        self._attached[bridge_id] = Attached(bridge_id, session.session_id, team_id, bridge, outbox)
        return bridge_id

    def _find(self, message: dict[str, Any]) -> Attached | None:
        """The bridge a consumer names, if it belongs to the session and team it names too."""
        attached = self._attached.get(message.get("bridge", ""))
        if (
            attached is None
            or attached.session_id != message.get("session_id")
            or attached.team_id != message.get("team_id")
        ):
            return None
        return attached

    def deliver(self, message: dict[str, Any]) -> None:
        """A client's frame, handled before the next one is read (their order is the protocol's)."""
        attached = self._find(message)
        if attached is None:
            return
        attached.heard_at = time.monotonic()
        self._on_activity(attached.session_id)
        text = message.get("text")
        if isinstance(text, str):
            attached.bridge.deliver(text)

    def ping(self, message: dict[str, Any]) -> bool:
        attached = self._find(message)
        if attached is not None:
            attached.heard_at = time.monotonic()
        return attached is not None

    def hang_up(self, message: dict[str, Any]) -> None:
        """The client's socket closed."""
        attached = self._find(message)
        if attached is not None:
            self._spawn(self.end(attached.bridge_id, "the client disconnected", tell_client=False))

    async def end(self, bridge_id: str, reason: str, *, tell_client: bool = True) -> None:
        attached = self._attached.pop(bridge_id, None)
        if attached is None:
            return
        if tell_client:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(attached.outbox.flush(), 5)
                await attached.outbox.send({"type": "cdp.closed", "reason": reason})
        await attached.bridge.close()

    async def session_ended(self, session_id: str, reason: str) -> None:
        for bridge_id in [b for b, a in self._attached.items() if a.session_id == session_id]:
            await self.end(bridge_id, reason)

    async def housekeeping(self) -> None:
        lapse = time.monotonic() - KEEPALIVE_LAPSE_SECONDS
        for bridge_id in [b for b, a in self._attached.items() if a.heard_at < lapse]:
            log.info("closing CDP bridge %s: its consumer stopped pinging", bridge_id)
            await self.end(bridge_id, "the connection went quiet", tell_client=False)

    async def close_all(self) -> None:
        for bridge_id in list(self._attached):
            await self.end(bridge_id, "the browser worker stopped")
        for task in list(self._tasks):
            task.cancel()
