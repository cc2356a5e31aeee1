"""Links: absolute URLs, and what each ``<a>`` becomes in the markdown.

In-page links (``#...``), ``javascript:``/``vbscript:``/``data:`` links and anchors without an
href are read as their text, and so is every link when scrape_links is off. A link with nothing
to show (an icon button) is named after its aria-label, its title or the description of its
image, and read as text when it has none. Each kept link points to an absolute URL, or to its
placeholder when use_link_placeholders is on.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin

from .images import img_description, one_line, svg_description
from .placeholders import Placeholders
from .types import ScrapeOptions

_NOT_A_PAGE = re.compile(r"^\s*(?:javascript|vbscript|data):", re.IGNORECASE)
_HAS_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_ORIGIN = re.compile(r"^https?://[^/?#]+", re.IGNORECASE)
_TEXT_OUTSIDE_SVG = "boolean(.//text()[normalize-space()][not(ancestor::svg)])"


class UrlResolver:
    """Makes URLs of one document absolute (relative ones stay so when there is no base URL)."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        m = _ORIGIN.match(base_url)
        self.origin = m.group(0) if m else ""  # scheme://host[:port] of an http(s) base
        self.cache: dict[str, str] = {}

    def __call__(self, value: str) -> str:
        url = self.cache.get(value)
        if url is None:
            if not self.base_url or _HAS_SCHEME.match(value):
                url = value
            elif (
                self.origin
                and value.startswith("/")
                and not value.startswith("//")
                and "/." not in value
            ):
                url = self.origin + value  # the common case, without urljoin's cost
            else:
                url = urljoin(self.base_url, value)
            if " " in url:
                url = url.replace(" ", "%20")
            self.cache[value] = url
        return url


def rewrite(
    links: list[Any],
    options: ScrapeOptions,
    *,
    resolve: UrlResolver,
    placeholders: Placeholders | None,
    shown_images: set[Any],
) -> None:
    """Readies each ``<a>`` for the markdown: a bare ``href`` on a link, no tag on plain text."""
    for a in links:
        url = _target(a, resolve) if options.scrape_links else None
        if url is None:
            a.drop_tag()
            continue
        if not _shows_something(a, shown_images):
            label = _label(a)
            if label is None:
                a.drop_tag()
                continue
            a.text = label  # its images are not shown (remove_unshown takes them out)
        attrib = a.attrib
        if len(attrib) > 1:
            attrib.clear()  # the converter would write a title after the URL
        attrib["href"] = placeholders.link(url) if placeholders else url


def _target(a: Any, resolve: UrlResolver) -> str | None:
    href = a.get("href")
    if href is None:
        return None
    href = href.strip()
    if not href or href.startswith("#") or _NOT_A_PAGE.match(href):
        return None
    return resolve(href)


def _shows_something(a: Any, shown_images: set[Any]) -> bool:
    if a.text and not a.text.isspace():
        return True
    # An <svg>'s title is text to lxml, not to a reader.
    if a.text_content().strip() and (a.find(".//svg") is None or a.xpath(_TEXT_OUTSIDE_SVG)):
        return True
    return any(img in shown_images for img in a.iter("img"))


def _label(a: Any) -> str | None:
    label = one_line(a.get("aria-label")) or one_line(a.get("title"))
    if label is None:
        for el in a.iter("img", "svg"):
            label = img_description(el) if el.tag == "img" else svg_description(el)
            if label:
                break
    return label
