"""From HTML to a ScrapeResult: the stage that html_to_result and scrape_page share.

Each document (the page, then each of its frames) is parsed with lxml, cleaned (cleaning.py),
its images listed (images.py), its links resolved (links.py), then rendered (markdown.py). The
frames' markdown follows the page's, each under an ``IFRAME <url>:`` line.
"""

from __future__ import annotations

from collections.abc import Iterable

from . import cleaning, images, links, markdown
from .placeholders import Placeholders
from .types import ScrapeOptions, ScrapeResult


def html_to_result(
    html: str,
    options: ScrapeOptions,
    *,
    base_url: str = "",
    frames: Iterable[tuple[str, str]] = (),
) -> ScrapeResult:
    """Markdown and images from HTML, without a browser. ``frames``: (url, html) of child frames.

    Without a browser, hidden means the ``hidden`` attribute, ``aria-hidden="true"`` or an
    inline ``display:none`` / ``visibility:hidden``: what a stylesheet hides stays.
    """
    return scrape_documents(html, options, base_url=base_url, frames=frames, prescoped=False)


def scrape_documents(
    html: str,
    options: ScrapeOptions,
    *,
    base_url: str,
    frames: Iterable[tuple[str, str]],
    prescoped: bool,
) -> ScrapeResult:
    """``prescoped``: the HTML comes from scrape_dom.js (visible content only, selector applied)."""
    listed = images.ImageList()
    placeholders = Placeholders() if options.use_link_placeholders else None
    document = _Document(options, listed, placeholders, prescoped)
    parts = [document.markdown(html, base_url, is_frame=False)]
    if not options.selector:
        for url, frame_html in frames:
            text = document.markdown(frame_html, url, is_frame=True)
            if text:
                parts.append(f"IFRAME {url}:\n{text}")
    return ScrapeResult(
        markdown="" if options.only_images else "\n\n".join(p for p in parts if p),
        images=listed.items if options.wants_images else [],
        placeholders=dict(placeholders.urls) if placeholders else {},
        include_images=options.wants_images,
    )


class _Document:
    """Scrapes one document at a time; the image list and placeholders span all of them."""

    def __init__(
        self,
        options: ScrapeOptions,
        listed: images.ImageList,
        placeholders: Placeholders | None,
        prescoped: bool,
    ):
        self.options = options
        self.listed = listed
        self.placeholders = placeholders
        self.prescoped = prescoped

    def markdown(self, html: str, base_url: str, *, is_frame: bool) -> str:
        options = self.options
        doc = cleaning.parse(html)
        if doc is None:
            return ""
        if not self.prescoped:
            base_url = cleaning.base_href(doc, base_url)
        resolve = links.UrlResolver(base_url)
        if options.wants_images and not options.selector and not is_frame:
            images.list_favicons(self.listed, doc, resolve)
        content = cleaning.extract(doc, options, prescoped=self.prescoped)
        if content is None:
            return ""
        shown = images.place(
            content.media,
            options,
            images=self.listed,
            resolve=resolve,
            placeholders=self.placeholders,
        )
        if options.only_images:
            return ""
        links.rewrite(
            content.links,
            options,
            resolve=resolve,
            placeholders=self.placeholders,
            shown_images=shown,
        )
        images.remove_unshown(content.media, shown)
        return markdown.render(content.root)
