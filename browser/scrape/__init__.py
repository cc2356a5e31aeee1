"""The scrape: a page, or bare HTML, to markdown plus an image list (Notte's DataSpace).

* ``html_to_result(html, options)`` works on HTML alone (``scrape_from_html``, no browser).
* ``scrape_page(page, options)`` reads a live page and its frames in Chromium.

Both end in the same stage (pipeline.py): cleaning.py cuts what is not content, images.py lists
the images, links.py resolves the links (placeholders.py numbers them when asked), markdown.py
renders the rest with html-to-markdown.
"""

from .images import IMAGE_CATEGORIES
from .page import scrape_page
from .pipeline import html_to_result
from .types import PageNavigated, ScrapedImage, ScrapeError, ScrapeOptions, ScrapeResult

__all__ = [
    "IMAGE_CATEGORIES",
    "PageNavigated",
    "ScrapeError",
    "ScrapeOptions",
    "ScrapeResult",
    "ScrapedImage",
    "html_to_result",
    "scrape_page",
]
