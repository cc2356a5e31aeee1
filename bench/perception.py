# ruff: noqa: T201  (benchmarks report on stdout)
"""Perception latency: observe, fill, click, scrape and screenshot, through our API, in-process,
with raw Playwright and with the open-source notte package, on the same test pages.

Variants, for each operation:
- ours API: what a client sees. An HTTP call over a keep-alive connection (a bare http.client
  one, so that the client library's own cost stays out), through the channel layer to the
  embedded worker, and back.
- ours in-process: the same browser work, called directly on the worker's loop for the same
  session (browser/perception/observe.observe, actions.execute, scrape.scrape_page,
  page.screenshot). There is no HTTP and no channel. The gap between this and the API figure is
  our overhead, printed as its own column.
- HTTP alone: a bare ASGI app on the same server stack (bench/http_floor.py), answering as many
  bytes as our API's last answer to the same operation, with the same client. It is the part of
  the overhead that any Python HTTP server pays on this machine (two wake-ups and the bytes);
  the last table subtracts it too.
- raw: plain Playwright on a Chromium launched by this script with the worker's executable and
  flags. For observe there are two: aria_snapshot (ready-made) and a naive locator walk.
- raw, on notte's Chromium: the same raw calls on the Chromium notte uses. That one is full
  Chromium, not headless-shell, so this row tells the browser's share of notte's figures.
- notte: the `notte` package in its own virtualenv (var/bench-peers/notte-venv, made here on
  first use), driven by bench/peers/notte_peer.py in a subprocess. It runs on a local Chromium
  in remote-debugging mode, through notte's `cdp_url` option. It is offline, with telemetry off.
  Its observe lists only the controls in the viewport by default; "notte, whole page" lists them all.

Every variant keeps one session (or page) parked on each test page. The rounds interleave the
operations and the variants. The order of the variants rotates from one round to the next, and
each measurement starts after a short pause. Warm-up rounds are dropped. Ours (API, in-process)
and HTTP alone are measured --ours-repeat times a round (3 by default): their p50s, whose
difference is the overhead, then rest on that many more samples.

A second pass measures ours again (API and in-process only) in a child process whose channel
layer is Redis; the last table puts the overhead on both layers side by side. --no-redis skips it.

A short first part needs no browser: the scrape's HTML-to-markdown stage (html_to_result) on
the two article pages, against html2text on the same HTML. --markdown-only runs just that part.

Run: .venv/bin/python bench/perception.py [--runs 30] [--warmup 5] [--ours-repeat 3] [--no-notte]
                                          [--no-redis] [--markdown-runs 200] [--markdown-only]
"""

import argparse
import asyncio
import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.http_floor import HttpFloor

SETTLE = 0.1  # s of quiet before each measurement: an execute's step recording runs after its reply
PEER_DIR = common.ROOT / "var" / "bench-peers"
NOTTE_VENV = PEER_DIR / "notte-venv"
# lxml_html_clean: notte's scrape imports lxml.html.clean, which lxml no longer ships.
NOTTE_PACKAGES = ["notte", "lxml_html_clean"]
NOTTE_PEER = Path(__file__).resolve().parent / "peers" / "notte_peer.py"
PORT_MODE_CHROMIUM = "/usr/bin/chromium"
# The worker's default viewport; the port-mode Chromium's window has the same size.
VIEWPORT = {"width": 1280, "height": 1080}

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"

# The goals, for the API p50 (observe: on controls.html).
GOALS_MS = {
    "observe_controls": 15.0,
    "fill": 12.0,
    "click": 40.0,
    "scrape": 20.0,
    "screenshot": 35.0,
}
OBSERVE_VS_NOTTE_GOAL = 10.0  # ours at least 10x faster than notte on observe


@dataclass(frozen=True)
class Op:
    key: str
    kind: str  # observe | fill | click | scrape | screenshot
    page: str  # login | controls | article (tests/site/<page>.html)
    label: str

    @property
    def goal(self) -> float | None:
        return GOALS_MS.get(self.key, GOALS_MS.get(self.kind))


OPS = [
    Op("observe_controls", "observe", "controls", "observe controls.html (200 controls)"),
    Op("observe_login", "observe", "login", "observe login.html"),
    Op("observe_article", "observe", "article", "observe article.html (34 KB)"),
    Op("observe_reference", "observe", "reference", "observe reference.html (925 KB, generated)"),
    Op("fill_login", "fill", "login", "fill #email, login.html"),
    Op("fill_controls", "fill", "controls", "fill #qty-1, controls.html"),
    Op("click_login", "click", "login", "click #toggle-password, login.html"),
    Op("click_controls", "click", "controls", "click #restock-7, controls.html"),
    Op("scrape_article", "scrape", "article", "scrape article.html to markdown"),
    Op("screenshot_article", "screenshot", "article", "screenshot JPEG q60, article.html"),
]
PAGES = ("login", "controls", "article", "reference")
# The element each page's fill and click act on (HTML id), and how our observe describes it.
TARGETS = {
    "login": {"fill": "email", "click": "toggle-password"},
    "controls": {"fill": "qty-1", "click": "restock-7"},
}
OUR_DESCRIPTIONS = {
    "email": 'name="email"',
    "toggle-password": 'aria-label="Show password"',
    "qty-1": 'name="qty-1"',
    "restock-7": ">Restock bin 7<",
}
VARIANTS = {
    "api": "ours: API",
    "direct": "ours: in-process",
    "http_floor": "HTTP alone: bare ASGI app, same bytes",
    "raw": "raw Playwright",
    "raw_naive": "raw: locators + boxes",
    "raw_full": "raw, on notte's Chromium",
    "notte": "notte",
    "notte_all": "notte, whole page",
}
DETAILS_SHOWN = ("actions", "elements", "chars", "markdown_chars", "bytes")  # the table's "result"
RAW_LABELS = {
    "observe": "aria_snapshot(mode='ai', boxes=True)",
    "fill": "locator.fill",
    "click": "locator.click",
    "scrape": "page.content() + html2text",
    "screenshot": "page.screenshot(jpeg, 60)",
}


OURS = ["api", "direct", "http_floor"]


def variants_for(
    op: Op, notte_ok: bool, raw_full: bool, raw: bool = True, ours_repeat: int = 1
) -> list[str]:
    names = OURS * ours_repeat
    if not raw:  # the Redis pass: ours only
        return names
    names.append("raw")
    if (
        op.kind == "observe" and op.page != "reference"
    ):  # a locator per element: minutes on 7,000 links
        names.append("raw_naive")
    if raw_full:
        names.append("raw_full")
    if notte_ok:
        names.append("notte")
        if op.kind == "observe":
            names.append("notte_all")
    return names


def observe_cap(page: str) -> int:
    """max_nb_actions for our observe: every control of the small pages (notte's whole-page
    observe lists them all too); on the reference page what an SDK client gets by default."""
    return 100 if page == "reference" else 500


def fill_value(page: str, round_no: int) -> str:
    return f"user{round_no}@example.com" if page == "login" else str(round_no)


# -- ours: through the API and in-process ----------------------------------------------------------


class Ours:
    """One API session parked on each test page, driven over HTTP or directly on the worker."""

    def __init__(self, live, key: str, site):
        self.live = live
        self.api = live.api_url
        self.client = common.api_client(key)  # setup and teardown
        self.lean = common.LeanClient(self.api, key)  # the measured calls
        self.floor = HttpFloor().start()
        self.lean_floor = common.LeanClient(self.floor.url, key)
        self.answer_bytes: dict[str, int] = {}  # the last API answer's size, per operation
        self.sessions: dict[str, str] = {}
        self.ids: dict[str, dict[str, str]] = {}
        for page in PAGES:
            started = self.post(
                "/sessions/start", {"idle_timeout_minutes": 15, "max_duration_minutes": 60}
            )
            session_id = started.json()["session_id"]
            self.sessions[page] = session_id
            goto = self.post(
                f"/sessions/{session_id}/page/execute",
                {"type": "goto", "url": site.page(f"{page}.html")},
            )
            assert goto.json()["success"], goto.text
            actions = self.observe_actions(page)
            if page in TARGETS:
                self.ids[page] = {
                    kind: self.find_id(actions, html_id) for kind, html_id in TARGETS[page].items()
                }

    def post(self, path: str, body: dict):
        response = self.client.post(f"{self.api}{path}", json=body, timeout=60)
        if not response.ok:
            raise RuntimeError(f"POST {path}: {response.status_code} {response.text[:300]}")
        return response

    def observe_actions(self, page: str) -> list[dict]:
        body = self.post(
            f"/sessions/{self.sessions[page]}/page/observe", {"max_nb_actions": 500}
        ).json()
        return body["space"]["interaction_actions"]

    @staticmethod
    def find_id(actions: list[dict], html_id: str) -> str:
        marker = OUR_DESCRIPTIONS[html_id]
        for action in actions:
            if marker in action["description"]:
                return action["id"]
        raise LookupError(f"our observe lists no action for #{html_id}")

    def action(self, op: Op, round_no: int) -> dict:
        node_id = self.ids[op.page][op.kind]
        if op.kind == "fill":
            return {"type": "fill", "id": node_id, "value": fill_value(op.page, round_no)}
        return {"type": "click", "id": node_id}

    def via_api(self, op: Op, round_no: int) -> tuple[float, dict]:
        base = f"/sessions/{self.sessions[op.page]}/page"
        match op.kind:
            case "observe":
                path, body = "observe", {"max_nb_actions": observe_cap(op.page)}
            case "fill" | "click":
                path, body = "execute", self.action(op, round_no)
            case "scrape":
                path, body = "scrape", {"only_main_content": False, "scrape_links": True}
            case _:
                path, body = "screenshot", {"type": "jpeg", "quality": 60}
        self.lean.ready()
        t0 = time.perf_counter()
        status, content = self.lean.post(f"{base}/{path}", body)
        ms = (time.perf_counter() - t0) * 1000
        if status != 200:
            raise RuntimeError(f"{op.key} through the API: {status} {content[:300]!r}")
        self.answer_bytes[op.key] = len(content)
        if op.kind == "screenshot":
            return ms, {"bytes": len(content)}
        data = json.loads(content)
        if op.kind == "observe":
            return ms, {
                "actions": len(data["space"]["interaction_actions"]),
                "chars": len(data["space"]["description"]),
                "response_bytes": len(content),
            }
        if op.kind == "scrape":
            return ms, {"markdown_chars": len(data["markdown"])}
        if not data["success"]:
            raise RuntimeError(f"{op.key} through the API failed: {data['message']}")
        return ms, {}

    def via_http_floor(self, op: Op, round_no: int) -> tuple[float, dict]:
        """The bare server, asked for as many bytes as our API last answered to this operation,
        with a request of the same size."""
        body = {"max_nb_actions": observe_cap(op.page)}
        if op.kind in ("fill", "click"):
            body = self.action(op, round_no)
        size = self.answer_bytes.get(op.key, 0)
        self.lean_floor.ready()
        t0 = time.perf_counter()
        status, content = self.lean_floor.post(f"/floor?bytes={size}", body)
        ms = (time.perf_counter() - t0) * 1000
        if status != 200 or len(content) != size:
            raise RuntimeError(f"the bare HTTP server answered {status}, {len(content)} bytes")
        return ms, {"bytes": size}

    def in_process(self, op: Op, round_no: int) -> tuple[float, dict]:
        """The browser layer, called on the worker's own loop; timed there, so the hop is not in it."""
        from browser.perception.actions import ActionContext, execute
        from browser.perception.observe import observe
        from browser.scrape import ScrapeOptions, scrape_page

        session = self.live.worker.pool.get(self.sessions[op.page])
        action = self.action(op, round_no) if op.kind in ("fill", "click") else None

        async def work() -> tuple[float, dict]:
            t0 = time.perf_counter()
            if op.kind == "observe":
                observation, _ = await observe(
                    session.page, session.tabs, frame_cache=session.frames
                )
                actions, description = observation.space(observe_cap(op.page))
                detail = {"actions": len(actions), "chars": len(description)}
            elif action is not None:
                outcome = await execute(session, action, ActionContext())
                if not outcome.success:
                    raise RuntimeError(f"{op.key} in-process failed: {outcome.message}")
                detail = {}
            elif op.kind == "scrape":
                result = await scrape_page(
                    session.page, ScrapeOptions(only_main_content=False, scrape_links=True)
                )
                detail = {"markdown_chars": len(result.markdown)}
            else:
                detail = {"bytes": len(await session.page.screenshot(type="jpeg", quality=60))}
            return (time.perf_counter() - t0) * 1000, detail

        return self.live.call(work)

    def close(self) -> None:
        self.lean.close()
        self.lean_floor.close()
        self.floor.stop()
        for session_id in self.sessions.values():
            self.client.delete(f"{self.api}/sessions/{session_id}/stop", timeout=60)
        self.client.close()


# -- raw Playwright -------------------------------------------------------------------------------


NAIVE_SELECTOR = "button, a[href], input, select, textarea, [role][tabindex]"


class Raw:
    """Plain Playwright: one context and page per test page. By default on a Chromium launched
    with the worker's executable and flags; with cdp_url, on the port-mode Chromium notte uses."""

    def __init__(self):
        self.pages = {}
        self.contexts = []

    async def start(self, site, *, home: Path | None = None, cdp_url: str | None = None) -> None:
        from playwright.async_api import async_playwright

        from browser.launcher import minimal_env
        from sessions_app.worker.config import launch_config

        self.playwright = await async_playwright().start()
        if cdp_url:
            self.executable = PORT_MODE_CHROMIUM
            self.browser = await self.playwright.chromium.connect_over_cdp(cdp_url)
        else:
            config = launch_config()
            self.executable = config.headless_shell_path or config.chromium_path
            self.browser = await self.playwright.chromium.launch(
                executable_path=self.executable,
                headless=True,
                args=config.flags,
                env=minimal_env(home),
            )
        self.version = self.browser.version
        for page in PAGES:
            context = await self.browser.new_context(viewport=VIEWPORT)
            self.contexts.append(context)
            self.pages[page] = await context.new_page()
            await self.pages[page].goto(site.page(f"{page}.html"))

    async def run(self, op: Op, round_no: int, *, naive: bool = False) -> tuple[float, dict]:
        import html2text

        page = self.pages[op.page]
        t0 = time.perf_counter()
        if op.kind == "observe" and naive:
            elements = await page.locator(NAIVE_SELECTOR).all()
            boxes = [await element.bounding_box() for element in elements]
            detail = {"elements": len(boxes)}
        elif op.kind == "observe":
            snapshot = await page.aria_snapshot(mode="ai", boxes=True)
            detail = {"chars": len(snapshot)}
        elif op.kind == "fill":
            await page.locator(f"#{TARGETS[op.page]['fill']}").fill(fill_value(op.page, round_no))
            detail = {}
        elif op.kind == "click":
            await page.locator(f"#{TARGETS[op.page]['click']}").click()
            detail = {}
        elif op.kind == "scrape":
            converter = html2text.HTML2Text(baseurl=page.url)
            markdown = converter.handle(await page.content())
            detail = {"markdown_chars": len(markdown)}
        else:
            detail = {"bytes": len(await page.screenshot(type="jpeg", quality=60))}
        return (time.perf_counter() - t0) * 1000, detail

    async def close(self) -> None:
        for context in self.contexts:
            await context.close()
        if self.executable != PORT_MODE_CHROMIUM:  # that one is notte's: Notte.stop ends it
            await self.browser.close()
        await self.playwright.stop()


# -- notte, in its own virtualenv and process -------------------------------------------------------


class PeerUnavailable(Exception):
    pass


class Notte:
    """notte in a subprocess (bench/peers/notte_peer.py) on a port-mode Chromium started here.

    If notte cannot be installed or started, `reason` says why and the benchmark goes on without it.
    """

    def __init__(self):
        self.status = "not run"
        self.reason: str | None = None
        self.version: str | None = None
        self.browser_version: str | None = None
        self.cdp_url: str | None = None
        self.errors: dict[str, list[str]] = {}
        self.chromium: subprocess.Popen | None = None
        self.peer: subprocess.Popen | None = None
        self.lines: queue.Queue[str | None] = queue.Queue()

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def start(self, site, profile_dir: Path) -> None:
        try:
            python = self.install()
            self.cdp_url = self.start_chromium(profile_dir)
            self.start_peer(python, self.cdp_url, site.url)
            self.status = "ok"
        except PeerUnavailable as exc:
            self.status, self.reason = "unavailable", str(exc)
            self.stop()

    def install(self) -> Path:
        """notte and lxml_html_clean in var/bench-peers/notte-venv: notte's pins conflict with ours."""
        python = NOTTE_VENV / "bin" / "python"
        if not python.exists():
            print(
                f"creating {NOTTE_VENV.relative_to(common.ROOT)} for the notte peer ...", flush=True
            )
            made = subprocess.run(
                [sys.executable, "-m", "venv", str(NOTTE_VENV)], capture_output=True, text=True
            )
            if made.returncode:
                raise PeerUnavailable(
                    f"could not create a virtualenv for notte: {made.stderr.strip()[-300:]}"
                )
        probe = [str(python), "-c", "import notte_browser, lxml_html_clean"]
        if subprocess.run(probe, capture_output=True).returncode:
            log = PEER_DIR / "notte-install.log"
            print(
                f"pip install {' '.join(NOTTE_PACKAGES)} into the notte virtualenv (log: {log}) ...",
                flush=True,
            )
            with log.open("w") as out:
                installed = subprocess.run(
                    [str(python), "-m", "pip", "install", *NOTTE_PACKAGES],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    timeout=1800,
                )
            if installed.returncode:
                tail = " | ".join(log.read_text().strip().splitlines()[-3:])
                raise PeerUnavailable(f"pip install notte failed: {tail[-400:]}")
            if subprocess.run(probe, capture_output=True).returncode:
                raise PeerUnavailable("notte was installed but cannot be imported")
        return python

    def start_chromium(self, profile_dir: Path) -> str:
        """Debian's Chromium in remote-debugging mode: only for this peer, stopped at the end."""
        import requests

        from tests.live import free_port

        if not Path(PORT_MODE_CHROMIUM).exists():
            raise PeerUnavailable(f"{PORT_MODE_CHROMIUM} is not installed")
        port = free_port()
        self.chromium = subprocess.Popen(
            [
                PORT_MODE_CHROMIUM,
                "--headless",
                f"--remote-debugging-port={port}",
                "--remote-debugging-address=127.0.0.1",
                "--disable-background-networking",
                "--no-sandbox",
                f"--user-data-dir={profile_dir}",
                f"--window-size={VIEWPORT['width']},{VIEWPORT['height']}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        cdp_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                self.browser_version = requests.get(f"{cdp_url}/json/version", timeout=1).json()[
                    "Browser"
                ]
                return cdp_url
            except (requests.RequestException, ValueError):
                time.sleep(0.1)
        raise PeerUnavailable(f"{PORT_MODE_CHROMIUM} did not open its debugging port")

    def start_peer(self, python: Path, cdp_url: str, site_url: str) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env["DISABLE_TELEMETRY"] = "true"
        self.stderr_log = PEER_DIR / "notte-peer.log"
        self.peer = subprocess.Popen(
            [str(python), str(NOTTE_PEER), "--cdp-url", cdp_url, "--site", site_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr_log.open("w"),
            text=True,
            env=env,
            cwd=PEER_DIR,
        )
        threading.Thread(target=self._read, daemon=True).start()
        ready = self.receive(timeout=180)
        if not ready.get("ready"):
            raise PeerUnavailable(f"notte could not open its sessions: {ready.get('error')}")
        self.version = ready["version"]

    def _read(self) -> None:
        assert self.peer and self.peer.stdout
        for line in self.peer.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def receive(self, timeout: float) -> dict:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise PeerUnavailable(f"the notte peer did not answer within {timeout:.0f} s") from None
        if line is None:
            raise PeerUnavailable(f"the notte peer exited (see {self.stderr_log})")
        return json.loads(line)

    def run(self, op: Op, round_no: int, *, whole_page: bool = False) -> tuple[float, dict] | None:
        """notte's time for the op, as the peer measured it; None if it failed."""
        assert self.peer and self.peer.stdin
        name = "observe_all" if whole_page else op.kind
        self.peer.stdin.write(json.dumps({"op": name, "page": op.page, "round": round_no}) + "\n")
        self.peer.stdin.flush()
        try:
            answer = self.receive(timeout=120)
        except PeerUnavailable as exc:
            self.status, self.reason = "failed", f"during {op.key}: {exc}"
            return None
        if "error" in answer:
            self.errors.setdefault(op.key, []).append(answer["error"])
            return None
        return answer["ms"], answer.get("detail", {})

    def stop(self) -> None:
        if self.peer and self.peer.poll() is None:
            try:
                self.peer.stdin.write(json.dumps({"op": "quit"}) + "\n")
                self.peer.stdin.flush()
                self.peer.wait(30)
            except (OSError, subprocess.TimeoutExpired):
                self.peer.kill()
                self.peer.wait(10)
        if self.chromium and self.chromium.poll() is None:
            self.chromium.terminate()
            try:
                self.chromium.wait(10)
            except subprocess.TimeoutExpired:
                self.chromium.kill()
                self.chromium.wait(10)
        if self.chromium:
            # It runs in a process group of its own: end what it left behind (renderers, zygote).
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.chromium.pid, signal.SIGKILL)


# -- scrape to markdown, without a browser ----------------------------------------------------------

MARKDOWN_INPUTS = {
    name: common.ROOT / name
    for name in ("tests/site/article.html", "tests/browser/fixtures/article.html")
}
MARKDOWN_BASE_URL = "https://news.example.com/2026/report.html"
MARKDOWN_VARIANTS = {
    "ours": "ours: html_to_result (clean + html-to-markdown)",
    "converter": "html-to-markdown alone, no cleaning",
    "html2text": "html2text.handle",
}


def markdown_conversion(runs: int, warmup: int) -> dict:
    """HTML string to markdown on one thread, ours against html2text on the same input.

    This is the browser-free stage of every scrape (and all of scrape_from_html): parse, clean,
    list images, resolve links, convert. The variants take turns, in a rotating order.
    """
    import html2text
    import html_to_markdown

    from browser.scrape import ScrapeOptions, html_to_result
    from browser.scrape.markdown import CONVERTER_OPTIONS

    options = ScrapeOptions()  # the API's defaults: whole page, links kept, no images

    def convert(name: str, html: str) -> str:
        if name == "ours":
            return html_to_result(html, options, base_url=MARKDOWN_BASE_URL).markdown
        if name == "converter":
            return html_to_markdown.convert(html, CONVERTER_OPTIONS).content
        return html2text.HTML2Text(baseurl=MARKDOWN_BASE_URL).handle(html)

    names = list(MARKDOWN_VARIANTS)
    results = {}
    for label, path in MARKDOWN_INPUTS.items():
        html = path.read_text(encoding="utf-8")
        samples: dict[str, list[float]] = {name: [] for name in names}
        chars: dict[str, int] = {}
        for round_no in range(warmup + runs):
            shift = round_no % len(names)
            for name in names[shift:] + names[:shift]:
                t0 = time.perf_counter()
                markdown = convert(name, html)
                ms = (time.perf_counter() - t0) * 1000
                chars[name] = len(markdown)
                if round_no >= warmup:
                    samples[name].append(ms)
        stats = {name: common.summary(values) for name, values in samples.items()}
        results[label] = {
            "html_bytes": len(html.encode()),
            "summary_ms": stats,
            "markdown_chars": chars,
            "ratio_ours_over": ratios_over(stats, "ours"),
            "samples_ms": samples,
        }
    print(
        f"\nScrape to markdown without a browser, ms ({runs} rounds after {warmup} warm-up, "
        "variants interleaved)"
    )
    rows = []
    for label, result in results.items():
        rows.append([f"{label} ({result['html_bytes'] / 1024:.0f} KB)", "", "", "", "", ""])
        for name, variant in MARKDOWN_VARIANTS.items():
            s = result["summary_ms"][name]
            ratio = result["ratio_ours_over"].get(name)
            rows.append(
                [
                    f"  {variant}",
                    s["n"],
                    s["p50"],
                    s["p95"],
                    f"{ratio['p50']:.2f} / {ratio['p95']:.2f}" if ratio else "",
                    result["markdown_chars"][name],
                ]
            )
    common.print_table(
        ["input / variant", "n", "p50", "p95", "ours / this, p50 / p95", "markdown chars"], rows
    )
    return {"runs": runs, "warmup": warmup, "variants": MARKDOWN_VARIANTS, "inputs": results}


# -- the run --------------------------------------------------------------------------------------


async def measure(
    ours: Ours, raws: dict[str, Raw], notte: Notte, runs: int, warmup: int, ours_repeat: int
) -> tuple[dict, dict]:
    samples: dict[str, dict[str, list[float]]] = {op.key: {} for op in OPS}
    details: dict[str, dict[str, dict]] = {op.key: {} for op in OPS}
    for round_no in range(warmup + runs):
        for op in OPS:
            names = variants_for(
                op, notte.ok, "raw_full" in raws, raw="raw" in raws, ours_repeat=ours_repeat
            )
            shift = round_no % len(names)
            for name in names[shift:] + names[:shift]:
                await asyncio.sleep(SETTLE)
                if name == "api":
                    result = ours.via_api(op, round_no)
                elif name == "direct":
                    result = ours.in_process(op, round_no)
                elif name == "http_floor":
                    result = ours.via_http_floor(op, round_no)
                elif name == "raw_naive":
                    result = await raws["raw"].run(op, round_no, naive=True)
                elif name.startswith("raw"):
                    result = await raws[name].run(op, round_no)
                elif notte.ok:
                    result = notte.run(op, round_no, whole_page=name == "notte_all")
                else:
                    result = None  # notte failed during this run
                if result is None:
                    continue
                ms, detail = result
                details[op.key][name] = detail
                if round_no >= warmup:
                    samples[op.key].setdefault(name, []).append(ms)
        if round_no == warmup - 1 or (round_no + 1) % 10 == 0:
            print(f"  round {round_no + 1}/{warmup + runs}", flush=True)
    return samples, details


def overheads(summaries: dict) -> dict[str, float]:
    """API p50 minus in-process p50, per operation: what HTTP, Django, auth and the channel
    layer add to the browser work."""
    return {key: stats["api"]["p50"] - stats["direct"]["p50"] for key, stats in summaries.items()}


def beyond_floor(summaries: dict) -> dict[str, float]:
    """The overhead less the HTTP floor's p50 (bench/http_floor.py): what is ours to cut."""
    return {
        key: stats["api"]["p50"] - stats["direct"]["p50"] - stats["http_floor"]["p50"]
        for key, stats in summaries.items()
    }


def print_overheads(by_layer: dict[str, dict | None]) -> None:
    layers = [name for name, result in by_layer.items() if result]
    print(
        "\nAPI overhead: API p50 minus in-process p50, ms (HTTP, Django, auth, channel layer, "
        "worker); HTTP alone: a bare ASGI app's p50 for as many bytes; beyond: the overhead less it"
    )
    rows = []
    for op in OPS:
        row = [op.label]
        for name in layers:
            stats = by_layer[name]["summary_ms"][op.key]
            overhead = stats["api"]["p50"] - stats["direct"]["p50"]
            row += [
                stats["api"]["p50"],
                stats["direct"]["p50"],
                overhead,
                stats["http_floor"]["p50"],
                overhead - stats["http_floor"]["p50"],
            ]
        rows.append(row)
    headers = ["operation"]
    for name in layers:
        headers += [f"{name}: API", "in-process", "overhead", "HTTP alone", "beyond"]
    common.print_table(headers, rows)
    for name, result in by_layer.items():
        if not result:
            print(f"{name}: not measured")
        elif result.get("load_average"):
            print(
                f"{name}: load average at start {result['load_average']['start']}, at end {result['load_average']['end']}"
            )


def ratios_over(stats: dict, base: str) -> dict:
    """base / each other variant, at p50 and p95: below 1 means `base` is faster."""
    ours = stats[base]
    return {
        name: {p: ours[p] / s[p] for p in ("p50", "p95")}
        for name, s in stats.items()
        if name != base
    }


def report(
    samples: dict,
    details: dict,
    raws: dict[str, Raw],
    notte: Notte,
    runs: int,
    warmup: int,
    ours_repeat: int,
) -> dict:
    summaries = {
        op.key: {name: common.summary(v) for name, v in samples[op.key].items()} for op in OPS
    }
    rows, goals = [], {}
    for op in OPS:
        stats = summaries[op.key]
        api = stats["api"]
        goal_cell = ""
        if op.goal is not None:
            met = api["p50"] <= op.goal
            goals[op.key] = {"p50_ms": op.goal, "met": met}
            goal_cell = f"<= {op.goal:.0f} {'met' if met else 'MISSED'}"
        rows.append([op.label, "", "", "", "", "", "", ""])
        overhead = api["p50"] - stats["direct"]["p50"]
        for name, label in VARIANTS.items():
            if name not in stats:
                continue
            if name == "raw":
                label = f"raw: {RAW_LABELS[op.kind]}"
            s = stats[name]
            shown = details[op.key].get(name, {})
            detail = ", ".join(f"{k} {v}" for k, v in shown.items() if k in DETAILS_SHOWN)
            ratio = f"{api['p50'] / s['p50']:.2f} / {api['p95'] / s['p95']:.2f}"
            rows.append(
                [
                    f"  {label}",
                    s["n"],
                    s["p50"],
                    s["p95"],
                    goal_cell if name == "api" else "",
                    overhead if name == "api" else "",
                    "" if name == "api" else ratio,
                    detail,
                ]
            )
        if "notte" not in stats:
            rows.append(
                ["  notte", "", "", "", "", "", "", f"{notte.status}: {notte.reason or ''}"[:70]]
            )

    observe_vs_notte = None
    observe = summaries["observe_controls"]
    if "notte" in observe:
        speedup = observe["notte"]["p50"] / observe["api"]["p50"]
        observe_vs_notte = {
            "speedup_p50": speedup,
            "speedup_p50_whole_page": observe["notte_all"]["p50"] / observe["api"]["p50"],
            "speedup_p50_in_process": observe["notte"]["p50"] / observe["direct"]["p50"],
            "goal": OBSERVE_VS_NOTTE_GOAL,
            "met": speedup >= OBSERVE_VS_NOTTE_GOAL,
        }

    raw = raws["raw"]
    print(
        f"\nPerception, ms ({runs} rounds after {warmup} warm-up; operations and variants "
        f"interleaved; ours and HTTP alone {ours_repeat} times a round)"
    )
    print(f"ours and raw: {raw.executable} {raw.version}")
    if notte.version:
        print(
            f"notte {notte.version} and 'raw, on notte's Chromium': {PORT_MODE_CHROMIUM} "
            f"({notte.browser_version}) in remote-debugging mode; notte via cdp_url, telemetry off"
        )
    if not notte.ok:
        print(f"notte: {notte.status.upper()}: {notte.reason}")
    common.print_table(
        [
            "operation / variant",
            "n",
            "p50",
            "p95",
            "goal (API p50)",
            "overhead p50",
            "ours API / this, p50 / p95",
            "result",
        ],
        rows,
    )
    if observe_vs_notte:
        o = observe_vs_notte
        print(
            f"\nobserve controls.html, p50: ours (API) is {o['speedup_p50']:.1f}x faster than notte "
            f"(goal >= {OBSERVE_VS_NOTTE_GOAL:.0f}x: {'met' if o['met'] else 'MISSED'}); "
            f"{o['speedup_p50_whole_page']:.1f}x than notte listing the whole page; "
            f"in-process {o['speedup_p50_in_process']:.1f}x"
        )
    for key, errors in notte.errors.items():
        print(f"notte {key}: {len(errors)} failed, e.g. {errors[0][:200]}")
    if notte.status == "failed":
        print(f"notte FAILED mid-run: {notte.reason}")

    return {
        "benchmark": "perception",
        **common.environment(raw.executable, raw.version),
        "parameters": {
            "runs": runs,
            "warmup": warmup,
            "ours_repeat": ours_repeat,
            "settle_seconds": SETTLE,
            "viewport": VIEWPORT,
            "operations": {op.key: op.label for op in OPS},
            "variants": VARIANTS,
            "raw_labels": RAW_LABELS,
            "raw_observe_naive_selector": NAIVE_SELECTOR,
            "targets": TARGETS,
        },
        "notte": {
            "status": notte.status,
            "reason": notte.reason,
            "version": notte.version,
            "browser": PORT_MODE_CHROMIUM,
            "browser_version": notte.browser_version,
            "errors": notte.errors,
        },
        "goals_ms": goals,
        "observe_vs_notte": observe_vs_notte,
        "api_client": "http.client keep-alive connection (bench/common.py LeanClient)",
        "overhead_ms": {"in_memory": overheads(summaries)},
        "overhead_beyond_http_floor_ms": {"in_memory": beyond_floor(summaries)},
        "summary_ms": summaries,
        "ratio_ours_api_over": {key: ratios_over(stats, "api") for key, stats in summaries.items()},
        "ratio_ours_in_process_over": {
            key: ratios_over(stats, "direct") for key, stats in summaries.items()
        },
        "details": details,
        "samples_ms": samples,
    }


async def with_raw(
    ours: Ours, notte: Notte, site, home: Path, args
) -> tuple[dict[str, Raw], dict, dict]:
    raws = {} if args.redis_child else {"raw": Raw(), "raw_full": Raw()}
    try:
        if args.redis_child:
            return raws, *await measure(ours, raws, notte, args.runs, args.warmup, args.ours_repeat)
        await raws["raw"].start(site, home=home)
        if notte.ok:
            await raws["raw_full"].start(site, cdp_url=notte.cdp_url)
        else:
            del raws["raw_full"]
        samples, details = await measure(
            ours, raws, notte, args.runs, args.warmup, args.ours_repeat
        )
    finally:
        for raw in raws.values():
            if getattr(raw, "playwright", None):
                await raw.close()
    return raws, samples, details


def site_with_reference(directory: Path) -> Path:
    """The test site plus the generated reference page (bench/reference_page.py)."""
    from bench.reference_page import write_reference_page
    from tests.support.site import SITE_DIR

    directory.mkdir()
    for entry in SITE_DIR.iterdir():
        (directory / entry.name).symlink_to(entry)
    write_reference_page(directory / "reference.html")
    return directory


def run(args) -> dict:
    from tests.support.site import TestSite

    with (
        tempfile.TemporaryDirectory(prefix="perception-bench-") as scratch,
        TestSite(site_with_reference(Path(scratch) / "site")) as site,
    ):
        # the egress proxy refuses loopback otherwise
        env = {"PERISCOPE_EGRESS_ALLOW": f"127.0.0.1:{site.port},localhost:{site.port}"}
        if args.redis_child:
            env |= {
                "REDIS_URL": REDIS_URL,
                "PERISCOPE_CHANNEL_PREFIX": f"bench{uuid.uuid4().hex[:8]}",
            }
        tmp = common.bootstrap_django(**env)
        notte = Notte()
        try:
            key = common.create_api_key()
            live = common.start_live_server()
            try:
                ours = Ours(live, key, site)
                if args.notte and not args.redis_child:
                    PEER_DIR.mkdir(parents=True, exist_ok=True)
                    notte.start(site, Path(scratch) / "notte-profile")
                    if not notte.ok:
                        print(f"notte unavailable: {notte.reason}", flush=True)
                else:
                    notte.status, notte.reason = "skipped", "--no-notte"
                raws, samples, details = asyncio.run(
                    with_raw(ours, notte, site, Path(scratch) / "raw-home", args)
                )
                ours.close()
            finally:
                notte.stop()
                live.stop()
            if args.redis_child:
                return ours_only(samples)
            return report(samples, details, raws, notte, args.runs, args.warmup, args.ours_repeat)
        finally:
            common.cleanup(tmp)


def ours_only(samples: dict) -> dict:
    """The Redis pass's figures: ours through the API and in-process, per operation."""
    return {
        "summary_ms": {
            op.key: {name: common.summary(v) for name, v in samples[op.key].items()} for op in OPS
        },
        "samples_ms": samples,
        "load_average": {"start": common.LOAD_AT_START, "end": os.getloadavg()},
    }


def redis_answers(url: str) -> str | None:
    """None when Redis answers a ping, else why not."""
    import redis

    try:
        redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        return str(exc)
    return None


def redis_pass(args) -> dict:
    """Ours again (API and in-process, no raw, no notte) in a child process whose channel layer
    is Redis: the web side and the worker talk through it, as separate processes would."""
    problem = redis_answers(REDIS_URL)
    if problem:
        return {"status": "unavailable", "reason": f"{REDIS_URL}: {problem}"}
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        print(
            f"\nmeasuring ours again on the Redis channel layer ({REDIS_URL}), child process",
            flush=True,
        )
        code = subprocess.call(
            [
                sys.executable,
                __file__,
                "--redis-child",
                out.name,
                "--runs",
                str(args.runs),
                "--warmup",
                str(args.warmup),
                "--ours-repeat",
                str(args.ours_repeat),
            ],
            cwd=common.ROOT,
        )
        if code:
            return {"status": "failed", "reason": f"the child exited with {code}"}
        return {"status": "measured", "url": REDIS_URL, **json.loads(Path(out.name).read_text())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument(
        "--ours-repeat",
        type=int,
        default=3,
        help="measurements a round of ours (API, in-process) and of HTTP alone",
    )
    parser.add_argument(
        "--no-notte", dest="notte", action="store_false", help="skip the notte peer"
    )
    parser.add_argument(
        "--no-redis",
        dest="redis",
        action="store_false",
        help="skip the pass on the Redis channel layer",
    )
    parser.add_argument(
        "--markdown-runs", type=int, default=200, help="rounds of the scrape-to-markdown part"
    )
    parser.add_argument(
        "--markdown-only",
        action="store_true",
        help="only the scrape-to-markdown part (no browser, a few seconds)",
    )
    parser.add_argument("--redis-child", metavar="OUT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.redis_child:
        Path(args.redis_child).write_text(json.dumps(run(args)))
        return
    markdown = markdown_conversion(args.markdown_runs, warmup=20)
    if args.markdown_only:
        common.write_results(
            "scrape_markdown",
            {"benchmark": "scrape_markdown", **common.environment(), "markdown": markdown},
        )
        return
    results = run(args)
    redis = redis_pass(args) if args.redis else {"status": "skipped", "reason": "--no-redis"}
    measured = redis["status"] == "measured"
    results["overhead_ms"]["redis"] = overheads(redis["summary_ms"]) if measured else None
    results["overhead_beyond_http_floor_ms"]["redis"] = (
        beyond_floor(redis["summary_ms"]) if measured else None
    )
    results["redis"] = redis
    print_overheads(
        {
            "in-memory": {
                "summary_ms": results["summary_ms"],
                "load_average": {"start": common.LOAD_AT_START, "end": os.getloadavg()},
            },
            "Redis": redis if redis["status"] == "measured" else None,
        }
    )
    if redis["status"] != "measured":
        print(f"Redis pass: {redis['status']} ({redis['reason']})")
    results["markdown_conversion"] = markdown
    common.write_results("perception", results)


if __name__ == "__main__":
    main()
