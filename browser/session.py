"""One live session: a BrowserContext, its tabs, its last observation and its files."""

import asyncio
import contextlib
import shutil
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.async_api import BrowserContext, Page

from .downloads import Downloads
from .egress import Endpoint, Traffic
from .live import LiveFeeds
from .perception.observe import Snapshot
from .screencast import Screencast
from .types import SessionLimits, SessionSpec

# Closing never waits longer than this on a page that does not answer (it runs script for ever).
FEEDS_CLOSE_SECONDS = 2.0
CONTEXT_CLOSE_SECONDS = 10.0


@dataclass(slots=True)
class SessionContext:
    spec: SessionSpec
    context: BrowserContext
    page: Page
    headed: bool = False
    closed: bool = False
    files_dir: Path | None = None
    # The egress proxy's port for this context alone: what it counts is this session's traffic.
    egress: Endpoint | None = None
    limits: SessionLimits = field(default_factory=SessionLimits)
    downloads: Downloads | None = None
    tabs_refused: int = 0
    # What the browser did on its own (a popup closed...), told with the next action's result or
    # step; bounded, as a page may open popups in a loop while no action runs.
    notes: deque[str] = field(default_factory=lambda: deque(maxlen=5))
    _closing: set[asyncio.Task[None]] = field(default_factory=set)
    snapshot: Snapshot | None = None
    feeds: LiveFeeds | None = None
    # Told when the active tab changes (the live layer publishes it to watchers).
    on_switch: Any = None
    _loaded: asyncio.Event = field(default_factory=asyncio.Event)
    _tracked: set[int] = field(default_factory=set)

    def page_opened(self, page: Page) -> None:
        """Every new page of the context (popups, target=_blank links, new tabs): it gets the
        download watch, and one over the tab cap is closed at once, as each tab is a renderer
        process of its own (about 150 MB)."""
        if self.downloads:
            self.downloads.attach(page)
        if len(self.tabs) <= self.limits.max_tabs:
            return
        self.tabs_refused += 1
        self.notes.append(
            f"closed a new tab the page opened ({page.url or 'a popup'}): this session may have "
            f"at most {self.limits.max_tabs} tabs"
        )
        task = asyncio.ensure_future(page.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def take_notes(self) -> list[str]:
        notes = list(self.notes)
        self.notes.clear()
        return notes

    def track_navigation(self, page: Page) -> None:
        """Know when the current tab is between a navigation's request and its new document, so
        an observe or the end of an action waits for the page instead of reading a dying one."""
        if id(page) in self._tracked:
            return
        self._tracked.add(id(page))
        self._loaded.set()

        def started(request) -> None:
            if (
                page is self.page
                and request.is_navigation_request()
                and request.frame is page.main_frame
            ):
                self._loaded.clear()

        def finished(_=None) -> None:
            if page is self.page:
                self._loaded.set()

        page.on("request", started)
        page.on("domcontentloaded", finished)
        page.on(
            "requestfailed",
            lambda r: (
                finished() if r.is_navigation_request() and r.frame is page.main_frame else None
            ),
        )
        page.on("close", finished)

    async def settled(self, wait_seconds: float = 10.0) -> None:
        """Wait (bounded) for a navigation in flight on the current tab to reach its new document."""
        if self._loaded.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._loaded.wait(), wait_seconds)
        self._loaded.set()

    @property
    def session_id(self) -> str:
        return self.spec.session_id

    @property
    def traffic(self) -> Traffic:
        return self.egress.traffic if self.egress else Traffic()

    @property
    def tabs(self) -> list[Page]:
        return [p for p in self.context.pages if not p.is_closed()]

    @property
    def frames(self) -> Screencast | None:
        """The full-size screencast of the active tab, while one runs."""
        return self.feeds.full if self.feeds else None

    def live_feeds(self) -> LiveFeeds:
        if self.feeds is None:
            self.feeds = LiveFeeds(self.page)
        return self.feeds

    async def watch(self) -> None:
        """Keep the full-size screencast running for a while, so observe can answer with its
        latest frame and a step's screenshot is usually free."""
        seconds = self.limits.perception_screencast_seconds
        if seconds > 0:  # it stops after that unless a person watches
            await self.live_feeds().lease("full", seconds)

    async def switch_to(self, page: Page) -> None:
        self.page = page
        self.track_navigation(page)
        self.snapshot = None
        with contextlib.suppress(Exception):
            await page.bring_to_front()
        if self.feeds is not None:
            await self.feeds.follow(page)
        if self.on_switch is not None:
            self.on_switch(page)

    def files(self, kind: str) -> Path:
        """The session's own directory for downloads or uploads (created on first use)."""
        if self.files_dir is None:
            raise RuntimeError("this session has no file storage")
        path = self.files_dir / kind
        path.mkdir(parents=True, exist_ok=True)
        return path

    async def cookies(self) -> list[dict[str, Any]]:
        return [dict(c) for c in await self.context.cookies()]

    async def add_cookies(self, cookies: list[dict[str, Any]]) -> None:
        await self.context.add_cookies(cookies)  # type: ignore[arg-type]

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.downloads:
            self.downloads.close()
        try:
            if self.feeds:
                # Stopping a screencast asks the renderer, which a page looping in script never
                # answers; closing the context needs no answer from it (it kills the renderer).
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.feeds.close(), FEEDS_CLOSE_SECONDS)
            await asyncio.wait_for(self.context.close(), CONTEXT_CLOSE_SECONDS)
        finally:
            if self.egress:
                self.egress.close()
            if self.files_dir:
                shutil.rmtree(self.files_dir, ignore_errors=True)
