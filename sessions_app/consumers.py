"""Websockets of the live layer, and the CDP endpoint. Each live consumer authorizes, joins its
session's group (events) and registers its own frame channel with the session's worker (frames),
then relays: events as JSON text, frames as binary messages. Commands (take control, release)
arrive over HTTP; the only thing a live consumer forwards to a worker is the input of the person
holding control. The CDP consumer relays a CDP client's messages to its bridge on the worker.

Frame messages: a 28-byte header (big-endian: uint32 sequence number, float64 capture time in
epoch milliseconds, the session's 16-byte UUID), then the JPEG. The Notte recording socket sends
bare JPEGs, as its clients expect.
"""

import asyncio
import contextlib
import json
import logging
import struct
import time
import uuid
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.exceptions import ChannelFull
from channels.generic.websocket import AsyncWebsocketConsumer

from core.errors import PeriscopeError
from teams_app.auth import authenticate
from teams_app.models import Scope
from teams_app.selectors import membership_for_console

from . import cdp_access, events, selectors
from .models import BrowserSession
from .viewer_links import viewer_grant
from .worker import client

log = logging.getLogger(__name__)

HEADER = struct.Struct(">Id16s")
RENEW_SECONDS = 10.0
RECHECK_SECONDS = 5.0  # how soon a watcher removed from the team loses the stream
CLOSE_REFUSED = 4404  # unknown session, another team's, or no right to it: the same to the client
CLOSE_ENDED = 4000


def frame_message(seq: int, captured_at_ms: float, session_id: str, jpeg: bytes) -> bytes:
    return HEADER.pack(seq & 0xFFFFFFFF, captured_at_ms, uuid.UUID(session_id).bytes) + jpeg


class LiveConsumer(AsyncWebsocketConsumer):
    """What every live socket does once it knows which sessions it may watch: events from their
    groups, frames from their workers through a latest-frame slot per session."""

    rate = "focused"
    raw_frames = False  # bare JPEGs (the Notte recording socket) instead of headed frames
    send_events = True
    send_frames = True

    async def __call__(self, scope, receive, send):
        # However the connection ends, its watchers go. When a send finds the client gone (it
        # left while connect() was still running, say), uvicorn ends the app quietly and Channels
        # never calls disconnect(): without this, the watcher would be renewed for ever.
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.stop_live()

    async def start_live(self, *, frames_now: bool = True) -> None:
        """Frames flow at once, or (sockets that greet with `hello`) once open_frames() says so."""
        self.watched: dict[str, BrowserSession] = {}
        self.slots: dict[str, dict] = {}
        self.frames_open = asyncio.Event()
        if frames_now:
            self.frames_open.set()
        self.frame_ready = asyncio.Event()
        # The default prefix, shared with the consumer's own channel and the worker replies: with
        # Redis they all come through the process's one reader (see worker/client.py).
        self.frames_channel = await self.channel_layer.new_channel()
        self.live_tasks = [
            asyncio.ensure_future(self._receive_frames()),
            asyncio.ensure_future(self._send_frames()),
            asyncio.ensure_future(self._renew()),
        ]

    async def watch(self, session: BrowserSession) -> dict | None:
        session_id = str(session.id)
        if self.send_events:
            await self.channel_layer.group_add(events.session_group(session_id), self.channel_name)
        self.watched[session_id] = session
        if not self.send_frames or not session.is_live or not session.worker_channel:
            return None
        try:
            return await self._command(
                session,
                {"type": "session.watch", "channel": self.frames_channel, "rate": self.rate},
            )
        except PeriscopeError:
            return None  # the session ended meanwhile: its status event follows

    async def unwatch(self, session_id: str) -> None:
        session = self.watched.pop(session_id, None)
        self.slots.pop(session_id, None)
        if self.send_events:
            await self.channel_layer.group_discard(
                events.session_group(session_id), self.channel_name
            )
        if session is not None and session.is_live and session.worker_channel and self.send_frames:
            with contextlib.suppress(PeriscopeError):
                await self._command(
                    session, {"type": "session.unwatch", "channel": self.frames_channel}
                )

    async def _command(self, session: BrowserSession, command: dict):
        return await client.call(
            session.worker_channel,
            {**command, "session_id": str(session.id), "team_id": str(session.team_id)},
            wait_seconds=10,
        )

    async def disconnect(self, code):
        await self.stop_live()

    async def stop_live(self) -> None:
        """Idempotent: called on disconnect and again when the app ends."""
        for task in getattr(self, "live_tasks", []):
            task.cancel()
        self.live_tasks = []
        for session_id in list(getattr(self, "watched", {})):
            try:
                await self.unwatch(session_id)
            except Exception:
                log.warning("could not stop watching %s", session_id, exc_info=True)

    def open_frames(self) -> None:
        self.frames_open.set()

    # -- frames: worker -> slot -> socket ------------------------------------------------------

    async def _receive_frames(self) -> None:
        while True:
            message = await self.channel_layer.receive(self.frames_channel)
            if message.get("type") == "live.ended":
                continue  # the status event says why; the socket stays for it
            session_id = message.get("session_id")
            if session_id in self.watched:
                self.slots[session_id] = message  # a newer frame replaces one not sent yet
                self.frame_ready.set()

    async def _send_frames(self) -> None:
        await self.frames_open.wait()
        while True:
            await self.frame_ready.wait()
            self.frame_ready.clear()
            for session_id in list(self.slots):
                message = self.slots.pop(session_id, None)
                if message is None:
                    continue
                if self.raw_frames:
                    payload = message["jpeg"]
                else:
                    payload = frame_message(
                        message["seq"], message["captured_at"], session_id, message["jpeg"]
                    )
                # A slow client holds this send; frames arriving meanwhile replace each other.
                await self.send(bytes_data=payload)

    async def _renew(self) -> None:
        elapsed = 0.0
        while True:
            await asyncio.sleep(RECHECK_SECONDS)
            elapsed += RECHECK_SECONDS
            if not await self.still_allowed():
                await self.close(code=CLOSE_REFUSED)
                return
            if elapsed >= RENEW_SECONDS:
                elapsed = 0.0
                for session in list(self.watched.values()):
                    if session.is_live and self.send_frames:
                        with contextlib.suppress(PeriscopeError):
                            await self._command(
                                session,
                                {
                                    "type": "session.watch",
                                    "channel": self.frames_channel,
                                    "rate": self.rate,
                                },
                            )

    async def still_allowed(self) -> bool:
        return True

    # -- events: group -> socket ---------------------------------------------------------------

    async def live_event(self, message) -> None:
        event = message["event"]
        if event["type"] == "status.changed":
            session = self.watched.get(event["session_id"])
            if session is not None:
                session.status = event["status"]
        await self.send(text_data=json.dumps(event))


async def relay_input(consumer: LiveConsumer, text_data: str | None, *, allowed: bool) -> None:
    """A person's input, to the worker of the session: only from whoever holds control. Enforced
    here, not only hidden in the page: input from anyone else goes nowhere."""
    try:
        message = json.loads(text_data or "{}")
    except json.JSONDecodeError:
        return
    if (
        not isinstance(message, dict)
        or message.get("type") != "input"
        or not isinstance(message.get("event"), dict)
    ):
        return
    if not allowed:
        await consumer.send(
            text_data=json.dumps(
                {"type": "error", "message": "Take control before you click or type"}
            )
        )
        return
    session = consumer.session
    if session.is_live and session.worker_channel:
        await consumer.channel_layer.send(
            session.worker_channel,
            {
                "type": "session.input",
                "session_id": str(session.id),
                "team_id": str(session.team_id),
                "event": message["event"],
            },
        )


def _query(scope) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(scope.get("query_string", b"").decode()).items()}


class SessionLiveConsumer(LiveConsumer):
    """/ws/sessions/<id>/ in the console: a team member watches one session, and its control
    lease holder drives the page."""

    async def connect(self):
        found = await selectors.asession_for_member(
            user=self.scope.get("user"), session_id=self.scope["url_route"]["kwargs"]["session_id"]
        )
        if found is None:
            return await self.close(code=CLOSE_REFUSED)
        self.session, self.membership = found
        self.rate = "thumbnail" if _query(self.scope).get("rate") == "thumbnail" else "focused"
        await self.accept()
        await self.start_live(frames_now=False)
        lease = await selectors.acontrol_of(session=self.session)
        self.holder_user_id = lease.holder_id if lease else None
        described = await self.watch(self.session)
        await self.send(
            text_data=json.dumps(
                {
                    "type": "hello",
                    "session_id": str(self.session.id),
                    "status": self.session.status,
                    "rate": self.rate,
                    "can_control": self.membership.can_operate,
                    "can_take_over": self.membership.can_manage_team,
                    "holder": lease.holder_label if lease else None,
                    "you_hold_control": self.holds_control,
                    **(described or {}),
                }
            )
        )
        self.open_frames()  # hello first, as the protocol says

    @property
    def holds_control(self) -> bool:
        return self.holder_user_id is not None and self.holder_user_id == self.membership.user_id

    async def still_allowed(self) -> bool:
        return await selectors.amembership_exists(
            team_id=self.session.team_id, user_id=self.membership.user_id
        )

    async def live_event(self, message) -> None:
        event = message["event"]
        if event["type"] == "control.changed":
            self.holder_user_id = event.get("holder_user_id")
        await super().live_event(message)

    async def receive(self, text_data=None, bytes_data=None):
        await relay_input(
            self, text_data, allowed=self.membership.can_operate and self.holds_control
        )


class TeamSessionsConsumer(LiveConsumer):
    """/ws/sessions/ in the console: thumbnails of the team's live sessions and their status
    changes, for the sessions list."""

    rate = "thumbnail"

    async def connect(self):
        self.membership = await database_sync_to_async(membership_for_console)(
            user=self.scope.get("user"), session=self.scope.get("session")
        )
        if self.membership is None:
            return await self.close(code=CLOSE_REFUSED)
        await self.accept()
        await self.start_live()
        self.team_group = events.team_sessions_group(str(self.membership.team_id))
        await self.channel_layer.group_add(self.team_group, self.channel_name)
        sessions = await selectors.alive_sessions_of_team(team_id=self.membership.team_id)
        await asyncio.gather(
            *(self.watch(session) for session in sessions)
        )  # one round trip, not N

    async def stop_live(self) -> None:
        if hasattr(self, "team_group"):
            await self.channel_layer.group_discard(self.team_group, self.channel_name)
            del self.team_group
        await super().stop_live()

    async def still_allowed(self) -> bool:
        return await selectors.amembership_exists(
            team_id=self.membership.team_id, user_id=self.membership.user_id
        )

    async def live_event(self, message) -> None:
        event = message["event"]
        if event["type"] != "status.changed":
            return  # the list shows status; steps and logs belong to the session page
        session_id = event["session_id"]
        if event["status"] == "active" and session_id not in self.watched:
            session = await selectors.asession_for_team_id(
                team_id=str(self.membership.team_id), session_id=session_id
            )
            if session is not None and session.is_live and session.worker_channel:
                await self.watch(session)
        elif event["status"] not in ("active", "starting") and session_id in self.watched:
            await self.unwatch(session_id)
        await self.send(text_data=json.dumps(event))


class ViewerConsumer(LiveConsumer):
    """/ws/viewer/<token>/: what a viewer link's page shows. The signed token is the credential;
    an interactive link may drive the page while it holds the control lease."""

    async def connect(self):
        self.grant = viewer_grant(self.scope["url_route"]["kwargs"]["token"])
        session = (
            await selectors.asession_for_team_id(
                team_id=self.grant.team_id, session_id=self.grant.session_id
            )
            if self.grant
            else None
        )
        if session is None or not session.is_live:
            return await self.close(code=CLOSE_REFUSED)
        self.session = session
        self.interactive = (
            self.grant.interactive and _query(self.scope).get("interactive", "1") != "0"
        )
        await self.accept()
        await self.start_live(frames_now=False)
        lease = await selectors.acontrol_of(session=session)
        self.link_holds = lease is not None and lease.holder_id is None
        described = await self.watch(session)
        await self.send(
            text_data=json.dumps(
                {
                    "type": "hello",
                    "session_id": str(session.id),
                    "status": session.status,
                    "rate": self.rate,
                    "can_control": self.interactive,
                    "holder": lease.holder_label if lease else None,
                    "you_hold_control": self.interactive and self.link_holds,
                    **(described or {}),
                }
            )
        )
        self.open_frames()

    async def live_event(self, message) -> None:
        event = message["event"]
        if event["type"] == "control.changed":
            self.link_holds = (
                event.get("holder") is not None and event.get("holder_user_id") is None
            )
        await super().live_event(message)
        if event["type"] == "status.changed" and event["status"] not in ("active", "starting"):
            await self.close(code=CLOSE_ENDED)  # the link stops working with its session

    async def receive(self, text_data=None, bytes_data=None):
        await relay_input(self, text_data, allowed=self.interactive and self.link_holds)


class _NotteDebugConsumer(LiveConsumer):
    """The Notte debug sockets, for programs (no Origin header, no cookie): authenticated by
    `?token=`, an API key of the session's team or a viewer link's token."""

    async def connect(self):
        session = await self._authorized_session()
        if session is None:
            return await self.close(code=CLOSE_REFUSED)
        await self.accept()
        await self.start_live()
        await self.watch(session)

    async def _authorized_session(self) -> BrowserSession | None:
        session_id = self.scope["url_route"]["kwargs"]["session_id"]
        token = _query(self.scope).get("token", "")
        if not token:
            return None
        grant = viewer_grant(token)
        if grant is not None and grant.session_id == session_id:
            return await selectors.asession_for_team_id(
                team_id=grant.team_id, session_id=session_id
            )
        key = await authenticate(token)
        if key is None or not key.has_scope(Scope.SESSIONS):
            return None
        return await selectors.asession_for_team_id(team_id=str(key.team_id), session_id=session_id)


class RecordingConsumer(_NotteDebugConsumer):
    """ws.recording: binary image frames only (bare JPEGs)."""

    raw_frames = True
    send_events = False

    async def live_event(self, message) -> None:
        return


class LogsConsumer(_NotteDebugConsumer):
    """ws.logs: the session's events as JSON (steps, navigation, console errors, failed requests)."""

    send_frames = False


class CdpConsumer(AsyncWebsocketConsumer):
    """/cdp/<session_id>: a CDP client (Playwright's connect_over_cdp, Puppeteer's connect) attached
    to one session. Authorized at the handshake (cdp_access.py; these clients send no Origin), then
    a relay: the client's text frames go to the bridge on the session's worker unparsed, the
    bridge's messages come back in order. The session outlives the connection."""

    PING_SECONDS = 30.0

    async def connect(self):
        self.bridge = None
        query = _query(self.scope)
        self.grant = await database_sync_to_async(cdp_access.cdp_grant)(
            session_id=self.scope["url_route"]["kwargs"]["session_id"],
            token=query.get("token", ""),
            header_key=_header_key(self.scope),
        )
        if self.grant is None:
            return await self.close(code=CLOSE_REFUSED)
        session = self.grant.session
        self.route = {"session_id": str(session.id), "team_id": str(session.team_id)}
        try:
            opened = await client.call(
                session.worker_channel,
                {"type": "session.cdp.open", **self.route, "channel": self.channel_name},
                wait_seconds=15,
            )
        except PeriscopeError:
            return await self.close(code=CLOSE_REFUSED)
        self.bridge = opened["bridge"]
        self.attached_at = time.monotonic()
        self.detach_reason = "the client disconnected"
        await self.channel_layer.group_add(
            events.session_group(self.route["session_id"]), self.channel_name
        )
        await self.accept()
        await database_sync_to_async(cdp_access.cdp_attach_record)(grant=self.grant)
        self.watchdog = asyncio.ensure_future(self._watch())

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is None or self.bridge is None:
            return  # CDP is text; nothing else has a meaning here
        await self._to_worker(
            {"type": "session.cdp.in", **self.route, "bridge": self.bridge, "text": text_data}
        )

    async def _to_worker(self, message: dict) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                return await self.channel_layer.send(self.grant.session.worker_channel, message)
            except ChannelFull:  # the worker is behind: hold the client back, drop nothing
                if time.monotonic() > deadline:
                    self.detach_reason = "the session's worker stopped reading"
                    return await self.close(code=CLOSE_ENDED)
                await asyncio.sleep(0.005)

    async def cdp_out(self, message) -> None:
        for text in message["texts"]:
            await self.send(text_data=text)

    async def cdp_closed(self, message) -> None:
        self.detach_reason = message.get("reason") or "closed by the worker"
        await self.close(code=1000 if self.detach_reason == "Browser.close" else CLOSE_ENDED)

    async def live_event(self, message) -> None:
        event = message["event"]
        if event["type"] == "status.changed" and event["status"] not in ("active", "starting"):
            self.detach_reason = f"the session ended ({event['status']})"
            await self.close(code=CLOSE_ENDED)

    async def _watch(self) -> None:
        """Close the connection once its credential no longer allows it (a key revoked, vault
        secrets filled, the session ended), and keep the worker's bridge alive."""
        since_ping = 0.0
        while True:
            await asyncio.sleep(RECHECK_SECONDS)
            refusal = await database_sync_to_async(cdp_access.cdp_refusal)(self.grant)
            if refusal is not None:
                self.detach_reason = refusal
                return await self.close(code=CLOSE_REFUSED)
            since_ping += RECHECK_SECONDS
            if since_ping >= self.PING_SECONDS:
                since_ping = 0.0
                try:
                    alive = await client.call(
                        self.grant.session.worker_channel,
                        {"type": "session.cdp.ping", **self.route, "bridge": self.bridge},
                        wait_seconds=10,
                    )
                except PeriscopeError:
                    alive = {"open": False}
                if not alive.get("open"):
                    self.detach_reason = "the session's worker let the connection go"
                    return await self.close(code=CLOSE_ENDED)

    async def disconnect(self, code):
        if getattr(self, "bridge", None) is None:
            return
        bridge, self.bridge = self.bridge, None
        self.watchdog.cancel()
        with contextlib.suppress(Exception):
            await self.channel_layer.send(
                self.grant.session.worker_channel,
                {"type": "session.cdp.close", **self.route, "bridge": bridge},
            )
        await self.channel_layer.group_discard(
            events.session_group(self.route["session_id"]), self.channel_name
        )
        await database_sync_to_async(cdp_access.cdp_detach_record)(
            grant=self.grant, reason=self.detach_reason, seconds=time.monotonic() - self.attached_at
        )


def _header_key(scope) -> str:
    """An API key sent in `Authorization: Bearer <key>` or `X-API-Key: <key>`."""
    headers = {
        name.decode("latin-1").lower(): value.decode("latin-1")
        for name, value in scope.get("headers", [])
    }
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return headers.get("x-api-key", "").strip()
