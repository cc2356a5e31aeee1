"""The screencasts of one session's active tab, each running only while something holds it.

Two kinds: "full" (the viewport's size: the live view's focused watchers, and the perception
layer's frame cache) and "thumb" (at most THUMB_WIDTH px wide, scaled by Chromium, for grids of
sessions). Nobody holding a kind means no screencast of that kind runs: an unwatched, unused
session costs nothing. When the session's active tab changes, every running screencast moves to
the new tab and keeps its listeners, so watchers do not reconnect.
"""

import asyncio
import contextlib

from playwright.async_api import Page

from .screencast import FrameListener, Screencast

THUMB_WIDTH = 320
KINDS = ("full", "thumb")


class LiveFeeds:
    def __init__(self, page: Page):
        self.page = page
        self._casts: dict[str, Screencast] = {}
        self._holds: dict[str, int] = dict.fromkeys(KINDS, 0)
        self._listeners: dict[str, list[FrameListener]] = {kind: [] for kind in KINDS}
        self._leases: dict[str, asyncio.TimerHandle] = {}
        self._ending: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()

    def get(self, kind: str) -> Screencast | None:
        return self._casts.get(kind)

    @property
    def full(self) -> Screencast | None:
        return self._casts.get("full")

    async def acquire(self, kind: str, listener: FrameListener | None = None) -> Screencast | None:
        """Hold a kind (starting its screencast for the first holder). None when the page refuses
        a screencast (closing); the caller then captures frames itself."""
        async with self._lock:
            self._holds[kind] += 1
            if listener is not None:
                self._listeners[kind].append(listener)
            if kind not in self._casts:
                await self._start(kind)
            return self._casts.get(kind)

    async def release(self, kind: str, listener: FrameListener | None = None) -> None:
        async with self._lock:
            if listener is not None and listener in self._listeners[kind]:
                self._listeners[kind].remove(listener)
            self._holds[kind] = max(0, self._holds[kind] - 1)
            if self._holds[kind] == 0:
                await self._stop(kind)

    async def lease(self, kind: str, seconds: float) -> Screencast | None:
        """Hold a kind for `seconds` from now (each call starts the period again)."""
        timer = self._leases.pop(kind, None)
        if timer is not None:
            timer.cancel()
            cast = self._casts.get(kind)
        else:
            cast = await self.acquire(kind)
        self._leases[kind] = asyncio.get_running_loop().call_later(seconds, self._lease_timer, kind)
        return cast

    def _lease_timer(self, kind: str) -> None:
        task = asyncio.ensure_future(self._lease_over(kind))
        self._ending.add(task)
        task.add_done_callback(self._ending.discard)

    async def _lease_over(self, kind: str) -> None:
        self._leases.pop(kind, None)
        await self.release(kind)

    async def follow(self, page: Page) -> None:
        """The session's active tab changed: the running screencasts move to it."""
        async with self._lock:
            self.page = page
            for kind in list(self._casts):
                await self._stop(kind)
                await self._start(kind)

    async def close(self) -> None:
        for timer in self._leases.values():
            timer.cancel()
        self._leases.clear()
        async with self._lock:
            for kind in list(self._casts):
                await self._stop(kind)
            self._holds = dict.fromkeys(KINDS, 0)

    def holds(self, kind: str) -> int:
        return self._holds[kind]

    async def _start(self, kind: str) -> None:
        if self.page.is_closed():
            return
        cast = Screencast(self.page, max_width=THUMB_WIDTH if kind == "thumb" else None)
        cast.listeners = self._listeners[kind]  # shared: listeners survive a move to another tab
        try:
            await cast.start()
        except Exception:
            with contextlib.suppress(Exception):
                await cast.stop()
            return
        self._casts[kind] = cast

    async def _stop(self, kind: str) -> None:
        cast = self._casts.pop(kind, None)
        if cast is not None:
            await cast.stop()
