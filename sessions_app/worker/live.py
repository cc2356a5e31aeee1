"""The live side of a browser worker: frames for watchers, the page's events, a person's input,
and the control lease as the worker enforces it.

Frames do not go through groups. Each watcher (a console live view, a viewer page, a recording
socket) registers its own frame channel and rate; the worker sends each one the latest frame at
most as often as its rate allows, dropping what a slow watcher cannot take: a full channel drops
the frame (never raises), a watcher whose previous frame is still on its way gets the newest one
after it, never a queue. Events (steps, navigation, tabs, errors) go to the session's group
through sessions_app.events, and are never dropped for frames' sake.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from asgiref.sync import sync_to_async
from channels.exceptions import ChannelFull

from browser.screencast import Frame
from browser.session import SessionContext
from browser.url_policy import navigation_refusal
from sessions_app import control, events

log = logging.getLogger(__name__)

RATES = {
    "focused": (1 / 25, "full"),
    "thumbnail": (1 / 2, "thumb"),
}  # (seconds between frames, feed)
WATCH_TTL_SECONDS = 30.0  # a watcher renews every 10 s; one that stopped renewing is dropped
EVENTS_PER_SECOND = (
    20  # console errors and failed requests, per session: a busy page is not a flood
)
MOUSE_BUTTONS = {"left", "middle", "right"}


@dataclass(slots=True)
class Watcher:
    session_id: str
    channel: str
    rate: str
    expires_at: float
    listener: Callable[[Frame], None] | None = None
    last_sent: float = 0.0
    pending: Frame | None = None
    sending: bool = False
    timer: asyncio.TimerHandle | None = None
    seq: int = 0


@dataclass(slots=True)
class Holder:
    label: str
    user_id: int | None
    last_input: float
    saved_input: float = 0.0


@dataclass(slots=True)
class _Budget:
    window_start: float = 0.0
    spent: int = 0


@dataclass(slots=True)
class SessionLive:
    watchers: dict[str, Watcher] = field(default_factory=dict)
    holder: Holder | None = None
    input_cdp: Any = None
    input_page: Any = None
    budget: _Budget = field(default_factory=_Budget)


class LiveHub:
    def __init__(
        self,
        layer,
        *,
        clock: Callable[[], float],
        lease_seconds: float,
        scrub: Callable[[str, Any], Any] = lambda _session_id, data: data,
    ):
        self.layer = layer
        # Masks values a page was filled with from a vault, wherever the page echoes them.
        self.scrub = scrub
        self.clock = clock
        self.lease_seconds = lease_seconds
        self._live: dict[str, SessionLive] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.frames_sent = 0
        self.frames_dropped = 0

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _state(self, session_id: str) -> SessionLive:
        return self._live.setdefault(session_id, SessionLive())

    # -- watchers ------------------------------------------------------------------------------

    async def watch(self, session: SessionContext, channel: str, rate: str) -> dict[str, Any]:
        if rate not in RATES:
            raise ValueError(f"rate must be one of {', '.join(RATES)}")
        state = self._state(session.session_id)
        watcher = state.watchers.get(channel)
        if watcher is not None:  # a renewal
            watcher.expires_at = time.monotonic() + WATCH_TTL_SECONDS
            return self.describe(session)
        watcher = Watcher(
            session_id=session.session_id,
            channel=channel,
            rate=rate,
            expires_at=time.monotonic() + WATCH_TTL_SECONDS,
        )
        watcher.listener = lambda frame: self._offer(watcher, frame)
        state.watchers[channel] = watcher
        cast = await session.live_feeds().acquire(RATES[rate][1], watcher.listener)
        # A new watcher sees the page at once, even a static page that sends no frames.
        if cast is not None:
            first = cast.latest if cast.latest is not None and cast.fresh() else None
            with contextlib.suppress(Exception):
                first = first or await cast.capture()
            if first is not None:
                self._offer(watcher, first)
        return self.describe(session)

    async def unwatch(self, session: SessionContext | None, session_id: str, channel: str) -> None:
        state = self._live.get(session_id)
        watcher = state.watchers.pop(channel, None) if state else None
        if watcher is None:
            return
        if watcher.timer:
            watcher.timer.cancel()
        if session is not None and session.feeds is not None:
            await session.feeds.release(RATES[watcher.rate][1], watcher.listener)

    def watcher_count(self, session_id: str) -> int:
        state = self._live.get(session_id)
        return len(state.watchers) if state else 0

    def _offer(self, watcher: Watcher, frame: Frame) -> None:
        """The newest frame for this watcher: sent now if its rate allows, else kept as the one
        to send when it does (replacing any older one waiting)."""
        watcher.pending = frame
        if watcher.sending or watcher.timer is not None:
            return
        wait = watcher.last_sent + RATES[watcher.rate][0] - time.monotonic()
        if wait > 0:
            watcher.timer = asyncio.get_running_loop().call_later(wait, self._timer_fired, watcher)
        else:
            self._spawn(self._send(watcher))

    def _timer_fired(self, watcher: Watcher) -> None:
        watcher.timer = None
        if watcher.pending is not None and not watcher.sending:
            self._spawn(self._send(watcher))

    async def _send(self, watcher: Watcher) -> None:
        frame, watcher.pending = watcher.pending, None
        if frame is None:
            return
        watcher.sending = True
        watcher.last_sent = time.monotonic()
        watcher.seq += 1
        try:
            await self.layer.send(
                watcher.channel,
                {
                    "type": "live.frame",
                    "session_id": watcher.session_id,
                    "seq": watcher.seq,
                    "captured_at": frame.captured_at * 1000,
                    "jpeg": frame.jpeg,
                },
            )
            self.frames_sent += 1
        except ChannelFull:
            self.frames_dropped += 1  # the watcher is behind: it gets the next one
        except Exception:
            self.frames_dropped += 1
            log.debug("frame to %s not sent", watcher.channel, exc_info=True)
        finally:
            watcher.sending = False
        if watcher.pending is not None:
            self._offer(watcher, watcher.pending)

    # -- the page's events ---------------------------------------------------------------------

    def attach(self, session: SessionContext) -> None:
        """Publish what happens in the session's pages to its group, from now on."""
        session_id = session.session_id
        self._state(session_id)

        def watch_page(page) -> None:
            page.on("console", lambda message: self._console(session_id, message))
            page.on(
                "pageerror",
                lambda error: self._logged(
                    session_id,
                    events.ConsoleError(
                        type="page.console_error", text=str(error)[:500], url=page.url[:500]
                    ),
                ),
            )
            page.on(
                "requestfailed",
                lambda request: self._logged(
                    session_id,
                    events.RequestFailed(
                        type="page.request_failed",
                        url=request.url[:500],
                        method=request.method,
                        error=(request.failure or "failed")[:200],
                    ),
                ),
            )
            page.on("response", lambda response: self._http_error(session_id, response))
            page.on("domcontentloaded", lambda p: self._spawn(self._navigated(session, p)))
            page.on("close", lambda p: self._spawn(self._closed(session, p)))

        for page in session.tabs:
            watch_page(page)

        def opened(page) -> None:
            watch_page(page)
            self._spawn(self._tabs(session))

        session.context.on("page", opened)
        session.on_switch = lambda page: self._spawn(self._tabs(session))

    def _console(self, session_id: str, message) -> None:
        if message.type == "error":
            location = message.location or {}
            self._logged(
                session_id,
                events.ConsoleError(
                    type="page.console_error",
                    text=message.text[:500],
                    url=str(location.get("url", ""))[:500],
                ),
            )

    def _http_error(self, session_id: str, response) -> None:
        if response.status >= 400:
            self._logged(
                session_id,
                events.RequestFailed(
                    type="page.request_failed",
                    url=response.url[:500],
                    method=response.request.method,
                    error=f"HTTP {response.status}",
                ),
            )

    def _logged(self, session_id: str, event: events.LiveEvent) -> None:
        budget = self._state(session_id).budget
        now = time.monotonic()
        if now - budget.window_start >= 1.0:
            budget.window_start, budget.spent = now, 0
        budget.spent += 1
        if budget.spent <= EVENTS_PER_SECOND:
            self._spawn(events.publish(session_id, self.scrub(session_id, event)))

    async def _navigated(self, session: SessionContext, page) -> None:
        if page is not session.page:
            return await self._tabs(session)
        with contextlib.suppress(Exception):
            await events.publish(
                session.session_id,
                self.scrub(
                    session.session_id,
                    events.Navigated(type="page.navigated", url=page.url, title=await page.title()),
                ),
            )
        await self._tabs(session)

    async def _closed(self, session: SessionContext, page) -> None:
        """A tab closed by someone other than the API (a CDP client, the page itself): if it was
        the current one, the session goes on in its last remaining tab, or in a new blank one."""
        if page is session.page and not session.closed:
            with contextlib.suppress(Exception):
                remaining = session.tabs or [await session.context.new_page()]
                await session.switch_to(remaining[-1])
        await self._tabs(session)

    async def _tabs(self, session: SessionContext) -> None:
        tabs = []
        for tab_id, page in enumerate(session.tabs):
            with contextlib.suppress(Exception):
                tabs.append(
                    events.Tab(
                        tab_id=tab_id,
                        title=(await page.title())[:200],
                        url=page.url[:500],
                        active=page is session.page,
                    )
                )
        await events.publish(
            session.session_id,
            self.scrub(session.session_id, events.TabsChanged(type="tabs.changed", tabs=tabs)),
        )

    def describe(self, session: SessionContext) -> dict[str, Any]:
        """What a new watcher needs besides frames: the page, its tabs and who holds control."""
        state = self._live.get(session.session_id)
        holder = state.holder if state else None
        return {
            "url": session.page.url,
            "viewport": {
                "width": session.spec.viewport_width,
                "height": session.spec.viewport_height,
            },
            "tabs": [
                {"tab_id": i, "url": p.url, "active": p is session.page}
                for i, p in enumerate(session.tabs)
            ],
            "holder": holder.label if holder else None,
        }

    # -- control -------------------------------------------------------------------------------

    def holder(self, session_id: str) -> str | None:
        state = self._live.get(session_id)
        return state.holder.label if state and state.holder else None

    def set_holder(self, session_id: str, label: str | None, user_id: int | None) -> None:
        state = self._state(session_id)
        state.holder = (
            Holder(label=label, user_id=user_id, last_input=self.clock()) if label else None
        )

    async def input(self, session: SessionContext, event: dict[str, Any]) -> None:
        """A person's mouse, keyboard or navigation, relayed to the page. Only the lease holder's
        input reaches here: the consumer checks, and the worker checks there is a lease."""
        state = self._state(session.session_id)
        if state.holder is None:
            return
        state.holder.last_input = self.clock()
        page = session.page
        kind = event.get("kind")
        try:
            if kind == "mouse":
                await self._mouse(state, session, event)
            elif kind == "key":
                key = str(event.get("key", ""))[:40]
                await (
                    page.keyboard.down(key)
                    if event.get("action") == "down"
                    else page.keyboard.up(key)
                )
            elif kind == "text":
                await page.keyboard.insert_text(str(event.get("text", ""))[:10_000])
            elif kind == "nav":
                await self._navigate(page, event)
        except Exception as exc:  # an unknown key, a closed page: the person tries again
            log.debug("input %s on %s failed: %s", kind, session.session_id, exc)

    async def _mouse(
        self, state: SessionLive, session: SessionContext, event: dict[str, Any]
    ) -> None:
        page = session.page
        if state.input_page is not page:
            state.input_cdp = await page.context.new_cdp_session(page)
            state.input_page = page
        width, height = session.spec.viewport_width, session.spec.viewport_height
        size = page.viewport_size
        if size:
            width, height = size["width"], size["height"]
        x = min(max(float(event.get("x", 0)), 0.0), 1.0) * width
        y = min(max(float(event.get("y", 0)), 0.0), 1.0) * height
        action = event.get("action")
        params: dict[str, Any] = {"x": x, "y": y, "modifiers": int(event.get("modifiers", 0)) & 15}
        if action == "wheel":
            params |= {
                "type": "mouseWheel",
                "deltaX": float(event.get("dx", 0)),
                "deltaY": float(event.get("dy", 0)),
            }
        else:
            button = event.get("button", "left")
            pressed = int(event.get("buttons", 0)) & 7  # held while moving: a drag
            if action == "move" and pressed:
                button = "left" if pressed & 1 else "right" if pressed & 2 else "middle"
            params |= {
                "type": {"down": "mousePressed", "up": "mouseReleased"}.get(action, "mouseMoved"),
                "button": button
                if button in MOUSE_BUTTONS and (action in ("down", "up") or pressed)
                else "none",
                "buttons": pressed,
                "clickCount": min(max(int(event.get("clicks", 1)), 1), 3),
            }
        await state.input_cdp.send("Input.dispatchMouseEvent", params)

    @staticmethod
    async def _navigate(page, event: dict[str, Any]) -> None:
        action = event.get("action")
        if action == "back":
            await page.go_back(wait_until="commit")
        elif action == "forward":
            await page.go_forward(wait_until="commit")
        elif action == "reload":
            await page.reload(wait_until="commit")
        elif action == "goto":
            url = str(event.get("url", ""))[:8192]
            if navigation_refusal(url) is None:  # the URL bar obeys the same policy as goto
                await page.goto(url, wait_until="commit")

    # -- housekeeping --------------------------------------------------------------------------

    async def housekeeping(self, sessions: Callable[[str], SessionContext | None]) -> None:
        """Drop watchers that stopped renewing, end leases without input, save last inputs."""
        now = time.monotonic()
        for session_id, state in list(self._live.items()):
            for channel, watcher in list(state.watchers.items()):
                if watcher.expires_at < now:
                    await self.unwatch(sessions(session_id), session_id, channel)
            holder = state.holder
            if holder is None:
                continue
            if self.clock() - holder.last_input > self.lease_seconds:
                state.holder = None
                await sync_to_async(control.control_end)(
                    session_id=session_id, reason=f"no input for {self.lease_seconds:.0f} s"
                )
            elif holder.last_input - holder.saved_input >= 5:
                holder.saved_input = holder.last_input
                await sync_to_async(control.control_touch)(
                    inputs={session_id: datetime.fromtimestamp(holder.last_input, tz=UTC)}
                )

    async def forget(self, session_id: str, reason: str) -> None:
        """The session is gone from this worker: its watchers are told, its state dropped."""
        state = self._live.pop(session_id, None)
        if state is None:
            return
        for watcher in state.watchers.values():
            if watcher.timer:
                watcher.timer.cancel()
            with contextlib.suppress(Exception):
                await self.layer.send(watcher.channel, {"type": "live.ended", "reason": reason})
