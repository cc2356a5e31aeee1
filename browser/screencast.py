"""The latest rendered frame of a page, kept up to date by a CDP screencast.

Chromium sends a screencast frame only when the page's pixels change, so a static page costs
nothing, and the last frame received *is* the current rendering. Observe can then answer with
that frame instead of a fresh capture (~33 ms, the compositor's floor on this machine). Right
after an action the next frame may still be in flight, so callers ask `fresh()` and capture
directly when it says no.
"""

import asyncio
import base64
import contextlib
import time

from playwright.async_api import CDPSession, Page

SETTLE_SECONDS = 0.15  # after an action, a page that produced no new frame by now did not change


class FrameCache:
    def __init__(self, page: Page, *, quality: int = 60, every_nth_frame: int = 2):
        self.page = page
        self._quality = quality
        self._every_nth = every_nth_frame
        self._cdp: CDPSession | None = None
        self.frame: bytes | None = None
        self.frame_at = 0.0
        self.action_at = 0.0
        self.frames_received = 0
        self._acks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        size = self.page.viewport_size or {"width": 1280, "height": 1080}
        self._cdp = await self.page.context.new_cdp_session(self.page)
        self._cdp.on("Page.screencastFrame", self._on_frame)
        await self._cdp.send("Page.startScreencast", {
            "format": "jpeg", "quality": self._quality, "everyNthFrame": self._every_nth,
            "maxWidth": size["width"], "maxHeight": size["height"],
        })

    def _on_frame(self, event: dict) -> None:
        self.frame = base64.b64decode(event["data"])
        self.frame_at = time.monotonic()
        self.frames_received += 1
        if self._cdp:
            task = asyncio.ensure_future(self._cdp.send("Page.screencastFrameAck", {"sessionId": event["sessionId"]}))
            self._acks.add(task)
            task.add_done_callback(self._ack_done)

    def _ack_done(self, task: asyncio.Task[None]) -> None:
        self._acks.discard(task)
        if not task.cancelled():
            task.exception()  # a closed page refuses the ack: nothing to do

    def touched(self) -> None:
        """An action ran: the cached frame may be out of date until the next one arrives."""
        self.action_at = time.monotonic()

    def fresh(self) -> bool:
        if self.frame is None:
            return False
        if self.frame_at >= self.action_at:
            return True
        return time.monotonic() - self.action_at > SETTLE_SECONDS

    async def stop(self) -> None:
        if self._cdp:
            with contextlib.suppress(Exception):
                await self._cdp.send("Page.stopScreencast")
                await self._cdp.detach()
        self._cdp = None


async def current_frame(cache: FrameCache | None, page: Page, quality: int = 60) -> bytes:
    """The page as JPEG: the cached screencast frame when it is current, else a capture."""
    if cache is not None and cache.page is page and cache.fresh():
        return cache.frame or b""
    return await page.screenshot(type="jpeg", quality=quality, timeout=10000)
