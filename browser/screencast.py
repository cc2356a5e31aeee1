"""CDP screencasts of a page: Chromium sends a JPEG frame when the page's pixels change (a static
page costs nothing), and the latest frame is the current rendering.

One Screencast serves whoever listens to it: the live view's watchers, and the perception layer,
which answers observe with the latest frame instead of a fresh capture (about 33 ms, the
compositor's floor on a small machine). Frames are acknowledged the moment they arrive, before
anyone looks at them: Chromium sends no next frame until the last one is acknowledged, so a slow
listener must never hold the stream up.

The perception layer trusts a frame only when it arrived after the last action and the last
navigation (the screencast can skip a new document's first paint); otherwise `current_frame`
captures directly and keeps that capture as the current frame.
"""

import asyncio
import base64
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from playwright.async_api import CDPSession, Page

NEXT_FRAME_SECONDS = 0.15  # how long a step waits for the screencast before capturing


@dataclass(slots=True)
class Frame:
    """One JPEG of the page. `captured_at` is Chromium's own time of the frame (epoch seconds)."""

    data_b64: str
    width: int
    height: int
    captured_at: float
    received_at: float = field(default_factory=time.monotonic)
    _jpeg: bytes | None = None

    @property
    def jpeg(self) -> bytes:
        # Decoded on first use: most frames are replaced before anyone looks at them.
        if self._jpeg is None:
            self._jpeg = base64.b64decode(self.data_b64)
        return self._jpeg


FrameListener = Callable[[Frame], None]


class Screencast:
    # Every compositor frame: a change that paints once (a typed character, a new static page)
    # paints one frame, and keeping only every other one lost about half of those for good. The
    # live hub caps what each watcher receives anyway.
    def __init__(
        self,
        page: Page,
        *,
        max_width: int | None = None,
        quality: int = 60,
        every_nth_frame: int = 1,
    ):
        size = page.viewport_size or {"width": 1280, "height": 1080}
        self.page = page
        self.max_width = min(max_width or size["width"], size["width"])
        self.max_height = round(size["height"] * self.max_width / size["width"])
        self._quality = quality
        self._every_nth = every_nth_frame
        self._cdp: CDPSession | None = None
        self.latest: Frame | None = None
        self.frame_at = 0.0
        self.action_at = 0.0
        self.frames_received = 0
        self.listeners: list[FrameListener] = []
        self._new_frame = asyncio.Event()
        self._acks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._cdp = await self.page.context.new_cdp_session(self.page)
        self._cdp.on("Page.screencastFrame", self._on_frame)
        self.page.on("framenavigated", self._on_navigated)
        self.page.on("load", self._on_load)
        await self._cdp.send(
            "Page.startScreencast",
            {
                "format": "jpeg",
                "quality": self._quality,
                "everyNthFrame": self._every_nth,
                "maxWidth": self.max_width,
                "maxHeight": self.max_height,
            },
        )

    async def stop(self) -> None:
        self.page.remove_listener("framenavigated", self._on_navigated)
        self.page.remove_listener("load", self._on_load)
        if self._cdp:
            with contextlib.suppress(Exception):
                await self._cdp.send("Page.stopScreencast")
                await self._cdp.detach()
        self._cdp = None

    @property
    def running(self) -> bool:
        return self._cdp is not None

    def _on_navigated(self, frame) -> None:
        if frame.parent_frame is None:
            self.touched()

    def _on_load(self, _page) -> None:
        self.touched()

    def _on_frame(self, event: dict) -> None:
        if self._cdp:
            ack = asyncio.ensure_future(
                self._cdp.send("Page.screencastFrameAck", {"sessionId": event["sessionId"]})
            )
            self._acks.add(ack)
            ack.add_done_callback(self._ack_done)
        captured_at = event.get("metadata", {}).get("timestamp") or time.time()
        frame = Frame(
            data_b64=event["data"],
            width=self.max_width,
            height=self.max_height,
            captured_at=captured_at,
        )
        self._keep(frame)
        for listener in list(self.listeners):
            listener(frame)

    def _keep(self, frame: Frame) -> None:
        self.latest = frame
        self.frame_at = frame.received_at
        self.frames_received += 1
        self._new_frame.set()
        self._new_frame = asyncio.Event()

    def _ack_done(self, task: asyncio.Task[None]) -> None:
        self._acks.discard(task)
        if not task.cancelled():
            task.exception()  # a closed page refuses the ack: nothing to do

    # -- the perception layer's view: is the latest frame the current rendering? ----------------

    def touched(self) -> None:
        """An action ran: the latest frame may be out of date until the next one arrives."""
        self.action_at = time.monotonic()

    def store(self, jpeg: bytes) -> Frame:
        """A direct capture is the current rendering too."""
        frame = Frame(
            data_b64=base64.b64encode(jpeg).decode(),
            width=self.max_width,
            height=self.max_height,
            captured_at=time.time(),
            _jpeg=jpeg,
        )
        self._keep(frame)
        return frame

    def fresh(self) -> bool:
        return self.latest is not None and self.frame_at > self.action_at

    async def wait_next(self, *, after: float, wait_seconds: float = NEXT_FRAME_SECONDS) -> None:
        """Until a frame newer than `after` arrives, or the page had time to show a change."""
        deadline = after + wait_seconds
        while self.frame_at <= after and (remaining := deadline - time.monotonic()) > 0:
            try:
                await asyncio.wait_for(self._new_frame.wait(), remaining)
            except TimeoutError:
                return

    async def capture(self) -> Frame:
        """A frame now, at this screencast's size (Chromium scales it), kept as the latest."""
        size = self.page.viewport_size or {"width": self.max_width, "height": self.max_height}
        if self.max_width >= size["width"]:
            jpeg = await self.page.screenshot(type="jpeg", quality=self._quality, timeout=10000)
        else:
            cdp = self._cdp or await self.page.context.new_cdp_session(self.page)
            scale = self.max_width / size["width"]
            shot = await cdp.send(
                "Page.captureScreenshot",
                {
                    "format": "jpeg",
                    "quality": self._quality,
                    "clip": {
                        "x": 0,
                        "y": 0,
                        "width": size["width"],
                        "height": size["height"],
                        "scale": scale,
                    },
                },
            )
            if cdp is not self._cdp:
                await cdp.detach()
            jpeg = base64.b64decode(shot["data"])
        return self.store(jpeg)


# The perception layer's name for the full-size screencast it reads frames from.
FrameCache = Screencast


FIRST_FRAME_SECONDS = 0.06  # Chromium sends a just-started screencast's first frame in ~16 ms


async def current_frame(cache: Screencast | None, page: Page, quality: int = 60) -> bytes:
    """The page as JPEG: the screencast's latest frame when it is current, else a capture."""
    if frame := await _current_frame(cache, page):
        return frame.jpeg
    image, _ = await _capture(cache, page, quality)
    return image


async def current_frame_b64(cache: Screencast | None, page: Page, quality: int = 60) -> str:
    """The same JPEG in base64, as an observation carries it: a screencast frame arrives from
    Chromium in base64 and goes out as it came, neither decoded nor encoded again."""
    if frame := await _current_frame(cache, page):
        return frame.data_b64
    image, stored = await _capture(cache, page, quality)
    return stored.data_b64 if stored is not None else base64.b64encode(image).decode()


async def _current_frame(cache: Screencast | None, page: Page) -> Frame | None:
    if cache is None or cache.page is not page:
        return None
    if cache.latest is None and cache.running:
        await cache.wait_next(
            after=time.monotonic(), wait_seconds=FIRST_FRAME_SECONDS
        )  # cheaper than a capture
    return cache.latest if cache.fresh() else None


async def _capture(
    cache: Screencast | None, page: Page, quality: int
) -> tuple[bytes, Frame | None]:
    """A capture, and the frame the screencast keeps it as (its base64 is made there, once)."""
    image = await page.screenshot(type="jpeg", quality=quality, timeout=10000)
    if cache is not None and cache.page is page:
        return image, cache.store(image)
    return image, None
