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
from pathlib import Path
from typing import Any

from .pipeline import scrape_documents
from .types import ScrapeError, ScrapeOptions, ScrapeResult

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
        raise ScrapeError(f"the page could not be scraped: {raw}") from raw
    data = json.loads(raw)
    error = data.get("error")
    if error == "nomatch":
        raise ScrapeError(f"selector {options.selector!r} matched nothing")
    if error:
        raise ScrapeError(f"invalid selector {options.selector!r}: {data.get('message', '')}")
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


async def _evaluate_child(frame: Any, opts: dict[str, Any]) -> str:
    return await asyncio.wait_for(frame.evaluate(SCRAPE_DOM_JS, opts), FRAME_TIMEOUT_S)
