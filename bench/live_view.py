# ruff: noqa: T201  (benchmarks report on stdout)
"""The live view: latency from a change on the page to the frame a console watcher receives,
the first frame after connecting, input to pixels, and sustained frame rates, CPU and bytes,
each beside a raw CDP screencast client on the same page.

Ours: websockets of the console (`/ws/sessions/<id>/` with a login cookie and our Origin), served
by uvicorn with the embedded browser worker in this process. Raw: Playwright's CDP session on a
page of a Chromium that this script launches with the worker's executable and flags,
`Page.startScreencast` with the worker's format, quality, size and everyNthFrame, every frame
acked at once. Both pages are the test site's login page with a 240 px box in a corner.

- DOM change to frame: a `page.evaluate` paints the box a new colour (on the worker's loop for
  ours); the time runs until a received frame shows that colour. Ours and raw take turns. The
  same part runs again in a child process with REDIS_URL set, so the web side and the worker talk
  through Redis (skipped, and said so, when Redis does not answer).
- First frame: from opening the websocket to its first binary message, on a still page with no
  screencast running. Raw: a new CDP session and one captureScreenshot (what ours does for a
  first frame), and for a few rounds a new CDP session and startScreencast alone.
- Input to pixels: the control lease taken over HTTP, a key typed through the socket into the
  focused email field, until a frame's pixels of that field differ from the last frame before the
  key (raw: `page.keyboard` on the raw page).
- Sustained: 1 and 10 focused watchers and 1 thumbnail watcher of a page whose box changes every
  16 ms. The watchers run in a child process, so this process's CPU is the web side and the
  worker; CPU is split into this process, the worker's Playwright driver and its Chromium tree.
  Then 20 such sessions on the console's sessions-list socket (thumbnails of all of them).

A change no frame shows within NOT_SHOWN_AFTER counts as not shown: p50 and p95 are over the
changes shown, the goal over all of them. --every-nth-frame N is a what-if: it sets Chromium's
everyNthFrame for the worker (in this process) and the raw client, and writes
bench/results/live_view_every_nth_<N>.json instead of live_view.json.

Run: .venv/bin/python bench/live_view.py [--rounds 20] [--warmup 2] [--window 3] [--sessions 20]
                                         [--parts dom,first,input,sustained,many,redis]
                                         [--every-nth-frame N]
"""

import argparse
import asyncio
import base64
import contextlib
import dataclasses
import io
import json
import math
import os
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

PARTS = ("dom", "first", "input", "sustained", "many", "redis")
REDIS_URL = "redis://127.0.0.1:6379/0"
VIEWPORT = {"width": 1280, "height": 1080}
GOALS_MS = {"dom_p95": 100.0, "first_p50": 200.0, "input_p50": 150.0}
SETTLE = 0.15  # s of quiet between measurements
CAST_ALONE_ROUNDS = 5  # first frame: rounds of the raw startScreencast-alone probe
# A change that no frame shows within this long is "not shown": with everyNthFrame 2, Chromium
# sends every other compositor frame, so a lone change on a still page waits for the next one.
NOT_SHOWN_AFTER = 0.75
HEADER = struct.Struct(">Id16s")  # our frame header: sequence, capture time (epoch ms), session

BOX = {"x": 0, "y": 0, "size": 240}  # a fixed square painted a new colour for each DOM change
SETUP_JS = f"""() => {{
  const box = document.createElement('div');
  box.id = 'bench-box';
  box.style.cssText = 'position:fixed;left:{BOX["x"]}px;top:{BOX["y"]}px;width:{BOX["size"]}px;'
    + 'height:{BOX["size"]}px;z-index:99999;background:rgb(128,128,128)';
  document.body.appendChild(box);
  // An invisible caret: the field's pixels change only when its text does.
  const style = document.createElement('style');
  style.textContent = '#email {{ caret-color: transparent; }}';
  document.head.appendChild(style);
  const r = document.querySelector('#email').getBoundingClientRect();
  return {{x: r.x, y: r.y, width: r.width, height: r.height}};
}}"""
PAINT_JS = "([r, g, b]) => { document.getElementById('bench-box').style.background = `rgb(${r},${g},${b})`; }"
FOCUS_EMPTY_JS = "() => { const e = document.querySelector('#email'); e.value = ''; e.focus(); }"
# A timer that changes pixels every 16 ms: the box's colour and a counter in it.
ANIMATE_JS = """() => {
  const box = document.getElementById('bench-box');
  let n = 0;
  window.__benchTimer = setInterval(() => {
    n += 1;
    box.style.background = `hsl(${(n * 7) % 360}, 70%, 55%)`;
    box.textContent = String(n);
  }, 16);
}"""
STILL_JS = "() => { clearInterval(window.__benchTimer); }"
PALETTE = [
    (220, 30, 30),
    (30, 180, 40),
    (30, 40, 220),
    (230, 200, 20),
    (200, 30, 200),
    (20, 190, 200),
]
TYPED_KEY = "W"


@dataclass(frozen=True)
class CastSettings:
    """The worker's screencast settings, read from its code, so the raw client asks Chromium for
    the same frames."""

    quality: int
    every_nth_frame: int
    thumb_width: int
    focused_fps_cap: float
    thumb_fps_cap: float


def cast_settings(every_nth_frame: int | None = None) -> CastSettings:
    """Needs Django set up. every_nth_frame, when given, replaces the worker's own in this process
    (the --every-nth-frame what-if)."""
    from browser.live import THUMB_WIDTH
    from browser.screencast import Screencast
    from sessions_app.worker.live import RATES

    defaults = Screencast.__init__.__kwdefaults__
    if every_nth_frame is not None:
        defaults["every_nth_frame"] = every_nth_frame
    return CastSettings(
        quality=defaults["quality"],
        every_nth_frame=defaults["every_nth_frame"],
        thumb_width=THUMB_WIDTH,
        focused_fps_cap=1 / RATES["focused"][0],
        thumb_fps_cap=1 / RATES["thumbnail"][0],
    )


# -- frames and what they show -----------------------------------------------------------------


@dataclass
class Stream:
    """Frames as a client receives them: (perf_counter at receipt, capture time in epoch ms, JPEG)."""

    frames: list[tuple[float, float, bytes]] = field(default_factory=list)
    new_frame: asyncio.Event = field(default_factory=asyncio.Event)

    def keep(self, received: float, captured_ms: float, jpeg: bytes) -> None:
        self.frames.append((received, captured_ms, jpeg))
        self.new_frame.set()

    async def first_from(
        self, index: int, shows: Callable[[bytes], bool], within: float = NOT_SHOWN_AFTER
    ):
        """The first frame from `index` on that shows something, or None after `within` seconds."""
        deadline = time.perf_counter() + within
        while True:
            while index < len(self.frames):
                frame = self.frames[index]
                if shows(frame[2]):
                    return frame
                index += 1
            left = deadline - time.perf_counter()
            if left <= 0:
                return None
            self.new_frame.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.new_frame.wait(), left)


def decoded(jpeg: bytes, reduce: int):
    from PIL import Image

    image = Image.open(io.BytesIO(jpeg))
    # Decoded at a fraction of its size: fast, and enough to read a colour or see a glyph.
    image.draft("RGB", (image.width // reduce, image.height // reduce))
    return image.convert("RGB")


def shows_colour(colour: tuple[int, int, int]) -> Callable[[bytes], bool]:
    def check(jpeg: bytes) -> bool:
        image = decoded(jpeg, 8)
        scale = image.width / VIEWPORT["width"]
        centre = (BOX["x"] + BOX["size"] / 2) * scale, (BOX["y"] + BOX["size"] / 2) * scale
        pixel = image.getpixel((int(centre[0]), int(centre[1])))
        return all(abs(a - b) < 50 for a, b in zip(pixel, colour, strict=True))

    return check


def field_pixels(jpeg: bytes, rect: dict):
    image = decoded(jpeg, 2)
    scale = image.width / VIEWPORT["width"]
    box = (
        rect["x"] * scale,
        rect["y"] * scale,
        (rect["x"] + rect["width"]) * scale,
        (rect["y"] + rect["height"]) * scale,
    )
    return image.crop(tuple(int(v) for v in box))


def field_differs(reference: bytes, rect: dict) -> Callable[[bytes], bool]:
    """True for a frame whose email field does not look like the reference's: a typed glyph is a
    dark mark on a light field, far above JPEG noise (two encodings of the same pixels are alike)."""
    from PIL import ImageChops

    before = field_pixels(reference, rect)

    def check(jpeg: bytes) -> bool:
        diff = ImageChops.difference(field_pixels(jpeg, rect), before).convert("L")
        return diff.point(lambda v: 255 if v > 60 else 0).getbbox() is not None

    return check


# -- ours: the console's websocket ---------------------------------------------------------------


class Watcher:
    """A console websocket read on this loop: frames into a Stream, JSON events into a list."""

    def __init__(self, ws):
        self.ws = ws
        self.stream = Stream()
        self.session_of: list[bytes] = []  # the session of each frame (the list socket mixes them)
        self.events: list[dict] = []
        self.hello = asyncio.Event()
        self.reader = asyncio.ensure_future(self._read())

    @classmethod
    async def open(cls, base: str, path: str, cookie: str, origin: str) -> "Watcher":
        from websockets.asyncio.client import connect

        ws = await connect(
            base + path,
            origin=origin,
            additional_headers={"Cookie": cookie},
            max_size=None,
            open_timeout=15,
        )
        return cls(ws)

    async def _read(self) -> None:
        from websockets.exceptions import ConnectionClosed

        with contextlib.suppress(ConnectionClosed):
            async for message in self.ws:
                now = time.perf_counter()
                if isinstance(message, bytes):
                    _, captured_ms, session = HEADER.unpack_from(message)
                    self.session_of.append(session)
                    self.stream.keep(now, captured_ms, message[HEADER.size :])
                else:
                    self.events.append(json.loads(message))
                    if self.events[-1].get("type") == "hello":
                        self.hello.set()

    async def send(self, message: dict) -> None:
        await self.ws.send(json.dumps(message))

    async def close(self) -> None:
        # Not before the hello: a socket closed while the server still sets it up (its first frame
        # can come before the hello) is not unwatched on the worker until the watch expires.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.hello.wait(), 10)
        await self.ws.close()
        self.reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.reader


# -- raw: a CDP screencast -----------------------------------------------------------------------


class RawCast:
    """Page.startScreencast on a raw page with the worker's settings, each frame acked at once."""

    def __init__(self, page, cast: CastSettings, *, thumbnail: bool = False):
        self.page = page
        self.cast = cast
        self.width = cast.thumb_width if thumbnail else VIEWPORT["width"]
        self.height = round(VIEWPORT["height"] * self.width / VIEWPORT["width"])
        self.stream = Stream()
        self.cdp = None
        self._acks: set[asyncio.Future] = set()

    async def start(self) -> None:
        self.cdp = await self.page.context.new_cdp_session(self.page)
        self.cdp.on("Page.screencastFrame", self._on_frame)
        await self.cdp.send(
            "Page.startScreencast",
            {
                "format": "jpeg",
                "quality": self.cast.quality,
                "everyNthFrame": self.cast.every_nth_frame,
                "maxWidth": self.width,
                "maxHeight": self.height,
            },
        )

    def _on_frame(self, event: dict) -> None:
        now = time.perf_counter()
        ack = asyncio.ensure_future(
            self.cdp.send("Page.screencastFrameAck", {"sessionId": event["sessionId"]})
        )
        self._acks.add(ack)
        ack.add_done_callback(self._acks.discard)
        captured = event.get("metadata", {}).get("timestamp") or time.time()
        self.stream.keep(now, captured * 1000, base64.b64decode(event["data"]))

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await self.cdp.send("Page.stopScreencast")
            await self.cdp.detach()


class RawBrowser:
    async def start(self, site, home: Path) -> None:
        from playwright.async_api import async_playwright

        from browser.launcher import minimal_env
        from sessions_app.worker.config import launch_config

        config = launch_config()
        self.executable = config.headless_shell_path or config.chromium_path
        self.flags = config.flags
        drivers_before = set(node_children())
        self.playwright = await async_playwright().start()
        self.driver_pid = next(iter(set(node_children()) - drivers_before), None)
        self.browser = await self.playwright.chromium.launch(
            executable_path=self.executable, headless=True, args=config.flags, env=minimal_env(home)
        )
        self.version = self.browser.version
        self.context = await self.browser.new_context(viewport=VIEWPORT)
        self.pages = {}
        for name in ("watched", "typed"):
            page = await self.context.new_page()
            await page.goto(site.page("login.html"))
            self.pages[name] = page
        self.email_rect = await self.pages["watched"].evaluate(SETUP_JS)
        await self.pages["typed"].evaluate(SETUP_JS)

    async def close(self) -> None:
        await self.browser.close()
        await self.playwright.stop()


# -- CPU of this process, the Playwright drivers and the Chromium trees --------------------------


def node_children() -> list[int]:
    """This process's Playwright drivers (node renames itself after its main thread)."""
    import psutil

    pids = []
    for child in psutil.Process().children():
        with contextlib.suppress(psutil.Error):
            command = child.cmdline()
            if command and "playwright" in command[0] and command[0].endswith("/node"):
                pids.append(child.pid)
    return pids


class CpuProbe:
    """CPU seconds per role, read twice around a window: `python` (this process: web side and
    worker), `driver` (the worker's Playwright driver), `chromium` (its browser tree), and the
    same two for the raw browser."""

    def __init__(self, worker_driver: int | None, raw_driver: int | None):
        self.drivers = {"": worker_driver, "raw_": raw_driver}

    def read(self) -> tuple[float, dict[str, dict[int, float]]]:
        import psutil

        def seconds(process) -> float:
            times = process.cpu_times()
            return times.user + times.system

        roles: dict[str, dict[int, float]] = {"python": {os.getpid(): seconds(psutil.Process())}}
        for prefix, pid in self.drivers.items():
            roles[f"{prefix}driver"], roles[f"{prefix}chromium"] = {}, {}
            if pid is None:
                continue
            with contextlib.suppress(psutil.Error):
                driver = psutil.Process(pid)
                roles[f"{prefix}driver"][pid] = seconds(driver)
                for child in driver.children(recursive=True):
                    with contextlib.suppress(psutil.Error):
                        roles[f"{prefix}chromium"][child.pid] = seconds(child)
        return time.perf_counter(), roles

    @staticmethod
    def percent(before, after) -> dict[str, float]:
        """% of one core per role over the window (processes that started meanwhile count from 0)."""
        (t0, a), (t1, b) = before, after
        return {
            role: 100 * sum(v - a[role].get(pid, 0.0) for pid, v in b[role].items()) / (t1 - t0)
            for role in b
        }


# -- the measurements ----------------------------------------------------------------------------


@dataclass
class Setup:
    live: object
    site: object
    cookie: str
    sessions: dict[str, str]  # role -> session id
    email_rect: dict
    cast: CastSettings
    raw: RawBrowser | None = None
    probe: CpuProbe | None = None

    @property
    def ws_base(self) -> str:
        return f"ws://127.0.0.1:{self.live.port}"

    async def on_worker(self, factory: Callable[[], Awaitable]):
        """Run a coroutine on the worker's loop; this loop keeps reading sockets meanwhile."""
        return await asyncio.wrap_future(self.live.submit(factory))

    def page(self, role: str):
        return self.live.worker.pool.get(self.sessions[role]).page

    async def watch(self, role: str, rate: str = "focused") -> Watcher:
        query = "?rate=thumbnail" if rate == "thumbnail" else ""
        return await Watcher.open(
            self.ws_base, f"/ws/sessions/{self.sessions[role]}/{query}", self.cookie, self.live.url
        )

    async def feeds_idle(self, role: str, within: float = 20) -> None:
        """Until no screencast of the session runs (the API's perception lease included)."""
        session_id = self.sessions[role]

        async def holds() -> int:
            feeds = self.live.worker.pool.get(session_id).feeds
            return 0 if feeds is None else feeds.holds("full") + feeds.holds("thumb")

        deadline = time.monotonic() + within
        while await self.on_worker(holds):
            if time.monotonic() > deadline:
                raise RuntimeError("the session's screencast did not stop")
            await asyncio.sleep(0.05)


async def dom_rounds(setup: Setup, rounds: int, warmup: int) -> dict:
    """DOM change to a frame that shows it, ours and raw taking turns."""
    watcher = await setup.watch("watched")
    raw = RawCast(setup.raw.pages["watched"], setup.cast)
    await raw.start()
    page = setup.page("watched")
    raw_page = setup.raw.pages["watched"]

    async def ours_paint(colour) -> float:
        async def paint():
            started = time.perf_counter()
            await page.evaluate(PAINT_JS, list(colour))
            return started

        return await setup.on_worker(paint)

    async def raw_paint(colour) -> float:
        started = time.perf_counter()
        await raw_page.evaluate(PAINT_JS, list(colour))
        return started

    samples: dict[str, list[float]] = {"ours": [], "raw": []}
    # Chromium's capture time to receipt: the share of the delay after the frame exists.
    delivery: dict[str, list[float]] = {"ours": [], "raw": []}
    not_shown = {"ours": 0, "raw": 0}
    if await watcher.stream.first_from(0, lambda _: True, within=10) is None:
        # Not even the first frame reached the socket: the rounds would only time out.
        await watcher.close()
        await raw.stop()
        return {
            "samples_ms": samples,
            "delivery_ms": delivery,
            "not_shown": not_shown,
            "no_first_frame": True,
        }
    for i in range(warmup + rounds):
        colour = PALETTE[i % len(PALETTE)]
        order = (("ours", watcher.stream, ours_paint), ("raw", raw.stream, raw_paint))
        for who, stream, paint in order if i % 2 == 0 else order[::-1]:
            await asyncio.sleep(SETTLE)
            index = len(stream.frames)
            wall_before, started = time.time(), await paint(colour)
            frame = await stream.first_from(index, shows_colour(colour))
            if i < warmup:
                continue
            if frame is None:
                not_shown[who] += 1
                continue
            samples[who].append((frame[0] - started) * 1000)
            # Capture to receipt, in wall-clock ms: the share of delivery after Chromium's capture.
            delivery[who].append(wall_before * 1000 + (frame[0] - started) * 1000 - frame[1])
    await watcher.close()
    await raw.stop()
    return {
        "samples_ms": samples,
        "delivery_ms": delivery,
        "not_shown": not_shown,
        "no_first_frame": False,
    }


async def first_frame_rounds(setup: Setup, rounds: int, warmup: int) -> dict:
    """Opening a socket on a static page with no screencast running, to its first frame. Raw: a
    new CDP session and startScreencast (Chromium sends a frame only if the page paints, so it may
    send none), and a new CDP session and one captureScreenshot, the floor of an explicit frame."""
    raw_page = setup.raw.pages["watched"]
    samples: dict[str, list[float]] = {"ours": [], "raw": [], "raw_cast": []}
    not_shown = {"ours": 0, "raw": 0, "raw_cast": 0}
    handshake: list[float] = []

    async def ours() -> float | None:
        await setup.feeds_idle("watched")
        await asyncio.sleep(SETTLE)
        started = time.perf_counter()
        watcher = await setup.watch("watched")
        handshake.append((time.perf_counter() - started) * 1000)
        frame = await watcher.stream.first_from(0, lambda _: True)
        await watcher.close()
        return (frame[0] - started) * 1000 if frame else None

    async def raw_cast() -> float | None:
        await asyncio.sleep(SETTLE)
        started = time.perf_counter()
        raw = RawCast(raw_page, setup.cast)
        await raw.start()
        frame = await raw.stream.first_from(0, lambda _: True)
        await raw.stop()
        return (frame[0] - started) * 1000 if frame else None

    async def raw_capture() -> float:
        await asyncio.sleep(SETTLE)
        started = time.perf_counter()
        cdp = await raw_page.context.new_cdp_session(raw_page)
        await cdp.send("Page.captureScreenshot", {"format": "jpeg", "quality": setup.cast.quality})
        elapsed = (time.perf_counter() - started) * 1000
        await cdp.detach()
        return elapsed

    variants = [("ours", ours), ("raw", raw_capture), ("raw_cast", raw_cast)]
    for i in range(warmup + rounds):
        # The screencast alone only tells whether a still page sends a frame at all: a few rounds.
        present = variants if i < warmup + CAST_ALONE_ROUNDS else variants[:2]
        for who, run in present[i % len(present) :] + present[: i % len(present)]:
            elapsed = await run()
            if i < warmup:
                continue
            if elapsed is None:
                not_shown[who] += 1
            else:
                samples[who].append(elapsed)
    return {"samples_ms": samples, "not_shown": not_shown, "handshake_ms": handshake[warmup:]}


async def input_rounds(setup: Setup, rounds: int, warmup: int) -> dict:
    """A key through the control socket (ours) or page.keyboard (raw) until the field shows it."""
    import requests

    session_id = setup.sessions["typed"]
    http = requests.Session()
    name, value = setup.cookie.split("=", 1)
    http.cookies.set(name, value)
    detail = await asyncio.to_thread(
        http.get, f"{setup.live.url}/sessions/{session_id}/", timeout=30
    )
    detail.raise_for_status()
    taken = await asyncio.to_thread(
        http.post,
        f"{setup.live.url}/sessions/{session_id}/control/take/",
        timeout=30,
        headers={"X-CSRFToken": http.cookies["csrftoken"], "Origin": setup.live.url},
    )
    if taken.status_code != 200 or not taken.json().get("you_hold_control"):
        raise RuntimeError(f"could not take control: {taken.status_code} {taken.text[:200]}")

    watcher = await setup.watch("typed")
    page = setup.page("typed")
    raw_page = setup.raw.pages["typed"]
    raw = RawCast(raw_page, setup.cast)
    await raw.start()
    await setup.on_worker(lambda: page.evaluate(FOCUS_EMPTY_JS))
    await raw_page.evaluate(FOCUS_EMPTY_JS)
    await watcher.stream.first_from(0, lambda _: True, within=10)
    await raw.stream.first_from(0, lambda _: True, within=10)

    async def ours_key() -> None:
        for action in ("down", "up"):
            await watcher.send(
                {"type": "input", "event": {"kind": "key", "action": action, "key": TYPED_KEY}}
            )

    async def raw_key() -> None:
        await raw_page.keyboard.down(TYPED_KEY)
        await raw_page.keyboard.up(TYPED_KEY)

    # Each round types one more letter (the field scrolls once full): one change per round, and
    # the frame that shows it is the first whose field differs from the last frame before the key.
    samples: dict[str, list[float]] = {"ours": [], "raw": []}
    not_shown = {"ours": 0, "raw": 0}
    streams = {"ours": watcher.stream, "raw": raw.stream}
    keys = {"ours": ours_key, "raw": raw_key}
    for i in range(warmup + rounds):
        for who in ("ours", "raw") if i % 2 == 0 else ("raw", "ours"):
            stream = streams[who]
            await asyncio.sleep(SETTLE)
            before = stream.frames[-1][2]
            index = len(stream.frames)
            started = time.perf_counter()
            await keys[who]()
            frame = await stream.first_from(index, field_differs(before, setup.email_rect))
            if i < warmup:
                continue
            if frame is None:
                not_shown[who] += 1
            else:
                samples[who].append((frame[0] - started) * 1000)
    typed = await setup.on_worker(
        lambda: page.evaluate("() => document.querySelector('#email').value")
    )
    await watcher.close()
    await raw.stop()
    with contextlib.suppress(Exception):
        await asyncio.to_thread(
            http.post,
            f"{setup.live.url}/sessions/{session_id}/control/release/",
            timeout=30,
            headers={"X-CSRFToken": http.cookies["csrftoken"], "Origin": setup.live.url},
        )
    return {"samples_ms": samples, "not_shown": not_shown, "field_value_after_last_round": typed}


# -- sustained: watchers in a child process -------------------------------------------------------


async def watched_window(
    setup: Setup, paths: list[str], window: float, warm: float = 1.5, expect_sessions: int = 0
) -> dict:
    """Start the watcher child on these socket paths; CPU over its counting window."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--watcher-child",
        "--window",
        str(window),
        "--warm",
        str(warm),
        "--expect-sessions",
        str(expect_sessions),
        "--base",
        setup.ws_base,
        "--origin",
        setup.live.url,
        "--cookie",
        setup.cookie,
        *paths,
        stdout=subprocess.PIPE,
        cwd=common.ROOT,
    )
    hub = setup.live.worker.live
    line = await asyncio.wait_for(child.stdout.readline(), 90)
    if line.strip() != b"start":
        await child.wait()
        raise RuntimeError(f"the watcher child did not start: {line!r}")
    before, dropped, sent = setup.probe.read(), hub.frames_dropped, hub.frames_sent
    line = await asyncio.wait_for(child.stdout.readline(), window + 60)
    after = setup.probe.read()
    await child.wait()
    counted = json.loads(line)
    return {
        "cpu_percent": CpuProbe.percent(before, after),
        "frames_dropped": hub.frames_dropped - dropped,
        "frames_sent": hub.frames_sent - sent,
        **counted,
    }


async def quiet_window(setup: Setup, window: float, raw: RawCast | None = None) -> dict:
    before = setup.probe.read()
    if raw is not None:
        await raw.start()
        await raw.stream.first_from(0, lambda _: True, within=10)
        before = setup.probe.read()
        index = len(raw.stream.frames)
    await asyncio.sleep(window)
    after = setup.probe.read()
    result: dict = {"cpu_percent": CpuProbe.percent(before, after)}
    if raw is not None:
        frames = raw.stream.frames[index:]
        await raw.stop()
        seconds = after[0] - before[0]
        result |= {
            "watchers": 1,
            "fps": [len(frames) / seconds],
            "bytes_per_second": [sum(len(f[2]) for f in frames) / seconds],
        }
    return result


async def sustained(setup: Setup, window: float) -> dict:
    """Windows with ours and raw taking turns; only the page of the side measured animates."""
    page = setup.page("watched")
    raw_page = setup.raw.pages["watched"]
    session_id = setup.sessions["watched"]
    animating = {"ours": False, "raw": False}

    async def animate(who: str) -> None:
        for side, run in (
            ("ours", lambda js: setup.on_worker(lambda: page.evaluate(js))),
            ("raw", raw_page.evaluate),
        ):
            if animating[side] != (side == who):
                await run(ANIMATE_JS if side == who else STILL_JS)
                animating[side] = side == who
        await asyncio.sleep(0.5)

    async def ours(n: int, rate: str) -> dict:
        await setup.feeds_idle("watched")
        await animate("ours")
        query = "?rate=thumbnail" if rate == "thumbnail" else ""
        return await watched_window(setup, [f"/ws/sessions/{session_id}/{query}"] * n, window)

    async def ours_unwatched() -> dict:
        await setup.feeds_idle("watched")
        await animate("ours")
        return await quiet_window(setup, window)

    async def raw(rate: str | None) -> dict:
        await animate("raw")
        cast = RawCast(raw_page, setup.cast, thumbnail=rate == "thumbnail") if rate else None
        return await quiet_window(setup, window, cast)

    plan = [("ours, nobody watching", ours_unwatched), ("raw, no screencast", lambda: raw(None))]
    # Many thumbnail watchers: many_sessions, on the sessions-list socket.
    for rate, counts in (("focused", (1, 10)), ("thumbnail", (1,))):
        plan.append((f"ours, 1 {rate}", lambda rate=rate: ours(1, rate)))
        plan.append((f"raw, {rate} size", lambda rate=rate: raw(rate)))
        plan += [(f"ours, {n} {rate}", lambda n=n, rate=rate: ours(n, rate)) for n in counts[1:]]
    results = {}
    for label, run in plan:
        results[label] = await run()
    await animate("nobody")
    return results


async def many_sessions(setup: Setup, key: str, count: int, window: float) -> dict:
    """`count` animating sessions on the sessions-list socket (thumbnails of all of them)."""
    import requests

    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {key}"
    for session_id in setup.sessions.values():  # the list socket watches every live session
        (
            await asyncio.to_thread(
                api.delete, f"{setup.live.api_url}/sessions/{session_id}/stop", timeout=60
            )
        ).raise_for_status()
    ids = []
    for _ in range(count):
        started = await asyncio.to_thread(
            api.post,
            f"{setup.live.api_url}/sessions/start",
            timeout=60,
            json={"headless": True, "idle_timeout_minutes": 15},
        )
        started.raise_for_status()
        ids.append(started.json()["session_id"])

    async def animate_all():
        for session_id in ids:
            page = setup.live.worker.pool.get(session_id).page
            await page.goto(setup.site.page("login.html"))
            await page.evaluate(SETUP_JS)
            await page.evaluate(ANIMATE_JS)

    await setup.on_worker(animate_all)
    await asyncio.sleep(2.0)
    unwatched = await quiet_window(setup, window)
    watched = await watched_window(
        setup, ["/ws/sessions/"], window, warm=1.0, expect_sessions=count
    )
    return {"sessions": count, "unwatched": unwatched, "watched": watched}


async def watcher_child(args) -> None:
    """In a child process: open the sockets, warm up, then count frames and bytes per socket (and
    per session, for the sessions-list socket) over the window."""
    opened = time.perf_counter()
    watchers = [
        await Watcher.open(args.base, path, args.cookie, args.origin) for path in args.paths
    ]
    all_seen_after = None
    if args.expect_sessions:  # the list socket: until every session has sent a thumbnail
        deadline, stream = opened + 60, watchers[0].stream
        while (
            len(set(watchers[0].session_of)) < args.expect_sessions
            and (left := deadline - time.perf_counter()) > 0
        ):
            stream.new_frame.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stream.new_frame.wait(), left)
        if len(set(watchers[0].session_of)) >= args.expect_sessions:
            all_seen_after = time.perf_counter() - opened
    await asyncio.sleep(args.warm)
    marks = [len(w.stream.frames) for w in watchers]
    started = time.perf_counter()
    print("start", flush=True)
    await asyncio.sleep(args.window)
    now_perf, now_wall = time.perf_counter(), time.time()
    seconds = now_perf - started
    per_socket = [w.stream.frames[m:] for w, m in zip(watchers, marks, strict=True)]
    # Frame age on receipt: the wall-clock time of receipt minus Chromium's capture time.
    ages = [(now_wall - (now_perf - f[0])) * 1000 - f[1] for frames in per_socket for f in frames]
    result = {
        "watchers": len(watchers),
        "seconds": seconds,
        "fps": [len(frames) / seconds for frames in per_socket],
        "bytes_per_second": [
            sum(len(f[2]) + HEADER.size for f in frames) / seconds for frames in per_socket
        ],
        "frame_age_ms": common.summary(ages) if ages else None,
        "every_session_seen_after_seconds": all_seen_after,
    }
    if args.paths == ["/ws/sessions/"]:
        sessions: dict[bytes, list[int]] = {}
        watcher = watchers[0]
        for session, frame in zip(watcher.session_of[marks[0] :], per_socket[0], strict=True):
            sessions.setdefault(session, []).append(len(frame[2]) + HEADER.size)
        result["per_session_fps"] = [len(v) / seconds for v in sessions.values()]
        result["per_session_bytes_per_second"] = [sum(v) / seconds for v in sessions.values()]
    print(json.dumps(result), flush=True)
    for watcher in watchers:
        await watcher.close()


# -- orchestration -------------------------------------------------------------------------------


def login_cookie(username: str) -> str:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def prepare(live, site, key: str, cast: CastSettings) -> Setup:
    """Two sessions on the test site's login page: one watched (colour box, animation), one typed
    into. Set up on the worker's loop directly, so no API call holds a screencast open."""
    client = common.api_client(key)
    sessions = {}
    for role in ("watched", "typed"):
        started = client.post(
            f"{live.api_url}/sessions/start",
            timeout=60,
            json={"headless": True, "idle_timeout_minutes": 15},
        )
        started.raise_for_status()
        sessions[role] = started.json()["session_id"]
    client.close()
    rects = []
    for session_id in sessions.values():
        page = live.worker.pool.get(session_id).page

        async def load(page=page):
            await page.goto(site.page("login.html"))
            return await page.evaluate(SETUP_JS)

        rects.append(live.call(load))
    return Setup(
        live=live,
        site=site,
        cookie=login_cookie("bench"),
        sessions=sessions,
        email_rect=rects[0],
        cast=cast,
    )


async def run_parts(setup: Setup, key: str, args, home: Path) -> dict:
    worker_driver = next(iter(node_children()), None)
    setup.raw = RawBrowser()
    await setup.raw.start(setup.site, home)
    setup.probe = CpuProbe(worker_driver, setup.raw.driver_pid)
    measured: dict = {
        "executable": setup.raw.executable,
        "browser_version": setup.raw.version,
        "flags": setup.raw.flags,
        "cast": dataclasses.asdict(setup.cast),
    }
    steps = [
        ("dom", lambda: dom_rounds(setup, args.rounds, args.warmup)),
        ("first", lambda: first_frame_rounds(setup, args.rounds, args.warmup)),
        ("input", lambda: input_rounds(setup, args.rounds, args.warmup)),
        ("sustained", lambda: sustained(setup, args.window)),
        ("many", lambda: many_sessions(setup, key, args.sessions, args.window)),
    ]
    try:
        for part, run in steps:
            if part in args.parts:
                t0 = time.monotonic()
                print(f"measuring: {part}", flush=True)
                measured[part] = await run()
                measured.setdefault("part_seconds", {})[part] = time.monotonic() - t0
    finally:
        await setup.raw.close()
    return measured


def measure(args, *, redis_url: str | None = None) -> dict:
    from tests.support.site import TestSite

    with TestSite() as site, tempfile.TemporaryDirectory(prefix="live-bench-raw-") as home:
        env = {
            "PERISCOPE_EGRESS_ALLOW": f"127.0.0.1:{site.port},localhost:{site.port}",
            "PERISCOPE_TEAM_SESSION_CAP": str(args.sessions + 5),
        }
        if redis_url:
            env |= {
                "REDIS_URL": redis_url,
                "PERISCOPE_CHANNEL_PREFIX": f"bench{uuid.uuid4().hex[:8]}",
            }
        tmp = common.bootstrap_django(**env)
        try:
            key = common.create_api_key()
            live = common.start_live_server()
            try:
                setup = prepare(live, site, key, cast_settings(args.every_nth_frame))
                return asyncio.run(run_parts(setup, key, args, Path(home)))
            finally:
                live.stop()
        finally:
            common.cleanup(tmp)


def redis_answers(url: str) -> str | None:
    """None when Redis answers a ping, else why not."""
    import redis

    try:
        redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        return str(exc)
    return None


def redis_run(args) -> dict:
    """The DOM-change part again in a child process whose channel layer is Redis."""
    problem = redis_answers(REDIS_URL)
    if problem:
        return {"status": "unavailable", "reason": f"{REDIS_URL}: {problem}"}
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        print("measuring: dom, through Redis (child process)", flush=True)
        code = subprocess.call(
            [
                sys.executable,
                __file__,
                "--redis-child",
                out.name,
                "--parts",
                "dom",
                "--rounds",
                str(args.rounds),
                "--warmup",
                str(args.warmup),
                *(["--every-nth-frame", str(args.every_nth_frame)] if args.every_nth_frame else []),
            ],
            cwd=common.ROOT,
            env={**os.environ, "REDIS_URL": REDIS_URL},
        )
        if code:
            return {"status": "failed", "reason": f"the child exited with {code}"}
        return {"status": "measured", "url": REDIS_URL, **json.loads(Path(out.name).read_text())}


# -- the report ----------------------------------------------------------------------------------


def ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def percentile_with_misses(values: list[float], misses: int, p: float) -> float:
    """The percentile over every change, a change no frame showed counting as infinitely late."""
    ordered = sorted(values) + [math.inf] * misses
    if not ordered:
        return math.nan
    k = (len(ordered) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    if math.isinf(ordered[hi]):
        return math.inf
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def latency_row(label: str, part: dict, goal_key: str | None) -> tuple[list, dict]:
    if part.get("no_first_frame"):
        return (
            [label, "", "", "", "", "", "no frame at all", "MISSED: not even a first frame"],
            {
                "ours_ms": None,
                "raw_ms": None,
                "no_frame_reached_the_watcher": True,
                "goal_met": False,
            },
        )
    samples, not_shown = part["samples_ms"], part.get("not_shown", {"ours": 0, "raw": 0})
    ours = common.summary(samples["ours"]) if samples["ours"] else None
    raw = common.summary(samples["raw"]) if samples["raw"] else None
    ratios = {p: ratio(ours[p], raw[p]) for p in ("p50", "p95")} if ours and raw else None
    goal, met, over_all = "", None, None
    if goal_key:
        stat = goal_key.split("_")[1]
        over_all = percentile_with_misses(samples["ours"], not_shown["ours"], float(stat[1:]))
        met = over_all <= GOALS_MS[goal_key]
        goal = f"{stat}<={GOALS_MS[goal_key]:.0f} {'met' if met else 'MISSED'}"
        if not_shown["ours"]:
            goal += f" ({stat} of all: {'never' if math.isinf(over_all) else f'{over_all:.0f}'})"
    shown = {
        who: f"{len(samples[who])}/{len(samples[who]) + not_shown[who]}" for who in ("ours", "raw")
    }
    row = [
        label,
        ours["p50"] if ours else "",
        ours["p95"] if ours else "",
        raw["p50"] if raw else "",
        raw["p95"] if raw else "",
        f"{ratios['p50']:.2f} / {ratios['p95']:.2f}" if ratios else "",
        f"{shown['ours']} / {shown['raw']}",
        goal,
    ]
    return row, {
        "ours_ms": ours,
        "raw_ms": raw,
        "ratio_ours_over_raw": ratios,
        "not_shown": not_shown,
        "goal_stat_over_all_changes_ms": None
        if over_all is None or math.isinf(over_all)
        else over_all,
        "goal_met": met,
    }


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def cpu_delta(a: dict, b: dict, roles: tuple[str, ...]) -> dict[str, float]:
    return {role: b["cpu_percent"][role] - a["cpu_percent"][role] for role in roles}


def report(m: dict, redis: dict, args) -> dict:
    executable = m["executable"] or redis.get("executable")
    version = m["browser_version"] or redis.get("browser_version")
    out: dict = {"benchmark": "live_view", **common.environment(executable, version)}
    load = out["machine"]["load_average_at_start"]
    print(
        f"\nLive view ({args.rounds} rounds after {args.warmup} warm-up, ours and raw taking turns; "
        f"windows of {args.window:.0f} s)"
    )
    print(f"browser: {executable} {version}")
    print(
        f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs "
        "(a shared machine: compare ratios within this run, not figures across runs)"
    )
    rows, latency = [], {}
    if "dom" in m:
        row, latency["dom_in_memory"] = latency_row(
            "DOM change -> frame, in-memory layer", m["dom"], "dom_p95"
        )
        rows.append(row)
        latency["dom_in_memory"]["delivery_ms"] = {
            who: common.summary(v) if v else None for who, v in m["dom"]["delivery_ms"].items()
        }
    if redis.get("status") == "measured":
        row, latency["dom_redis"] = latency_row(
            "DOM change -> frame, Redis layer", redis["dom"], "dom_p95"
        )
        rows.append(row)
        latency["dom_redis"]["delivery_ms"] = {
            who: common.summary(v) if v else None for who, v in redis["dom"]["delivery_ms"].items()
        }
    elif "redis" in args.parts:
        rows.append(
            ["DOM change -> frame, Redis layer", "", "", "", "", "", "", redis.get("status")]
        )
    if "first" in m:
        first = m["first"]
        row, latency["first_frame"] = latency_row(
            "first frame after connect (static page)", first, "first_p50"
        )
        rows.append(row)
        latency["first_frame"]["websocket_handshake_ms"] = common.summary(first["handshake_ms"])
        only_cast = {
            "samples_ms": {"ours": [], "raw": first["samples_ms"]["raw_cast"]},
            "not_shown": {"ours": 0, "raw": first["not_shown"]["raw_cast"]},
        }
        row, latency["first_frame_raw_screencast_alone"] = latency_row(
            "  raw: startScreencast alone, no capture", only_cast, None
        )
        row[6] = f"- / {row[6].split(' / ')[1]}"
        rows.append(row)
    if "input" in m:
        row, latency["input_to_pixels"] = latency_row(
            "key typed -> frame shows it", m["input"], "input_p50"
        )
        rows.append(row)
        latency["input_to_pixels"]["field_value_after_last_round"] = m["input"][
            "field_value_after_last_round"
        ]
    if rows:
        print("\nLatency, ms (raw: CDP screencast client on a page of the same Chromium build)")
        common.print_table(
            [
                "measure",
                "ours p50",
                "ours p95",
                "raw p50",
                "raw p95",
                "ours/raw p50 / p95",
                "shown ours / raw",
                "goal (ours)",
            ],
            rows,
        )
        print(
            f"p50 and p95 over the changes a frame showed within {NOT_SHOWN_AFTER * 1000:.0f} ms; the goal over "
            "all of them, one not shown counting as never"
        )
    if "dom" in m:
        d = latency["dom_in_memory"]["delivery_ms"]
        print(
            f"of which Chromium's capture to receipt (p50): ours {fmt_ms(d['ours'])}, raw {fmt_ms(d['raw'])}"
        )
    if "first" in m:
        print(
            f"websocket handshake alone (p50): {latency['first_frame']['websocket_handshake_ms']['p50']:.1f} ms"
        )
    if redis.get("status") != "measured" and "redis" in args.parts:
        print(f"Redis: {redis.get('status')} ({redis.get('reason')})")
    out["latency"] = latency
    out["redis"] = {k: v for k, v in redis.items() if k != "dom"}

    if "sustained" in m:
        out["sustained"] = sustained_report(m["sustained"], m["cast"])
    if "many" in m:
        out["many_sessions"] = many_report(m["many"])
    out["parameters"] = {
        "rounds": args.rounds,
        "warmup": args.warmup,
        "window_seconds": args.window,
        "sessions": args.sessions,
        "parts": sorted(args.parts),
        "settle_seconds": SETTLE,
        "screencast": {"format": "jpeg", **(m.get("cast") or {}), "focused_size": VIEWPORT},
        "every_nth_frame_is_the_workers_own": args.every_nth_frame is None,
        "flags": m["flags"],
        "part_seconds": m.get("part_seconds"),
    }
    out["goals_ms"] = GOALS_MS
    out["samples_ms"] = {
        part: m[part]["samples_ms"] for part in ("dom", "first", "input") if part in m
    }
    if redis.get("status") == "measured":
        out["samples_ms"]["dom_redis"] = redis["dom"]["samples_ms"]
    return out


def fmt_ms(stats: dict | None) -> str:
    return f"{stats['p50']:.1f} ms" if stats else "n/a"


def sustained_report(s: dict, cast: dict) -> dict:
    rows, table = [], {}
    for label, w in s.items():
        cpu = w["cpu_percent"]
        fps, bps = w.get("fps", []), w.get("bytes_per_second", [])
        raw = label.startswith("raw")
        entry = {
            "watchers": w.get("watchers", 0),
            "fps_mean": mean(fps) if fps else None,
            "fps_min": min(fps) if fps else None,
            "kb_per_second_per_watcher": mean(bps) / 1024 if bps else None,
            "cpu_percent": cpu,
            "frames_dropped": w.get("frames_dropped"),
            "frame_age_ms": w.get("frame_age_ms"),
        }
        table[label] = entry
        rows.append(
            [
                label,
                entry["watchers"],
                entry["fps_mean"] or "",
                entry["fps_min"] or "",
                entry["kb_per_second_per_watcher"] or "",
                cpu["python"],
                cpu["raw_driver"] if raw else cpu["driver"],
                cpu["raw_chromium"] if raw else cpu["chromium"],
                "" if w.get("frames_dropped") is None else w["frames_dropped"],
            ]
        )
    print(
        "\nSustained, one page repainting every 16 ms (CPU in % of one core; caps: focused "
        f"{cast['focused_fps_cap']:.0f} fps, thumbnail {cast['thumb_fps_cap']:.0f} fps per watcher)"
    )
    common.print_table(
        [
            "watchers",
            "n",
            "fps mean",
            "fps min",
            "KB/s per watcher",
            "python %",
            "driver %",
            "chromium %",
            "dropped",
        ],
        rows,
    )
    derived = {}
    idle, raw_idle = s["ours, nobody watching"], s["raw, no screencast"]
    for rate in ("focused", "thumbnail"):
        ours = cpu_delta(idle, s[f"ours, 1 {rate}"], ("python", "driver", "chromium"))
        raw = cpu_delta(raw_idle, s[f"raw, {rate} size"], ("python", "raw_driver", "raw_chromium"))
        ours_total, raw_total = sum(ours.values()), sum(raw.values())
        derived[rate] = {
            "ours_added_cpu_percent": ours,
            "raw_added_cpu_percent": raw,
            "ours_total": ours_total,
            "raw_total": raw_total,
            "ratio": ratio(ours_total, raw_total),
        }
        tenth = s.get(f"ours, 10 {rate}")
        if tenth:
            derived[rate]["ours_added_cpu_percent_10_watchers"] = cpu_delta(
                idle, tenth, ("python", "driver", "chromium")
            )
        print(
            f"CPU one {rate} watcher adds: ours python {ours['python']:.1f}% + driver {ours['driver']:.1f}% "
            f"+ chromium {ours['chromium']:.1f}% = {ours_total:.1f}%; raw client python {raw['python']:.1f}% + "
            f"driver {raw['raw_driver']:.1f}% + chromium {raw['raw_chromium']:.1f}% = {raw_total:.1f}%"
            + (f" (ours/raw {ours_total / raw_total:.2f})" if raw_total > 0 else "")
        )
    return {"windows": table, "cpu_per_watched_session": derived}


def many_report(m: dict) -> dict:
    n = m["sessions"]
    watched, unwatched = m["watched"], m["unwatched"]
    added = cpu_delta(unwatched, watched, ("python", "driver", "chromium"))
    fps, bps = watched.get("per_session_fps", []), watched.get("per_session_bytes_per_second", [])
    rows = [
        [
            f"{n} animating, nobody watching",
            "",
            "",
            "",
            unwatched["cpu_percent"]["python"],
            unwatched["cpu_percent"]["driver"],
            unwatched["cpu_percent"]["chromium"],
        ],
        [
            f"{n} animating, list socket (thumbnails)",
            len(fps),
            mean(fps),
            mean(bps) / 1024,
            watched["cpu_percent"]["python"],
            watched["cpu_percent"]["driver"],
            watched["cpu_percent"]["chromium"],
        ],
        [
            "added per session",
            "",
            "",
            "",
            added["python"] / n,
            added["driver"] / n,
            added["chromium"] / n,
        ],
    ]
    print(
        f"\n{n} sessions watched as thumbnails on the console's sessions-list socket (CPU in % of one core)"
    )
    busy = sum(unwatched["cpu_percent"][role] for role in ("python", "driver", "chromium"))
    saturated = busy > 75 * (os.cpu_count() or 1)
    if saturated:
        print(
            f"the {n} animating pages alone kept {busy:.0f}% of the {os.cpu_count()} cores busy before anyone "
            "watched: the machine was saturated, so the CPU the watchers add cannot be read off here"
        )
    seen = watched.get("every_session_seen_after_seconds")
    print(
        f"a thumbnail of every session {f'{seen:.1f} s after connecting' if seen else 'never came'}; "
        "the window starts 1 s after that"
    )
    common.print_table(
        [
            "",
            "sessions seen",
            "fps per session",
            "KB/s per session",
            "python %",
            "driver %",
            "chromium %",
        ],
        rows,
    )
    return {
        "sessions": n,
        "sessions_with_frames": len(fps),
        "fps_per_session_mean": mean(fps),
        "fps_per_session_min": min(fps) if fps else None,
        "kb_per_second_per_session": mean(bps) / 1024 if bps else None,
        "cpu_percent_unwatched": unwatched["cpu_percent"],
        "cpu_percent_watched": watched["cpu_percent"],
        "added_cpu_percent_per_session": {k: v / n for k, v in added.items()},
        "frames_dropped": watched.get("frames_dropped"),
        "frame_age_ms": watched.get("frame_age_ms"),
        "every_session_seen_after_seconds": watched.get("every_session_seen_after_seconds"),
        "saturated_before_watching": saturated,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rounds", type=int, default=20, help="measured rounds of each latency part"
    )
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument(
        "--window", type=float, default=3.0, help="seconds of each sustained window"
    )
    parser.add_argument(
        "--sessions", type=int, default=20, help="sessions on the sessions-list socket"
    )
    parser.add_argument(
        "--every-nth-frame",
        type=int,
        default=None,
        help="what-if: Chromium's everyNthFrame for the worker and the raw client "
        "(default: the worker's own)",
    )
    parser.add_argument(
        "--parts", default=",".join(PARTS), help=f"a comma-separated subset of {','.join(PARTS)}"
    )
    # Internal: the Redis run and the watcher process call this script again.
    parser.add_argument("--redis-child", metavar="OUT", help=argparse.SUPPRESS)
    parser.add_argument("--watcher-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--warm", type=float, default=1.5, help=argparse.SUPPRESS)
    parser.add_argument("--expect-sessions", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    parser.add_argument("--origin", help=argparse.SUPPRESS)
    parser.add_argument("--cookie", help=argparse.SUPPRESS)
    parser.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    unknown = args.parts - set(PARTS)
    if unknown:
        parser.error(f"unknown parts {', '.join(sorted(unknown))}: choose from {', '.join(PARTS)}")

    if args.watcher_child:
        asyncio.run(watcher_child(args))
        return
    if args.redis_child:
        measured = measure(args, redis_url=os.environ["REDIS_URL"])
        Path(args.redis_child).write_text(
            json.dumps(
                {
                    "dom": measured["dom"],
                    "executable": measured["executable"],
                    "browser_version": measured["browser_version"],
                }
            )
        )
        return
    measured = (
        measure(args)
        if args.parts - {"redis"}
        else {"executable": None, "browser_version": None, "flags": []}
    )
    redis = redis_run(args) if "redis" in args.parts else {"status": "skipped"}
    name = (
        "live_view"
        if args.every_nth_frame is None
        else f"live_view_every_nth_{args.every_nth_frame}"
    )
    common.write_results(name, report(measured, redis, args))


if __name__ == "__main__":
    main()
