"""The latest rendered frame of a page, kept up to date by a CDP screencast.

Chromium sends a screencast frame when the page's pixels change, so a static page costs
nothing, and the last frame received is the current rendering. Observe can then answer with
that frame instead of a fresh capture (~33 ms, the compositor's floor on this machine).

The cache is trusted only for a frame that arrived after the last action and the last
navigation (the screencast can skip a new document's first paint); otherwise `current_frame`
captures directly and keeps that capture as the current frame.
"""

import asyncio
import base64
import contextlib
import time

from playwright.async_api import CDPSession, Page

NEXT_FRAME_SECONDS = 0.15  # how long a step waits for the screencast before capturing


class FrameCache:
    def __init__(self, page: Page, *, quality: int = 60, every_nth_frame: int = 2):
        self.page = page
        self._quality = quality
        self._every_nth = every_nth_frame
        self._cdp: CDPSession | None = None
        self._frame_b64: str | None = None
        self.frame_at = 0.0
        self._new_frame = asyncio.Event()
        self.action_at = 0.0
        self.frames_received = 0
        self._acks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        size = self.page.viewport_size or {"width": 1280, "height": 1080}
        self._cdp = await self.page.context.new_cdp_session(self.page)
        self._cdp.on("Page.screencastFrame", self._on_frame)
        self.page.on("framenavigated", lambda frame: self.touched() if frame.parent_frame is None else None)
        self.page.on("load", lambda _page: self.touched())
        await self._cdp.send("Page.startScreencast", {
            "format": "jpeg", "quality": self._quality, "everyNthFrame": self._every_nth,
            "maxWidth": size["width"], "maxHeight": size["height"],
        })

    @property
    def frame(self) -> bytes | None:
        # Decoded on use: most frames are replaced before anyone looks at them.
        return base64.b64decode(self._frame_b64) if self._frame_b64 else None

    def _on_frame(self, event: dict) -> None:
        self._frame_b64 = event["data"]
        self.frame_at = time.monotonic()
        self._new_frame.set()
        self._new_frame = asyncio.Event()
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

    def store(self, image_b64: str) -> None:
        """A direct capture is the current rendering too."""
        self._frame_b64 = image_b64
        self.frame_at = time.monotonic()

    async def wait_next(self, *, after: float, wait_seconds: float = NEXT_FRAME_SECONDS) -> None:
        """Until a frame newer than `after` arrives, or the page had time to show a change."""
        deadline = after + wait_seconds
        while self.frame_at <= after and (remaining := deadline - time.monotonic()) > 0:
            try:
                await asyncio.wait_for(self._new_frame.wait(), remaining)
            except TimeoutError:
                return

    def fresh(self) -> bool:
        return self._frame_b64 is not None and self.frame_at > self.action_at

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
    image = await page.screenshot(type="jpeg", quality=quality, timeout=10000)
    if cache is not None and cache.page is page:
        cache.store(base64.b64encode(image).decode())
    return image
