"""Images: the page's image list, each with a category, and the <img> the markdown shows.

Categories: ``favicon`` (``<link rel~=icon>``), ``svg_icon`` (inline ``<svg>`` at most 32 px on
each known side, or with "icon" in its class), ``svg_content`` (any other inline svg), ``icon``
(``<img>`` at most 32 px on each known side, or "icon" in its class or name), ``decorative``
(``alt=""`` without an aria-label, ``role=presentation|none``, or inside ``aria-hidden="true"``),
``content_image`` (everything else). Images of at most 1x1 px (tracking pixels) are left out.
A URL is listed once. On a live page scrape_dom.js gives each image its rendered size.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from typing import Any

from .placeholders import Placeholders
from .types import ScrapedImage, ScrapeOptions

IMAGE_CATEGORIES = ("favicon", "icon", "content_image", "decorative", "svg_icon", "svg_content")
ICON_MAX_PX = 32

_PX = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:px)?\s*$", re.IGNORECASE)
_STYLE_W = re.compile(r"(?:^|[;\s])width\s*:\s*(\d+(?:\.\d+)?)px", re.IGNORECASE)
_STYLE_H = re.compile(r"(?:^|[;\s])height\s*:\s*(\d+(?:\.\d+)?)px", re.IGNORECASE)
_SRCSET_FIRST = re.compile(r"^\s*(\S+)")
_WS = re.compile(r"\s+")


class ImageList:
    """The images of a page and its frames, in document order, each URL once."""

    def __init__(self) -> None:
        self.items: list[ScrapedImage] = []
        self._seen: set[str] = set()

    def add(self, url: str | None, category: str, description: str | None) -> None:
        if url:
            if url in self._seen:
                return
            self._seen.add(url)
        self.items.append(ScrapedImage(url=url, category=category, description=description))


def list_favicons(images: ImageList, doc: Any, resolve: Callable[[str], str]) -> None:
    head = doc.find("head")
    if head is None:
        return
    for link in head.iter("link"):
        rel = (link.get("rel") or "").lower()
        href = (link.get("href") or "").strip()
        if "icon" in rel and href:
            title = (link.get("title") or "").strip()
            images.add(resolve(href), "favicon", title or None)


def place(
    media: list[tuple[Any, bool]],
    options: ScrapeOptions,
    *,
    images: ImageList,
    resolve: Callable[[str], str],
    placeholders: Placeholders | None,
) -> set[Any]:
    """Lists each image (when images are asked for) and readies the ``<img>`` the markdown shows.

    A shown ``<img>`` keeps only its alt and its src, made absolute or a placeholder. Returns the
    shown ones; remove_unshown takes the others out once the links have read their labels.
    """
    listing = options.wants_images
    showing = options.scrape_images and not options.only_images
    shown: set[Any] = set()
    for el, in_aria_hidden in media:
        if el.tag == "svg":
            if listing:
                images.add(None, _svg_category(el), svg_description(el))
            continue
        src = img_src(el)
        url = resolve(src) if src else None
        if listing:
            category = _img_category(el, in_aria_hidden)
            if category is None:
                continue
            images.add(url, category, img_description(el))
        if showing and url and not in_aria_hidden:
            alt = one_line(el.get("alt")) or ""
            el.attrib.clear()
            el.set("src", placeholders.image(url) if placeholders else url)
            el.set("alt", alt)
            shown.add(el)
    return shown


def remove_unshown(media: list[tuple[Any, bool]], shown: set[Any]) -> None:
    for el, in_aria_hidden in media:
        if not in_aria_hidden and el not in shown:  # aria-hidden ones went with their subtree
            el.drop_tree()


def img_src(el: Any) -> str | None:
    src = (el.get("src") or "").strip()
    if not src or src.startswith("data:"):
        lazy = el.get("data-src") or el.get("data-lazy-src") or el.get("data-original")
        if lazy and lazy.strip():
            return lazy.strip()
    if not src:
        srcset = el.get("srcset") or el.get("data-srcset")
        if srcset and (m := _SRCSET_FIRST.match(srcset)):
            return m.group(1).rstrip(",")
    return src or None


def img_description(el: Any) -> str | None:
    return one_line(el.get("alt")) or one_line(el.get("title")) or one_line(el.get("aria-label"))


def svg_description(el: Any) -> str | None:
    label = one_line(el.get("aria-label"))
    if label:
        return label
    for child in el:
        if isinstance(child.tag, str) and child.tag.rpartition("}")[2].lower() == "title":
            return one_line(child.text_content())
    return one_line(el.get("title"))


def _img_category(el: Any, in_aria_hidden: bool) -> str | None:
    """None: a tracking pixel, left out."""
    width, height = _size(el)
    if width is not None and height is not None and width <= 1 and height <= 1:
        return None
    marks = f"{el.get('class') or ''} {el.get('name') or ''}".lower()
    if _small(width, height) or "icon" in marks:
        return "icon"
    alt = el.get("alt")
    role = (el.get("role") or "").strip().lower()
    if (
        (alt is not None and not alt.strip() and not el.get("aria-label"))
        or role in ("presentation", "none")
        or in_aria_hidden
        or (el.get("aria-hidden") or "").strip().lower() == "true"
    ):
        return "decorative"
    return "content_image"


def _svg_category(el: Any) -> str:
    width, height = _size(el)
    if width is None and height is None:
        box = el.get("viewBox") or el.get("viewbox")
        if box:
            parts = box.replace(",", " ").split()
            if len(parts) == 4:
                with contextlib.suppress(ValueError):
                    width, height = float(parts[2]), float(parts[3])
    if _small(width, height) or "icon" in (el.get("class") or "").lower():
        return "svg_icon"
    return "svg_content"


def _px(value: str | None) -> float | None:
    if not value:
        return None
    m = _PX.match(value)
    return float(m.group(1)) if m else None


def _size(el: Any) -> tuple[float | None, float | None]:
    width, height = _px(el.get("width")), _px(el.get("height"))
    if width is None or height is None:
        style = el.get("style")
        if style:
            if width is None and (m := _STYLE_W.search(style)):
                width = float(m.group(1))
            if height is None and (m := _STYLE_H.search(style)):
                height = float(m.group(1))
    return width, height


def _small(width: float | None, height: float | None) -> bool:
    known = [v for v in (width, height) if v is not None]
    return bool(known) and max(known) <= ICON_MAX_PX


def one_line(value: str | None) -> str | None:
    """``value`` with its blanks folded to single spaces; None when nothing is left."""
    if not value:
        return None
    value = _WS.sub(" ", value).strip()
    return value or None
