"""Scraping a live page: scrape_dom.js reads each frame in Chromium, then the pipeline finishes.

The script runs once in the main frame and once in each child frame (cross-origin ones too),
all at once. It returns the rendered content as cleaned HTML in one JSON string: what CSS hides
is already gone, open shadow roots are flattened in, and images carry their rendered size. A
child frame that fails or takes longer than FRAME_TIMEOUT_S is left out.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from pathlib import Path
from typing import Any

from .pipeline import scrape_documents
from .types import PageNavigated, ScrapeError, ScrapeOptions, ScrapeResult

log = logging.getLogger(__name__)

FRAME_TIMEOUT_S = 5.0
SCRAPE_DOM_JS = Path(__file__).with_name("scrape_dom.js").read_text(encoding="utf-8")


async def scrape_page(page: Any, options: ScrapeOptions) -> ScrapeResult:
    """Markdown and images from a live Playwright page (async API), child frames included."""
    main = page.main_frame
    opts = {
        "selector": options.selector,
        "onlyMainContent": options.only_main_content,
        "favicons": options.wants_images and not options.selector,
    }
    children = [] if options.selector else [f for f in page.frames if f is not main]
    frame_opts = {"selector": None, "onlyMainContent": options.only_main_content, "favicons": False}
    results = await asyncio.gather(
        main.evaluate(SCRAPE_DOM_JS, opts),
        *(_evaluate_child(frame, frame_opts) for frame in children),
        return_exceptions=True,
    )
    raw = results[0]
    if isinstance(raw, BaseException):
        if isinstance(raw, asyncio.CancelledError):
            raise raw
        # The script itself does not fail: its document went away under it.
        raise PageNavigated(f"the page changed while it was read: {raw}") from raw
    data = json.loads(raw)
    error = data.get("error")
    if error == "nomatch":
        raise ScrapeError(f"selector {options.selector!r} matched nothing", field="selector")
    if error:
        raise ScrapeError(
            f"invalid selector {options.selector!r}: {data.get('message', '')}", field="selector"
        )
    frame_pages: list[tuple[str, str]] = []
    for frame, result in zip(children, results[1:], strict=True):
        if isinstance(result, BaseException):
            log.debug("frame %s not scraped: %s", frame.url, result)
            continue
        frame_data = json.loads(result)
        if frame_data.get("html"):
            frame_pages.append((frame_data.get("url") or frame.url, frame_data["html"]))
    return scrape_documents(
        data.get("html", ""),
        options,
        base_url=data.get("url", ""),
        frames=frame_pages,
        prescoped=True,
    )


# A one-shot scrape of a URL reads the page a person would end up on: a meta refresh that
# moves on within a few seconds is followed (at most a few in a row), a slower one is not.
MAX_REFRESH_DELAY_S = 5.0
MAX_REFRESHES = 3
_META_REFRESH_JS = """() => {
  const meta = document.querySelector('meta[http-equiv="refresh" i]');
  return meta ? meta.getAttribute('content') : null;
}"""
_REFRESH_CONTENT = re.compile(r"^\s*(\d+(?:\.\d*)?)\s*[;,]\s*(?:url\s*=\s*)?\S", re.IGNORECASE)


async def follow_meta_refresh(page: Any, *, timeout_s: float = 15.0) -> None:
    """Wait for the navigations a page's <meta http-equiv="refresh"> starts, when they come soon."""
    deadline = time.monotonic() + timeout_s
    for _ in range(MAX_REFRESHES):
        try:
            content = await page.evaluate(_META_REFRESH_JS)
        except Exception:
            content = None  # the refresh already replaced the document: wait for the new one
            delay = 0.0
        else:
            delay = refresh_delay(content)
            if delay is None or delay > MAX_REFRESH_DELAY_S:
                return
        url = page.url
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        try:
            if content is not None:
                await page.wait_for_url(lambda now, url=url: now != url, timeout=remaining * 1000)
            await page.wait_for_load_state(
                "load", timeout=max(deadline - time.monotonic(), 0.1) * 1000
            )
        except Exception:
            return  # it did not move in time: scrape what is there


def refresh_delay(content: str | None) -> float | None:
    """Seconds before a meta refresh that goes to another URL ("3; url=/next"), else None."""
    match = _REFRESH_CONTENT.match(content or "")
    return float(match.group(1)) if match else None


async def _evaluate_child(frame: Any, opts: dict[str, Any]) -> str:
    return await asyncio.wait_for(frame.evaluate(SCRAPE_DOM_JS, opts), FRAME_TIMEOUT_S)
