"""What a scrape is asked for and what it answers (Notte's DataSpace), and its one error."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from browser.errors import BrowserError

from .placeholders import restore


class ScrapeError(BrowserError):
    """The scrape cannot be done as asked (e.g. the selector matches nothing); `field` names
    the request field to change, when there is one."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


class PageNavigated(ScrapeError):
    """The page's document was replaced (a navigation, a meta refresh) while it was read."""


@dataclass(frozen=True)
class ScrapeOptions:
    only_main_content: bool = False
    selector: str | None = None  # CSS selector scoping the extraction
    scrape_links: bool = True
    scrape_images: bool = False
    only_images: bool = False
    ignored_tags: tuple[str, ...] = ()
    use_link_placeholders: bool = False

    def __post_init__(self) -> None:
        tags = tuple(t.strip().lower() for t in (self.ignored_tags or ()) if t and t.strip())
        object.__setattr__(self, "ignored_tags", tags)
        if self.selector is not None and not self.selector.strip():
            object.__setattr__(self, "selector", None)

    @property
    def wants_images(self) -> bool:
        return self.scrape_images or self.only_images


@dataclass(frozen=True)
class ScrapedImage:
    url: str | None
    category: str | None
    description: str | None

    def to_wire(self) -> dict[str, str | None]:
        return {"url": self.url, "category": self.category, "description": self.description}


@dataclass(frozen=True)
class ScrapeResult:
    markdown: str
    images: list[ScrapedImage]
    # "<link_1>" / "<img_1>" -> URL, when use_link_placeholders was asked.
    placeholders: dict[str, str] = field(default_factory=dict)
    # Whether scrape_images or only_images was asked: then the wire form carries "images".
    include_images: bool = False

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {"markdown": self.markdown}
        if self.include_images:
            wire["images"] = [image.to_wire() for image in self.images]
        return wire

    def restore_placeholders(self, text: str) -> str:
        """Put the real URLs back in place of the placeholders (e.g. in an LLM's answer)."""
        return restore(text, self.placeholders)
