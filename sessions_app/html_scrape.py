"""scrape_from_html: the markdown stage of the scrape pipeline, run in the web process (no browser)."""

from typing import Any

from browser.scrape import ScrapeOptions, html_to_result

SCRAPE_FIELDS = ("only_main_content", "selector", "scrape_links", "scrape_images", "only_images",
                 "use_link_placeholders")


def scrape_options(data: dict[str, Any]) -> ScrapeOptions:
    fields = {k: data[k] for k in SCRAPE_FIELDS if data.get(k) is not None}
    return ScrapeOptions(**fields, ignored_tags=tuple(data.get("ignored_tags") or ()))


def scrape_html(html: str, options: dict[str, Any], *, base_url: str = "",
                frames: list[tuple[str, str]] = ()) -> dict[str, Any]:
    return html_to_result(html, scrape_options(options), base_url=base_url, frames=list(frames)).to_wire()
