"""BrowserPool: owns Playwright and this worker's Chromium, hands out one context per session.

A small set of ready (context, page) pairs is kept warm, because new_page is what costs time
(it starts a renderer): taking a warm pair makes a session start a hand-over, not a launch.
"""

import asyncio
import contextlib
import logging
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page, Playwright, async_playwright

from . import peers
from .display import VirtualDisplay
from .downloads import Downloads
from .egress import EgressProxy, Endpoint
from .errors import BrowserError, SessionNotFound
from .launcher import LaunchConfig, find_xvfb, minimal_env
from .peers import OwnProcesses, chromium_descendants
from .processes import HOME_PREFIX, claim_home, marked_browsers, record_profile
from .session import SessionContext
from .types import PoolStats, SessionLimits, SessionSpec
from .url_policy import EgressPolicy
from .webrtc import check_no_udp

log = logging.getLogger(__name__)

LostCallback = Callable[[SessionContext, str], Awaitable[None]]


@dataclass(slots=True)
class Warm:
    """A ready context, its first page and its egress endpoint, waiting for a session."""

    context: BrowserContext
    page: Page
    egress: Endpoint | None


class BrowserPool:
    egress: EgressProxy | None = None  # set by start() when config.egress_guard is on

    def __init__(
        self,
        config: LaunchConfig,
        *,
        limits: SessionLimits | None = None,
        warm_size: int = 2,
        on_lost: LostCallback | None = None,
    ):
        self._config = config
        self._limits = limits or SessionLimits()
        self._warm_size = warm_size
        self._on_lost = on_lost
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._headed_browser: Browser | None = None
        self._display = VirtualDisplay(find_xvfb())
        self._warm: list[Warm] = []
        self._peers: OwnProcesses | None = None
        self._refill_task: asyncio.Task[None] | None = None
        self._sessions: dict[str, SessionContext] = {}
        self._home: Path | None = None
        self._stopping = False
        self._headed_lock = asyncio.Lock()
        self._launch_lock = asyncio.Lock()
        self._background: set[asyncio.Task[None]] = set()

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def downloads_dir(self) -> Path:
        """Where Chromium writes downloads while they arrive (they then move to a session)."""
        assert self._home
        return self._home / "downloads"

    async def start(self) -> None:
        self._config.runtime_dir.mkdir(parents=True, exist_ok=True)
        self._home = Path(tempfile.mkdtemp(prefix=HOME_PREFIX, dir=self._config.runtime_dir))
        claim_home(self._home)
        if self._config.egress_guard:
            if self._config.egress_peer_check and peers.available():
                self._peers = OwnProcesses()
            elif self._config.egress_peer_check:
                log.warning("egress proxy: cannot tell local processes apart here (no Linux /proc)")
            self.egress = EgressProxy(
                EgressPolicy(self._config.egress_allow),
                peer_check=self._peers.owns if self._peers else None,
            )
            await self.egress.start()
        self._playwright = await async_playwright().start()
        await self._ensure_browser()

    async def _ensure_browser(self) -> Browser:
        """The headless browser, launched again if it died (crash, OOM kill)."""
        async with self._launch_lock:
            if self._browser is None or not self._browser.is_connected():
                executable = self._config.headless_shell_path or self._config.chromium_path
                if not executable:
                    raise BrowserError("no Chromium executable configured")
                self._drop_warm()
                self._browser = await self._launch(executable, headless=True)
                self._schedule_refill()
            return self._browser

    async def _launch(
        self, executable: str, *, headless: bool, display: str | None = None
    ) -> Browser:
        assert self._playwright and self._home
        browser = await self._playwright.chromium.launch(
            executable_path=executable,
            headless=headless,
            args=self._config.flags,
            env=minimal_env(self._home, display),
            proxy=self._egress_proxy_option(),
            downloads_path=self.downloads_dir,
            # Playwright's own sandbox/automation defaults stay; the pipe transport means
            # no debugging port is ever opened.
        )
        try:
            await check_no_udp(browser)
        except BaseException:
            with contextlib.suppress(Exception):
                await browser.close()
            raise
        if self._peers:
            self._peers.refresh()  # its network service is the one that connects to the proxy
        for pid in marked_browsers(self._home):
            record_profile(self._home, pid)
        browser.on("disconnected", lambda _b: self._browser_gone(browser))
        return browser

    def _egress_proxy_option(self, endpoint: Endpoint | None = None) -> dict[str, str] | None:
        """All traffic through the egress proxy. "<-loopback>" removes Chromium's implicit
        bypass of loopback and link-local hosts (Playwright adds it too, unless an env var
        turns that off: passing it here makes the rule unconditional)."""
        if not self._config.egress_guard:
            return None
        assert self.egress and self.egress.port
        server = endpoint.url if endpoint else f"http://127.0.0.1:{self.egress.port}"
        return {"server": server, "bypass": "<-loopback>"}

    async def _new_context(
        self, browser: Browser, options: dict[str, Any]
    ) -> tuple[BrowserContext, Endpoint | None]:
        """A context with an egress endpoint of its own (unless it has an external proxy), so
        the proxy can count its bytes. A context-level proxy without credentials is plain
        Chromium configuration: it turns on no request interception."""
        endpoint = None
        if self.egress and "proxy" not in options:
            endpoint = await self.egress.open_endpoint()
            options = {**options, "proxy": self._egress_proxy_option(endpoint)}
        try:
            return await browser.new_context(**options), endpoint
        except BaseException:
            if endpoint:
                endpoint.close()
            raise

    def _drop_warm(self) -> None:
        for warm in self._warm:
            if warm.egress:
                warm.egress.close()
        self._warm.clear()

    def _browser_gone(self, browser: Browser) -> None:
        if self._stopping:
            return
        lost = [s for s in self._sessions.values() if self._browser_of(s) is browser]
        for session in lost:
            self._forget(session, "browser crashed")
        if browser is self._browser:
            self._drop_warm()

    def _browser_of(self, session: SessionContext) -> Browser | None:
        return session.context.browser

    async def stop(self) -> None:
        self._stopping = True
        if self._refill_task:
            self._refill_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._refill_task
        for browser in (self._browser, self._headed_browser):
            if browser:
                with contextlib.suppress(Exception):
                    await browser.close()
        self._sessions.clear()
        self._drop_warm()
        if self._playwright:
            with contextlib.suppress(Exception):
                await self._playwright.stop()
        await self._display.stop()
        if self.egress:
            await self.egress.stop()
        if self._home:
            shutil.rmtree(self._home, ignore_errors=True)

    # -- sessions ----------------------------------------------------------------------------

    async def open(self, spec: SessionSpec, *, refill: bool = True) -> SessionContext:
        """refill=False leaves topping up the warm pool to the caller (`refill_soon`), so the
        browser is not busy making the next context while this start is being answered."""
        if spec.session_id in self._sessions:
            raise BrowserError(f"session {spec.session_id} is already open")
        if (
            spec.headless
            and spec.fits_pool
            and self._warm
            and self._browser
            and self._browser.is_connected()
        ):
            warm = self._warm.pop()
            if refill:
                self._schedule_refill()
            try:
                await self._apply_spec(warm.page, spec)
            except BaseException:
                # Out of the warm list and not yet a session: nobody else would close it.
                await _close_quietly(warm.context, warm.egress)
                raise
            session = SessionContext(
                spec=spec, context=warm.context, page=warm.page, egress=warm.egress
            )
        else:
            browser = await self._browser_for(spec)
            context, endpoint = await self._new_context(browser, self._context_options(spec))
            try:
                page = await context.new_page()
            except Exception:
                await context.close()
                if endpoint:
                    endpoint.close()
                raise
            session = SessionContext(
                spec=spec, context=context, page=page, headed=not spec.headless, egress=endpoint
            )
        if session.egress:
            session.egress.label = spec.session_id
        session.files_dir = self._home / "sessions" / spec.session_id if self._home else None
        session.limits = self._limits
        session.downloads = Downloads(lambda: session.files("downloads"), self._limits)
        session.downloads.attach(session.page)
        session.context.on("page", lambda page: session.page_opened(page))
        session.track_navigation(session.page)
        self._sessions[spec.session_id] = session
        session.page.on("crash", lambda _p: self._forget(session, "page crashed"))
        return session

    def get(self, session_id: str) -> SessionContext:
        try:
            return self._sessions[session_id]
        except KeyError:
            raise SessionNotFound(session_id) from None

    def session_ids(self) -> list[str]:
        return list(self._sessions)

    async def close(self, session_id: str) -> bool:
        session = self._sessions.pop(session_id, None)
        if session is None:
            return False
        with contextlib.suppress(Exception):
            await session.close()
        return True

    def _forget(self, session: SessionContext, reason: str) -> None:
        if self._sessions.get(session.session_id) is not session:
            return
        del self._sessions[session.session_id]
        session.closed = True
        if session.downloads:
            session.downloads.close()
        if session.egress:
            session.egress.close()
        if session.files_dir:
            shutil.rmtree(session.files_dir, ignore_errors=True)
        # A crashed page leaves its context open in a browser that still runs: close it (a
        # dead browser's contexts went with it, and closing them fails quietly).
        self._in_background(_close_quietly(session.context, None))
        if self._on_lost:
            self._in_background(self._on_lost(session, reason))

    def _in_background(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- helpers -----------------------------------------------------------------------------

    async def _browser_for(self, spec: SessionSpec) -> Browser:
        if spec.headless:
            return await self._ensure_browser()
        async with self._headed_lock:
            if self._headed_browser is None or not self._headed_browser.is_connected():
                display = await self._display.start()
                if not self._config.chromium_path:
                    raise BrowserError("headed sessions need full Chromium, which was not found")
                self._headed_browser = await self._launch(
                    self._config.chromium_path, headless=False, display=display
                )
            return self._headed_browser

    @staticmethod
    def _context_options(spec: SessionSpec) -> dict[str, Any]:
        options: dict[str, Any] = {
            "viewport": {"width": spec.viewport_width, "height": spec.viewport_height},
        }
        if spec.user_agent:
            options["user_agent"] = spec.user_agent
        if spec.locale:
            options["locale"] = spec.locale
        if spec.device_scale_factor:
            options["device_scale_factor"] = spec.device_scale_factor
        if spec.extra_http_headers:
            options["extra_http_headers"] = spec.extra_http_headers
        if spec.proxy:
            options["proxy"] = {
                k: v
                for k, v in {
                    "server": spec.proxy.server,
                    "username": spec.proxy.username,
                    "password": spec.proxy.password,
                    "bypass": spec.proxy.bypass,
                }.items()
                if v
            }
        return options

    @staticmethod
    async def _apply_spec(page: Page, spec: SessionSpec) -> None:
        size = page.viewport_size
        if not size or (size["width"], size["height"]) != (
            spec.viewport_width,
            spec.viewport_height,
        ):
            await page.set_viewport_size(
                {"width": spec.viewport_width, "height": spec.viewport_height}
            )
        if spec.extra_http_headers:
            await page.context.set_extra_http_headers(spec.extra_http_headers)

    def refill_soon(self) -> None:
        self._schedule_refill()

    def _schedule_refill(self) -> None:
        if self._stopping or self._warm_size <= 0:
            return
        if self._refill_task is None or self._refill_task.done():
            self._refill_task = asyncio.ensure_future(self._refill())

    async def _refill(self) -> None:
        while not self._stopping and len(self._warm) < self._warm_size:
            if not self._browser or not self._browser.is_connected():
                return
            try:
                context, endpoint = await self._new_context(
                    self._browser, {"viewport": {"width": 1280, "height": 1080}}
                )
            except Exception:
                log.exception("could not prepare a warm context")
                return
            try:
                page = await context.new_page()
            except Exception:
                log.exception("could not prepare a warm context")
                await _close_quietly(context, endpoint)
                return
            self._warm.append(Warm(context, page, endpoint))

    def stats(self, *, with_pids: bool = True) -> PoolStats:
        """with_pids walks the process tree (milliseconds at 40 sessions): not for hot paths."""
        contexts = sum(len(b.contexts) for b in (self._browser, self._headed_browser) if b)
        return PoolStats(
            sessions=len(self._sessions),
            contexts=contexts,
            warm=len(self._warm),
            browser_pids=tuple(chromium_pids()) if with_pids else (),
        )


async def _close_quietly(context: BrowserContext, endpoint: Endpoint | None) -> None:
    with contextlib.suppress(Exception):
        await context.close()
    if endpoint:
        endpoint.close()


# Chromium processes that descend from this process (running ones; zombies are reaped).
chromium_pids = chromium_descendants
